//! The grid of `sgd-noise`: per width, per init, the tangent references (Newton at λ → 0 and
//! full-batch GD for T steps, both in the eigenbasis of the full NTK), then per batch size the
//! runs of every order, the network and its linearisation on the same batches.
//!
//! Seeds: θ₀ of init i is drawn with `cfg.seed + i`, the batches of order j with
//! `cfg.order_seed + j`, the same for the network and the linear model. The runs of one
//! (width, init, batch) go on in parallel and are collected in order; each is sequential, so
//! the records are bit-identical on any number of threads.

use super::gp::{ntk_gp, GpKernels, GpPrediction};
use super::spread::{across_init_covariance, across_init_variance, grand_mean, pearson, per_input};
use super::{Config, Summary};
use crate::data::Dataset;
use crate::metrics::accuracy;
use crate::metrics::anova::{two_way, Anova};
use crate::progress::Observer;
use crate::tangent::closed_form::ClosedFormGd;
use crate::tangent::kernel_ridge::spectral_solve;
use crate::tangent::linearized_sgd::linearized_sgd;
use crate::train::{fit, FitConfig, Loss, Optimizer, SgdConfig, Split, Targets};
use anyhow::{anyhow, bail, Context, Result};
use autodiff::mlp::{ntk_per_layer, Linearized, Mlp, NtkForm};
use linalg::vec::{nrm2, rel_diff};
use linalg::{symmetric_eigen, Matrix};
use rayon::prelude::*;
use serde::Serialize;

/// One SGD run of one (width, batch, init, order), network and linear model.
#[derive(Clone, Debug, Serialize)]
pub struct RunRecord {
    /// Hidden width.
    pub width: usize,
    /// Batch size.
    pub batch: usize,
    /// Init index.
    pub init: usize,
    /// Order index.
    pub order: usize,
    /// ‖f_net − f_Newton‖/‖f_Newton − f₀‖ on the test inputs.
    pub net_vs_newton: f64,
    /// The same for SGD on the linearised model.
    pub lin_vs_newton: f64,
    /// ‖f_net − f_GD‖/‖f_GD − f₀‖, f_GD the linearised model after T full-batch GD steps.
    pub net_vs_gd: f64,
    /// The same for SGD on the linearised model.
    pub lin_vs_gd: f64,
    /// ‖f_net − f_lin‖/‖f_net‖: the network against its own linearisation, same batches.
    pub net_vs_lin: f64,
    /// Test accuracy of the network (classification only).
    pub net_accuracy: Option<f64>,
    /// Test accuracy of the linear model.
    pub lin_accuracy: Option<f64>,
}

/// What one (width, batch) cell of the grid says.
#[derive(Clone, Debug, Serialize)]
pub struct CellStats {
    /// Hidden width.
    pub width: usize,
    /// Batch size.
    pub batch: usize,
    /// The SGD step η.
    pub lr: f64,
    /// Two-way decomposition of the network's test predictions.
    pub net: Anova,
    /// Of the linear model's.
    pub lin: Anova,
    /// Means over the grid of the run records' ratios.
    pub net_vs_newton: f64,
    /// See [`RunRecord::lin_vs_newton`].
    pub lin_vs_newton: f64,
    /// See [`RunRecord::net_vs_gd`].
    pub net_vs_gd: f64,
    /// See [`RunRecord::lin_vs_gd`].
    pub lin_vs_gd: f64,
    /// See [`RunRecord::net_vs_lin`].
    pub net_vs_lin: f64,
    /// Mean test accuracy of the networks.
    pub net_accuracy: Option<f64>,
    /// Of the linear models.
    pub lin_accuracy: Option<f64>,
    /// ‖P̄_net − μ_T‖/‖μ_T‖: the networks' mean against the GP mean.
    pub gp_mean_error_net: f64,
    /// The same for the linear models.
    pub gp_mean_error_lin: f64,
    /// √(V_net/I)/‖μ_T‖: the error of a mean of I draws with the networks' own spread.
    pub gp_mean_noise_floor: f64,
    /// o·Σ diag Σ_T: the total across-init variance the GP predicts.
    pub gp_variance: f64,
    /// V_net: the networks' total across-init variance at a fixed order.
    pub init_variance_net: f64,
    /// V_lin: the same for the linear models.
    pub init_variance_lin: f64,
    /// Correlation over test inputs of the networks' across-init variance with diag Σ_T.
    pub variance_correlation_net: Option<f64>,
    /// ‖C_net − Σ_T‖_F/‖Σ_T‖_F, C_net the networks' across-init covariance over test inputs
    /// (pooled over orders and outputs).
    pub gp_covariance_error_net: f64,
    /// The same for the linear models.
    pub gp_covariance_error_lin: f64,
    /// √((‖Σ‖_F² + (tr Σ)²)/(o·(I − 1)))/‖Σ‖_F: the expected error of a sample covariance of
    /// o·(I − 1) degrees of freedom drawn from the GP itself.
    pub gp_covariance_noise_floor: f64,
}

fn err(e: autodiff::AdError) -> anyhow::Error {
    anyhow!("{e}")
}

/// The network of one width.
pub fn network(cfg: &Config, d: usize, o: usize, width: usize) -> Result<Mlp> {
    crate::model::build(&super::model_config(cfg, width), d, o)
}

/// The batch sizes as run: capped at n, repeats dropped.
pub fn effective_batches(cfg: &Config, n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for b in cfg.batch_sizes.iter().map(|&b| b.min(n)) {
        if !out.contains(&b) {
            out.push(b);
        }
    }
    out
}

/// Runs the whole grid.
pub fn run(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    let batches = effective_batches(cfg, ds.n_train());
    let total = cfg.widths.len() * cfg.inits * (1 + batches.len());
    obs.begin("sgd-noise: inits × orders × batch sizes", total as u64);
    let (mut runs, mut cells) = (Vec::new(), Vec::new());
    for &w in &cfg.widths {
        let (r, c) = width_grid(cfg, ds, w, &batches, obs).with_context(|| format!("width {w}"))?;
        runs.extend(r);
        cells.extend(c);
    }
    obs.end();
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        data_name: ds.name.clone(),
        runs,
        cells,
        wall_seconds: 0.0,
    })
}

/// What one init contributes: its references on the test inputs and its kernels.
struct InitRefs {
    f0: Matrix<f64>,
    newton: Matrix<f64>,
    gd: Matrix<f64>,
}

/// Traced kernels summed over inits (divided by I before use).
#[derive(Default)]
struct KernelSums {
    ntk: Option<Matrix<f64>>,
    ntk_cross: Option<Matrix<f64>>,
    nngp: Option<Matrix<f64>>,
    nngp_cross: Option<Matrix<f64>>,
    nngp_test: Option<Matrix<f64>>,
}

fn add_into(acc: &mut Option<Matrix<f64>>, m: &Matrix<f64>) {
    match acc {
        None => *acc = Some(m.clone()),
        Some(a) => linalg::vec::axpy(1.0, m.as_slice(), a.as_mut_slice()),
    }
}

/// The predictions of every run of one width: `[batch][init][order]`, network and linear.
type Grid = Vec<Vec<Vec<Vec<f64>>>>;

fn width_grid(
    cfg: &Config,
    ds: &Dataset,
    width: usize,
    batches: &[usize],
    obs: &mut dyn Observer,
) -> Result<(Vec<RunRecord>, Vec<CellStats>)> {
    let o = ds.output_dim();
    let net = network(cfg, ds.input_dim(), o, width)?;
    let mut sums = KernelSums::default();
    let (mut p_net, mut p_lin): (Grid, Grid) =
        (vec![vec![]; batches.len()], vec![vec![]; batches.len()]);
    let mut runs = Vec::new();
    let mut lr = None;
    for i in 0..cfg.inits {
        let theta0: Vec<f64> = net.init(cfg.seed + i as u64);
        let lin = Linearized::new(&net, &theta0, ds.x_train.as_ref()).map_err(err)?;
        let lin_test = Linearized::new(&net, &theta0, ds.x_test.as_ref()).map_err(err)?;
        let (refs, step) = references(cfg, ds, &lin, &lin_test, lr)?;
        lr = Some(step);
        add_kernels(&mut sums, &net, &theta0, ds)?;
        obs.advance(1);
        for (bi, &b) in batches.iter().enumerate() {
            let out: Vec<(Matrix<f64>, Matrix<f64>)> = (0..cfg.orders)
                .into_par_iter()
                .map(|j| {
                    one_run(
                        &net,
                        &theta0,
                        &lin,
                        &lin_test,
                        ds,
                        (b, step, cfg.steps),
                        cfg.order_seed + j as u64,
                    )
                })
                .collect::<Result<_>>()?;
            let (mut row_net, mut row_lin) = (Vec::new(), Vec::new());
            for (j, (f_net, f_lin)) in out.into_iter().enumerate() {
                runs.push(record(&refs, &f_net, &f_lin, ds, (width, b, i, j)));
                row_net.push(f_net.as_slice().to_vec());
                row_lin.push(f_lin.as_slice().to_vec());
            }
            p_net[bi].push(row_net);
            p_lin[bi].push(row_lin);
            obs.advance(1);
        }
    }
    let lr = lr.ok_or_else(|| anyhow!("no init ran"))?;
    let gp = gp_of(sums, cfg.inits, ds, lr, cfg.steps as f64)?;
    let cells = batches
        .iter()
        .enumerate()
        .map(|(bi, &b)| {
            let rs: Vec<&RunRecord> = runs.iter().filter(|r| r.batch == b).collect();
            cell(&rs, &p_net[bi], &p_lin[bi], &gp, o, (width, b, lr))
        })
        .collect::<Result<_>>()?;
    Ok((runs, cells))
}

/// Newton at λ → 0 and full-batch GD for T steps on the linearised model of one init, on the
/// test inputs, from one eigendecomposition of the full NTK; and the step η (the first init's
/// λ_max fixes it for the width, so every init trains for the same time ηT).
fn references(
    cfg: &Config,
    ds: &Dataset,
    lin: &Linearized<'_, f64>,
    lin_test: &Linearized<'_, f64>,
    lr: Option<f64>,
) -> Result<(InitRefs, f64)> {
    let (n, o) = (ds.n_train(), ds.output_dim());
    let k = lin.ntk(NtkForm::Full).map_err(err)?;
    let eig = symmetric_eigen(k.as_ref()).context("eigendecomposition of the full NTK")?;
    drop(k);
    let lambda_max = eig.values.last().copied().unwrap_or(0.0);
    if !(lambda_max.is_finite() && lambda_max > 0.0) {
        bail!("the NTK's largest eigenvalue is {lambda_max}: the network's outputs do not move");
    }
    let lr = lr.unwrap_or(cfg.lr_scale * n as f64 / lambda_max);
    let (f0, y) = (lin.output0().as_slice(), ds.y_train.as_slice());
    let r0 = Matrix::from_fn(n * o, 1, |i, _| f0[i] - y[i]);
    let minus_r0 = Matrix::from_fn(n * o, 1, |i, _| -r0.get(i, 0));
    let alpha = spectral_solve(&eig, cfg.newton_ridge * lambda_max, &minus_r0)?.alpha;
    let newton = predict(lin, lin_test, &alpha, o)?;
    let (_, beta) = ClosedFormGd::new(eig, &r0, lr, n)?.state(cfg.steps as f64)?;
    let gd = predict(lin, lin_test, &beta, o)?;
    let refs = InitRefs {
        f0: lin_test.output0().clone(),
        newton,
        gd,
    };
    Ok((refs, lr))
}

/// f₀(X*) + J*Jᵀc for c in kernel layout (index sample·o + output).
fn predict(
    lin: &Linearized<'_, f64>,
    lin_test: &Linearized<'_, f64>,
    c: &Matrix<f64>,
    o: usize,
) -> Result<Matrix<f64>> {
    let c = Matrix::from_fn(c.rows() / o, o, |i, a| c.get(i * o + a, 0));
    let delta = lin.vjp(c.as_ref()).map_err(err)?;
    lin_test.eval(&delta).map_err(err)
}

/// Adds one init's traced NTK (the sum of the layer kernels) and NNGP kernel to the sums. In
/// the NTK parameterization every weight and bias is drawn N(0, 1), so the covariance of f₀
/// over the readout's draw given the hidden layers is exactly the readout's own tangent kernel
/// s²ΦΦᵀ + β²: the empirical NNGP kernel of this init.
fn add_kernels(sums: &mut KernelSums, net: &Mlp, theta: &[f64], ds: &Dataset) -> Result<()> {
    let (x, xt) = (ds.x_train.as_ref(), ds.x_test.as_ref());
    let train = ntk_per_layer(net, theta, x, None, NtkForm::Traced).map_err(err)?;
    let cross = ntk_per_layer(net, theta, xt, Some(x), NtkForm::Traced).map_err(err)?;
    let test = ntk_per_layer(net, theta, xt, None, NtkForm::Traced).map_err(err)?;
    let (Some(k), Some(kc), Some(kt)) = (train.last(), cross.last(), test.last()) else {
        bail!("the network has no layers");
    };
    // The NTK is the sum of the layer kernels; the readout's alone is the NNGP kernel.
    for (a, b) in train.iter().zip(&cross) {
        add_into(&mut sums.ntk, a);
        add_into(&mut sums.ntk_cross, b);
    }
    add_into(&mut sums.nngp, k);
    add_into(&mut sums.nngp_cross, kc);
    add_into(&mut sums.nngp_test, kt);
    Ok(())
}

/// The GP after t steps from the kernels averaged over the I inits.
fn gp_of(sums: KernelSums, inits: usize, ds: &Dataset, lr: f64, t: f64) -> Result<GpPrediction> {
    let scale = 1.0 / inits as f64;
    let avg = |m: Option<Matrix<f64>>| -> Result<Matrix<f64>> {
        let mut m = m.ok_or_else(|| anyhow!("no kernels were summed"))?;
        m.as_mut_slice().iter_mut().for_each(|v| *v *= scale);
        Ok(m)
    };
    let (ntk, ntk_cross) = (avg(sums.ntk)?, avg(sums.ntk_cross)?);
    let (nngp, nngp_cross) = (avg(sums.nngp)?, avg(sums.nngp_cross)?);
    let nngp_test = avg(sums.nngp_test)?;
    let k = GpKernels {
        ntk: &ntk,
        ntk_cross: &ntk_cross,
        nngp: &nngp,
        nngp_cross: &nngp_cross,
        nngp_test: &nngp_test,
    };
    ntk_gp(&k, &ds.y_train, lr, t)
}

/// One order's SGD run of the network and of the linearised model, same batches and step;
/// their test predictions.
fn one_run(
    net: &Mlp,
    theta0: &[f64],
    lin: &Linearized<'_, f64>,
    lin_test: &Linearized<'_, f64>,
    ds: &Dataset,
    (batch, lr, steps): (usize, f64, usize),
    order_seed: u64,
) -> Result<(Matrix<f64>, Matrix<f64>)> {
    let delta = linearized_sgd(lin, &ds.y_train, (batch, lr, steps), order_seed)
        .map_err(|e| anyhow!("{e}; lower --lr-scale"))?;
    let f_lin = lin_test.eval(&delta).map_err(err)?;
    let fc = FitConfig {
        optimizer: Optimizer::Sgd(SgdConfig {
            lr,
            momentum: 0.0,
            weight_decay: 0.0,
        }),
        loss: Loss::SquaredError,
        batch_size: batch,
        iterations: steps,
        eval_every: steps,
        order_seed,
        rewind_at: None,
    };
    let split = || Split {
        x: ds.x_train.as_ref(),
        targets: Targets::Values(ds.y_train.as_ref()),
    };
    let fitted = fit(
        net,
        theta0.to_vec(),
        None,
        split(),
        split(),
        &fc,
        &mut crate::progress::Silent,
    )?;
    let f_net = net.forward(&fitted.theta, ds.x_test.as_ref())?;
    if f_net.as_slice().iter().any(|v| !v.is_finite()) {
        bail!("SGD on the network diverged at η = {lr:.3e} (batch {batch}); lower --lr-scale");
    }
    Ok((f_net, f_lin))
}

/// ‖a − b‖/‖b − f₀‖.
fn moved_ratio(a: &Matrix<f64>, b: &Matrix<f64>, f0: &Matrix<f64>) -> f64 {
    let num = nrm2(&sub(a, b));
    num / nrm2(&sub(b, f0)).max(f64::MIN_POSITIVE)
}

fn sub(a: &Matrix<f64>, b: &Matrix<f64>) -> Vec<f64> {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| x - y)
        .collect()
}

fn record(
    refs: &InitRefs,
    f_net: &Matrix<f64>,
    f_lin: &Matrix<f64>,
    ds: &Dataset,
    (width, batch, init, order): (usize, usize, usize, usize),
) -> RunRecord {
    let acc = |f: &Matrix<f64>| ds.labels_test.as_ref().map(|l| accuracy(f, l));
    RunRecord {
        width,
        batch,
        init,
        order,
        net_vs_newton: moved_ratio(f_net, &refs.newton, &refs.f0),
        lin_vs_newton: moved_ratio(f_lin, &refs.newton, &refs.f0),
        net_vs_gd: moved_ratio(f_net, &refs.gd, &refs.f0),
        lin_vs_gd: moved_ratio(f_lin, &refs.gd, &refs.f0),
        net_vs_lin: rel_diff(f_lin.as_slice(), f_net.as_slice()),
        net_accuracy: acc(f_net),
        lin_accuracy: acc(f_lin),
    }
}

fn mean_of(rs: &[&RunRecord], f: impl Fn(&RunRecord) -> f64) -> f64 {
    rs.iter().map(|r| f(r)).sum::<f64>() / rs.len().max(1) as f64
}

fn mean_opt(rs: &[&RunRecord], f: impl Fn(&RunRecord) -> Option<f64>) -> Option<f64> {
    let v: Option<Vec<f64>> = rs.iter().map(|r| f(r)).collect();
    v.map(|v| v.iter().sum::<f64>() / v.len().max(1) as f64)
}

fn cell(
    rs: &[&RunRecord],
    p_net: &[Vec<Vec<f64>>],
    p_lin: &[Vec<Vec<f64>>],
    gp: &GpPrediction,
    o: usize,
    (width, batch, lr): (usize, usize, f64),
) -> Result<CellStats> {
    let mu = gp.mean.as_slice();
    let mu_norm = nrm2(mu).max(f64::MIN_POSITIVE);
    let (v_net, v_lin) = (across_init_variance(p_net), across_init_variance(p_lin));
    let total_net: f64 = v_net.iter().sum();
    let sigma = gp.covariance.as_slice();
    Ok(CellStats {
        width,
        batch,
        lr,
        net: two_way(p_net)?,
        lin: two_way(p_lin)?,
        net_vs_newton: mean_of(rs, |r| r.net_vs_newton),
        lin_vs_newton: mean_of(rs, |r| r.lin_vs_newton),
        net_vs_gd: mean_of(rs, |r| r.net_vs_gd),
        lin_vs_gd: mean_of(rs, |r| r.lin_vs_gd),
        net_vs_lin: mean_of(rs, |r| r.net_vs_lin),
        net_accuracy: mean_opt(rs, |r| r.net_accuracy),
        lin_accuracy: mean_opt(rs, |r| r.lin_accuracy),
        gp_mean_error_net: rel_diff(&grand_mean(p_net), mu),
        gp_mean_error_lin: rel_diff(&grand_mean(p_lin), mu),
        gp_mean_noise_floor: (total_net / p_net.len() as f64).sqrt() / mu_norm,
        gp_variance: o as f64 * gp.variance.iter().sum::<f64>(),
        init_variance_net: total_net,
        init_variance_lin: v_lin.iter().sum(),
        variance_correlation_net: pearson(&per_input(&v_net, o), &gp.variance),
        gp_covariance_error_net: rel_diff(&across_init_covariance(p_net, o), sigma),
        gp_covariance_error_lin: rel_diff(&across_init_covariance(p_lin, o), sigma),
        gp_covariance_noise_floor: covariance_floor(&gp.covariance, o, p_net.len()),
    })
}

/// √E‖S − Σ‖_F² / ‖Σ‖_F = √((‖Σ‖_F² + (tr Σ)²)/df)/‖Σ‖_F for a Gaussian sample covariance
/// with df = o·(I − 1) degrees of freedom (Wishart second moments).
fn covariance_floor(sigma: &Matrix<f64>, o: usize, inits: usize) -> f64 {
    let fro2: f64 = sigma.as_slice().iter().map(|v| v * v).sum();
    let tr: f64 = (0..sigma.rows()).map(|i| sigma.get(i, i)).sum();
    let df = (o * (inits - 1)) as f64;
    ((fro2 + tr * tr) / df).sqrt() / fro2.sqrt().max(f64::MIN_POSITIVE)
}
