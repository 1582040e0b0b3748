//! `linearize`: is training the network the same as one Newton step in the tangent space of
//! its initialisation? (Lee et al. 2019, "Wide neural networks of any depth evolve as linear
//! models under gradient descent".)
//!
//! At θ₀ the network is replaced by its first-order Taylor model
//! f_lin(x; θ) = f(x; θ₀) + J(x)(θ − θ₀). With the squared error L = 1/(2n)‖f − Y‖²_F:
//!
//! * (a) **Newton**: one step on the linearised objective with a ridge λ is the kernel solve
//!   (K + λI)α = Y − f₀ with the empirical NTK K = J Jᵀ (Cholesky), predictions
//!   f₀(x*) + K(x*, X)α, parameter step δ = Jᵀα. The same δ solves
//!   (JᵀJ + λI)δ = Jᵀ(Y − f₀) in parameter space; that solve is also done matrix-free by CG.
//! * (b) **GD** on the real network, θ ← θ − η∇L, T steps, η from λ_max(K)/n by Lanczos.
//! * (c) **Linearised GD** in closed form: with K = Σ λᵢvᵢvᵢᵀ, the training residual after t
//!   steps is Σ (1 − ηλᵢ/n)ᵗ vᵢvᵢᵀ r₀, and the test predictions are f₀(x*) + K(x*, X)βₜ with
//!   βₜ = −Σ (1 − (1 − ηλᵢ/n)ᵗ)/λᵢ · vᵢvᵢᵀ r₀ (r₀ = f₀ − Y).

mod about;
mod audit;
mod cg_check;
pub mod closed_form_check;
pub mod plan;
mod report;
mod run;

pub use crate::config::Dtype;
pub use crate::tangent::KernelChoice;
pub use report::output;

use crate::data::{self, DataConfig, Dataset};
use crate::metrics::{accuracy, squared_loss};
use crate::model::{KernelForm, ModelConfig};
use crate::progress::Observer;
use crate::tangent::RidgeSolver;
use anyhow::{bail, Result};
use linalg::Matrix;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Settings of `linearize`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Data.
    pub data: DataConfig,
    /// Network.
    pub model: ModelConfig,
    /// Ridge λ of the Newton step (> 0).
    pub lambda: f64,
    /// GD steps T.
    pub steps: usize,
    /// GD step size; `None` picks η = 1/λ_max(K/n).
    pub lr: Option<f64>,
    /// Precision.
    pub dtype: Dtype,
    /// Kernel form.
    pub kernel: KernelChoice,
    /// Memory budget for the kernel matrices in MiB; `None` uses 70% of the available memory.
    pub max_memory_mib: Option<u64>,
    /// Relative residual at which the parameter-space CG stops.
    pub cg_rtol: f64,
    /// CG iteration cap.
    pub cg_max_iter: usize,
    /// Recompute K at θ_T for the relative kernel change.
    pub kernel_change: bool,
    /// Write the audit bundle here.
    pub dump: Option<PathBuf>,
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
            dtype: Dtype::F64,
            kernel: KernelChoice::Auto,
            max_memory_mib: None,
            cg_rtol: 1e-8,
            cg_max_iter: 3000,
            kernel_change: true,
            dump: None,
        }
    }
}

/// Loss and accuracy of one predictor on train and test.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Fit {
    /// 1/(2n)‖f − Y‖² on the training set.
    pub train_loss: f64,
    /// Same on the test set.
    pub test_loss: f64,
    /// Arg-max accuracy on the training set (classification only).
    pub train_accuracy: Option<f64>,
    /// On the test set.
    pub test_accuracy: Option<f64>,
}

/// The parameter-space CG solve.
#[derive(Clone, Debug, Serialize)]
pub struct CgFigures {
    /// Operator applications.
    pub iterations: usize,
    /// How CG stopped.
    pub verdict: String,
    /// Final relative residual.
    pub final_residual: f64,
    /// ‖δ_CG − Jᵀα‖/‖Jᵀα‖.
    pub rel_diff_delta: f64,
    /// ‖f_CG(test) − f_Newton(test)‖/‖f_Newton(test) − f₀(test)‖ with f_CG = f₀ + J δ_CG.
    pub rel_diff_test_predictions: f64,
    /// Seconds.
    pub seconds: f64,
}

/// Every figure `linearize` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The settings.
    pub config: Config,
    /// Data set name.
    pub data: String,
    /// n, m, d, o, p.
    pub n_train: usize,
    /// Test points.
    pub n_test: usize,
    /// Input dimension.
    pub input_dim: usize,
    /// Largest |x| over the standardised test inputs (the scaling uses training statistics).
    pub max_abs_test_input: f64,
    /// Outputs.
    pub output_dim: usize,
    /// Parameters p.
    pub num_params: usize,
    /// Kernel form used, and why.
    pub kernel_form: KernelForm,
    /// Why that form.
    pub kernel_reason: String,
    /// Estimated peak heap bytes of the run (the memory plan), before anything was allocated.
    pub memory_estimate_bytes: u128,
    /// Measured peak heap bytes above what was live at the start (None where the counting
    /// allocator is not installed).
    pub memory_peak_bytes: Option<u128>,
    /// λ_max(K) by Lanczos and its iteration count.
    pub lambda_max: f64,
    /// Lanczos steps.
    pub lanczos_iterations: usize,
    /// Smallest eigenvalue of K (dense eigendecomposition).
    pub lambda_min: f64,
    /// κ(K + λI) = (λ_max + λ)/(λ_min + λ).
    pub kappa: f64,
    /// The step used.
    pub lr: f64,
    /// 2n/λ_max(K): the largest step at which GD on the linearised model is stable.
    pub max_stable_lr: f64,
    /// At θ₀.
    pub init: Fit,
    /// One Newton step (kernel ridge solve).
    pub newton: Fit,
    /// GD on the real network after T steps.
    pub gd: Fit,
    /// GD on the linearised model after T steps (closed form).
    pub linearized_gd: Fit,
    /// ‖f_GD − f_lin‖/‖f_GD‖ on the test inputs after T steps.
    pub function_gap_test: f64,
    /// ‖θ_T − θ₀‖/‖θ₀‖.
    pub relative_parameter_change: f64,
    /// ‖K_T − K₀‖_F/‖K₀‖_F (None when not computed).
    pub relative_kernel_change: Option<f64>,
    /// Steps linearised GD needs to come within 1% of the Newton step's training loss
    /// (closed form; None beyond 10¹⁵).
    pub steps_to_newton_loss_linearized: Option<f64>,
    /// Steps the real network needed for the same (None if not within T).
    pub steps_to_newton_loss_gd: Option<usize>,
    /// The estimate κ·ln(1/ε) with ε = 0.01.
    pub steps_estimate: f64,
    /// Parameter-space CG (full kernel only).
    pub cg: Option<CgFigures>,
    /// How the Newton step's ridge system was solved.
    pub newton_solver: RidgeSolver,
    /// Seconds per stage.
    pub seconds: Timings,
    /// The loss curves of GD on the network and of linearised GD.
    #[serde(skip)]
    pub curve: Vec<CurveRow>,
    /// Eigenvalues of K, descending.
    #[serde(skip)]
    pub spectrum: Vec<f64>,
    /// Test predictions (m×o, row-major) of the Newton step, of GD on the network after T
    /// steps and of linearised GD (closed form) after T steps.
    #[serde(skip)]
    pub test_predictions: TestPredictions,
}

/// Wall time of each stage, in seconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timings {
    /// The empirical NTK on train and test inputs.
    pub kernel: f64,
    /// The kernel ridge solve.
    pub newton: f64,
    /// Lanczos and the dense eigendecomposition.
    pub spectrum: f64,
    /// GD on the network, with the test curve.
    pub gradient_descent: f64,
    /// The parameter-space CG check (full kernel only).
    pub cg: Option<f64>,
}

/// One recorded step of the GD curves (a row of curves.csv).
#[derive(Clone, Debug, Serialize)]
pub struct CurveRow {
    /// GD step t.
    pub step: usize,
    /// Training loss of the network after t steps.
    pub gd_train_loss: f64,
    /// Training loss of the linearised model after t steps (closed form).
    pub linearized_train_loss: f64,
    /// Test loss of the network.
    pub gd_test_loss: f64,
    /// Test loss of the linearised model.
    pub linearized_test_loss: f64,
}

/// Test-set predictions of the three models, m×o row-major.
#[derive(Clone, Debug, Default)]
pub struct TestPredictions {
    /// f₀(x*) + K(x*, X)α.
    pub newton: Vec<f64>,
    /// f(x*; θ_T).
    pub gd: Vec<f64>,
    /// Closed-form linearised GD after T steps.
    pub linearized_gd: Vec<f64>,
}

/// Largest ridge accepted: beyond it the Newton step is zero to working precision and the
/// parameter-space CG overflows.
pub const MAX_LAMBDA: f64 = 1e6;

/// Most GD steps a run may ask for.
pub const MAX_STEPS: usize = 10_000_000;

/// Checks the training settings shared with `width-sweep`: λ in (0, [`MAX_LAMBDA`]], a
/// positive finite step if one is given, 1 ≤ steps ≤ [`MAX_STEPS`].
pub fn check_training(lambda: f64, lr: Option<f64>, steps: usize) -> Result<()> {
    if !(lambda.is_finite() && lambda > 0.0 && lambda <= MAX_LAMBDA) {
        bail!(
            "--lambda must be a positive finite number ≤ {MAX_LAMBDA:e} (the ridge keeps K + λI invertible), got {lambda:e}"
        );
    }
    if let Some(lr) = lr {
        if !(lr.is_finite() && lr > 0.0) {
            bail!("--lr must be a positive finite number, got {lr:e}");
        }
    }
    if !(1..=MAX_STEPS).contains(&steps) {
        bail!("--steps must lie in 1..={MAX_STEPS}, got {steps}");
    }
    Ok(())
}

/// Checks settings that do not need the data.
pub fn validate(cfg: &Config) -> Result<()> {
    check_training(cfg.lambda, cfg.lr, cfg.steps)?;
    crate::model::validate(&cfg.model)?;
    if !(cfg.cg_rtol > 0.0 && cfg.cg_rtol < 1.0) {
        bail!("--cg-rtol must lie in (0, 1)");
    }
    if let Some(dir) = &cfg.dump {
        audit::check_target(dir)?;
    }
    Ok(())
}

crate::experiment::experiment!(Linearize, "linearize", |c| c.model.seed);

/// Loads the data and runs in the configured precision (settings already valid).
fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    dispatch(cfg, &data::load(&cfg.data)?, obs)
}

/// Validates and runs on a given data set.
pub fn run_on(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    validate(cfg)?;
    dispatch(cfg, ds, obs)
}

fn dispatch(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    match cfg.dtype {
        Dtype::F32 => run::run_typed::<f32>(cfg, ds, obs),
        Dtype::F64 => run::run_typed::<f64>(cfg, ds, obs),
    }
}

/// Loss and accuracy of predictions on the training and test sets.
fn fit(ds: &Dataset, train: &[f64], test: &[f64]) -> Fit {
    let (n, m, o) = (ds.n_train(), ds.n_test(), ds.output_dim());
    let tr = Matrix::from_vec(n, o, train.to_vec()).ok();
    let te = Matrix::from_vec(m, o, test.to_vec()).ok();
    Fit {
        train_loss: squared_loss(train, ds.y_train.as_slice(), n),
        test_loss: squared_loss(test, ds.y_test.as_slice(), m),
        train_accuracy: ds
            .labels_train
            .as_ref()
            .zip(tr.as_ref())
            .map(|(l, p)| accuracy(p, l)),
        test_accuracy: ds
            .labels_test
            .as_ref()
            .zip(te.as_ref())
            .map(|(l, p)| accuracy(p, l)),
    }
}
