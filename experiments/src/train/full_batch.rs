//! Full-batch GD on squared error through [`fit`]: the training the tangent-space experiments
//! compare their Newton steps with (no data order, so no seed but θ₀'s enters).

use super::{fit, FitConfig, Loss, Optimizer, SgdConfig, Split, Targets};
use anyhow::{bail, Result};
use autodiff::mlp::{Mask, Mlp};
use linalg::MatRef;

/// θ after `iterations` steps θ ← θ − η∇L of L = ‖f(X; θ) − Y‖²/(2n) from `theta0` (pruned
/// entries of `mask` held at zero). Errors when the weights stop being finite.
pub fn full_batch_gd(
    net: &Mlp,
    theta0: Vec<f64>,
    mask: Option<&Mask>,
    (x, y): (MatRef<'_, f64>, MatRef<'_, f64>),
    lr: f64,
    iterations: usize,
) -> Result<Vec<f64>> {
    let fc = FitConfig {
        optimizer: Optimizer::Sgd(SgdConfig {
            lr,
            momentum: 0.0,
            weight_decay: 0.0,
        }),
        loss: Loss::SquaredError,
        batch_size: x.rows(),
        iterations,
        eval_every: iterations,
        order_seed: 0,
        rewind_at: None,
    };
    let split = || Split {
        x,
        targets: Targets::Values(y),
    };
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
        bail!("GD diverged (non-finite weights) at step η = {lr:.3e}; lower --lr-scale");
    }
    Ok(fitted.theta)
}
