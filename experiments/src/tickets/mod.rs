//! `tickets`: is the lottery ticket already in the tangent space at θ₀?
//!
//! At θ₀ take the dense network's Newton step δ = Jᵀ(K + λI)⁻¹(Y − f₀) (see [`newton`]). In
//! the lazy regime the trained network is θ_T ≈ θ₀ + δ, so the ticket that magnitude pruning
//! finds after training (top-|θ_T|, Frankle & Carbin 2019) should already be visible without
//! any training as the *tangent mask* top-|θ₀ + δ|, and better than the magnitude at init,
//! top-|θ₀|. For each hidden-width scale, seed and sparsity this command builds the four masks
//! ([`masks::MaskKind`]) with IMP's per-layer counts, measures each one's Jaccard overlap with
//! the IMP mask (per layer, with the random mask as the chance level), and for each mask
//! compares (a) the subnetwork trained from θ₀ by full-batch GD on squared error, (b) the
//! Newton step in the subnetwork's own tangent space (kernel K_S of the kept columns) and (c)
//! the function gap ‖f_a − f_b‖/‖f_a‖ between them on the test inputs: where the tangent
//! picture stops describing sparse training.

mod about;
pub mod masks;
pub mod newton;
mod report;
mod run;

pub use report::output;
pub use run::{DenseRecord, MaskRecord, MaskStats};

use crate::data::{DataConfig, DataSpec};
use crate::memory::{mat, MemoryPlan};
use crate::progress::Observer;
use anyhow::{bail, Result};
use autodiff::mlp::Init;
use autodiff::Activation;
use serde::{Deserialize, Serialize};

/// Settings of `tickets`.
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
    /// Hidden widths at scale 1.
    pub widths: Vec<usize>,
    /// Multipliers of every hidden width (one architecture per entry).
    pub width_scales: Vec<f64>,
    /// Activation.
    #[serde(with = "crate::config::by_name")]
    pub activation: Activation,
    /// Initialisation scheme (standard parameterization).
    #[serde(with = "crate::config::by_name")]
    pub init: Init,
    /// Fractions of each hidden layer's weights kept (the output layer keeps IMP's share).
    pub keep: Vec<f64>,
    /// Full-batch GD steps of every training.
    pub iterations: usize,
    /// GD step η = lr_scale · n / λ_max(K_S) (1 is half the stability limit).
    pub lr_scale: f64,
    /// Ridge λ of every Newton step; None matches it to GD: λ_max(K_S)/(lr_scale·T).
    pub lambda: Option<f64>,
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
            widths: vec![300, 100],
            width_scales: vec![0.25, 1.0],
            activation: Activation::Relu,
            init: Init::GlorotNormal,
            keep: vec![0.5, 0.2, 0.05],
            iterations: 400,
            lr_scale: 1.0,
            lambda: None,
            seeds: 2,
            seed: 0,
            max_memory_mib: None,
        }
    }
}

/// What `tickets` measured.
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
    /// One record per (width scale, seed): the dense network.
    pub dense: Vec<DenseRecord>,
    /// One record per (width scale, seed, sparsity, mask kind).
    pub masks: Vec<MaskRecord>,
    /// Mean ± std over seeds per (width scale, sparsity, mask kind).
    pub stats: Vec<MaskStats>,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
}

/// Most seeds accepted.
pub const MAX_SEEDS: usize = 100;
/// Most GD steps per training accepted.
pub const MAX_ITERATIONS: usize = 1_000_000;

/// The hidden widths at `scale` (rounded, at least 1).
pub fn scaled_widths(widths: &[usize], scale: f64) -> Vec<usize> {
    widths
        .iter()
        .map(|&w| ((w as f64 * scale).round() as usize).max(1))
        .collect()
}

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.n_train == 0 || cfg.n_test == 0 {
        bail!("--n-train and --n-test must each be at least 1");
    }
    crate::model::check_widths(&cfg.widths)?;
    if cfg.width_scales.is_empty() || cfg.keep.is_empty() {
        bail!("--width-scales and --keep each need at least one value");
    }
    if let Some(s) = cfg
        .width_scales
        .iter()
        .find(|s| !(s.is_finite() && **s > 0.0 && **s <= 100.0))
    {
        bail!("--width-scales {s} must lie in (0, 100]");
    }
    if let Some(k) = cfg.keep.iter().find(|k| !(**k > 0.0 && **k < 1.0)) {
        bail!("--keep {k} must lie in (0, 1) (the fraction of each hidden layer's weights kept)");
    }
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
    if let Some(l) = cfg.lambda {
        if !(l.is_finite() && l > 0.0) {
            bail!("--lambda {l} must be positive and finite");
        }
    }
    if cfg.activation == Activation::Identity {
        bail!(
            "a linear network's tangent space is the network itself; pick a nonlinear --activation"
        );
    }
    Ok(())
}

/// The memory plan of the widest architecture: the data, the full kernel K_S ((n·o)², with
/// the copy K_S + λI and its Cholesky factor), the NTK factors, and θ for the trainings and
/// masks alive at once.
pub fn memory_plan(cfg: &Config, d: usize, o: usize) -> MemoryPlan {
    let scale = cfg.width_scales.iter().copied().fold(0.0, f64::max);
    let mut widths = vec![d];
    widths.extend(scaled_widths(&cfg.widths, scale));
    widths.push(o);
    let p: usize = widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    let no = cfg.n_train * o;
    let per_sample: usize = widths.windows(2).map(|w| o * w[1] + 2 * w[0]).sum();
    let widest = widths.iter().copied().max().unwrap_or(1);
    let mut plan = MemoryPlan::default();
    plan.phase(
        "Newton step",
        vec![
            (
                format!("data ({} rows)", cfg.n_train + cfg.n_test),
                mat(cfg.n_train + cfg.n_test, d + o, 16),
            ),
            (
                format!("kernel K_S, K_S + λI, factor (3 × {no}²)"),
                mat(no, no, 24),
            ),
            (
                format!("NTK factors ({} samples)", cfg.n_train),
                mat(cfg.n_train, per_sample, 8),
            ),
            (
                format!("tapes at θ₀ (train and test, widest {widest})"),
                mat(3 * (cfg.n_train + cfg.n_test), widest, 8),
            ),
            (format!("θ copies and masks (12 × {p})"), mat(12, p, 9)),
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

crate::experiment::experiment!(Tickets, "tickets", |c| c.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let (s, m) = crate::memory::planned(
        &data_config(cfg),
        cfg.max_memory_mib,
        "use fewer training samples (the kernel is (n·o)²) or smaller --width-scales",
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
