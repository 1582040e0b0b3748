//! The same Newton step solved a second way: CG in parameter space on the Gauss-Newton system
//! (JᵀJ + λI)δ = Jᵀ(Y − f₀), matrix-free (one JVP and one VJP per product), compared with the
//! kernel solve's δ = Jᵀα and with its test predictions. All three faces (Jᵀu, J·v and the
//! operator) come from `autodiff`'s `Linearized` model at θ₀.

use super::{CgFigures, Config, Dtype};
use crate::metrics::{norm, rel_diff, rel_diff_scaled};
use anyhow::Result;
use autodiff::mlp::{Linearized, Mlp};
use linalg::{cg, CgOptions, MatRef, Matrix, Real};

/// What the check needs from the run.
pub(super) struct Inputs<'a, T: Real> {
    pub mlp: &'a Mlp,
    pub theta0: &'a [T],
    pub x_train: MatRef<'a, T>,
    pub x_test: MatRef<'a, T>,
    pub f0_test: &'a [f64],
    /// r₀ = f₀ − Y, n×o row-major.
    pub r0: &'a [f64],
    /// The kernel solve's α in the full kernel's layout (row i·o + a).
    pub alpha: &'a Matrix<f64>,
    /// The kernel solve's test predictions.
    pub newton_test: &'a [f64],
}

/// Runs CG and compares. In f32 the relative tolerance is floored at 1e-5 (below it CG only
/// chases rounding).
pub(super) fn parameter_cg<T: Real>(cfg: &Config, inp: &Inputs<'_, T>) -> Result<CgFigures> {
    let t0 = std::time::Instant::now();
    let (n, o) = (inp.x_train.rows(), inp.mlp.output_dim());
    // The linearised model at θ₀ on the training inputs, and on the test inputs for the
    // predictions f₀(x*) + J(x*)δ.
    let lin = Linearized::new(inp.mlp, inp.theta0, inp.x_train)?;
    let lin_test = Linearized::new(inp.mlp, inp.theta0, inp.x_test)?;
    let neg_r0 = Matrix::from_fn(n, o, |i, a| T::from_f64(-inp.r0[i * o + a]));
    let b = lin.vjp(neg_r0.as_ref())?;
    let op = lin.gauss_newton(cfg.lambda)?;
    let rtol = if cfg.dtype == Dtype::F32 {
        cfg.cg_rtol.max(1e-5)
    } else {
        cfg.cg_rtol
    };
    let opts = CgOptions {
        rtol,
        max_iter: cfg.cg_max_iter,
        ..Default::default()
    };
    let res = cg(&op, &b, None, &opts)?;
    let alpha_t = Matrix::from_fn(n, o, |i, a| T::from_f64(inp.alpha.get(i * o + a, 0)));
    let delta_kernel = lin.vjp(alpha_t.as_ref())?;
    let dk: Vec<f64> = delta_kernel.iter().map(|v| v.to_f64()).collect();
    let dc: Vec<f64> = res.x.iter().map(|v| v.to_f64()).collect();
    let jd = lin_test.jvp(&res.x)?;
    let cg_test: Vec<f64> = inp
        .f0_test
        .iter()
        .zip(jd.as_slice())
        .map(|(a, b)| a + b.to_f64())
        .collect();
    let step: Vec<f64> = inp
        .newton_test
        .iter()
        .zip(inp.f0_test)
        .map(|(a, b)| a - b)
        .collect();
    Ok(CgFigures {
        iterations: res.iterations,
        verdict: res.verdict.to_string(),
        final_residual: res.residual_history.last().copied().unwrap_or(f64::NAN),
        rel_diff_delta: rel_diff(&dc, &dk),
        rel_diff_test_predictions: rel_diff_scaled(&cg_test, inp.newton_test, norm(&step)),
        seconds: t0.elapsed().as_secs_f64(),
    })
}
