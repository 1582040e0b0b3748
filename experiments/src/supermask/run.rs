//! The loop of `supermask`: per seed and weights kind, the scores of every sparsity trained
//! from one seeded uniform draw, then the learned mask against a random one and against the
//! tangent prediction.
//!
//! Seeds: θ₀ of seed index s is drawn with `cfg.seed + s`; the scores and the data order of
//! (s, sparsity j) with [`score_seed`]; nothing reads the thread count.

use super::{Config, Summary};
use crate::data::Dataset;
use crate::metrics::accuracy;
use crate::metrics::sweep::{group_by, mean_std_by};
use crate::progress::Observer;
use crate::tickets::masks::jaccard;
use crate::train::batches::gather_rows;
use crate::train::{Batches, Loss, Targets};
use anyhow::{anyhow, bail, Result};
use autodiff::mlp::{Mask, Mlp, Parameterization};
use linalg::random::SplitMix64;
use linalg::vec::rel_diff;
use serde::Serialize;

/// The frozen weights a mask is learned on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weights {
    /// θ₀ as drawn.
    Gaussian,
    /// σ_l·sign(θ₀), σ_l the root-mean-square of layer l's drawn weights.
    SignedConstant,
}

impl Weights {
    /// Name in tables and files.
    pub fn name(self) -> &'static str {
        match self {
            Weights::Gaussian => "gaussian",
            Weights::SignedConstant => "signed-constant",
        }
    }
}

/// One learned mask.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    /// Seed index.
    pub seed: usize,
    /// Fraction of every layer's weights kept.
    pub keep: f64,
    /// The frozen weights.
    pub weights: Weights,
    /// Test accuracy of f(m ⊙ θ₀) with the learned mask.
    pub accuracy_learned: f64,
    /// Test accuracy with a random mask of the same per-layer counts.
    pub accuracy_random: f64,
    /// Test accuracy of the tangent prediction f(θ₀) + J((m − 1) ⊙ θ₀).
    pub accuracy_tangent: f64,
    /// ‖f(m ⊙ θ₀) − f_tangent‖/‖f(m ⊙ θ₀)‖ on the test inputs.
    pub tangent_gap: f64,
    /// Jaccard overlap of the learned mask with top-|θ₀| at the same counts.
    pub overlap_with_magnitude: f64,
    /// Mean minibatch loss over the last tenth of the steps.
    pub final_loss: f64,
}

/// Mean ± std over seeds of one (keep, weights).
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    /// Fraction kept.
    pub keep: f64,
    /// The frozen weights.
    pub weights: Weights,
    /// Learned mask accuracy.
    pub accuracy_learned: (f64, f64),
    /// Random mask accuracy.
    pub accuracy_random: (f64, f64),
    /// Tangent prediction accuracy.
    pub accuracy_tangent: (f64, f64),
    /// The gap to the tangent prediction.
    pub tangent_gap: (f64, f64),
    /// Overlap with top-|θ₀|.
    pub overlap_with_magnitude: (f64, f64),
}

/// Seed of the scores and data order of seed index s at sparsity index j.
pub fn score_seed(cfg: &Config, s: usize, j: usize) -> u64 {
    cfg.seed.wrapping_add(s as u64) ^ 0x7375_7065_0000_0000 ^ ((j as u64) << 24)
}

/// σ_l·sign(θ) per weight layer (σ_l the root-mean-square of the layer's weights); biases
/// as they are.
pub fn signed_constant(net: &Mlp, theta: &[f64]) -> Vec<f64> {
    let layout = net.layout();
    let mut out = theta.to_vec();
    for l in 0..layout.num_layers() {
        let w = layout.weight(l);
        let range = w.offset..w.offset + w.len;
        let rms =
            (theta[range.clone()].iter().map(|t| t * t).sum::<f64>() / w.len.max(1) as f64).sqrt();
        for v in &mut out[range] {
            *v = if *v < 0.0 { -rms } else { rms };
        }
    }
    out
}

/// The mask keeping the `keep` fraction of largest `scores` in every layer (exact counts,
/// ties to the lower index).
pub fn top_k(net: &Mlp, scores: &[f64], keep: f64) -> Result<Mask> {
    let f = vec![1.0 - keep; net.layout().num_layers()];
    Mask::dense(net.layout())
        .prune_by_magnitude(scores, &f)
        .map_err(|e| anyhow!("top-k of the scores: {e}"))
}

fn masked(theta: &[f64], mask: &Mask) -> Vec<f64> {
    theta
        .iter()
        .zip(mask.keep())
        .map(|(&t, &k)| if k { t } else { 0.0 })
        .collect()
}

/// Learns the scores of a mask on the frozen `theta` (edge-popup with momentum SGD).
pub fn learn(
    cfg: &Config,
    net: &Mlp,
    theta: &[f64],
    ds: &Dataset,
    keep: f64,
    seed: u64,
) -> Result<(Mask, f64)> {
    let Some(labels) = &ds.labels_train else {
        bail!(
            "supermask needs class labels (softmax cross-entropy); {} is a regression task",
            ds.name
        );
    };
    let mut rng = SplitMix64::new(seed);
    let mut scores: Vec<f64> = (0..theta.len()).map(|_| rng.next_f64()).collect();
    let mut velocity = vec![0.0; theta.len()];
    let mut batches = Batches::new(ds.n_train(), cfg.batch_size, seed, false)?;
    let targets = Targets::<f64>::Classes(labels);
    let tail = (cfg.iterations / 10).max(1);
    let mut tail_loss = 0.0;
    for t in 0..cfg.iterations {
        let mask = top_k(net, &scores, keep)?;
        let w = masked(theta, &mask);
        let rows = batches.next_batch();
        let xb = gather_rows(ds.x_train.as_ref(), &rows);
        let (loss, g) =
            Loss::CrossEntropy.network_value_and_grad(net, &w, xb.as_ref(), &targets, &rows)?;
        if !loss.is_finite() {
            bail!("the scores' training diverged at step {t} (loss {loss}); lower --lr");
        }
        if t >= cfg.iterations - tail {
            tail_loss += loss / tail as f64;
        }
        for ((v, s), (&gj, &th)) in velocity
            .iter_mut()
            .zip(scores.iter_mut())
            .zip(g.iter().zip(theta))
        {
            *v = cfg.momentum * *v + gj * th;
            *s -= cfg.lr * *v;
        }
        if scores.iter().any(|s| !s.is_finite()) {
            bail!("the scores' training diverged at step {t} (a score is no longer finite); lower --lr");
        }
    }
    Ok((top_k(net, &scores, keep)?, tail_loss))
}

/// Accuracies and the tangent gap of the learned mask.
fn measure(
    net: &Mlp,
    theta: &[f64],
    mask: &Mask,
    keep: f64,
    ds: &Dataset,
    random_seed: u64,
) -> Result<[f64; 5]> {
    let labels = ds.labels_test.as_deref().unwrap_or(&[]);
    let x = ds.x_test.as_ref();
    let f_mask = net.forward(&masked(theta, mask), x)?;
    let random = mask.random_like(random_seed);
    let f_random = net.forward(&masked(theta, &random), x)?;
    let step: Vec<f64> = theta
        .iter()
        .zip(mask.keep())
        .map(|(&t, &k)| if k { 0.0 } else { -t })
        .collect();
    let (f0, jv) = net.jvp(theta, x, &step)?;
    let mut f_tan = f0;
    for (a, b) in f_tan.as_mut_slice().iter_mut().zip(jv.as_slice()) {
        *a += b;
    }
    let magnitude = top_k(
        net,
        &theta.iter().map(|t| t.abs()).collect::<Vec<_>>(),
        keep,
    )?;
    Ok([
        accuracy(&f_mask, labels),
        accuracy(&f_random, labels),
        accuracy(&f_tan, labels),
        rel_diff(f_tan.as_slice(), f_mask.as_slice()),
        jaccard(mask, &magnitude)
            .last()
            .copied()
            .unwrap_or(f64::NAN),
    ])
}

/// The network: the configured widths, standard parameterization, θ₀ from `cfg.init`.
pub fn network(cfg: &Config, d: usize, o: usize) -> Result<Mlp> {
    Mlp::new(
        d,
        &cfg.widths,
        o,
        cfg.activation,
        Parameterization::Standard,
        1.0,
        0.0,
    )
    .map_err(|e| anyhow!("cannot build the network: {e}"))
}

/// Runs every seed, weights kind and sparsity.
pub fn run(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    let net = network(cfg, ds.input_dim(), ds.output_dim())?;
    let labels = ds.labels_test.as_deref().unwrap_or(&[]);
    obs.begin(
        "supermask: score training",
        (cfg.seeds * 2 * cfg.keep.len()) as u64,
    );
    let (mut records, mut dense, mut done) = (Vec::new(), Vec::new(), 0);
    for s in 0..cfg.seeds {
        let drawn: Vec<f64> = net
            .init_with(cfg.init, cfg.seed.wrapping_add(s as u64))
            .map_err(|e| anyhow!("{e}"))?;
        for weights in [Weights::Gaussian, Weights::SignedConstant] {
            let theta = match weights {
                Weights::Gaussian => drawn.clone(),
                Weights::SignedConstant => signed_constant(&net, &drawn),
            };
            dense.push((
                s,
                weights,
                accuracy(&net.forward(&theta, ds.x_test.as_ref())?, labels),
            ));
            for (j, &keep) in cfg.keep.iter().enumerate() {
                let seed = score_seed(cfg, s, j);
                let (mask, final_loss) = learn(cfg, &net, &theta, ds, keep, seed)?;
                let [acc, acc_r, acc_t, gap, overlap] =
                    measure(&net, &theta, &mask, keep, ds, seed ^ 1)?;
                records.push(Record {
                    seed: s,
                    keep,
                    weights,
                    accuracy_learned: acc,
                    accuracy_random: acc_r,
                    accuracy_tangent: acc_t,
                    tangent_gap: gap,
                    overlap_with_magnitude: overlap,
                    final_loss,
                });
                done += 1;
                obs.advance(done);
            }
        }
    }
    obs.end();
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        data_name: ds.name.clone(),
        dense_accuracy: dense,
        stats: stats(&records),
        records,
        wall_seconds: 0.0,
    })
}

/// Mean ± std over seeds per (keep, weights), in record order.
pub fn stats(records: &[Record]) -> Vec<Stats> {
    group_by(records, |r| (r.keep, r.weights))
        .into_iter()
        .map(|g| Stats {
            keep: g[0].keep,
            weights: g[0].weights,
            accuracy_learned: mean_std_by(&g, |r| r.accuracy_learned),
            accuracy_random: mean_std_by(&g, |r| r.accuracy_random),
            accuracy_tangent: mean_std_by(&g, |r| r.accuracy_tangent),
            tangent_gap: mean_std_by(&g, |r| r.tangent_gap),
            overlap_with_magnitude: mean_std_by(&g, |r| r.overlap_with_magnitude),
        })
        .collect()
}
