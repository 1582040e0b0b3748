//! `probe`: pre-existing detectors, tangent features, or training?
//!
//! For each hidden width and seed, one network is trained by full-batch GD on squared error
//! and measured at θ₀ and at the trained θ_T through ridge solves with five kinds of kernel
//! ([`kernels::KernelKind`]): the conjugate kernel of the last hidden layer (a new readout of
//! the units the network already has: random features at θ₀), each layer's own tangent kernel
//! K_l (the structured NTK is their sum), and the whole NTK (at θ₀ the one Newton step; at θ_T
//! the after-kernel). Beside them the trained network itself, the best single hidden unit as
//! a one-vs-rest detector of each class (the highest AUC), the best single tangent feature
//! ∂f_a/∂θ_j as a detector of class a, and the kernel–target alignment of every kernel
//! (Cristianini et al., NeurIPS 2001). If the tickets were detectors that exist at θ₀, single
//! units would already separate the classes and the conjugate kernel would do most of the
//! work; if they are functions of the tangent space, the NTK at θ₀ carries the accuracy and
//! single features do not.

mod about;
pub mod detectors;
pub mod kernels;
mod report;
pub mod run;

pub use report::output;
pub use run::{DetectorRecord, KernelRecord, KernelStats, NetRecord};

use crate::data::{DataConfig, DataSpec};
use crate::memory::{mat, MemoryPlan};
use crate::progress::Observer;
use anyhow::{bail, Result};
use autodiff::mlp::Parameterization;
use autodiff::Activation;
use serde::{Deserialize, Serialize};

/// Settings of `probe`.
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
    /// Hidden widths swept (every hidden layer of a network has the same width).
    pub widths: Vec<usize>,
    /// Hidden layers.
    pub depth: usize,
    /// Activation.
    #[serde(with = "crate::config::by_name")]
    pub activation: Activation,
    /// NTK or standard parameterization.
    #[serde(with = "crate::config::by_name")]
    pub parameterization: Parameterization,
    /// σ_w.
    pub sigma_w: f64,
    /// σ_b.
    pub sigma_b: f64,
    /// Full-batch GD steps T of the training.
    pub iterations: usize,
    /// GD step η = lr_scale · n / λ_max(K) (1 is half the stability limit).
    pub lr_scale: f64,
    /// Ridge of every kernel solve relative to that kernel's λ_max; None matches it to the
    /// training, 1/(lr_scale·T) (see `tickets::newton::matched_lambda`).
    pub ridge: Option<f64>,
    /// Tangent features ∂f_a/∂θ_j scored per layer (drawn without replacement; every one when
    /// the layer has fewer parameters).
    pub features_per_layer: usize,
    /// Number of initialisations (seeds seed, seed + 1, …).
    pub seeds: usize,
    /// The first seed of θ₀.
    pub seed: u64,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: DataSpec::Digits,
            n_train: 300,
            n_test: 500,
            data_seed: 0,
            widths: vec![64, 128, 256, 512, 1024, 2048],
            depth: 1,
            activation: Activation::Relu,
            parameterization: Parameterization::Ntk,
            sigma_w: 1.0,
            sigma_b: 0.1,
            iterations: 2000,
            lr_scale: 1.0,
            ridge: None,
            features_per_layer: 2000,
            seeds: 2,
            seed: 0,
            max_memory_mib: None,
        }
    }
}

/// What `probe` measured.
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
    /// One record per (width, seed): the trained network.
    pub nets: Vec<NetRecord>,
    /// One record per (width, seed, point, kernel).
    pub kernels: Vec<KernelRecord>,
    /// One record per (width, seed, point): the best single detectors.
    pub detectors: Vec<DetectorRecord>,
    /// Mean ± std over seeds per (width, point, kernel).
    pub stats: Vec<KernelStats>,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
}

/// Most seeds accepted.
pub const MAX_SEEDS: usize = 100;
/// Most GD steps accepted.
pub const MAX_ITERATIONS: usize = 1_000_000;
/// Most hidden layers accepted.
pub const MAX_DEPTH: usize = 16;

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.n_train < 2 || cfg.n_test < 2 {
        bail!("--n-train and --n-test must each be at least 2 (a detector needs two classes)");
    }
    crate::model::check_widths(&cfg.widths)?;
    if !(1..=MAX_DEPTH).contains(&cfg.depth) {
        bail!("--depth must lie in 1..={MAX_DEPTH}, got {}", cfg.depth);
    }
    crate::model::validate(&crate::model::ModelConfig {
        widths: cfg.widths.clone(),
        activation: cfg.activation,
        parameterization: cfg.parameterization,
        sigma_w: cfg.sigma_w,
        sigma_b: cfg.sigma_b,
        seed: cfg.seed,
    })?;
    if !(1..=MAX_SEEDS).contains(&cfg.seeds) {
        bail!("--seeds must lie in 1..={MAX_SEEDS}, got {}", cfg.seeds);
    }
    if !(1..=MAX_ITERATIONS).contains(&cfg.iterations) {
        bail!(
            "--iterations must lie in 1..={MAX_ITERATIONS}, got {}",
            cfg.iterations
        );
    }
    if !(cfg.lr_scale.is_finite() && cfg.lr_scale > 0.0 && cfg.lr_scale < 2.0) {
        bail!(
            "--lr-scale {} must lie in (0, 2): GD on the linearised model diverges at 2",
            cfg.lr_scale
        );
    }
    if let Some(r) = cfg.ridge {
        if !(r.is_finite() && r > 0.0) {
            bail!("--ridge {r} must be positive and finite (a fraction of each kernel's λ_max)");
        }
    }
    if cfg.features_per_layer == 0 {
        bail!("--features-per-layer must be at least 1");
    }
    if cfg.activation == Activation::Identity {
        bail!("a linear network has no hidden detectors to probe; pick a nonlinear --activation");
    }
    Ok(())
}

/// The widest network's parameter count, its NTK factor bytes for `samples` inputs, and the
/// entries a recorded forward pass keeps per sample (input, and per hidden layer z, φ(z) and
/// φ'(z), then the output).
fn widest(cfg: &Config, d: usize, o: usize, samples: usize) -> (usize, usize, usize) {
    let w = cfg.widths.iter().copied().max().unwrap_or(1);
    match run::network(cfg, d, o, w) {
        Ok(net) => (
            net.num_params(),
            autodiff::mlp::ntk_factor_bytes(&net, samples, 0, 8),
            d + 3 * w * cfg.depth + o,
        ),
        Err(_) => (usize::MAX, usize::MAX, usize::MAX),
    }
}

/// The memory plan of the widest network, in two phases: building and solving the kernels
/// (every kernel of one point, train n×n and test×train, with one solve's copy and factor, or
/// while they are built the NTK factors of both input sets), then the detectors (the test
/// inputs' factors and one block of tangent-feature columns). The data and the θ's of the
/// training live throughout.
pub fn memory_plan(cfg: &Config, d: usize, o: usize) -> MemoryPlan {
    let (n, m) = (cfg.n_train, cfg.n_test);
    let (p, factors, tape) = widest(cfg, d, o, n + m);
    let test_factors = widest(cfg, d, o, m).1;
    let kinds = cfg.depth + 3;
    let always = || {
        vec![
            (format!("data ({} rows)", n + m), mat(n + m, d + o, 16)),
            (format!("θ copies and gradients (8 × {p})"), mat(8, p, 8)),
            (
                format!("tapes of the widest network ({} samples)", n + m),
                mat(n + m, tape, 8),
            ),
        ]
    };
    let mut kernels = always();
    kernels.push((
        format!("{kinds} kernels (train {n}², test {m}×{n})"),
        mat(kinds, n * n + m * n, 8),
    ));
    kernels.push((
        format!(
            "a solve's K + λI and its factor, or the NTK factors ({} samples)",
            n + m
        ),
        mat(2, n * n, 8).max(factors as u128),
    ));
    let mut detectors = always();
    detectors.push((
        format!("NTK factors of the test inputs ({m} samples)"),
        test_factors as u128,
    ));
    detectors.push((
        format!("tangent-feature columns ({}×{})", m * o, run::FEATURE_BLOCK),
        mat(m * o, run::FEATURE_BLOCK, 8),
    ));
    let mut plan = MemoryPlan::default();
    plan.phase("kernels and solves", kernels);
    plan.phase("detectors", detectors);
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

crate::experiment::experiment!(Probe, "probe", |c| c.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let (s, m) = crate::memory::planned(
        &data_config(cfg),
        cfg.max_memory_mib,
        "use fewer samples (the kernels are n²) or narrower --widths",
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
