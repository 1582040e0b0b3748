//! `bench-jacobian`: the Jacobian J = ∂f/∂θ ((n·o)×p) by forward mode (p JVPs, batched), by
//! reverse mode (n·o VJPs, batched), and the structured NTK (per-layer products, never forming
//! J), timed over network shapes from many outputs and few parameters to few outputs and many
//! parameters. Forward mode costs about p forward passes, reverse mode about n·o: the crossover
//! sits near p ≈ n·o (Griewank & Walther 2008, ch. 3). Peak heap bytes come from the counting
//! allocator of the `tangent` binary.
//!
//! The three reference networks of the JAX measurements in `benches/peers/python` are included:
//! (a) 64-256-256-10 batch 128, (b) 784-300-100-10 batch 64, (c) 784-512-512-1 batch 256, tanh,
//! standard parameterization.

mod about;
mod report;
mod run;

pub use report::output;

use crate::config::Dtype;
use crate::progress::Observer;
use anyhow::Result;
use serde::{Deserialize, Serialize};

/// Settings of `bench-jacobian`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
    /// Precisions to time, in this order; every network is measured once per precision.
    pub dtypes: Vec<Dtype>,
    /// Timed repetitions of each case; the median time and the largest peak are reported.
    pub reps: usize,
    /// Include the reference networks (a), (b), (c).
    pub reference: bool,
    /// Include the shape sweep.
    pub sweep: bool,
    /// Forward mode on more columns than this is timed on this many evenly spaced columns and
    /// scaled by p/columns (forward mode's cost is linear in the number of columns).
    pub jvp_max_columns: usize,
    /// One-hot tangents or cotangents per batched pass.
    pub chunk: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_memory_mib: None,
            dtypes: vec![Dtype::F32],
            reps: 3,
            reference: true,
            sweep: true,
            jvp_max_columns: 2048,
            chunk: 64,
        }
    }
}

/// One timed case, in the format shared with the JAX measurements.
#[derive(Clone, Debug, Serialize)]
pub struct Case {
    /// Network name: `a`, `b`, `c`, or `sweep-<o>x<width>`.
    pub model: String,
    /// `f32` or `f64`.
    pub dtype: String,
    /// Rayon worker threads the case ran on.
    pub threads: usize,
    /// `forward` (one forward pass), `jvp` (J by forward mode), `vjp` (J by reverse mode) or
    /// `structured` (the NTK from per-layer products).
    pub method: String,
    /// Median wall time in seconds.
    pub median_s: f64,
    /// Peak heap bytes during the call above the bytes live before it (None without the
    /// counting allocator).
    pub peak_bytes: Option<usize>,
}

/// Shape of a benchmarked network.
#[derive(Clone, Debug, Serialize)]
pub struct Shape {
    /// Network name, as in [`Case::model`].
    pub model: String,
    /// Layer widths from the input dimension d to the output dimension o.
    pub widths: Vec<usize>,
    /// Batch size n: the inputs the Jacobian is taken at.
    pub batch: usize,
    /// Parameter count p: the columns of J.
    pub num_params: usize,
    /// n·o: the rows of J.
    pub jacobian_rows: usize,
    /// Columns actually computed by forward mode (< p when extrapolated).
    pub jvp_columns: usize,
}

/// What `bench-jacobian` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Estimated peak heap bytes (the memory plan: the largest case), made before running.
    pub memory_estimate_bytes: u128,
    /// The settings.
    pub config: Config,
    /// Every case: four methods per network and precision, in the order they ran.
    pub cases: Vec<Case>,
    /// The networks, in the order they ran (one entry each, whatever the number of precisions).
    pub shapes: Vec<Shape>,
}

crate::experiment::experiment!(BenchJacobian, "bench-jacobian", |_| 0, json = json);

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.dtypes.is_empty() || cfg.reps == 0 {
        anyhow::bail!("--dtype needs at least one precision and --reps at least 1");
    }
    if !cfg.reference && !cfg.sweep {
        anyhow::bail!("nothing to measure: --reference-only and --no-reference exclude each other");
    }
    Ok(())
}

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    if cfg.reps == 0 || cfg.chunk == 0 || cfg.jvp_max_columns == 0 {
        anyhow::bail!("--reps, the chunk and the column cap must be at least 1");
    }
    let plan = run::memory_plan(cfg);
    plan.check(
        crate::memory::budget(cfg.max_memory_mib),
        "measure one precision at a time (--dtype) or skip the reference networks (--no-reference)",
    )?;
    Ok(Summary {
        memory_estimate_bytes: plan.peak(),
        ..run::run_all(cfg, obs)?
    })
}

/// The `--json` document: `{"cases": [...]}` in the shared format, plus the shapes.
pub fn json(s: &Summary) -> serde_json::Value {
    serde_json::json!({ "cases": s.cases, "shapes": s.shapes, "memory_estimate_bytes": s.memory_estimate_bytes })
}
