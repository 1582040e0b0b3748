//! The loop of `probe`: per width and seed, train by full-batch GD, then measure every kernel
//! and detector at θ₀ and at θ_T.
//!
//! Seeds: θ₀ of seed index s is drawn with seed `cfg.seed + s`; the sampled tangent features
//! with [`feature_seed`]. Training is full-batch GD, and every reduction over units or
//! features breaks ties by index, so the records are bit-identical on any number of threads.

use super::detectors::{best_features, best_units, hidden_activations, sample_params, Best};
use super::kernels::{alignment, centred_alignment, kernels_at, solve, KernelKind};
use super::{Config, Summary};
use crate::data::Dataset;
use crate::metrics::accuracy;
use crate::metrics::sweep::{group_by, mean_std_by};
use crate::progress::Observer;
use crate::tickets::newton::matched_lambda;
use crate::train::full_batch_gd;
use anyhow::{anyhow, bail, Context, Result};
use autodiff::mlp::{Mlp, NtkOperator};
use linalg::vec::{nrm2, rel_diff};
use linalg::{lanczos_extremes, Matrix};
use serde::Serialize;

/// Tangent-feature columns built per call (bounds their memory to m·o·block entries).
pub const FEATURE_BLOCK: usize = 512;

/// Where the network is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Point {
    /// θ₀, the random initialisation.
    Init,
    /// θ_T, after T steps of GD.
    Trained,
}

impl Point {
    /// θ₀ or θ_T.
    pub fn name(self) -> &'static str {
        match self {
            Point::Init => "θ₀",
            Point::Trained => "θ_T",
        }
    }
}

/// The trained network of one (width, seed).
#[derive(Clone, Debug, Serialize)]
pub struct NetRecord {
    /// Hidden width.
    pub width: usize,
    /// Seed index.
    pub seed: usize,
    /// Test accuracy of the trained network.
    pub accuracy_trained: f64,
    /// Test accuracy of the network at θ₀ (chance, for a random network).
    pub accuracy_init: f64,
    /// ‖f_T − f_Newton‖/‖f_T‖ on the test inputs, f_Newton the NTK step at θ₀.
    pub gap_to_newton: f64,
    /// ‖θ_T − θ₀‖/‖θ₀‖.
    pub relative_move: f64,
    /// The GD step η.
    pub lr: f64,
}

/// One kernel at one point of one (width, seed).
#[derive(Clone, Debug, Serialize)]
pub struct KernelRecord {
    /// Hidden width.
    pub width: usize,
    /// Seed index.
    pub seed: usize,
    /// θ₀ or θ_T.
    pub point: Point,
    /// Which kernel.
    pub kernel: KernelKind,
    /// Test accuracy of the tangent step at this point: f + K*(K + λI)⁻¹(Y − f).
    pub accuracy_newton: f64,
    /// Test accuracy of the kernel alone: K*(K + λI)⁻¹Y.
    pub accuracy_from_zero: f64,
    /// A(K, YYᵀ) on the training inputs.
    pub alignment: f64,
    /// A(HKH, HYYᵀH) on the training inputs.
    pub centred_alignment: f64,
    /// The ridge λ.
    pub lambda: f64,
}

/// The best single detectors at one point of one (width, seed).
#[derive(Clone, Debug, Serialize)]
pub struct DetectorRecord {
    /// Hidden width.
    pub width: usize,
    /// Seed index.
    pub seed: usize,
    /// θ₀ or θ_T.
    pub point: Point,
    /// Per class, the best hidden unit.
    pub units: Vec<Best>,
    /// Per layer, per class, the best sampled tangent feature.
    pub features: Vec<Vec<Best>>,
    /// Tangent features scored per layer.
    pub features_scored: Vec<usize>,
}

/// Mean ± std over seeds of one (width, point, kernel).
#[derive(Clone, Debug, Serialize)]
pub struct KernelStats {
    /// Hidden width.
    pub width: usize,
    /// θ₀ or θ_T.
    pub point: Point,
    /// Which kernel.
    pub kernel: KernelKind,
    /// Tangent step accuracy.
    pub accuracy_newton: (f64, f64),
    /// Kernel-alone accuracy.
    pub accuracy_from_zero: (f64, f64),
    /// Alignment.
    pub alignment: (f64, f64),
    /// Centred alignment.
    pub centred_alignment: (f64, f64),
}

/// Seed of the tangent features sampled for seed index s.
pub fn feature_seed(cfg: &Config, s: usize) -> u64 {
    cfg.seed.wrapping_add(s as u64) ^ 0x7072_6f62_6500_0000
}

/// The network of one width: `depth` hidden layers of that width.
pub fn network(cfg: &Config, d: usize, o: usize, width: usize) -> Result<Mlp> {
    Mlp::new(
        d,
        &vec![width; cfg.depth],
        o,
        cfg.activation,
        cfg.parameterization,
        cfg.sigma_w,
        cfg.sigma_b,
    )
    .map_err(|e| anyhow!("cannot build the network: {e}"))
}

/// λ_max of the full NTK at θ₀ by Lanczos on the matrix-free K·v (the full kernel is
/// (n·o)² and never formed); a step η = c·n/λ_max is stable for c < 2.
fn full_kernel_lambda_max(net: &Mlp, theta: &[f64], ds: &Dataset) -> Result<f64> {
    let op = NtkOperator::new(net, theta, ds.x_train.as_ref()).map_err(|e| anyhow!("{e}"))?;
    let r =
        lanczos_extremes(&op, op.dim().min(80), 1e-6, 0x6c61_6d62).context("Lanczos on the NTK")?;
    if !(r.max.is_finite() && r.max > 0.0) {
        bail!(
            "the NTK's largest eigenvalue is {}: the network's outputs do not move",
            r.max
        );
    }
    Ok(r.max)
}

/// What one point gave: its kernel records, detectors, and the NTK step's test outputs.
struct Measured {
    kernels: Vec<KernelRecord>,
    detectors: DetectorRecord,
    ntk_newton: Matrix<f64>,
}

/// Every kernel and detector at θ.
fn measure(
    cfg: &Config,
    ds: &Dataset,
    net: &Mlp,
    theta: &[f64],
    (width, s, point): (usize, usize, Point),
) -> Result<Measured> {
    let labels = ds.labels_test.as_deref().unwrap_or_default();
    let ridge = cfg
        .ridge
        .unwrap_or_else(|| matched_lambda(1.0, cfg.lr_scale, cfg.iterations));
    let f = net.forward(theta, ds.x_train.as_ref())?;
    let f_test = net.forward(theta, ds.x_test.as_ref())?;
    let mut kernels = Vec::new();
    let mut ntk_newton = None;
    for k in kernels_at(net, theta, ds.x_train.as_ref(), ds.x_test.as_ref())? {
        let sol = solve(&k, &ds.y_train, &f, &f_test, ridge)
            .with_context(|| format!("{} at {}", k.kind.name(), point.name()))?;
        kernels.push(KernelRecord {
            width,
            seed: s,
            point,
            kernel: k.kind,
            accuracy_newton: accuracy(&sol.newton, labels),
            accuracy_from_zero: accuracy(&sol.from_zero, labels),
            alignment: alignment(&k.train, &ds.y_train)?,
            centred_alignment: centred_alignment(&k.train, &ds.y_train)?,
            lambda: sol.lambda,
        });
        if k.kind == KernelKind::Ntk {
            ntk_newton = Some(sol.newton);
        }
    }
    let o = ds.output_dim();
    let acts = hidden_activations(net, theta, ds.x_test.as_ref())?;
    let units = best_units(&acts, labels, o)?;
    let mut features = Vec::new();
    let mut features_scored = Vec::new();
    let readout = net.layers().len() - 1;
    for l in 0..readout {
        let params = sample_params(net, l, cfg.features_per_layer, feature_seed(cfg, s));
        features_scored.push(params.len());
        let x_test = ds.x_test.as_ref();
        features.push(best_features(
            net,
            theta,
            x_test,
            labels,
            (l, &params),
            FEATURE_BLOCK,
        )?);
    }
    // The readout is linear: ∂f_a/∂W[a, u] = s·φ(z_u) (AUC is invariant to s > 0), ∂f_a/∂W[b, u]
    // = 0 for b ≠ a and the bias column is constant, so its best feature for class a is
    // exactly the best unit of the last hidden layer: every one of its columns is scored.
    let top = &net.layers()[readout];
    let readout_best = best_units(&acts[acts.len() - 1..], labels, o)?
        .into_iter()
        .enumerate()
        .map(|(a, b)| Best {
            layer: readout,
            index: top.w_offset + a * top.n_in + b.index,
            ..b
        })
        .collect();
    features.push(readout_best);
    features_scored.push(net.layers()[readout].num_params());
    Ok(Measured {
        kernels,
        detectors: DetectorRecord {
            width,
            seed: s,
            point,
            units,
            features,
            features_scored,
        },
        ntk_newton: ntk_newton.ok_or_else(|| anyhow!("no NTK among the kernels"))?,
    })
}

/// The records of one run, gathered as they come.
#[derive(Default)]
struct Records {
    nets: Vec<NetRecord>,
    kernels: Vec<KernelRecord>,
    detectors: Vec<DetectorRecord>,
}

/// One (width, seed): train, then measure at θ₀ and θ_T.
fn run_seed(
    cfg: &Config,
    ds: &Dataset,
    (width, s): (usize, usize),
    obs: &mut dyn Observer,
    done: &mut u64,
    out: &mut Records,
) -> Result<()> {
    let labels = ds.labels_test.as_deref().unwrap_or_default();
    let net = network(cfg, ds.input_dim(), ds.output_dim(), width)?;
    let theta0: Vec<f64> = net.init(cfg.seed.wrapping_add(s as u64));
    let lr = cfg.lr_scale * ds.n_train() as f64 / full_kernel_lambda_max(&net, &theta0, ds)?;
    let data = (ds.x_train.as_ref(), ds.y_train.as_ref());
    let theta = full_batch_gd(&net, theta0.clone(), None, data, lr, cfg.iterations)
        .with_context(|| format!("training width {width}"))?;
    let mut tick = || {
        *done += 1;
        obs.advance(*done);
    };
    tick();
    let at_init = measure(cfg, ds, &net, &theta0, (width, s, Point::Init))?;
    tick();
    let at_end = measure(cfg, ds, &net, &theta, (width, s, Point::Trained))?;
    tick();
    let trained = net.forward(&theta, ds.x_test.as_ref())?;
    let init = net.forward(&theta0, ds.x_test.as_ref())?;
    let step: Vec<f64> = theta.iter().zip(&theta0).map(|(a, b)| a - b).collect();
    out.nets.push(NetRecord {
        width,
        seed: s,
        accuracy_trained: accuracy(&trained, labels),
        accuracy_init: accuracy(&init, labels),
        gap_to_newton: rel_diff(at_init.ntk_newton.as_slice(), trained.as_slice()),
        relative_move: nrm2(&step) / nrm2(&theta0),
        lr,
    });
    for m in [at_init, at_end] {
        out.kernels.extend(m.kernels);
        out.detectors.push(m.detectors);
    }
    Ok(())
}

/// Runs every width and seed and gathers the statistics.
pub fn run(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    if ds.labels_test.is_none() {
        bail!(
            "probe needs class labels (accuracy and AUC); {} is a regression task",
            ds.name
        );
    }
    obs.begin(
        "probe: training, then kernels and detectors at θ₀ and θ_T",
        3 * (cfg.widths.len() * cfg.seeds) as u64,
    );
    let mut out = Records::default();
    let mut done = 0;
    for &w in &cfg.widths {
        for s in 0..cfg.seeds {
            run_seed(cfg, ds, (w, s), obs, &mut done, &mut out)
                .with_context(|| format!("width {w}, seed {s}"))?;
        }
    }
    obs.end();
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        data_name: ds.name.clone(),
        stats: stats(&out.kernels),
        nets: out.nets,
        kernels: out.kernels,
        detectors: out.detectors,
        wall_seconds: 0.0,
    })
}

/// Mean ± std over seeds per (width, point, kernel), in record order.
pub fn stats(records: &[KernelRecord]) -> Vec<KernelStats> {
    group_by(records, |r| (r.width, r.point, r.kernel))
        .into_iter()
        .map(|group| {
            let r = group[0];
            let of = |f: &dyn Fn(&KernelRecord) -> f64| mean_std_by(&group, f);
            KernelStats {
                width: r.width,
                point: r.point,
                kernel: r.kernel,
                accuracy_newton: of(&|g| g.accuracy_newton),
                accuracy_from_zero: of(&|g| g.accuracy_from_zero),
                alignment: of(&|g| g.alignment),
                centred_alignment: of(&|g| g.centred_alignment),
            }
        })
        .collect()
}
