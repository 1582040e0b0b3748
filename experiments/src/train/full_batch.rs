//! Full-batch training through [`fit`]: the trainings the tangent-space experiments compare
//! their Newton steps with (no data order, so no seed but θ₀'s enters).

use super::{fit, FitConfig, Loss, Optimizer, SgdConfig, Split, Targets};
use anyhow::{bail, Result};
use autodiff::mlp::{Mask, Mlp};
use linalg::MatRef;

/// θ after `iterations` full-batch steps of `optimizer` on `loss` from `theta0` (pruned
/// entries of `mask` held at zero). Errors when the weights stop being finite.
pub fn full_batch(
    net: &Mlp,
    theta0: Vec<f64>,
    mask: Option<&Mask>,
    (x, targets): (MatRef<'_, f64>, Targets<'_, f64>),
    (loss, optimizer): (Loss, Optimizer),
    iterations: usize,
) -> Result<Vec<f64>> {
    let fc = FitConfig {
        optimizer,
        loss,
        batch_size: x.rows(),
        iterations,
        eval_every: iterations,
        order_seed: 0,
        rewind_at: None,
    };
    let split = || Split { x, targets };
    let fitted = fit(
        net,
        theta0,
        mask.cloned(),
        split(),
        split(),
        &fc,
        &mut crate::progress::Silent,
    )?;
    if fitted.theta.iter().any(|v| !v.is_finite()) {
        bail!("training diverged (non-finite weights); lower the step size (--lr or --lr-scale)");
    }
    Ok(fitted.theta)
}

/// θ after `iterations` steps θ ← θ − η∇L of L = ‖f(X; θ) − Y‖²/(2n) (see [`full_batch`]).
pub fn full_batch_gd(
    net: &Mlp,
    theta0: Vec<f64>,
    mask: Option<&Mask>,
    (x, y): (MatRef<'_, f64>, MatRef<'_, f64>),
    lr: f64,
    iterations: usize,
) -> Result<Vec<f64>> {
    let sgd = Optimizer::Sgd(SgdConfig {
        lr,
        momentum: 0.0,
        weight_decay: 0.0,
    });
    full_batch(
        net,
        theta0,
        mask,
        (x, Targets::Values(y)),
        (Loss::SquaredError, sgd),
        iterations,
    )
}
