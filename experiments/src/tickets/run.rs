//! The loop of `tickets`: per width scale and seed, the dense Newton step and the dense
//! training, then per sparsity the four masks, each trained and Newton-stepped.
//!
//! Seeds: θ₀ of seed index s is drawn with seed `cfg.seed + s` and the random mask of each
//! sparsity with [`random_mask_seed`]; training is full-batch GD, so no data order enters.
//! Nothing reads the thread count: the records are bit-identical on any number of threads.

use super::masks::{chance_jaccard, jaccard, MaskKind, MaskSet};
use super::newton::{newton_step, NewtonStep};
use super::{scaled_widths, Config, Summary};
use crate::data::Dataset;
use crate::metrics::accuracy;
use crate::metrics::sweep::{group_by, mean_std_by};
use crate::progress::Observer;
use crate::train::full_batch_gd;
use anyhow::{anyhow, bail, Context, Result};
use autodiff::mlp::{Mask, Mlp, Parameterization};
use linalg::vec::rel_diff;
use linalg::Matrix;
use serde::Serialize;

/// The dense network of one (width scale, seed).
#[derive(Clone, Debug, Serialize)]
pub struct DenseRecord {
    /// Multiplier of the hidden widths.
    pub width_scale: f64,
    /// The hidden widths.
    pub widths: Vec<usize>,
    /// Seed index.
    pub seed: usize,
    /// Test accuracy of the network trained by GD.
    pub accuracy_trained: f64,
    /// Test accuracy of the Newton step at θ₀.
    pub accuracy_newton: f64,
    /// ‖f_trained − f_Newton‖/‖f_trained‖ on the test inputs.
    pub gap: f64,
    /// ‖θ_T − θ₀‖/‖θ₀‖: how far training moved the weights.
    pub relative_move: f64,
    /// ‖θ_T − (θ₀ + δ)‖/‖θ_T − θ₀‖: how far the trained weights are from the Newton step's.
    pub theta_gap: f64,
    /// The ridge λ of the Newton step.
    pub lambda: f64,
    /// The GD step η.
    pub lr: f64,
}

/// One mask at one sparsity, width scale and seed.
#[derive(Clone, Debug, Serialize)]
pub struct MaskRecord {
    /// Multiplier of the hidden widths.
    pub width_scale: f64,
    /// Seed index.
    pub seed: usize,
    /// Fraction of each hidden layer kept.
    pub keep: f64,
    /// Which rule chose the mask.
    pub kind: MaskKind,
    /// Percent of all weights kept.
    pub percent_remaining: f64,
    /// Jaccard overlap with the IMP mask per layer, then over all weights.
    pub jaccard: Vec<f64>,
    /// The overlap two random masks with these per-layer counts have by chance (same order).
    pub chance: Vec<f64>,
    /// Test accuracy of (a): the subnetwork trained from θ₀.
    pub accuracy_trained: f64,
    /// Test accuracy of (b): the Newton step in the subnetwork's tangent space.
    pub accuracy_newton: f64,
    /// (c): ‖f_a − f_b‖/‖f_a‖ on the test inputs.
    pub gap: f64,
    /// The ridge λ of its Newton step.
    pub lambda: f64,
}

/// Mean ± std over seeds of one (width scale, sparsity, mask kind).
#[derive(Clone, Debug, Serialize)]
pub struct MaskStats {
    /// Multiplier of the hidden widths.
    pub width_scale: f64,
    /// Fraction of each hidden layer kept.
    pub keep: f64,
    /// Which rule chose the mask.
    pub kind: MaskKind,
    /// Percent of all weights kept.
    pub percent_remaining: f64,
    /// Jaccard with the IMP mask over all weights.
    pub jaccard: (f64, f64),
    /// Jaccard per layer (means).
    pub jaccard_per_layer: Vec<f64>,
    /// The chance level of the overall Jaccard (two random masks of this size).
    pub chance: f64,
    /// (a) trained subnetwork.
    pub accuracy_trained: (f64, f64),
    /// (b) its Newton step.
    pub accuracy_newton: (f64, f64),
    /// (c) the gap between them.
    pub gap: (f64, f64),
}

/// Seed of the random mask of seed index s at sparsity index j.
pub fn random_mask_seed(cfg: &Config, s: usize, j: usize) -> u64 {
    cfg.seed.wrapping_add(s as u64) ^ 0x7469_636b_0000_0000 ^ ((j as u64) << 20)
}

/// The data and the pieces every training of one architecture shares.
struct Ctx<'a> {
    cfg: &'a Config,
    ds: &'a Dataset,
    labels: &'a [usize],
    net: Mlp,
}

/// What one (sub)network gave: trained outputs and θ, and its Newton step.
struct Pair {
    theta: Vec<f64>,
    trained: Matrix<f64>,
    newton: NewtonStep,
    lr: f64,
}

impl Ctx<'_> {
    /// Newton step and GD training of the subnetwork `mask` from θ₀.
    fn pair(&self, theta0: &[f64], mask: Option<&Mask>) -> Result<Pair> {
        let cfg = self.cfg;
        let mut start = theta0.to_vec();
        if let Some(m) = mask {
            m.apply(&mut start).map_err(|e| anyhow!("{e}"))?;
        }
        let ds = self.ds;
        let newton = newton_step(
            &self.net,
            &start,
            mask,
            ds.x_train.as_ref(),
            &ds.y_train,
            ds.x_test.as_ref(),
            cfg.lambda,
            (cfg.lr_scale, cfg.iterations),
        )?;
        let n = ds.n_train();
        let lr = cfg.lr_scale * n as f64 / newton.lambda_max;
        let data = (ds.x_train.as_ref(), ds.y_train.as_ref());
        let theta = full_batch_gd(&self.net, start, mask, data, lr, cfg.iterations)?;
        let trained = self.net.forward(&theta, ds.x_test.as_ref())?;
        if trained.as_slice().iter().any(|v| !v.is_finite()) {
            bail!("GD diverged (non-finite outputs) at step η = {lr:.3e}; lower --lr-scale");
        }
        Ok(Pair {
            theta,
            trained,
            newton,
            lr,
        })
    }

    fn accuracies(&self, p: &Pair) -> (f64, f64, f64) {
        (
            accuracy(&p.trained, self.labels),
            accuracy(&p.newton.test_outputs, self.labels),
            rel_diff(p.newton.test_outputs.as_slice(), p.trained.as_slice()),
        )
    }
}

/// One (width scale, seed): the dense pair, then every sparsity's four masks.
fn run_seed(
    ctx: &Ctx<'_>,
    scale: f64,
    s: usize,
    obs: &mut dyn Observer,
    done: &mut u64,
    out: &mut (Vec<DenseRecord>, Vec<MaskRecord>),
) -> Result<()> {
    let cfg = ctx.cfg;
    let theta0: Vec<f64> = ctx
        .net
        .init_with(cfg.init, cfg.seed.wrapping_add(s as u64))
        .map_err(|e| anyhow!("{e}"))?;
    let dense = ctx.pair(&theta0, None).context("dense network")?;
    let (acc_t, acc_n, gap) = ctx.accuracies(&dense);
    let step: Vec<f64> = dense
        .theta
        .iter()
        .zip(&theta0)
        .map(|(a, b)| a - b)
        .collect();
    out.0.push(DenseRecord {
        width_scale: scale,
        widths: ctx.net.widths()[1..ctx.net.widths().len() - 1].to_vec(),
        seed: s,
        accuracy_trained: acc_t,
        accuracy_newton: acc_n,
        gap,
        relative_move: linalg::vec::nrm2(&step) / linalg::vec::nrm2(&theta0),
        theta_gap: rel_diff(&dense.newton.delta, &step),
        lambda: dense.newton.lambda,
        lr: dense.lr,
    });
    *done += 1;
    obs.advance(*done);
    let full = Mask::dense(ctx.net.layout());
    for (j, &keep) in cfg.keep.iter().enumerate() {
        let set = MaskSet::build(
            &full,
            keep,
            &dense.theta,
            &theta0,
            &dense.newton.delta,
            random_mask_seed(cfg, s, j),
        )?;
        for (kind, mask) in &set.masks {
            let p = ctx
                .pair(&theta0, Some(mask))
                .with_context(|| format!("{} mask, {:.1}% kept", kind.name(), 100.0 * keep))?;
            let (acc_t, acc_n, gap) = ctx.accuracies(&p);
            out.1.push(MaskRecord {
                width_scale: scale,
                seed: s,
                keep,
                kind: *kind,
                percent_remaining: 100.0 * mask.fraction_kept(),
                jaccard: jaccard(mask, set.imp()),
                chance: chance_jaccard(mask),
                accuracy_trained: acc_t,
                accuracy_newton: acc_n,
                gap,
                lambda: p.newton.lambda,
            });
            *done += 1;
            obs.advance(*done);
        }
    }
    Ok(())
}

/// The network of one width scale: standard parameterization (the lottery papers' layers),
/// θ₀ from `cfg.init`.
pub fn network(cfg: &Config, d: usize, o: usize, scale: f64) -> Result<Mlp> {
    let widths = scaled_widths(&cfg.widths, scale);
    Mlp::new(
        d,
        &widths,
        o,
        cfg.activation,
        Parameterization::Standard,
        1.0,
        0.0,
    )
    .map_err(|e| anyhow!("cannot build the network: {e}"))
}

/// Runs every width scale and seed and gathers the statistics.
pub fn run(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    let Some(labels) = &ds.labels_test else {
        bail!(
            "tickets needs class labels (test accuracy); {} is a regression task",
            ds.name
        );
    };
    let per_seed = 1 + 4 * cfg.keep.len() as u64;
    obs.begin(
        "tickets: Newton steps and trainings",
        per_seed * (cfg.width_scales.len() * cfg.seeds) as u64,
    );
    let mut out = (Vec::new(), Vec::new());
    let mut done = 0;
    for &scale in &cfg.width_scales {
        let ctx = Ctx {
            cfg,
            ds,
            labels,
            net: network(cfg, ds.input_dim(), ds.output_dim(), scale)?,
        };
        for s in 0..cfg.seeds {
            run_seed(&ctx, scale, s, obs, &mut done, &mut out)?;
        }
    }
    obs.end();
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        data_name: ds.name.clone(),
        stats: stats(&out.1),
        dense: out.0,
        masks: out.1,
        wall_seconds: 0.0,
    })
}

/// Mean ± std over seeds per (width scale, sparsity, kind), in record order.
pub fn stats(records: &[MaskRecord]) -> Vec<MaskStats> {
    group_by(records, |r| (r.width_scale, r.keep, r.kind))
        .into_iter()
        .map(|group| {
            let r = group[0];
            let layers = r.jaccard.len();
            let of = |f: &dyn Fn(&MaskRecord) -> f64| mean_std_by(&group, f);
            MaskStats {
                width_scale: r.width_scale,
                keep: r.keep,
                kind: r.kind,
                percent_remaining: r.percent_remaining,
                jaccard: of(&|g| g.jaccard[layers - 1]),
                jaccard_per_layer: (0..layers - 1).map(|l| of(&|g| g.jaccard[l]).0).collect(),
                chance: r.chance[layers - 1],
                accuracy_trained: of(&|g| g.accuracy_trained),
                accuracy_newton: of(&|g| g.accuracy_newton),
                gap: of(&|g| g.gap),
            }
        })
        .collect()
}
