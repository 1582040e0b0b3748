//! `supermask`: masking is training. Freeze θ₀ and learn only which weights to keep
//! (edge-popup: Ramanujan et al., "What's Hidden in a Randomly Weighted Neural Network?",
//! CVPR 2020; supermasks: Zhou et al., NeurIPS 2019).
//!
//! Each weight j has a score s_j; the network is f(m(s) ⊙ θ₀) with m(s) keeping the top-k
//! scores of each layer. The straight-through gradient ∂L/∂s_j = θ₀_j · ∂L/∂w_j (w = m ⊙ θ₀,
//! for kept and pruned weights alike) trains the scores by SGD with momentum on minibatches
//! of softmax cross-entropy. Then: test accuracy of the learned mask against a random mask of
//! the same size, and how far the masked network is from its own tangent prediction,
//! ‖f(m ⊙ θ₀) − (f(θ₀) + J((m − 1) ⊙ θ₀))‖/‖f(m ⊙ θ₀)‖ on the test inputs — pruning as a move
//! of size (m − 1) ⊙ θ₀ in parameter space, which the tangent space at θ₀ describes only when
//! the move is small. Control: the signed constant θ₀ = σ_l·sign(θ₀) (Ramanujan et al. §3).

mod about;
mod report;
pub mod run;

pub use report::output;
pub use run::{Record, Stats, Weights};

use crate::data::{DataConfig, DataSpec};
use crate::memory::{mat, MemoryPlan};
use crate::progress::Observer;
use anyhow::{bail, Result};
use autodiff::mlp::Init;
use autodiff::Activation;
use serde::{Deserialize, Serialize};

/// Settings of `supermask`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Data source (classification).
    pub data: DataSpec,
    /// Training samples.
    pub n_train: usize,
    /// Test samples.
    pub n_test: usize,
    /// Seed of the data subset.
    pub data_seed: u64,
    /// Hidden widths.
    pub widths: Vec<usize>,
    /// Activation.
    #[serde(with = "crate::config::by_name")]
    pub activation: Activation,
    /// Initialisation of θ₀ (standard parameterization).
    #[serde(with = "crate::config::by_name")]
    pub init: Init,
    /// Fractions of every layer's weights kept, each in (0, 1] (1: the dense θ₀).
    pub keep: Vec<f64>,
    /// SGD steps on the scores.
    pub iterations: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Step size on the scores.
    pub lr: f64,
    /// Momentum.
    pub momentum: f64,
    /// Number of initialisations (seeds seed, seed + 1, …).
    pub seeds: usize,
    /// The first seed.
    pub seed: u64,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: DataSpec::Digits,
            n_train: 1000,
            n_test: 500,
            data_seed: 0,
            widths: vec![300, 100],
            activation: Activation::Relu,
            init: Init::KaimingNormal,
            keep: vec![0.5, 0.3, 0.1, 0.05],
            iterations: 2000,
            batch_size: 60,
            lr: 0.1,
            momentum: 0.9,
            seeds: 2,
            seed: 0,
            max_memory_mib: None,
        }
    }
}

/// What `supermask` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Estimated peak heap bytes (the memory plan), made before allocating.
    pub memory_estimate_bytes: u128,
    /// Measured peak heap bytes (None where the counting allocator is absent).
    pub memory_peak_bytes: Option<u128>,
    /// The settings.
    pub config: Config,
    /// Data set name.
    pub data_name: String,
    /// Test accuracy of the dense θ₀ per seed and weights kind (no training at all).
    pub dense_accuracy: Vec<(usize, Weights, f64)>,
    /// One record per (seed, keep, weights kind).
    pub records: Vec<Record>,
    /// Mean ± std over seeds per (keep, weights kind).
    pub stats: Vec<Stats>,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
}

/// Most steps accepted.
pub const MAX_ITERATIONS: usize = 10_000_000;

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.n_train == 0 || cfg.n_test == 0 {
        bail!("--n-train and --n-test must each be at least 1");
    }
    crate::model::check_widths(&cfg.widths)?;
    if cfg.keep.is_empty() {
        bail!("--keep needs at least one value");
    }
    if let Some(k) = cfg.keep.iter().find(|k| !(**k > 0.0 && **k <= 1.0)) {
        bail!("--keep {k} must lie in (0, 1] (the fraction of every layer's weights kept)");
    }
    if !(1..=MAX_ITERATIONS).contains(&cfg.iterations) {
        bail!(
            "--iterations must lie in 1..={MAX_ITERATIONS}, got {}",
            cfg.iterations
        );
    }
    if cfg.batch_size == 0 || cfg.batch_size > cfg.n_train {
        bail!(
            "--batch-size {} must lie in 1..={} (the training samples)",
            cfg.batch_size,
            cfg.n_train
        );
    }
    if !(cfg.lr.is_finite() && cfg.lr > 0.0) {
        bail!("--lr {} must be positive and finite", cfg.lr);
    }
    if !(0.0..1.0).contains(&cfg.momentum) {
        bail!("--momentum {} must lie in [0, 1)", cfg.momentum);
    }
    if !(1..=100).contains(&cfg.seeds) {
        bail!("--seeds must lie in 1..=100, got {}", cfg.seeds);
    }
    if cfg.activation == Activation::Identity {
        bail!("a linear network's masks are a linear model's; pick a nonlinear --activation");
    }
    Ok(())
}

/// The memory plan: the data, θ₀ in two kinds with scores, velocities, masks and gradients,
/// and the activations of a test pass with its JVP.
pub fn memory_plan(cfg: &Config, d: usize, o: usize) -> MemoryPlan {
    let mut widths = vec![d];
    widths.extend(&cfg.widths);
    widths.push(o);
    let p: usize = widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    let widest = widths.iter().copied().max().unwrap_or(1);
    let mut plan = MemoryPlan::default();
    plan.phase(
        "training",
        vec![
            (
                format!("data ({} rows)", cfg.n_train + cfg.n_test),
                mat(cfg.n_train + cfg.n_test, d + o, 16),
            ),
            (
                format!("θ₀, scores, velocity, gradients (10 × {p})"),
                mat(10, p, 8),
            ),
            (
                format!(
                    "activations of a test pass and its JVP (4 × {}×{widest})",
                    cfg.n_test
                ),
                mat(4 * cfg.n_test.max(cfg.batch_size), widest, 8),
            ),
        ],
    );
    plan
}

/// The data as `data::load` sees it.
pub fn data_config(cfg: &Config) -> DataConfig {
    DataConfig {
        spec: cfg.data.clone(),
        n_train: cfg.n_train,
        n_test: cfg.n_test,
        seed: cfg.data_seed,
    }
}

crate::experiment::experiment!(Supermask, "supermask", |c| c.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let (s, m) = crate::memory::planned(
        &data_config(cfg),
        cfg.max_memory_mib,
        "use fewer samples or narrower layers",
        |ds| memory_plan(cfg, ds.input_dim(), ds.output_dim()),
        |ds| run::run(cfg, ds, obs),
    )?;
    Ok(Summary {
        memory_estimate_bytes: m.estimate,
        memory_peak_bytes: m.peak,
        wall_seconds: m.seconds,
        ..s
    })
}
