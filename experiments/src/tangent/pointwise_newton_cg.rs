//! Newton-CG in parameter space for a convex pointwise loss on the linearised model, matrix
//! free: the same problem as [`super::pointwise_newton`], without forming any kernel.
//!
//! F(δ) = (1/n)·[Σᵢ ℓ(f₀ᵢ + (Jδ)ᵢ, yᵢ) + (λ/2)‖δ‖²]. Each Newton step solves
//!
//!   (JᵀWJ + λI) d = −(Jᵀg + λδ)
//!
//! by conjugate gradients, with the generalised Gauss–Newton operator v ↦ Jᵀ(W(Jv)) + λv (one
//! JVP and one VJP per product; Schraudolph 2002, Martens 2010). For a loss that is convex in
//! the outputs on a model linear in δ, JᵀWJ is the exact Hessian, so this is Newton's method;
//! the operator is SPD for λ > 0. The step is damped by the same Armijo rule. At the
//! minimiser δ = Jᵀα with α from the function-space solve (the representer form).

use super::pointwise_newton::{
    apply_blocks, evaluate, Iterate, NewtonOptions, PointwiseLoss, Verdict,
};
use anyhow::{anyhow, bail, Result};
use autodiff::mlp::Linearized;
use linalg::{cg, CgOptions, LinearOperator, Matrix};
use std::sync::Mutex;

/// v ↦ Jᵀ(W(Jv)) + λv at fixed Hessian blocks W.
struct Ggn<'l, 'a> {
    lin: &'l Linearized<'a, f64>,
    hess: &'l [f64],
    lambda: f64,
    /// The first error of an operator application (CG's operators cannot fail, so an error
    /// is kept here, the product is filled with NaN, and the caller reports it).
    failed: Mutex<Option<String>>,
}

impl Ggn<'_, '_> {
    fn try_apply(&self, x: &[f64], y: &mut [f64]) -> Result<()> {
        let jv = self.lin.jvp(x).map_err(|e| anyhow!("{e}"))?;
        let o_out = jv.cols();
        let wjv = apply_blocks(self.hess, jv.as_slice(), o_out);
        let u = Matrix::from_vec(jv.rows(), o_out, wjv)?;
        let jt = self.lin.vjp(u.as_ref()).map_err(|e| anyhow!("{e}"))?;
        for ((yi, &a), &b) in y.iter_mut().zip(&jt).zip(x) {
            *yi = a + self.lambda * b;
        }
        Ok(())
    }
}

impl LinearOperator<f64> for Ggn<'_, '_> {
    fn dim(&self) -> usize {
        self.lin.num_params()
    }
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        if let Err(e) = self.try_apply(x, y) {
            y.iter_mut().for_each(|v| *v = f64::NAN);
            if let Ok(mut f) = self.failed.lock() {
                f.get_or_insert(e.to_string());
            }
        }
    }
}

/// The result of [`newton_cg`].
pub struct NewtonCgSolve {
    /// δ ∈ Rᵖ.
    pub delta: Vec<f64>,
    /// f₀ + Jδ on the training inputs.
    pub outputs: Matrix<f64>,
    /// One entry per Newton iteration.
    pub history: Vec<Iterate>,
    /// CG iterations of each Newton step.
    pub cg_iterations: Vec<usize>,
    /// How it ended.
    pub verdict: Verdict,
}

/// F(δ), n·∇_δ F = Jᵀg + λδ, the Hessian blocks W and the outputs z at δ.
struct At {
    f: f64,
    grad: Vec<f64>,
    hess: Vec<f64>,
    z: Matrix<f64>,
}

/// The [`At`] of δ.
fn at(
    lin: &Linearized<'_, f64>,
    loss: &dyn PointwiseLoss,
    lambda: f64,
    delta: &[f64],
) -> Result<At> {
    let z = lin.eval(delta).map_err(|e| anyhow!("{e}"))?;
    let n = z.rows();
    let (total, g, hess) = evaluate(loss, &z)?;
    let gm = Matrix::from_vec(n, z.cols(), g)?;
    let mut grad = lin.vjp(gm.as_ref()).map_err(|e| anyhow!("{e}"))?;
    for (gi, &d) in grad.iter_mut().zip(delta) {
        *gi += lambda * d;
    }
    let f = (total + 0.5 * lambda * linalg::vec::dot(delta, delta)) / n as f64;
    Ok(At { f, grad, hess, z })
}

/// Minimises F(δ) from δ = 0 by damped Newton-CG (CG to relative residual `cg_rtol`).
pub fn newton_cg(
    lin: &Linearized<'_, f64>,
    loss: &dyn PointwiseLoss,
    lambda: f64,
    opts: NewtonOptions,
    cg_rtol: f64,
) -> Result<NewtonCgSolve> {
    if !(lambda.is_finite() && lambda > 0.0) {
        bail!("λ = {lambda} must be positive (the Gauss–Newton operator JᵀWJ alone is singular)");
    }
    let n = lin.x().rows() as f64;
    let mut delta = vec![0.0; lin.num_params()];
    let At {
        mut f,
        mut grad,
        mut hess,
        mut z,
    } = at(lin, loss, lambda, &delta)?;
    let (mut history, mut cg_iterations) = (Vec::new(), Vec::new());
    let mut verdict = Verdict::MaxIterations;
    for _ in 0..=opts.max_iter {
        if linalg::vec::nrm2(&grad) / n <= opts.tol {
            verdict = Verdict::Converged;
            break;
        }
        if history.len() == opts.max_iter {
            break;
        }
        let op = Ggn {
            lin,
            hess: &hess,
            lambda,
            failed: Mutex::new(None),
        };
        let rhs: Vec<f64> = grad.iter().map(|v| -v).collect();
        let sol = cg(
            &op,
            &rhs,
            None,
            &CgOptions {
                rtol: cg_rtol,
                ..Default::default()
            },
        )?;
        if let Some(e) = op.failed.lock().ok().and_then(|f| f.clone()) {
            bail!("Gauss–Newton product failed: {e}");
        }
        cg_iterations.push(sol.iterations);
        let d = sol.x;
        let slope = linalg::vec::dot(&grad, &d) / n;
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..=opts.max_backtracks {
            let trial: Vec<f64> = delta.iter().zip(&d).map(|(a, b)| a + t * b).collect();
            let next = at(lin, loss, lambda, &trial)?;
            if next.f <= f + 1e-4 * t * slope {
                accepted = Some((trial, next));
                break;
            }
            t *= 0.5;
        }
        let Some((trial, next)) = accepted else {
            verdict = Verdict::LineSearchFailed;
            break;
        };
        delta = trial;
        At { f, grad, hess, z } = next;
        history.push(Iterate {
            objective: f,
            grad_norm: linalg::vec::nrm2(&grad) / n,
            step: t,
        });
    }
    Ok(NewtonCgSolve {
        delta,
        outputs: z,
        history,
        cg_iterations,
        verdict,
    })
}
