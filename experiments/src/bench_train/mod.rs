//! `bench-train`: the wall time of one optimisation step of LeNet-300-100 (784-300-100-10,
//! ReLU, softmax cross-entropy, Adam 1.2e-3, f32) on minibatches of 60 — the training step of
//! the lottery-ticket experiments (Frankle & Carbin 2019) — dense and with a mask that keeps
//! 20% of every weight matrix, on each requested thread count.
//!
//! A step is what `lottery` runs: gather the minibatch, forward, softmax cross-entropy,
//! backward, mask the gradient (masked runs), Adam update, re-mask θ. Timing: `warmup` steps,
//! then `blocks` blocks of `steps_per_block` steps; the median block time per step is
//! reported, as `benches/peers/python/torch_train.py` does for PyTorch. Inputs are seeded
//! normal draws (60,000 × 784 unless `n` says otherwise): the step's cost does not depend on
//! their values.

mod about;
mod report;
mod run;

pub use report::output;
pub use run::StepTiming;

use crate::memory::{mat, MemoryPlan};
use crate::progress::Observer;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Settings of `bench-train`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Thread counts to time, each in its own pool.
    pub threads: Vec<usize>,
    /// Minibatch size.
    pub batch: usize,
    /// Hidden widths (inputs 784, outputs 10).
    pub widths: Vec<usize>,
    /// Training samples the minibatches are drawn from.
    pub n: usize,
    /// Untimed steps before the timing.
    pub warmup: usize,
    /// Timed blocks (the median is reported).
    pub blocks: usize,
    /// Steps per block.
    pub steps_per_block: usize,
    /// Fraction of each weight matrix kept by the masked runs.
    pub keep: f64,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threads: vec![1, 2],
            batch: 60,
            widths: vec![300, 100],
            n: 60_000,
            warmup: 500,
            blocks: 5,
            steps_per_block: 400,
            keep: 0.2,
            max_memory_mib: None,
        }
    }
}

/// What `bench-train` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The settings.
    pub config: Config,
    /// One timing per (threads, masked).
    pub timings: Vec<StepTiming>,
    /// Floating-point operations of one step (forward, backward; the update is not counted).
    pub flops_per_step: f64,
}

/// Most threads per pool accepted.
pub const MAX_THREADS: usize = 256;

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.threads.is_empty() || cfg.threads.iter().any(|&t| t == 0 || t > MAX_THREADS) {
        bail!("--threads needs thread counts in 1..={MAX_THREADS}");
    }
    if cfg.batch == 0 || cfg.batch > cfg.n {
        bail!(
            "--batch {} must lie in 1..={} (the samples drawn from)",
            cfg.batch,
            cfg.n
        );
    }
    if cfg.blocks == 0 || cfg.steps_per_block == 0 {
        bail!("--blocks and --steps-per-block must be at least 1");
    }
    if cfg.blocks.saturating_mul(cfg.steps_per_block) > 10_000_000 || cfg.warmup > 10_000_000 {
        bail!("at most 10⁷ timed and 10⁷ warm-up steps");
    }
    if !(cfg.keep > 0.0 && cfg.keep < 1.0) {
        bail!("--keep {} must lie in (0, 1)", cfg.keep);
    }
    crate::model::check_widths(&cfg.widths)?;
    Ok(())
}

/// The inputs in f32 and, per thread count, θ and Adam's two moments.
pub fn memory_plan(cfg: &Config) -> MemoryPlan {
    let mut widths = vec![run::INPUTS];
    widths.extend(&cfg.widths);
    widths.push(run::CLASSES);
    let p: usize = widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    let widest = widths.iter().copied().max().unwrap_or(1);
    let mut plan = MemoryPlan::default();
    plan.phase(
        "timing",
        vec![
            (
                format!("inputs ({}×{})", cfg.n, run::INPUTS),
                mat(cfg.n, run::INPUTS, 4),
            ),
            (
                format!("θ, gradient, mask, moments (8 × {p})"),
                mat(8, p, 4),
            ),
            (
                format!("activations (8 × {}×{widest})", cfg.batch),
                mat(8 * cfg.batch, widest, 4),
            ),
        ],
    );
    plan
}

crate::experiment::experiment!(BenchTrain, "bench-train", |_| 0);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    memory_plan(cfg).check(
        crate::memory::budget(cfg.max_memory_mib),
        "use fewer samples (--n)",
    )?;
    run::run(cfg, obs)
}
