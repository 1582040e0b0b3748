//! `stability`: linear mode connectivity of the dense network and of IMP tickets (Frankle et
//! al., "Linear Mode Connectivity and the Lottery Ticket Hypothesis", ICML 2020), beside the
//! tangent view at the same θ_k.
//!
//! Per seed and rewinding iteration k: θ_k is the dense network after k iterations from θ₀;
//! two copies are trained from θ_k with different data orders and the test error is measured
//! along the straight path between them ([`path`]); the instability is the error barrier.
//! The same for IMP tickets (pruned with rewinding to θ_k, as Frankle et al. do) at chosen
//! rounds. The tangent view: the Newton step from θ_k (linearise after k steps, as Fort et al.,
//! "Deep learning versus kernel learning", NeurIPS 2020, do) and the kernel distance
//! 1 − ⟨K_k, K_T⟩/(‖K_k‖‖K_T‖) between the empirical NTK at θ_k and at the end of training.

mod about;
pub mod path;
mod report;
pub mod run;

pub use report::output;
pub use run::{PathRecord, PathStats, TangentRecord};

use crate::lottery;
use crate::progress::Observer;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Settings of `stability`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Data, network, optimiser, iterations and pruning rates, as `lottery` (its `rounds` is
    /// ignored: see `ticket_rounds`).
    pub train: lottery::Config,
    /// Rewinding iterations k (0 included by default).
    pub ks: Vec<usize>,
    /// IMP rounds whose tickets are tested (0.8^r of the hidden weights remain).
    pub ticket_rounds: Vec<usize>,
    /// Points along the path, ends included.
    pub alphas: usize,
    /// Training samples the kernels and Newton steps use (the full kernel is (n·o)²).
    pub kernel_samples: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            train: lottery::Config {
                seeds: 3,
                controls: false,
                save_tickets: false,
                ..lottery::Preset::Quick.config()
            },
            ks: vec![0, 50, 200],
            ticket_rounds: vec![3, 7],
            alphas: 30,
            kernel_samples: 200,
        }
    }
}

/// What `stability` measured.
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
    /// One record per (seed, k, network): the error path and its instability.
    pub paths: Vec<PathRecord>,
    /// Mean ± std over seeds per (k, network).
    pub stats: Vec<PathStats>,
    /// One record per (seed, k): the Newton step from θ_k and the kernel distance to θ_T.
    pub tangent: Vec<TangentRecord>,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
}

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    let t = &cfg.train;
    if cfg.ks.is_empty() {
        bail!("--ks needs at least one rewinding iteration");
    }
    if let Some(k) = cfg.ks.iter().find(|&&k| k >= t.iterations) {
        bail!(
            "--ks {k} must be below --iterations {} (the copies train for the rest)",
            t.iterations
        );
    }
    let increasing = |v: &[usize]| v.windows(2).all(|w| w[0] < w[1]);
    if !increasing(&cfg.ks) || !increasing(&cfg.ticket_rounds) {
        bail!("--ks and --ticket-rounds must each be increasing, without repeats");
    }
    if let Some(r) = cfg
        .ticket_rounds
        .iter()
        .find(|&&r| r == 0 || r > lottery::MAX_ROUNDS)
    {
        bail!(
            "--ticket-rounds {r} must lie in 1..={} (round 0 is the dense network, always measured)",
            lottery::MAX_ROUNDS
        );
    }
    if !(2..=1000).contains(&cfg.alphas) {
        bail!("--alphas must lie in 2..=1000, got {}", cfg.alphas);
    }
    if cfg.kernel_samples == 0 || cfg.kernel_samples > t.n_train {
        bail!(
            "--kernel-samples must lie in 1..={} (the training samples), got {}",
            t.n_train,
            cfg.kernel_samples
        );
    }
    lottery::validate(&lottery::Config {
        rounds: cfg.ticket_rounds.iter().copied().max().unwrap_or(0),
        rewind_iter: 0,
        ..t.clone()
    })
}

crate::experiment::experiment!(Stability, "stability", |c| c.train.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let plan = |ds: &crate::data::Dataset| {
        let (d, o) = (ds.input_dim(), ds.output_dim());
        let mut plan = lottery::memory_plan(&cfg.train, d, o);
        let no = cfg.kernel_samples * o;
        plan.phase(
            "kernels",
            vec![(
                format!("the Newton step's kernel, K + λI and its factor (3 × {no}²)"),
                crate::memory::mat(no, no, 24),
            )],
        );
        plan
    };
    let (s, m) = crate::memory::planned(
        &lottery::data_config(&cfg.train),
        cfg.train.max_memory_mib,
        "use fewer --kernel-samples or training samples",
        plan,
        |ds| match cfg.train.dtype {
            crate::config::Dtype::F32 => run::run::<f32>(cfg, ds, obs),
            crate::config::Dtype::F64 => run::run::<f64>(cfg, ds, obs),
        },
    )?;
    Ok(Summary {
        memory_estimate_bytes: m.estimate,
        memory_peak_bytes: m.peak,
        wall_seconds: m.seconds,
        ..s
    })
}
