//! The run of `linearize`, in the precision T of the network: a composition of the tangent/
//! pieces (kernel plan, kernel ridge, closed-form GD) and the train/ loop.

use super::plan::{self, Dims};
use super::{fit, Config, CurveRow, Fit, Summary, TestPredictions, Timings};
use crate::data::{cast, Dataset};
use crate::metrics::{rel_diff, rel_diff_scaled, squared_loss};
use crate::model::{self, KernelForm};
use crate::progress::Observer;
use crate::tangent::{kernel_predict, kernel_ridge, ClosedFormGd, KernelPlan, RidgeSolver};
use crate::train::{self, gd::NetworkGd, Stop};
use anyhow::{bail, Context, Result};
use autodiff::mlp::Mlp;
use linalg::{lanczos_extremes, symmetric_eigen, Matrix, Real, SymmetricEigen};
use std::time::Instant;

/// The inputs in the working precision and the network's outputs at θ₀.
struct Start<T: Real> {
    x_train: Matrix<T>,
    y_train: Matrix<T>,
    x_test: Matrix<T>,
    theta0: Vec<T>,
    f0_train: Matrix<f64>,
    f0_test: Matrix<f64>,
    /// r₀ = f₀ − Y on the training set, n×o row-major.
    r0: Vec<f64>,
}

/// λ_max, λ_min, κ and the eigendecomposition of K.
struct Spectrum {
    lambda_max: f64,
    lambda_min: f64,
    lanczos_iterations: usize,
    eig: SymmetricEigen<f64>,
}

pub(super) fn run_typed<T: Real>(
    cfg: &Config,
    ds: &Dataset,
    obs: &mut dyn Observer,
) -> Result<Summary> {
    let mut secs = Timings::default();
    let (n, m, d, o) = (ds.n_train(), ds.n_test(), ds.input_dim(), ds.output_dim());
    let mlp = model::build(&cfg.model, d, o)?;
    let window = crate::memory::PeakWindow::start();
    let kp = choose_kernel::<T>(cfg, &mlp, ds)?;
    if kp.fell_back {
        obs.message(&format!("note: {}", kp.reason));
    }
    let (form, st) = (kp.form, start::<T>(cfg, &mlp, ds)?);
    let (y, r0) = (ds.y_train.as_slice(), &st.r0);
    let (k, k_test) = timed(obs, "empirical NTK", &mut secs.kernel, || {
        kernels(&mlp, &st, form)
    })?;
    let cols = if form == KernelForm::Full { 1 } else { o };
    // r₀ in kernel layout: a vector of n·o, or an n×o matrix for the traced form.
    let r0_k = Matrix::from_fn(k.rows(), cols, |i, j| r0[i * cols + j]);
    let nt = newton_step(cfg, ds, &st, &k, &k_test, &r0_k, obs, &mut secs.newton)?;
    let (alpha, solver, newton_test, newton, eig_early) =
        (nt.alpha, nt.solver, nt.test, nt.fit, nt.eig);
    let sp = timed(
        obs,
        "spectrum of K (Lanczos, eigen)",
        &mut secs.spectrum,
        || spectrum(&k, eig_early, cfg.model.seed),
    )?;
    let kappa = (sp.lambda_max + cfg.lambda) / (sp.lambda_min.max(0.0) + cfg.lambda);
    let (lr, max_stable_lr) = step_size(cfg, n, sp.lambda_max)?;
    // (c) linearised GD in closed form, in the eigenbasis of K.
    let closed = ClosedFormGd::new(sp.eig, &r0_k, lr, n)?;
    let lin_at = |t: f64| closed.predictions(t, y, &st.f0_test, &k_test);

    // (b) GD on the real network.
    let target_loss = 1.01 * newton.train_loss;
    let t0 = Instant::now();
    let (theta, curve, steps_gd) =
        network_gd(cfg, &mlp, &st, ds, lr, target_loss, &closed, &lin_at, obs)
            .map_err(|e| diverged_hint(e, lr, max_stable_lr))?;
    secs.gradient_descent = t0.elapsed().as_secs_f64();

    let f_gd_train = model::forward_f64(&mlp, &theta, st.x_train.as_ref())?;
    let f_gd_test = model::forward_f64(&mlp, &theta, st.x_test.as_ref())?;
    let (lin_train, lin_test) = lin_at(cfg.steps as f64)?;
    let theta_f64 = |v: &[T]| -> Vec<f64> { v.iter().map(|x| x.to_f64()).collect() };

    let relative_kernel_change = if cfg.kernel_change {
        Some(kernel_change(&mlp, &theta, &st, &k, form, obs)?)
    } else {
        None
    };
    let cg_fig = if form == KernelForm::Full {
        let t0 = Instant::now();
        obs.begin("CG in parameter space", 0);
        let c = parameter_cg(cfg, &mlp, &st, r0, &alpha, &newton_test)?;
        obs.end();
        secs.cg = Some(t0.elapsed().as_secs_f64());
        Some(c)
    } else {
        None
    };
    let summary = Summary {
        config: cfg.clone(),
        data: ds.name.clone(),
        n_train: n,
        n_test: m,
        input_dim: d,
        max_abs_test_input: ds.max_abs_test_input(),
        output_dim: o,
        num_params: mlp.num_params(),
        kernel_form: form,
        kernel_reason: kp.reason,
        memory_estimate_bytes: kp.plan.peak(),
        memory_peak_bytes: window.measured(),
        lambda_max: sp.lambda_max,
        lanczos_iterations: sp.lanczos_iterations,
        lambda_min: sp.lambda_min,
        kappa,
        lr,
        max_stable_lr,
        init: fit(ds, st.f0_train.as_slice(), st.f0_test.as_slice()),
        newton,
        gd: fit(ds, f_gd_train.as_slice(), f_gd_test.as_slice()),
        linearized_gd: fit(ds, &lin_train, &lin_test),
        function_gap_test: rel_diff_scaled(
            f_gd_test.as_slice(),
            &lin_test,
            crate::metrics::norm(f_gd_test.as_slice()),
        ),
        relative_parameter_change: rel_diff(&theta_f64(&theta), &theta_f64(&st.theta0)),
        relative_kernel_change,
        steps_to_newton_loss_linearized: closed.steps_to(target_loss),
        steps_to_newton_loss_gd: steps_gd,
        steps_estimate: kappa * 100f64.ln(),
        cg: cg_fig,
        newton_solver: solver,
        seconds: secs,
        curve,
        spectrum: closed.eigenvalues().iter().rev().copied().collect(),
        test_predictions: TestPredictions {
            newton: newton_test,
            gd: f_gd_test.as_slice().to_vec(),
            linearized_gd: lin_test,
        },
    };
    if let Some(dir) = &cfg.dump {
        let pred = &summary.test_predictions.newton;
        let solver = &summary.newton_solver;
        dump_bundle(dir, cfg, ds, &mlp, &st, (&k, &alpha, pred), solver, form)?;
    }
    Ok(summary)
}

/// The Newton step's solution, how it was solved, its test predictions and fit, and the
/// eigendecomposition if the fallback computed it.
struct NewtonStep {
    alpha: Matrix<f64>,
    solver: RidgeSolver,
    test: Vec<f64>,
    fit: Fit,
    eig: Option<SymmetricEigen<f64>>,
}

/// (a) Newton: (K + λI)α = Y − f₀, then f₀ + Kα on train and test.
#[allow(clippy::too_many_arguments)]
fn newton_step<T: Real>(
    cfg: &Config,
    ds: &Dataset,
    st: &Start<T>,
    k: &Matrix<f64>,
    k_test: &Matrix<f64>,
    r0_k: &Matrix<f64>,
    obs: &mut dyn Observer,
    seconds: &mut f64,
) -> Result<NewtonStep> {
    let rhs = Matrix::from_fn(r0_k.rows(), r0_k.cols(), |i, j| -r0_k.get(i, j));
    let mut eig = None;
    let (alpha, solver) = timed(obs, "Newton step (Cholesky)", seconds, || {
        kernel_ridge::solve(k, cfg.lambda, &rhs, &mut eig)
    })?;
    if let RidgeSolver::Eigen { .. } = &solver {
        obs.message(&format!("note: Newton step by {solver}"));
    }
    let train = kernel_predict(&st.f0_train, k, &alpha)?;
    let test = kernel_predict(&st.f0_test, k_test, &alpha)?;
    Ok(NewtonStep {
        fit: fit(ds, &train, &test),
        alpha,
        solver,
        test,
        eig,
    })
}

/// K(X, X) and K(X*, X) at θ₀, refusing a kernel that overflowed.
fn kernels<T: Real>(
    mlp: &Mlp,
    st: &Start<T>,
    form: KernelForm,
) -> Result<(Matrix<f64>, Matrix<f64>)> {
    let (x, xt) = (st.x_train.as_ref(), st.x_test.as_ref());
    let k = model::ntk(mlp, &st.theta0, x, None, form)?;
    if let Some((i, j)) = k.find_non_finite() {
        bail!("the empirical NTK has a non-finite entry at ({i}, {j}): the network overflowed at θ₀ (try a smaller --sigma-w or --sigma-b)");
    }
    Ok((k, model::ntk(mlp, &st.theta0, xt, Some(x), form)?))
}

/// The audit bundle of `--dump` (see `audit`).
#[allow(clippy::too_many_arguments)]
fn dump_bundle<T: Real>(
    dir: &std::path::Path,
    cfg: &Config,
    ds: &Dataset,
    mlp: &Mlp,
    st: &Start<T>,
    (k, alpha, pred_test): (&Matrix<f64>, &Matrix<f64>, &[f64]),
    solver: &RidgeSolver,
    form: KernelForm,
) -> Result<()> {
    let bundle = super::audit::Bundle {
        mlp,
        theta0: &st.theta0,
        f0_train: &st.f0_train,
        k,
        alpha,
        pred_test,
        solver,
        form,
    };
    super::audit::dump(dir, cfg, ds, &bundle)
}

/// ‖K_T − K₀‖_F/‖K₀‖_F with K_T the kernel at the trained θ.
fn kernel_change<T: Real>(
    mlp: &Mlp,
    theta: &[T],
    st: &Start<T>,
    k: &Matrix<f64>,
    form: KernelForm,
    obs: &mut dyn Observer,
) -> Result<f64> {
    obs.begin("NTK at θ_T", 0);
    let kt = model::ntk(mlp, theta, st.x_train.as_ref(), None, form)?;
    obs.end();
    Ok(rel_diff_scaled(kt.as_slice(), k.as_slice(), k.norm_fro()))
}

/// The Newton step again by CG in parameter space (see `cg_check`).
fn parameter_cg<T: Real>(
    cfg: &Config,
    mlp: &Mlp,
    st: &Start<T>,
    r0: &[f64],
    alpha: &Matrix<f64>,
    newton_test: &[f64],
) -> Result<super::CgFigures> {
    let inputs = super::cg_check::Inputs {
        mlp,
        theta0: &st.theta0,
        x_train: st.x_train.as_ref(),
        x_test: st.x_test.as_ref(),
        f0_test: st.f0_test.as_slice(),
        r0,
        alpha,
        newton_test,
    };
    super::cg_check::parameter_cg(cfg, &inputs)
}

/// Plans the run with both kernel forms and picks one within the memory budget.
fn choose_kernel<T: Real>(cfg: &Config, mlp: &Mlp, ds: &Dataset) -> Result<KernelPlan> {
    let dims = Dims {
        n: ds.n_train(),
        m: ds.n_test(),
        d: ds.input_dim(),
        o: ds.output_dim(),
        s: std::mem::size_of::<T>(),
    };
    let plan_of = |f| plan::plan(mlp, &dims, f, cfg.kernel_change);
    KernelPlan::choose(
        cfg.kernel,
        plan_of(KernelForm::Full),
        plan_of(KernelForm::Traced),
        crate::memory::budget(cfg.max_memory_mib),
        dims.o,
    )
}

fn start<T: Real>(cfg: &Config, mlp: &Mlp, ds: &Dataset) -> Result<Start<T>> {
    let x_train: Matrix<T> = cast(&ds.x_train);
    let x_test: Matrix<T> = cast(&ds.x_test);
    let theta0: Vec<T> = mlp.init(cfg.model.seed);
    let f0_train = model::forward_f64(mlp, &theta0, x_train.as_ref())?;
    let f0_test = model::forward_f64(mlp, &theta0, x_test.as_ref())?;
    let r0 = f0_train
        .as_slice()
        .iter()
        .zip(ds.y_train.as_slice())
        .map(|(f, t)| f - t)
        .collect();
    Ok(Start {
        r0,
        y_train: cast(&ds.y_train),
        x_train,
        x_test,
        theta0,
        f0_train,
        f0_test,
    })
}

/// Runs `f` as one observed, timed stage.
fn timed<R>(
    obs: &mut dyn Observer,
    stage: &str,
    seconds: &mut f64,
    f: impl FnOnce() -> Result<R>,
) -> Result<R> {
    obs.begin(stage, 0);
    let t0 = Instant::now();
    let r = f();
    *seconds = t0.elapsed().as_secs_f64();
    obs.end();
    r
}

/// λ_max by Lanczos (the largest of it and the dense value), λ_min and the eigenvectors from
/// the dense decomposition (reused when the Newton fallback already computed it).
fn spectrum(k: &Matrix<f64>, eig: Option<SymmetricEigen<f64>>, seed: u64) -> Result<Spectrum> {
    let nk = k.rows();
    let lz = lanczos_extremes(k, nk.min(300), 1e-8, seed)
        .with_context(|| format!("Lanczos on the {nk}×{nk} kernel"))?;
    let eig = match eig {
        Some(e) => e,
        None => symmetric_eigen(k.as_ref())
            .with_context(|| format!("eigendecomposition of the {nk}×{nk} kernel"))?,
    };
    Ok(Spectrum {
        lambda_max: lz.max.max(eig.values.last().copied().unwrap_or(0.0)),
        lambda_min: eig.values.first().copied().unwrap_or(0.0),
        lanczos_iterations: lz.iterations,
        eig,
    })
}

/// GD on 1/(2n)‖f − Y‖² moves the training outputs by −(η/n)K r per step. With the traced
/// kernel every output column is fitted with the same K̄ = (1/o)Σₐ K[(i,a),(j,a)]: when
/// K ≈ Θ ⊗ I (infinite width) K̄ *is* Θ, so the dynamics use K̄ unscaled. Returns (η, 2n/λ_max).
fn step_size(cfg: &Config, n: usize, lambda_max: f64) -> Result<(f64, f64)> {
    let nf = n as f64;
    let max_stable = 2.0 * nf / lambda_max;
    let lr = cfg.lr.unwrap_or(nf / lambda_max);
    if lr >= max_stable {
        bail!(
            "{} makes gradient descent diverge: the top eigen-direction of K/n grows by |1 − ηλ_max/n| = {:.3e} per step; the largest stable step is 2n/λ_max = {max_stable:.6}",
            if cfg.lr.is_some() { format!("--lr {lr:e}") } else { format!("the step size {lr:e}") },
            (1.0 - lr * lambda_max / nf).abs()
        );
    }
    Ok((lr, max_stable))
}

fn diverged_hint(e: anyhow::Error, lr: f64, max_stable: f64) -> anyhow::Error {
    if e.downcast_ref::<train::Diverged>().is_some() {
        e.context(format!(
            "gradient descent on the network with step size {lr}; the largest stable step for the linearised model is 2n/λ_max = {max_stable:.6}"
        ))
    } else {
        e
    }
}

/// The network trained by GD on the train/ loop, with the closed-form curve recorded beside
/// it: (θ_T, curve, first step within 1% of Newton's training loss).
#[allow(clippy::too_many_arguments)]
fn network_gd<T: Real>(
    cfg: &Config,
    mlp: &Mlp,
    st: &Start<T>,
    ds: &Dataset,
    lr: f64,
    target_loss: f64,
    closed: &ClosedFormGd,
    lin_at: &dyn Fn(f64) -> Result<(Vec<f64>, Vec<f64>)>,
    obs: &mut dyn Observer,
) -> Result<(Vec<T>, Vec<CurveRow>, Option<usize>)> {
    let mut method = NetworkGd::new(
        mlp,
        st.theta0.clone(),
        st.x_train.as_ref(),
        st.y_train.as_ref(),
        lr,
    );
    obs.begin("gradient descent", cfg.steps as u64);
    let record_every = (cfg.steps / 100).max(1);
    let mut curve = Vec::new();
    let m = ds.n_test();
    let tr = train::run(
        &mut method,
        Stop {
            max_steps: cfg.steps,
            target: Some(target_loss),
            stop_at_target: false,
        },
        |t| t % record_every == 0,
        |t, loss, gd| {
            let f_test = model::forward_f64(mlp, &gd.theta, st.x_test.as_ref())?;
            let (_, lin_test) = lin_at(t as f64)?;
            curve.push(CurveRow {
                step: t,
                gd_train_loss: loss,
                linearized_train_loss: closed.loss(t as f64),
                gd_test_loss: squared_loss(f_test.as_slice(), ds.y_test.as_slice(), m),
                linearized_test_loss: squared_loss(&lin_test, ds.y_test.as_slice(), m),
            });
            Ok(())
        },
        obs,
    )?;
    obs.end();
    Ok((method.theta, curve, tr.reached_target))
}
