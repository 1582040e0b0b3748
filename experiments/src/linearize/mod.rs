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

pub mod plan;
use crate::data::{self, accuracy, cast, DataConfig, Dataset};
use crate::kernel_ridge::RidgeSolver;
use crate::model::{self, KernelForm, ModelConfig};
use crate::progress::Observer;
use crate::report::{self, table::fmt, table::pct, Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::{anyhow, bail, Context, Result};
use autodiff::nn::Mlp;
use linalg::{cg, lanczos_extremes, symmetric_eigen, CgOptions, CgVerdict, Matrix, Real};
use plan as linearize_plan;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

/// Floating-point precision of the network and its derivatives. The kernel algebra
/// (Cholesky, eigendecomposition) is always done in f64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// Single precision.
    F32,
    /// Double precision.
    F64,
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        })
    }
}

/// Which kernel to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum KernelChoice {
    /// The full kernel when it fits in memory, else the traced one.
    Auto,
    /// Always the full (n·o)² kernel; refuse when it does not fit.
    Full,
    /// Always the output-traced n×n kernel.
    Traced,
}

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
    pub seconds: serde_json::Value,
    /// (step, GD train, lin train, GD test, lin test).
    #[serde(skip)]
    pub curve: Vec<[f64; 5]>,
    /// Eigenvalues of K, descending.
    #[serde(skip)]
    pub spectrum: Vec<f64>,
    /// Test predictions (m×o, row-major) of the Newton step, of GD on the network after T
    /// steps and of linearised GD (closed form) after T steps.
    #[serde(skip)]
    pub test_predictions: TestPredictions,
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

/// Checks settings that do not need the data.
pub fn validate(cfg: &Config) -> Result<()> {
    if !(cfg.lambda.is_finite() && cfg.lambda > 0.0) {
        bail!(
            "--lambda must be a positive finite number (the ridge keeps K + λI invertible), got {}",
            cfg.lambda
        );
    }
    if let Some(lr) = cfg.lr {
        if !(lr.is_finite() && lr > 0.0) {
            bail!("--lr must be a positive finite number, got {lr}");
        }
    }
    if cfg.model.widths.is_empty() || cfg.model.widths.contains(&0) {
        bail!("--widths needs at least one hidden layer, each of width ≥ 1");
    }
    if !(cfg.cg_rtol > 0.0 && cfg.cg_rtol < 1.0) {
        bail!("--cg-rtol must lie in (0, 1)");
    }
    Ok(())
}

/// Loads the data and runs in the configured precision.
pub fn run_with(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    validate(cfg)?;
    let ds = data::load(&cfg.data)?;
    run_on(cfg, &ds, obs)
}

/// Runs on a given data set.
pub fn run_on(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    validate(cfg)?;
    match cfg.dtype {
        Dtype::F32 => run_typed::<f32>(cfg, ds, obs),
        Dtype::F64 => run_typed::<f64>(cfg, ds, obs),
    }
}

fn loss_of(f: &[f64], y: &[f64], n: usize) -> f64 {
    f.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / (2.0 * n as f64)
}

/// The closed-form factors of linearised GD along one eigen-direction with h = ηλᵢ/n:
/// the residual decays by qᵗ with q = 1 − h, and the coefficient grows by (1 − qᵗ)/λᵢ =
/// (η/n)·(1 − qᵗ)/h. For tiny h, 1 − qᵗ cancels catastrophically, so for 0 < q it is
/// computed as −expm1(t·ln_1p(−h)); `eta_n` = η/n gives the h → 0 limit t·η/n exactly.
pub fn gd_factors(h: f64, t: f64, eta_n: f64) -> (f64, f64) {
    if h <= 0.0 {
        return (1.0, t * eta_n);
    }
    if h < 1.0 {
        let log_q = (-h).ln_1p();
        let decay = (t * log_q).exp();
        let one_minus = -(t * log_q).exp_m1();
        return (decay, eta_n * one_minus / h);
    }
    // 1 ≤ h < 2: q ≤ 0 oscillates; t is an integer step count here.
    let decay = (1.0 - h).powf(t);
    (decay, eta_n * (1.0 - decay) / h)
}

fn to_f64<T: Real>(m: &Matrix<T>) -> Matrix<f64> {
    Matrix::from_fn(m.rows(), m.cols(), |i, j| m.get(i, j).to_f64())
}

fn fit(ds: &Dataset, train: &[f64], test: &[f64]) -> Fit {
    let (n, m, o) = (ds.n_train(), ds.n_test(), ds.output_dim());
    let tr = Matrix::from_vec(n, o, train.to_vec()).ok();
    let te = Matrix::from_vec(m, o, test.to_vec()).ok();
    Fit {
        train_loss: loss_of(train, ds.y_train.as_slice(), n),
        test_loss: loss_of(test, ds.y_test.as_slice(), m),
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

fn run_typed<T: Real>(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    let mut secs = serde_json::Map::new();
    let (n, m, d, o) = (ds.n_train(), ds.n_test(), ds.input_dim(), ds.output_dim());
    let mlp = model::build(&cfg.model, d, o)?;
    let p = mlp.num_params();

    // Memory: estimate every phase before allocating anything large.
    let heap_before = crate::alloc::reset_peak();
    let budget = crate::memory::budget(cfg.max_memory_mib);
    let dims = linearize_plan::Dims {
        n,
        m,
        d,
        o,
        s: std::mem::size_of::<T>(),
    };
    let plan_of = |f| linearize_plan::plan(&mlp, &dims, f, cfg.kernel_change);
    let (full_plan, traced_plan) = (plan_of(KernelForm::Full), plan_of(KernelForm::Traced));
    let human = crate::memory::human;
    let (form, reason, plan) = match cfg.kernel {
        KernelChoice::Full => (KernelForm::Full, "requested".to_string(), full_plan),
        KernelChoice::Traced => (KernelForm::Traced, "requested".to_string(), traced_plan),
        KernelChoice::Auto if full_plan.peak() <= budget || o == 1 => (
            KernelForm::Full,
            format!(
                "fits: about {} of {}",
                human(full_plan.peak()),
                human(budget)
            ),
            full_plan,
        ),
        KernelChoice::Auto => {
            let why = format!(
                "with the full (n·o)² kernel the run would need about {} (budget {}): using the output-traced n×n kernel (about {})",
                human(full_plan.peak()), human(budget), human(traced_plan.peak())
            );
            obs.message(&format!("note: {why}"));
            (KernelForm::Traced, why, traced_plan)
        }
    };
    plan.check(
        budget,
        if form == KernelForm::Full && o > 1 {
            "with the full (n·o)² kernel: use --kernel traced, fewer points (--n-train/--n-test) or narrower layers"
        } else {
            "use fewer points (--n-train/--n-test), narrower layers or --dtype f32"
        },
    )?;
    let kernel_bytes = plan.peak();

    let x_train: Matrix<T> = cast(&ds.x_train);
    let y_train: Matrix<T> = cast(&ds.y_train);
    let x_test: Matrix<T> = cast(&ds.x_test);
    let theta0: Vec<T> = mlp.init(cfg.model.seed);
    let ad = |e: autodiff::AdError| anyhow!("{e}");
    let f0_train = to_f64(&mlp.forward(&theta0, x_train.as_ref()).map_err(ad)?);
    let f0_test = to_f64(&mlp.forward(&theta0, x_test.as_ref()).map_err(ad)?);
    let y = ds.y_train.as_slice();
    let r0: Vec<f64> = f0_train
        .as_slice()
        .iter()
        .zip(y)
        .map(|(f, t)| f - t)
        .collect();

    // Kernels.
    obs.begin("empirical NTK", 0);
    let t0 = Instant::now();
    let k = model::ntk(&mlp, &theta0, x_train.as_ref(), None, form)?;
    let k_test = model::ntk(&mlp, &theta0, x_test.as_ref(), Some(x_train.as_ref()), form)?;
    secs.insert("kernel".into(), t0.elapsed().as_secs_f64().into());
    obs.end();
    if let Some((i, j)) = k.find_non_finite() {
        bail!("the empirical NTK has a non-finite entry at ({i}, {j}): the network overflowed at θ₀ (try a smaller σ_w)");
    }
    let nk = k.rows(); // n·o (full) or n (traced)
    let cols = if form == KernelForm::Full { 1 } else { o };
    // Right-hand sides in kernel layout: a vector of n·o, or an n×o matrix for the traced form.
    let rhs = Matrix::from_fn(nk, cols, |i, j| -r0[i * cols + j]);

    // (a) Newton: (K + λI)α = Y − f₀.
    obs.begin("Newton step (Cholesky)", 0);
    let t0 = Instant::now();
    let mut eig_early = None;
    let (alpha, ridge_solver) = crate::kernel_ridge::solve(&k, cfg.lambda, &rhs, &mut eig_early)?;
    if let RidgeSolver::Eigen { .. } = &ridge_solver {
        obs.message(&format!("note: Newton step by {ridge_solver}"));
    }
    let kernel_apply = |kk: &Matrix<f64>, coef: &Matrix<f64>| -> Result<Vec<f64>> {
        Ok(linalg::matmul(kk.as_ref(), coef.as_ref())?.into_vec())
    };
    let newton_train: Vec<f64> = f0_train
        .as_slice()
        .iter()
        .zip(kernel_apply(&k, &alpha)?)
        .map(|(a, b)| a + b)
        .collect();
    let newton_test: Vec<f64> = f0_test
        .as_slice()
        .iter()
        .zip(kernel_apply(&k_test, &alpha)?)
        .map(|(a, b)| a + b)
        .collect();
    secs.insert("newton".into(), t0.elapsed().as_secs_f64().into());
    obs.end();

    // Spectrum: λ_max by Lanczos for the step, the full eigendecomposition for the closed form.
    obs.begin("spectrum of K (Lanczos, eigen)", 0);
    let t0 = Instant::now();
    let lz = lanczos_extremes(&k, nk.min(300), 1e-8, cfg.model.seed)
        .with_context(|| format!("Lanczos on the {nk}×{nk} kernel"))?;
    let eig = match eig_early {
        Some(e) => e,
        None => symmetric_eigen(k.as_ref())
            .with_context(|| format!("eigendecomposition of the {nk}×{nk} kernel"))?,
    };
    secs.insert("spectrum".into(), t0.elapsed().as_secs_f64().into());
    obs.end();
    let lambda_max = lz.max.max(eig.values.last().copied().unwrap_or(0.0));
    let lambda_min = eig.values.first().copied().unwrap_or(0.0);
    let kappa = (lambda_max + cfg.lambda) / (lambda_min.max(0.0) + cfg.lambda);
    // GD on 1/(2n)‖f − Y‖² moves the training outputs by −(η/n)K r per step. With the traced
    // kernel every output column is fitted with the same K̄ = (1/o)Σₐ K[(i,a),(j,a)]: when
    // K ≈ Θ ⊗ I (infinite width) K̄ *is* Θ, so the dynamics use K̄ unscaled.
    let nf = n as f64;
    let max_stable_lr = 2.0 * nf / lambda_max;
    let lr = cfg.lr.unwrap_or(nf / lambda_max);
    if lr >= max_stable_lr {
        bail!(
            "step size {lr} makes gradient descent diverge: the top eigen-direction of K/n grows by |1 − ηλ_max/n| = {:.3} per step; the largest stable step is 2n/λ_max = {max_stable_lr:.6}",
            (1.0 - lr * lambda_max / nf).abs()
        );
    }

    // (c) linearised GD in closed form, in the eigenbasis of K: c = Vᵀr₀ (column by column).
    let v = &eig.vectors;
    let mut coeffs = vec![0.0; nk * cols];
    for i in 0..nk {
        for j in 0..nk {
            let vji = v.get(j, i);
            for c in 0..cols {
                coeffs[i * cols + c] += vji * r0[j * cols + c];
            }
        }
    }
    let lams: Vec<f64> = eig.values.iter().map(|l| l.max(0.0)).collect();
    let lin_at = |t: f64| -> Result<(Vec<f64>, Vec<f64>)> {
        // training residual and β_t (in kernel layout)
        let mut g = Matrix::zeros(nk, cols);
        let mut h = Matrix::zeros(nk, cols);
        for i in 0..nk {
            let (decay, shrink) = gd_factors(lr * lams[i] / nf, t, lr / nf);
            for c in 0..cols {
                g.set(i, c, decay * coeffs[i * cols + c]);
                h.set(i, c, -shrink * coeffs[i * cols + c]);
            }
        }
        let resid = linalg::matmul(v.as_ref(), g.as_ref())?.into_vec();
        let beta = linalg::matmul(v.as_ref(), h.as_ref())?;
        let train: Vec<f64> = resid.iter().zip(y).map(|(r, t)| r + t).collect();
        let test: Vec<f64> = f0_test
            .as_slice()
            .iter()
            .zip(kernel_apply(&k_test, &beta)?)
            .map(|(a, b)| a + b)
            .collect();
        Ok((train, test))
    };
    let lin_train_loss = |t: f64| -> f64 {
        let mut s = 0.0;
        for i in 0..nk {
            let decay = gd_factors(lr * lams[i] / nf, t, lr / nf).0;
            for c in 0..cols {
                s += (decay * coeffs[i * cols + c]).powi(2);
            }
        }
        s / (2.0 * nf)
    };

    // (b) GD on the real network.
    let newton_fit = fit(ds, &newton_train, &newton_test);
    let target_loss = 1.01 * newton_fit.train_loss;
    obs.begin("gradient descent", cfg.steps as u64);
    let t0 = Instant::now();
    let lr_t = T::from_f64(lr);
    let mut theta = theta0.clone();
    let record_every = (cfg.steps / 100).max(1);
    let mut curve = Vec::new();
    let mut steps_gd = None;
    let mut first_loss = f64::NAN;
    for t in 0..=cfg.steps {
        let (loss, grad) = mlp
            .mse_value_and_grad(&theta, x_train.as_ref(), y_train.as_ref())
            .map_err(ad)?;
        let loss = loss.to_f64();
        if t == 0 {
            first_loss = loss;
        }
        if !loss.is_finite() || (t > 0 && loss > 1e3 * first_loss.max(1e-12)) {
            bail!(
                "gradient descent diverged at step {t} (loss {loss:e}, started at {first_loss:e}) with step size {lr}; the largest stable step for the linearised model is 2n/λ_max = {max_stable_lr:.6}"
            );
        }
        if steps_gd.is_none() && loss <= target_loss {
            steps_gd = Some(t);
        }
        if t % record_every == 0 || t == cfg.steps {
            let f_test = to_f64(&mlp.forward(&theta, x_test.as_ref()).map_err(ad)?);
            let (_, lin_test) = lin_at(t as f64)?;
            curve.push([
                t as f64,
                loss,
                lin_train_loss(t as f64),
                loss_of(f_test.as_slice(), ds.y_test.as_slice(), m),
                loss_of(&lin_test, ds.y_test.as_slice(), m),
            ]);
        }
        if t == cfg.steps {
            break;
        }
        for (th, g) in theta.iter_mut().zip(&grad) {
            *th -= lr_t * *g;
        }
        if t % 10 == 0 {
            obs.advance(t as u64);
        }
    }
    secs.insert("gradient_descent".into(), t0.elapsed().as_secs_f64().into());
    obs.end();
    let f_gd_train = to_f64(&mlp.forward(&theta, x_train.as_ref()).map_err(ad)?);
    let f_gd_test = to_f64(&mlp.forward(&theta, x_test.as_ref()).map_err(ad)?);
    let (lin_train, lin_test) = lin_at(cfg.steps as f64)?;
    let gap = crate::linear::rel_diff(f_gd_test.as_slice(), &lin_test)
        * crate::linear::norm(&lin_test)
        / crate::linear::norm(f_gd_test.as_slice()).max(f64::MIN_POSITIVE);
    let norm_t = |v: &[T]| v.iter().map(|x| x.to_f64().powi(2)).sum::<f64>().sqrt();
    let dtheta: Vec<T> = theta.iter().zip(&theta0).map(|(a, b)| *a - *b).collect();
    let rel_param = norm_t(&dtheta) / norm_t(&theta0);

    let relative_kernel_change = if cfg.kernel_change {
        obs.begin("NTK at θ_T", 0);
        let kt = model::ntk(&mlp, &theta, x_train.as_ref(), None, form)?;
        obs.end();
        let diff: f64 = kt
            .as_slice()
            .iter()
            .zip(k.as_slice())
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        Some(diff / k.norm_fro())
    } else {
        None
    };

    // Steps of linearised GD to reach 1.01 × the Newton training loss: L(t) decreases in t.
    let steps_lin = {
        let mut hi = 1.0f64;
        while lin_train_loss(hi) > target_loss && hi < 1e15 {
            hi *= 2.0;
        }
        if lin_train_loss(hi) > target_loss {
            None
        } else {
            let mut lo = 0.0f64;
            while hi - lo > 0.5 {
                let mid = (0.5 * (lo + hi)).floor().max(lo + 0.5);
                if lin_train_loss(mid) <= target_loss {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            Some(hi.ceil())
        }
    };

    // Parameter-space CG on (JᵀJ + λI)δ = Jᵀ(Y − f₀), compared with δ = Jᵀα.
    let cg_fig = if form == KernelForm::Full {
        obs.begin("CG in parameter space", 0);
        let t0 = Instant::now();
        let neg_r0 = Matrix::from_fn(n, o, |i, a| T::from_f64(-r0[i * o + a]));
        let (_, b) = mlp
            .vjp(&theta0, x_train.as_ref(), neg_r0.as_ref())
            .map_err(ad)?;
        let op =
            autodiff::ntk::GaussNewtonOperator::new(&mlp, &theta0, x_train.as_ref(), cfg.lambda)
                .map_err(ad)?;
        let rtol = if cfg.dtype == Dtype::F32 {
            cfg.cg_rtol.max(1e-5)
        } else {
            cfg.cg_rtol
        };
        let res = cg(
            &op,
            &b,
            None,
            &CgOptions {
                rtol,
                max_iter: cfg.cg_max_iter,
                ..Default::default()
            },
        )?;
        let alpha_t = Matrix::from_fn(n, o, |i, a| T::from_f64(alpha.get(i * o + a, 0)));
        let (_, delta_kernel) = mlp
            .vjp(&theta0, x_train.as_ref(), alpha_t.as_ref())
            .map_err(ad)?;
        let dk: Vec<f64> = delta_kernel.iter().map(|v| v.to_f64()).collect();
        let dc: Vec<f64> = res.x.iter().map(|v| v.to_f64()).collect();
        let (_, jd) = mlp.jvp(&theta0, x_test.as_ref(), &res.x).map_err(ad)?;
        let cg_test: Vec<f64> = f0_test
            .as_slice()
            .iter()
            .zip(jd.as_slice())
            .map(|(a, b)| a + b.to_f64())
            .collect();
        let newton_delta: Vec<f64> = newton_test
            .iter()
            .zip(f0_test.as_slice())
            .map(|(a, b)| a - b)
            .collect();
        let diff_pred = crate::linear::rel_diff(&cg_test, &newton_test)
            * crate::linear::norm(&newton_test)
            / crate::linear::norm(&newton_delta).max(f64::MIN_POSITIVE);
        obs.end();
        Some(CgFigures {
            iterations: res.iterations,
            verdict: match &res.verdict {
                CgVerdict::Converged => "converged".into(),
                CgVerdict::HitIterationCap => "hit the iteration cap".into(),
                CgVerdict::Breakdown { reason } => format!("breakdown: {reason}"),
            },
            final_residual: res.residual_history.last().copied().unwrap_or(f64::NAN),
            rel_diff_delta: crate::linear::rel_diff(&dc, &dk),
            rel_diff_test_predictions: diff_pred,
            seconds: t0.elapsed().as_secs_f64(),
        })
    } else {
        None
    };

    let summary = Summary {
        config: cfg.clone(),
        data: ds.name.clone(),
        n_train: n,
        n_test: m,
        input_dim: d,
        output_dim: o,
        num_params: p,
        kernel_form: form,
        kernel_reason: reason,
        memory_estimate_bytes: kernel_bytes,
        memory_peak_bytes: crate::alloc::installed()
            .then(|| (crate::alloc::peak().saturating_sub(heap_before)) as u128),
        lambda_max,
        lanczos_iterations: lz.iterations,
        lambda_min,
        kappa,
        lr,
        max_stable_lr,
        init: fit(ds, f0_train.as_slice(), f0_test.as_slice()),
        newton: newton_fit,
        gd: fit(ds, f_gd_train.as_slice(), f_gd_test.as_slice()),
        linearized_gd: fit(ds, &lin_train, &lin_test),
        function_gap_test: gap,
        relative_parameter_change: rel_param,
        relative_kernel_change,
        steps_to_newton_loss_linearized: steps_lin,
        steps_to_newton_loss_gd: steps_gd,
        steps_estimate: kappa * 100f64.ln(),
        cg: cg_fig,
        newton_solver: ridge_solver,
        seconds: serde_json::Value::Object(secs),
        curve,
        spectrum: eig.values.iter().rev().copied().collect(),
        test_predictions: TestPredictions {
            newton: newton_test.clone(),
            gd: f_gd_test.as_slice().to_vec(),
            linearized_gd: lin_test.clone(),
        },
    };
    if let Some(dir) = &cfg.dump {
        dump(
            dir,
            cfg,
            &mlp,
            ds,
            &theta0,
            &f0_train,
            &k,
            &alpha,
            &newton_test,
            form,
        )?;
    }
    Ok(summary)
}

/// The audit bundle: standard .npy files and model.json, so that J and K can be recomputed
/// with another autodiff system (see `shared/peers/jax_audit.py`).
#[allow(clippy::too_many_arguments)]
fn dump<T: Real>(
    dir: &std::path::Path,
    cfg: &Config,
    mlp: &Mlp,
    ds: &Dataset,
    theta0: &[T],
    f0_train: &Matrix<f64>,
    k: &Matrix<f64>,
    alpha: &Matrix<f64>,
    pred_test: &[f64],
    form: KernelForm,
) -> Result<()> {
    use report::npy::write_f64;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (n, m, d, o) = (ds.n_train(), ds.n_test(), ds.input_dim(), ds.output_dim());
    // The inputs exactly as fed to the network: rounded to the working precision.
    let as_fed = |x: &Matrix<f64>| -> Vec<f64> {
        x.as_slice()
            .iter()
            .map(|v| T::from_f64(*v).to_f64())
            .collect()
    };
    let th: Vec<f64> = theta0.iter().map(|v| v.to_f64()).collect();
    write_f64(&dir.join("theta0.npy"), &[th.len()], &th)?;
    write_f64(&dir.join("x_train.npy"), &[n, d], &as_fed(&ds.x_train))?;
    write_f64(&dir.join("y_train.npy"), &[n, o], &as_fed(&ds.y_train))?;
    write_f64(&dir.join("x_test.npy"), &[m, d], &as_fed(&ds.x_test))?;
    write_f64(&dir.join("f0_train.npy"), &[n, o], f0_train.as_slice())?;
    write_f64(
        &dir.join("ntk_train.npy"),
        &[k.rows(), k.cols()],
        k.as_slice(),
    )?;
    let alpha_shape = [n, o];
    write_f64(&dir.join("alpha.npy"), &alpha_shape, alpha.as_slice())?;
    write_f64(&dir.join("pred_test_newton.npy"), &[m, o], pred_test)?;
    let layout: Vec<serde_json::Value> = mlp
        .layout()
        .entries()
        .iter()
        .map(|e| serde_json::json!({"name": e.name, "shape": e.shape, "offset": e.offset}))
        .collect();
    let model_json = serde_json::json!({
        "widths": cfg.model.widths,
        "layer_widths": mlp.widths(),
        "activation": mlp.activation().to_string(),
        "parameterization": mlp.parameterization().to_string(),
        "sigma_w": cfg.model.sigma_w,
        "sigma_b": cfg.model.sigma_b,
        "lambda": cfg.lambda,
        "dtype": cfg.dtype.to_string(),
        "seed": cfg.model.seed,
        "kernel": match form { KernelForm::Full => "full", KernelForm::Traced => "traced" },
        "trace": match form {
            KernelForm::Full => serde_json::Value::Null,
            KernelForm::Traced => "mean over a of K[(i,a),(j,a)]".into(),
        },
        "kernel_note": match form {
            KernelForm::Full => "ntk_train is (n·o)×(n·o), row index i·o + a; alpha is n×o",
            KernelForm::Traced => "ntk_train is n×n, the output trace (1/o)·Σ_a K[(i,a),(j,a)]; alpha is n×o",
        },
        "loss": "1/(2n)·‖f − Y‖²_F",
        "layout": layout,
    });
    report::write_json(&dir.join("model.json"), &model_json)
}

fn fit_row(t: &mut Table, name: &str, f: &Fit) {
    t.row([
        name.to_string(),
        fmt(f.train_loss),
        fmt(f.test_loss),
        f.train_accuracy.map_or("—".into(), pct),
        f.test_accuracy.map_or("—".into(), pct),
    ]);
}

/// Tables, curves and charts of a run.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let c = &s.config;
    let title = format!(
        "linearize: {} (n = {}, test {}), MLP {}-{}-{} {} {}, p = {}, λ = {:e}, T = {}, η = {:.4}, {}",
        s.data,
        s.n_train,
        s.n_test,
        s.input_dim,
        c.model.widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("-"),
        s.output_dim,
        c.model.activation,
        c.model.parameterization,
        s.num_params,
        c.lambda,
        c.steps,
        s.lr,
        c.dtype
    );
    let mut t = Table::new(
        &title,
        &["model", "train loss", "test loss", "train acc", "test acc"],
    );
    fit_row(&mut t, "network at θ₀", &s.init);
    fit_row(&mut t, "Newton step (kernel solve)", &s.newton);
    fit_row(
        &mut t,
        &format!("GD on the network, {} steps", c.steps),
        &s.gd,
    );
    fit_row(
        &mut t,
        &format!("GD on the linearisation, {} steps", c.steps),
        &s.linearized_gd,
    );
    let mut g = Table::new("how linear was training?", &["figure", "value"]);
    g.row([
        "‖f_GD − f_lin‖/‖f_GD‖ on test inputs".to_string(),
        fmt(s.function_gap_test),
    ]);
    g.row([
        "relative parameter change ‖θ_T − θ₀‖/‖θ₀‖".to_string(),
        fmt(s.relative_parameter_change),
    ]);
    g.row([
        "relative kernel change ‖K_T − K₀‖_F/‖K₀‖_F".to_string(),
        s.relative_kernel_change.map_or("not computed".into(), fmt),
    ]);
    g.row([
        "GD steps to within 1% of Newton's train loss (network)".to_string(),
        s.steps_to_newton_loss_gd
            .map_or(format!("> {}", c.steps), |k| k.to_string()),
    ]);
    g.row([
        "… (linearised model, closed form)".to_string(),
        s.steps_to_newton_loss_linearized
            .map_or("> 1e15".into(), |k| format!("{k:.0}")),
    ]);
    g.row(["κ(K + λI)".to_string(), fmt(s.kappa)]);
    g.row([
        "estimate κ·ln(1/ε), ε = 0.01".to_string(),
        fmt(s.steps_estimate),
    ]);
    g.row([
        format!("λ_max(K) (Lanczos, {} steps)", s.lanczos_iterations),
        fmt(s.lambda_max),
    ]);
    g.row([
        "largest stable step 2n/λ_max".to_string(),
        fmt(s.max_stable_lr),
    ]);
    g.row([
        "kernel".to_string(),
        format!(
            "{} ({}×{})",
            match s.kernel_form {
                KernelForm::Full => "full",
                KernelForm::Traced => "output-traced",
            },
            s.spectrum.len(),
            s.spectrum.len()
        ),
    ]);
    if let Some(cg) = &s.cg {
        g.row([
            "parameter-space CG on (JᵀJ + λI)δ = Jᵀ(Y − f₀)".to_string(),
            format!("{} iterations, {}", cg.iterations, cg.verdict),
        ]);
        g.row(["  ‖δ_CG − Jᵀα‖/‖Jᵀα‖".to_string(), fmt(cg.rel_diff_delta)]);
        g.row([
            "  test predictions, CG vs kernel solve (rel. to the step)".to_string(),
            fmt(cg.rel_diff_test_predictions),
        ]);
    }
    let mut notes = Vec::new();
    if s.kernel_form == KernelForm::Traced {
        notes.push(format!("kernel: {}", s.kernel_reason));
        notes.push("with the output-traced kernel K̄ = (1/o)Σₐ K[(i,a),(j,a)], every output column is fitted with the same n×n kernel K̄, in the Newton step and in the closed-form GD curve alike (this is the full-kernel answer when K = K̄ ⊗ I, as at infinite width; at finite width the cross-output blocks of K are dropped); the CG comparison needs the full kernel and is skipped".into());
    }
    let curves = Curves {
        name: "curves".into(),
        columns: [
            "step",
            "gd_train_loss",
            "linearized_train_loss",
            "gd_test_loss",
            "linearized_test_loss",
        ]
        .map(String::from)
        .to_vec(),
        rows: s.curve.iter().map(|r| r.to_vec()).collect(),
    };
    let spectrum = Curves {
        name: "spectrum".into(),
        columns: vec!["index".into(), "eigenvalue".into()],
        rows: s
            .spectrum
            .iter()
            .enumerate()
            .map(|(i, v)| vec![i as f64, *v])
            .collect(),
    };
    let mut loss = Chart::new(
        "loss",
        "Training loss: GD, linearised GD and the Newton step",
        "GD step",
        "training loss",
        false,
        true,
    );
    loss.add(
        "GD on the network",
        s.curve.iter().map(|r| (r[0], r[1])).collect(),
        SeriesStyle::Line,
    );
    loss.add(
        "GD on the linearisation (closed form)",
        s.curve.iter().map(|r| (r[0], r[2])).collect(),
        SeriesStyle::Dashed,
    );
    let last = s.curve.last().map_or(1.0, |r| r[0]);
    loss.add(
        "one Newton step",
        vec![(0.0, s.newton.train_loss), (last, s.newton.train_loss)],
        SeriesStyle::Line,
    );
    let mut test = Chart::new(
        "test_loss",
        "Test loss",
        "GD step",
        "test loss",
        false,
        true,
    );
    test.add(
        "GD on the network",
        s.curve.iter().map(|r| (r[0], r[3])).collect(),
        SeriesStyle::Line,
    );
    test.add(
        "GD on the linearisation (closed form)",
        s.curve.iter().map(|r| (r[0], r[4])).collect(),
        SeriesStyle::Dashed,
    );
    test.add(
        "one Newton step",
        vec![(0.0, s.newton.test_loss), (last, s.newton.test_loss)],
        SeriesStyle::Line,
    );
    let mut spec = Chart::new(
        "spectrum",
        "Spectrum of the empirical NTK K",
        "index (descending)",
        "eigenvalue",
        true,
        true,
    );
    spec.add(
        "eigenvalues of K",
        s.spectrum
            .iter()
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64, *v))
            .collect(),
        SeriesStyle::Line,
    );
    Ok(RunOutput {
        experiment: "linearize".into(),
        summary: serde_json::json!({
            "experiment": "linearize",
            "versions": report::versions(),
            "seed": c.model.seed,
            "threads": rayon::current_num_threads(),
            "summary": s,
        }),
        tables: vec![t, g],
        curves: vec![curves, spectrum],
        charts: vec![loss, test, spec],
        notes,
    })
}
