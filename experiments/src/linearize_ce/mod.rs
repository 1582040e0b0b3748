//! `linearize --loss cross-entropy`: Newton in the tangent space for softmax cross-entropy.
//!
//! On the linearised model f_lin = f₀ + Jδ, softmax cross-entropy with a ridge,
//! F(δ) = (1/n)·[Σᵢ CE(f₀ᵢ + (Jδ)ᵢ, yᵢ) + (λ/2)‖δ‖²], is convex, but no longer solved by one
//! linear system: Newton's method (IRLS) needs several. It is solved twice — in function space
//! with δ = Jᵀα and the SPD system B = λI + SKS per iteration
//! ([`crate::tangent::pointwise_newton`]), and matrix-free in parameter space by Newton-CG
//! with the Gauss–Newton operator JᵀWJ + λI ([`crate::tangent::pointwise_newton_cg`]) — and
//! the two are compared. The ridge path λ₀, λ₀/10, … says whether λ → 0 has a finite
//! minimiser or the training set is separable in the tangent space (then the logits grow
//! without bound toward a max-margin direction, Soudry et al. 2018). Beside them the network
//! trained by full-batch GD and by Adam on the same cross-entropy, and GD on the linearised
//! model, with the logit-space gap ‖f_net − f_lin‖/‖f_net‖ on the test inputs over time.

mod about;
mod report;
pub mod run;

pub use report::output;

use crate::data::{DataConfig, Dataset};
use crate::memory::{mat, MemoryPlan};
use crate::model::ModelConfig;
use crate::progress::Observer;
use crate::tangent::pointwise_newton::{Continuation, Iterate, Verdict};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Settings of `linearize --loss cross-entropy`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Data.
    pub data: DataConfig,
    /// Network.
    pub model: ModelConfig,
    /// Ridge λ of the tangent problem.
    pub lambda: f64,
    /// GD (and Adam) steps T.
    pub steps: usize,
    /// GD step; None: n/λ_max(K).
    pub lr: Option<f64>,
    /// Adam's step.
    pub adam_lr: f64,
    /// Points of the gap-over-time curve.
    pub checkpoints: usize,
    /// Newton stops at ‖∇_δ F‖ ≤ this.
    pub newton_tol: f64,
    /// Most Newton iterations.
    pub newton_max_iter: usize,
    /// First λ of the ridge path toward 0.
    pub lambda_path_start: f64,
    /// Most decades of the ridge path.
    pub lambda_decades: usize,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: DataConfig {
                n_train: 200,
                n_test: 500,
                ..Default::default()
            },
            model: ModelConfig::default(),
            lambda: 1e-3,
            steps: 1000,
            lr: None,
            adam_lr: 1e-3,
            checkpoints: 10,
            newton_tol: 1e-10,
            newton_max_iter: 200,
            lambda_path_start: 1.0,
            lambda_decades: 12,
            max_memory_mib: None,
        }
    }
}

/// Accuracy, mean cross-entropy and mean margin of one set of logits.
#[derive(Clone, Debug, Serialize)]
pub struct TangentFit {
    /// Arg-max accuracy.
    pub accuracy: f64,
    /// Mean cross-entropy.
    pub loss: f64,
    /// Mean of z_y − max_{a≠y} z_a.
    pub margin: f64,
}

/// The network and its linearisation after `step` GD steps.
#[derive(Clone, Debug, Serialize)]
pub struct Checkpoint {
    /// GD step.
    pub step: usize,
    /// ‖f_net − f_lin‖/‖f_net‖ of the test logits.
    pub gap: f64,
    /// Test accuracy of the network.
    pub network_test_accuracy: f64,
    /// Test accuracy of the linearised model.
    pub linearized_test_accuracy: f64,
    /// Mean training cross-entropy of the network.
    pub network_train_loss: f64,
    /// Mean training margin of the network.
    pub network_train_margin: f64,
    /// ‖f_net‖ on the test inputs.
    pub network_logit_norm: f64,
}

/// What the run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Estimated peak heap bytes, before allocating.
    pub memory_estimate_bytes: u128,
    /// Measured peak heap bytes.
    pub memory_peak_bytes: Option<u128>,
    /// The settings.
    pub config: Config,
    /// Data set name.
    pub data_name: String,
    /// Parameters p.
    pub num_params: usize,
    /// Outputs o (classes).
    pub num_outputs: usize,
    /// Function-space Newton iterations.
    pub newton_iterations: usize,
    /// How they ended.
    pub newton_verdict: Verdict,
    /// Objective and gradient norm per iteration.
    pub newton_history: Vec<Iterate>,
    /// The Newton solution on the training inputs.
    pub newton_train: TangentFit,
    /// On the test inputs.
    pub newton: TangentFit,
    /// Parameter-space Newton-CG iterations.
    pub newton_cg_iterations: usize,
    /// Gauss–Newton products over all its CG solves.
    pub cg_products: usize,
    /// ‖δ_CG − Jᵀα‖/‖Jᵀα‖.
    pub newton_cg_vs_newton: f64,
    /// The same for the test logits.
    pub newton_cg_test_vs_newton: f64,
    /// The ridge path toward λ = 0.
    pub lambda_path: Continuation,
    /// The GD step.
    pub lr: f64,
    /// The network after T steps of GD.
    pub gd: TangentFit,
    /// After T steps of Adam.
    pub adam: TangentFit,
    /// ‖f_Newton − f_GD‖/‖f_GD‖ on the test logits.
    pub gap_gd_vs_newton: f64,
    /// ‖f_Newton − f_Adam‖/‖f_Adam‖.
    pub gap_adam_vs_newton: f64,
    /// The network against its linearisation over GD time.
    pub curve: Vec<Checkpoint>,
    /// Wall time in seconds.
    pub wall_seconds: f64,
}

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    crate::model::validate(&cfg.model)?;
    if cfg.data.n_train == 0 || cfg.data.n_test == 0 {
        bail!("--n-train and --n-test must each be at least 1");
    }
    if !(cfg.lambda.is_finite() && cfg.lambda > 0.0 && cfg.lambda <= 1e6) {
        bail!(
            "--lambda {} must lie in (0, 1e6]: at λ = 0 cross-entropy on separable data has no finite minimiser (the run's ridge path toward 0 reports whether it does)",
            cfg.lambda
        );
    }
    if !(1..=10_000_000).contains(&cfg.steps) {
        bail!("--steps must lie in 1..=10⁷, got {}", cfg.steps);
    }
    if !(cfg.adam_lr.is_finite() && cfg.adam_lr > 0.0) {
        bail!("--adam-lr {} must be positive and finite", cfg.adam_lr);
    }
    if cfg.checkpoints == 0 || cfg.newton_max_iter == 0 || cfg.lambda_decades == 0 {
        bail!("checkpoints, Newton iterations and ridge decades must each be at least 1");
    }
    if let Some(lr) = cfg.lr {
        if !(lr.is_finite() && lr > 0.0) {
            bail!("--lr {lr} must be positive and finite");
        }
    }
    Ok(())
}

/// The memory plan: the full kernel (n·o)² with the Newton system B and its factor and S·K,
/// and the data and θ copies.
pub fn memory_plan(cfg: &Config, d: usize, o: usize) -> MemoryPlan {
    let no = cfg.data.n_train * o;
    let mut widths = vec![d];
    widths.extend(&cfg.model.widths);
    widths.push(o);
    let p: usize = widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    let mut plan = MemoryPlan::default();
    plan.phase(
        "Newton in function space",
        vec![
            (
                format!("K, S·K, B and its factor (4 × {no}²)"),
                mat(no, no, 32),
            ),
            (
                format!("data ({} rows)", cfg.data.n_train + cfg.data.n_test),
                mat(cfg.data.n_train + cfg.data.n_test, d + o, 16),
            ),
            (format!("θ copies (10 × {p})"), mat(10, p, 8)),
        ],
    );
    plan
}

crate::experiment::experiment!(LinearizeCe, "linearize-ce", |c| c.model.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let (s, m) = crate::memory::planned(
        &cfg.data,
        cfg.max_memory_mib,
        "use fewer training samples (the kernel is (n·o)²)",
        |ds: &Dataset| memory_plan(cfg, ds.input_dim(), ds.output_dim()),
        |ds| run::run(cfg, ds, obs),
    )?;
    Ok(Summary {
        memory_estimate_bytes: m.estimate,
        memory_peak_bytes: m.peak,
        wall_seconds: m.seconds,
        ..s
    })
}
