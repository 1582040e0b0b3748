//! `sgd-noise`: where does the randomness of a trained network come from — θ₀ or the data
//! order?
//!
//! On the linearised model every SGD step stays in the row space of J, so from θ₀ any batch
//! order heads for the same minimum-norm interpolant as GD and Newton (λ → 0)
//! ([`crate::tangent::linearized_sgd`]). For each width, a grid of init seeds × order seeds
//! is trained by minibatch SGD on squared error at several batch sizes, both the network and
//! its linearisation at θ₀ (the same batches, the same step), and their test predictions are
//! split by a two-way analysis of variance into an init part, an order part and their
//! interaction ([`crate::metrics::anova`]). The across-init mean and variance are set against
//! the Gaussian process that GD-trained wide networks follow (Lee et al. 2019, §2.3.1,
//! [`gp`]), built from the empirical kernels averaged over the inits; and each run's distance
//! to its init's Newton step, ‖f_SGD − f_Newton‖/‖f_Newton − f₀‖, is reported against batch
//! size and width.

mod about;
pub mod gp;
mod report;
pub mod run;
pub mod spread;

pub use report::output;
pub use run::{CellStats, RunRecord};

use crate::data::{DataConfig, DataSpec};
use crate::memory::{mat, MemoryPlan};
use crate::progress::Observer;
use anyhow::{bail, Result};
use autodiff::Activation;
use serde::{Deserialize, Serialize};

/// Settings of `sgd-noise`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Data source (classification or regression).
    pub data: DataSpec,
    /// Training samples.
    pub n_train: usize,
    /// Test samples.
    pub n_test: usize,
    /// Seed of the data subset.
    pub data_seed: u64,
    /// Hidden widths swept (every hidden layer of a network has the width).
    pub widths: Vec<usize>,
    /// Hidden layers.
    pub depth: usize,
    /// Activation.
    #[serde(with = "crate::config::by_name")]
    pub activation: Activation,
    /// σ_w (NTK parameterization).
    pub sigma_w: f64,
    /// σ_b.
    pub sigma_b: f64,
    /// Minibatch sizes (a size ≥ n is full-batch GD, which has no order).
    pub batch_sizes: Vec<usize>,
    /// SGD steps T of every run (the same for every batch size, so the expected path, GD for
    /// T steps, is the same).
    pub steps: usize,
    /// η = lr_scale · n / λ_max(K) with K the full NTK of the first init.
    pub lr_scale: f64,
    /// Ridge of the Newton step as a fraction of λ_max(K) (the λ → 0 limit, kept off 0 so
    /// the solve stays well posed).
    pub newton_ridge: f64,
    /// Initialisations (seeds seed, seed + 1, …).
    pub inits: usize,
    /// Data orders (seeds order_seed, order_seed + 1, …).
    pub orders: usize,
    /// The first seed of θ₀.
    pub seed: u64,
    /// The first order seed.
    pub order_seed: u64,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: DataSpec::Digits,
            n_train: 100,
            n_test: 300,
            data_seed: 0,
            widths: vec![64, 512],
            depth: 1,
            activation: Activation::Relu,
            sigma_w: 1.0,
            sigma_b: 0.1,
            batch_sizes: vec![5, 25, 100],
            steps: 1000,
            lr_scale: 0.5,
            newton_ridge: 1e-9,
            inits: 8,
            orders: 3,
            seed: 0,
            order_seed: 1000,
            max_memory_mib: None,
        }
    }
}

/// What `sgd-noise` measured.
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
    /// One record per (width, batch, init, order).
    pub runs: Vec<RunRecord>,
    /// One per (width, batch): the decomposition, the ratios and the GP comparison.
    pub cells: Vec<CellStats>,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
}

/// Most inits or orders accepted.
pub const MAX_GRID: usize = 64;
/// Most SGD steps accepted.
pub const MAX_STEPS: usize = 1_000_000;
/// Most hidden layers accepted.
pub const MAX_DEPTH: usize = 16;

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.n_train < 2 || cfg.n_test < 1 {
        bail!("--n-train must be at least 2 and --n-test at least 1");
    }
    crate::model::check_widths(&cfg.widths)?;
    if !(1..=MAX_DEPTH).contains(&cfg.depth) {
        bail!("--depth must lie in 1..={MAX_DEPTH}, got {}", cfg.depth);
    }
    crate::model::validate(&model_config(cfg, cfg.widths[0]))?;
    if !(2..=MAX_GRID).contains(&cfg.inits) || !(2..=MAX_GRID).contains(&cfg.orders) {
        bail!(
            "--inits and --orders must each lie in 2..={MAX_GRID} (the variance decomposition needs two of each), got {} and {}",
            cfg.inits, cfg.orders
        );
    }
    if cfg.batch_sizes.is_empty() || cfg.batch_sizes.contains(&0) {
        bail!("--batch-sizes needs at least one size, each at least 1");
    }
    if !(1..=MAX_STEPS).contains(&cfg.steps) {
        bail!("--steps must lie in 1..={MAX_STEPS}, got {}", cfg.steps);
    }
    if !(cfg.lr_scale.is_finite() && cfg.lr_scale > 0.0 && cfg.lr_scale < 2.0) {
        bail!(
            "--lr-scale {} must lie in (0, 2): full-batch GD on the linearised model diverges at 2",
            cfg.lr_scale
        );
    }
    if !(cfg.newton_ridge.is_finite() && cfg.newton_ridge > 0.0 && cfg.newton_ridge <= 1.0) {
        bail!(
            "--newton-ridge {} must lie in (0, 1] (a fraction of λ_max)",
            cfg.newton_ridge
        );
    }
    Ok(())
}

/// The network of one width (NTK parameterization: the GP formulas assume it).
pub fn model_config(cfg: &Config, width: usize) -> crate::model::ModelConfig {
    crate::model::ModelConfig {
        widths: vec![width; cfg.depth],
        activation: cfg.activation,
        parameterization: autodiff::mlp::Parameterization::Ntk,
        sigma_w: cfg.sigma_w,
        sigma_b: cfg.sigma_b,
        seed: cfg.seed,
    }
}

/// The memory plan of the widest network: the full NTK (n·o)² with its eigenvectors and one
/// work copy, the traced kernels of the GP, the recorded test predictions of every run, and
/// θ, δ and their gradients for the runs that go on at once.
pub fn memory_plan(cfg: &Config, d: usize, o: usize) -> MemoryPlan {
    let (n, m) = (cfg.n_train, cfg.n_test);
    let w = cfg.widths.iter().copied().max().unwrap_or(1);
    let mut sizes = vec![d];
    sizes.extend(vec![w; cfg.depth]);
    sizes.push(o);
    let p: usize = sizes.windows(2).map(|s| (s[0] + 1) * s[1]).sum();
    let runs = cfg.widths.len() * cfg.batch_sizes.len() * cfg.inits * cfg.orders;
    let tape = d + 3 * w * cfg.depth + o;
    let mut plan = MemoryPlan::default();
    plan.phase(
        "kernels and runs",
        vec![
            (
                format!("full NTK, its eigenvectors and a copy (3 × {}²)", n * o),
                mat(3 * n * o, n * o, 8),
            ),
            (
                format!("traced kernels of the GP (train {n}², test {m}×{n}, {m}²)"),
                mat(6, n * n + m * n + m * m, 8),
            ),
            (
                format!("test predictions of {runs} runs, twice"),
                mat(2 * runs, m * o, 8),
            ),
            (
                format!(
                    "θ, δ and gradients of {} runs at once (8 × {p})",
                    cfg.orders
                ),
                mat(8 * cfg.orders, p, 8),
            ),
            (
                format!("forward tapes ({} samples, {} runs)", n + m, cfg.orders),
                mat((n + m) * (cfg.orders + 2), tape, 8),
            ),
            (format!("data ({} rows)", n + m), mat(n + m, d + o, 16)),
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

crate::experiment::experiment!(SgdNoise, "sgd-noise", |c| c.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let (s, m) = crate::memory::planned(
        &data_config(cfg),
        cfg.max_memory_mib,
        "use fewer training samples (the full NTK is (n·o)²), narrower --widths or fewer --orders",
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
