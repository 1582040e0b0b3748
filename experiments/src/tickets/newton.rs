//! The Newton step of squared error in a (sub)network's tangent space at θ₀.
//!
//! With J_S the Jacobian of the subnetwork's outputs on the training inputs with respect to
//! its kept parameters S ((n·o)×|S|, rows i·o + a) and K_S = J_S J_Sᵀ its full empirical NTK,
//! the ridge-regularised least-squares fit of f_lin(δ) = f(X; θ₀) + J_S δ to Y is
//!
//!   (K_S + λI) α = Y − f(X; θ₀),   δ = J_Sᵀ α,
//!
//! one Gauss–Newton step (Lee et al. 2019, eq. 9 as t → ∞ with a ridge). Its prediction on new
//! inputs is f_lin(X*; δ) = f(X*; θ₀) + J_S(X*) δ: one JVP, so the cross kernel is never
//! built. Without a mask S is every parameter.
//!
//! λ matched to GD: T steps of GD with step η on the loss ‖f − Y‖²/(2n) fit an eigen-direction
//! of K with eigenvalue μ by 1 − (1 − ημ/n)ᵀ ≈ 1 − e^(−ημT/n), the ridge by μ/(μ + λ); the two
//! cross one half at about the same μ when λ = n/(ηT). With η = c·n/λ_max(K_S) that is
//! λ = λ_max(K_S)/(c·T) ([`matched_lambda`]).

use crate::tangent::kernel_ridge::{self, RidgeSolver};
use anyhow::{anyhow, bail, Context, Result};
use autodiff::mlp::{Linearized, Mask, Mlp, NtkForm};
use linalg::{lanczos_extremes, MatRef, Matrix};

/// A Newton step and what it predicts.
pub struct NewtonStep {
    /// δ = J_Sᵀ α ∈ Rᵖ (exactly 0 at pruned entries).
    pub delta: Vec<f64>,
    /// f(X*; θ₀) + J_S(X*) δ on the test inputs (n*×o).
    pub test_outputs: Matrix<f64>,
    /// λ_max(K_S), by Lanczos.
    pub lambda_max: f64,
    /// The ridge λ used.
    pub lambda: f64,
    /// How (K_S + λI)α = r was solved.
    pub solver: RidgeSolver,
}

/// λ = λ_max/(c·T): the ridge that T steps of GD with step c·n/λ_max approximate.
pub fn matched_lambda(lambda_max: f64, lr_scale: f64, iterations: usize) -> f64 {
    lambda_max / (lr_scale * iterations as f64)
}

/// Largest eigenvalue of a symmetric PSD kernel (Lanczos; a relative tolerance of 1e-8 is
/// far below what a step size needs).
pub fn largest_eigenvalue(k: &Matrix<f64>) -> Result<f64> {
    let steps = k.rows().min(200);
    let r = lanczos_extremes(k, steps, 1e-8, 0x6c61_6d62).context("Lanczos on the kernel")?;
    if !(r.max.is_finite() && r.max > 0.0) {
        bail!(
            "the kernel's largest eigenvalue is {} (the network's outputs do not depend on its kept parameters)",
            r.max
        );
    }
    Ok(r.max)
}

/// The Newton step of the subnetwork `mask` (None: dense) at θ₀ (already masked where
/// pruned) on (X, Y), predicted on X*. `lambda` None takes [`matched_lambda`] with
/// `lr_scale` and `iterations`.
#[allow(clippy::too_many_arguments)]
pub fn newton_step(
    net: &Mlp,
    theta0: &[f64],
    mask: Option<&Mask>,
    x: MatRef<'_, f64>,
    y: &Matrix<f64>,
    x_test: MatRef<'_, f64>,
    lambda: Option<f64>,
    (lr_scale, iterations): (f64, usize),
) -> Result<NewtonStep> {
    let err = |e: autodiff::AdError| anyhow!("{e}");
    let mut lin = Linearized::new(net, theta0, x).map_err(err)?;
    if let Some(m) = mask {
        lin = lin.with_mask(m.clone()).map_err(err)?;
    }
    let k = lin.ntk(NtkForm::Full).map_err(err)?;
    let lambda_max = largest_eigenvalue(&k)?;
    let lambda = lambda.unwrap_or_else(|| matched_lambda(lambda_max, lr_scale, iterations));
    let f0 = lin.output0();
    let rhs = Matrix::from_fn(f0.rows() * f0.cols(), 1, |r, _| {
        y.as_slice()[r] - f0.as_slice()[r]
    });
    let (alpha, solver) = kernel_ridge::solve(&k, lambda, &rhs, &mut None)?;
    drop(k);
    let alpha = Matrix::from_fn(f0.rows(), f0.cols(), |i, a| alpha.get(i * f0.cols() + a, 0));
    let delta = lin.vjp(alpha.as_ref()).map_err(err)?;
    let mut at_test = Linearized::new(net, theta0, x_test).map_err(err)?;
    if let Some(m) = mask {
        at_test = at_test.with_mask(m.clone()).map_err(err)?;
    }
    let test_outputs = at_test.eval(&delta).map_err(err)?;
    Ok(NewtonStep {
        delta,
        test_outputs,
        lambda_max,
        lambda,
        solver,
    })
}
