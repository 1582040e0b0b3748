//! The run of `linearize --loss cross-entropy`: the tangent problem solved by Newton in
//! function space and by Newton-CG in parameter space, the ridge path toward λ = 0, and the
//! network and its linearisation trained by GD on the same objective, side by side over time.

use super::{Checkpoint, Config, Summary, TangentFit};
use crate::data::Dataset;
use crate::metrics::accuracy;
use crate::progress::Observer;
use crate::tangent::pointwise_newton::{
    continuation, margins, newton, CrossEntropy, NewtonOptions,
};
use crate::tangent::pointwise_newton_cg::newton_cg;
use crate::train::{full_batch, AdamConfig, Loss, Optimizer, SgdConfig, Targets};
use anyhow::{anyhow, bail, Context, Result};
use autodiff::mlp::{Linearized, Mlp, NtkForm};
use linalg::vec::rel_diff;
use linalg::Matrix;

/// Mean cross-entropy of logits `z` against `labels`.
pub fn mean_cross_entropy(z: &Matrix<f64>, labels: &[usize]) -> f64 {
    let total: f64 = (0..z.rows())
        .map(|i| {
            let row = z.row(i);
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
            (m - row[labels[i]]) + s.ln()
        })
        .sum();
    total / z.rows().max(1) as f64
}

/// Mean over samples of the margin z_y − max_{a≠y} z_a.
pub fn mean_margin(z: &Matrix<f64>, labels: &[usize]) -> f64 {
    let m = margins(z, labels);
    m.iter().sum::<f64>() / m.len().max(1) as f64
}

fn err(e: autodiff::AdError) -> anyhow::Error {
    anyhow!("{e}")
}

/// Full-batch training of the network on cross-entropy for `steps` steps from θ.
fn train(
    net: &Mlp,
    theta: Vec<f64>,
    ds: &Dataset,
    labels: &[usize],
    optimizer: Optimizer,
    steps: usize,
) -> Result<Vec<f64>> {
    let data = (ds.x_train.as_ref(), Targets::Classes(labels));
    full_batch(
        net,
        theta,
        None,
        data,
        (Loss::CrossEntropy, optimizer),
        steps,
    )
}

/// One GD step on the linearised model: δ ← δ − η·(1/n)·Jᵀ(softmax(f₀ + Jδ) − Y).
fn linearized_step(
    lin: &Linearized<'_, f64>,
    labels: &[usize],
    delta: &mut [f64],
    lr: f64,
) -> Result<()> {
    let z = lin.eval(delta).map_err(err)?;
    let n = z.rows() as f64;
    let g = Matrix::from_fn(z.rows(), z.cols(), |i, a| {
        let row = z.row(i);
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        ((row[a] - m).exp() / s - if a == labels[i] { 1.0 } else { 0.0 }) / n
    });
    let grad = lin.vjp(g.as_ref()).map_err(err)?;
    for (d, gi) in delta.iter_mut().zip(&grad) {
        *d -= lr * gi;
    }
    Ok(())
}

/// Full-batch GD on the network and on its linearisation side by side for `cfg.steps` steps
/// of size `lr`, with the test-logit gap, accuracies, training loss and margin at
/// `cfg.checkpoints` points; the network's final θ and the curve.
fn gd_curve(
    cfg: &Config,
    ds: &Dataset,
    (net, lin, lin_test): (&Mlp, &Linearized<'_, f64>, &Linearized<'_, f64>),
    (labels, test_labels): (&[usize], &[usize]),
    theta0: Vec<f64>,
    lr: f64,
) -> Result<(Vec<f64>, Vec<Checkpoint>)> {
    let mut lin_delta = vec![0.0; theta0.len()];
    let mut theta = theta0;
    let mut curve = Vec::new();
    let chunk = (cfg.steps / cfg.checkpoints).max(1);
    let mut t = 0;
    while t < cfg.steps {
        let s = chunk.min(cfg.steps - t);
        theta = train(
            net,
            theta,
            ds,
            labels,
            Optimizer::Sgd(SgdConfig {
                lr,
                momentum: 0.0,
                weight_decay: 0.0,
            }),
            s,
        )?;
        for _ in 0..s {
            linearized_step(lin, labels, &mut lin_delta, lr)?;
        }
        t += s;
        let f_net = net.forward(&theta, ds.x_test.as_ref())?;
        let f_lin = lin_test.eval(&lin_delta).map_err(err)?;
        if f_lin.as_slice().iter().any(|v| !v.is_finite()) {
            bail!("GD on the linearised model diverged at η = {lr:.3e}; lower --lr");
        }
        let f_train = net.forward(&theta, ds.x_train.as_ref())?;
        curve.push(Checkpoint {
            step: t,
            gap: rel_diff(f_lin.as_slice(), f_net.as_slice()),
            network_test_accuracy: accuracy(&f_net, test_labels),
            linearized_test_accuracy: accuracy(&f_lin, test_labels),
            network_train_loss: mean_cross_entropy(&f_train, labels),
            network_train_margin: mean_margin(&f_train, labels),
            network_logit_norm: linalg::vec::nrm2(f_net.as_slice()),
        });
    }
    Ok((theta, curve))
}

/// Runs everything `linearize --loss cross-entropy` reports.
pub fn run(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    let (Some(labels), Some(test_labels)) = (&ds.labels_train, &ds.labels_test) else {
        bail!(
            "cross-entropy needs class labels; {} is a regression task",
            ds.name
        );
    };
    let net = crate::model::build(&cfg.model, ds.input_dim(), ds.output_dim())?;
    let theta0: Vec<f64> = net.init(cfg.model.seed);
    let lin = Linearized::new(&net, &theta0, ds.x_train.as_ref()).map_err(err)?;
    let lin_test = Linearized::new(&net, &theta0, ds.x_test.as_ref()).map_err(err)?;
    obs.begin("linearize (cross-entropy)", 5);
    let k = lin.ntk(NtkForm::Full).map_err(err)?;
    let loss = CrossEntropy { labels };
    let opts = NewtonOptions {
        tol: cfg.newton_tol,
        max_iter: cfg.newton_max_iter,
        ..Default::default()
    };
    let fs = newton(&k, lin.output0(), &loss, cfg.lambda, opts).context("function-space Newton")?;
    let delta = lin.vjp(fs.alpha.as_ref()).map_err(err)?;
    let newton_test = lin_test.eval(&delta).map_err(err)?;
    obs.advance(1);
    let ps =
        newton_cg(&lin, &loss, cfg.lambda, opts, 1e-10).context("parameter-space Newton-CG")?;
    let cg_test = lin_test.eval(&ps.delta).map_err(err)?;
    obs.advance(2);
    let lambda_max = crate::tickets::newton::largest_eigenvalue(&k)?;
    let path = continuation(
        &k,
        lin.output0(),
        labels,
        cfg.lambda_path_start,
        cfg.lambda_decades,
        opts,
    )
    .context("ridge path toward λ = 0")?;
    drop(k);
    obs.advance(3);
    let lr = cfg.lr.unwrap_or(ds.n_train() as f64 / lambda_max);
    let (theta, curve) = gd_curve(
        cfg,
        ds,
        (&net, &lin, &lin_test),
        (labels, test_labels),
        theta0.clone(),
        lr,
    )?;
    obs.advance(4);
    let adam = train(
        &net,
        theta0.clone(),
        ds,
        labels,
        Optimizer::Adam(AdamConfig {
            lr: cfg.adam_lr,
            ..AdamConfig::default()
        }),
        cfg.steps,
    )?;
    let adam_test = net.forward(&adam, ds.x_test.as_ref())?;
    let gd_test = net.forward(&theta, ds.x_test.as_ref())?;
    obs.advance(5);
    obs.end();
    let fit_of = |z: &Matrix<f64>, l: &[usize]| TangentFit {
        accuracy: accuracy(z, l),
        loss: mean_cross_entropy(z, l),
        margin: mean_margin(z, l),
    };
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        data_name: ds.name.clone(),
        num_params: theta0.len(),
        num_outputs: ds.output_dim(),
        newton_iterations: fs.history.len(),
        newton_verdict: fs.verdict.clone(),
        newton_history: fs.history.clone(),
        newton_train: fit_of(&fs.outputs, labels),
        newton: fit_of(&newton_test, test_labels),
        newton_cg_iterations: ps.history.len(),
        cg_products: ps.cg_iterations.iter().sum(),
        newton_cg_vs_newton: rel_diff(&ps.delta, &delta),
        newton_cg_test_vs_newton: rel_diff(cg_test.as_slice(), newton_test.as_slice()),
        lambda_path: path,
        lr,
        gd: fit_of(&gd_test, test_labels),
        adam: fit_of(&adam_test, test_labels),
        gap_gd_vs_newton: rel_diff(newton_test.as_slice(), gd_test.as_slice()),
        gap_adam_vs_newton: rel_diff(newton_test.as_slice(), adam_test.as_slice()),
        curve,
        wall_seconds: 0.0,
    })
}
