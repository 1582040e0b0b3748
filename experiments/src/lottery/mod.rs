//! `lottery`: iterative magnitude pruning (IMP) with resetting or rewinding, and its two
//! controls (Frankle & Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable
//! Neural Networks", ICLR 2019, §2 and §4; Frankle et al., "Stabilizing the Lottery Ticket
//! Hypothesis", 2019, for rewinding to θ_k).
//!
//! Per seed: train the dense network from θ₀; then for rounds r = 1 … R prune the smallest-
//! magnitude weights of the last ticket's trained θ (layer-wise: a fraction of each layer's
//! remaining weights; global: of all hidden layers together, output layer unpruned), reset
//! the survivors to θ₀ (or θ_k) and retrain. Each round also trains, at the same per-layer
//! sparsity, the ticket's mask from a fresh θ₀ (*reinit*) and a random mask from the ticket's
//! starting point (*random*). Every training measures the validation loss every
//! `eval_every` iterations; the early-stopping iteration is its minimum.

mod preset;
mod reference;
mod report;
mod run;
mod stats;
mod verdict;

pub use preset::Preset;
pub use report::output;
pub use run::{
    fit_config, network, order_seed, prune_next, theta0_seed, Arm, ArmStats, Splits, TrainingRecord,
};

use crate::config::Dtype;
use crate::data::{DataConfig, DataSpec};
use crate::memory::{mat, MemoryPlan};
use crate::progress::Observer;
use anyhow::{bail, Result};
use autodiff::mlp::Init;
use autodiff::Activation;
use serde::{Deserialize, Serialize};

/// How weights are ranked for pruning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Pruning {
    /// Each layer separately: `prune_hidden` of every hidden layer's remaining weights and
    /// `prune_output` of the output layer's per round (the paper's LeNet rates 0.2 and 0.1).
    LayerWise,
    /// All hidden layers ranked together (open_lth's `sparse_global`), `prune_hidden` of
    /// their remaining weights per round; the output layer is never pruned.
    Global,
}

/// The optimiser of every training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (β = 0.9, 0.999; ε = 1e-8).
    Adam,
    /// SGD with momentum.
    Sgd,
}

/// Settings of `lottery`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The preset these settings started from.
    pub preset: Preset,
    /// Data source (classification).
    pub data: DataSpec,
    /// Training samples.
    pub n_train: usize,
    /// Validation samples (a seeded split of the training pool).
    pub n_val: usize,
    /// Test samples.
    pub n_test: usize,
    /// Seed of the data split.
    pub data_seed: u64,
    /// Hidden widths.
    pub widths: Vec<usize>,
    /// Activation.
    #[serde(with = "crate::config::by_name")]
    pub activation: Activation,
    /// Initialisation scheme (standard parameterization).
    #[serde(with = "crate::config::by_name")]
    pub init: Init,
    /// Adam or SGD.
    pub optimizer: OptimizerKind,
    /// Step size.
    pub lr: f64,
    /// SGD momentum (ignored by Adam).
    pub momentum: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Minibatch size.
    pub batch_size: usize,
    /// Iterations per training.
    pub iterations: usize,
    /// Validation every this many iterations.
    pub eval_every: usize,
    /// Layer-wise or global.
    pub pruning: Pruning,
    /// Fraction of remaining hidden-layer weights pruned per round.
    pub prune_hidden: f64,
    /// Fraction of remaining output-layer weights pruned per round (layer-wise only).
    pub prune_output: f64,
    /// Pruning rounds after the dense training.
    pub rounds: usize,
    /// 0: reset survivors to θ₀; k > 0: rewind to θ_k of the dense training.
    pub rewind_iter: usize,
    /// Number of initialisations (seeds seed, seed + 1, …).
    pub seeds: usize,
    /// The first seed of θ₀.
    pub seed: u64,
    /// Train the reinit and random controls each round.
    pub controls: bool,
    /// Precision of training.
    pub dtype: Dtype,
    /// Save θ₀, θ_k, every round's mask and trained ticket as .npy in the run directory.
    pub save_tickets: bool,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Preset::Quick.config()
    }
}

/// What `lottery` measured.
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
    /// n₀ (input), the hidden widths, n_L (output).
    pub layer_widths: Vec<usize>,
    /// Weights per layer of the dense network (biases, never pruned, excluded).
    pub weights_per_layer: Vec<usize>,
    /// One record per training (seed × round × arm).
    pub trainings: Vec<TrainingRecord>,
    /// Mean ± std over seeds per round and arm.
    pub stats: Vec<ArmStats>,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
    /// Saved tickets: (relative path, .npy bytes); written into the run directory.
    #[serde(skip)]
    pub files: crate::report::RunFiles,
}

/// Most rounds accepted (0.8^60 ≈ 1.5e-6 of the weights would remain).
pub const MAX_ROUNDS: usize = 60;
/// Most iterations per training accepted.
pub const MAX_ITERATIONS: usize = 10_000_000;
/// Most seeds accepted.
pub const MAX_SEEDS: usize = 100;

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.n_train == 0 || cfg.n_val == 0 || cfg.n_test == 0 {
        bail!("--n-train, --n-val and --n-test must each be at least 1");
    }
    crate::model::check_widths(&cfg.widths)?;
    for (flag, f) in [
        ("--prune-hidden", cfg.prune_hidden),
        ("--prune-output", cfg.prune_output),
    ] {
        if !(0.0..1.0).contains(&f) {
            bail!("{flag} {f} must lie in [0, 1) (a fraction of the remaining weights)");
        }
    }
    if cfg.prune_hidden == 0.0 && cfg.rounds > 0 {
        bail!("--prune-hidden 0 prunes nothing: use --rounds 0 for the dense network only");
    }
    if cfg.rounds > MAX_ROUNDS || !(1..=MAX_SEEDS).contains(&cfg.seeds) {
        bail!(
            "--rounds must be ≤ {MAX_ROUNDS} and --seeds in 1..={MAX_SEEDS} (got {} and {})",
            cfg.rounds,
            cfg.seeds
        );
    }
    if cfg.iterations > MAX_ITERATIONS {
        bail!(
            "--iterations {} is above the limit of {MAX_ITERATIONS}",
            cfg.iterations
        );
    }
    if cfg.batch_size > cfg.n_train {
        bail!(
            "--batch-size {} is larger than the {} training samples",
            cfg.batch_size,
            cfg.n_train
        );
    }
    if cfg.rewind_iter >= cfg.iterations {
        bail!(
            "--rewind-iter {} must be below --iterations {} (the ticket retrains from θ_k for the rest)",
            cfg.rewind_iter,
            cfg.iterations
        );
    }
    if cfg.activation == Activation::Identity {
        bail!("a linear network has no lottery tickets to find; pick a nonlinear --activation");
    }
    run::fit_config(cfg, 0).validate()
}

/// The memory plan: the data in f64 as loaded and in the training precision, θ and the
/// optimiser's state for the few trainings alive at once, and the widest activations of a
/// validation or test pass.
pub fn memory_plan(cfg: &Config, d: usize, o: usize) -> MemoryPlan {
    let n_all = cfg.n_train + cfg.n_val + cfg.n_test;
    let elem = match cfg.dtype {
        Dtype::F32 => 4,
        Dtype::F64 => 8,
    };
    let mut widths = vec![d];
    widths.extend(&cfg.widths);
    widths.push(o);
    let p: usize = widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    let widest = widths.iter().copied().max().unwrap_or(1);
    let eval_rows = cfg.n_val.max(cfg.n_test);
    let mut plan = MemoryPlan::default();
    plan.phase(
        "training",
        vec![
            (format!("data in f64 ({n_all}×{d})"), mat(n_all, d + o, 8)),
            (
                format!("data in {} ({n_all}×{d})", cfg.dtype),
                mat(n_all, d, elem),
            ),
            (
                format!("θ, optimiser state and kept copies (12 × {p})"),
                mat(12, p, elem),
            ),
            (
                format!("activations of a validation/test pass (3 × {eval_rows}×{widest})"),
                mat(3 * eval_rows, widest, elem),
            ),
            (
                format!("saved tickets ({} rounds × {p})", cfg.rounds + 1),
                if cfg.save_tickets {
                    mat(cfg.seeds * (cfg.rounds + 2), p, elem + 1)
                } else {
                    0
                },
            ),
        ],
    );
    plan
}

/// The training set and validation pool as `data::load` sees them: validation samples come
/// out of the training pool.
pub fn data_config(cfg: &Config) -> DataConfig {
    DataConfig {
        spec: cfg.data.clone(),
        n_train: cfg.n_train + cfg.n_val,
        n_test: cfg.n_test,
        seed: cfg.data_seed,
    }
}

crate::experiment::experiment!(Lottery, "lottery", |c| c.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let (s, m) = crate::memory::planned(
        &data_config(cfg),
        cfg.max_memory_mib,
        "use fewer samples, narrower layers or --no-save-tickets",
        |ds| memory_plan(cfg, ds.input_dim(), ds.output_dim()),
        |ds| match cfg.dtype {
            Dtype::F32 => run::run::<f32>(cfg, ds, obs),
            Dtype::F64 => run::run::<f64>(cfg, ds, obs),
        },
    )?;
    Ok(Summary {
        memory_estimate_bytes: m.estimate,
        memory_peak_bytes: m.peak,
        wall_seconds: m.seconds,
        ..s
    })
}
