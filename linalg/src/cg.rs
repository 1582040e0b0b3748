//! Conjugate gradient (Hestenes & Stiefel, "Methods of conjugate gradients for solving linear
//! systems", J. Res. NBS 49(6), 1952) and Jacobi-preconditioned CG (Golub & Van Loan, *Matrix
//! Computations*, 4th ed., §11.3 and §11.5) on any [`LinearOperator`].
//!
//! The operator only has to compute y = A·x, so callers can pass a matrix-free operator (for
//! example JᵀJ + λI applied as two Jacobian products). The solver returns the residual history
//! and an explicit [`CgVerdict`] instead of panicking or looping forever; [`cg_observed`]
//! also hands every iterate to an observer, so a whole error curve comes from one run.
//!
//! CG itself runs on the calling thread (its vector updates are O(n) against the operator's
//! work); parallelism is the operator's. A dense matrix is applied by [`matvec`] on the
//! default [`Par`]; wrap it in [`DenseOperator`] to choose.
//!
//! [`matvec`]: crate::gemm::matvec

use crate::error::{LinalgError, Result};
use crate::gemm::{matvec_with, Par};
use crate::matrix::{MatRef, Matrix};
use crate::real::Real;
use crate::vec::dot_f64;
use std::fmt;
use std::ops::ControlFlow;

/// A symmetric linear map y = A·x on ℝⁿ, given only through its action.
pub trait LinearOperator<T: Real>: Sync {
    /// n, the length of x and y.
    fn dim(&self) -> usize;
    /// y ← A·x (y is overwritten; both have length [`dim`](LinearOperator::dim)).
    fn apply(&self, x: &[T], y: &mut [T]);
    /// The diagonal (aᵢᵢ)ᵢ when it is cheap to get; needed by the Jacobi preconditioner.
    fn diagonal(&self) -> Option<Vec<T>> {
        None
    }
    /// Checks that the operator is usable (e.g. a dense matrix is square). Solvers call this
    /// once before the first [`apply`](LinearOperator::apply).
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// y = A·x for a dense view through [`matvec_with`], which is parallel over fixed blocks of
/// rows (each entry of y is one task's inner product, so the thread count does not change it).
fn dense_apply<T: Real>(par: Par, a: MatRef<'_, T>, x: &[T], y: &mut [T]) {
    matvec_with(par, T::one(), a, x, T::zero(), y).expect("dense operator must be square");
}

fn dense_diagonal<T: Real>(a: MatRef<'_, T>) -> Vec<T> {
    (0..a.rows().min(a.cols())).map(|i| a.get(i, i)).collect()
}

fn dense_validate<T: Real>(a: MatRef<'_, T>) -> Result<()> {
    if a.rows() != a.cols() {
        return Err(LinalgError::NotSquare {
            rows: a.rows(),
            cols: a.cols(),
        });
    }
    Ok(())
}

/// A dense matrix is the operator x ↦ A·x, applied with `Par::default()`.
impl<T: Real> LinearOperator<T> for Matrix<T> {
    fn dim(&self) -> usize {
        self.rows()
    }
    fn apply(&self, x: &[T], y: &mut [T]) {
        dense_apply(Par::default(), self.as_ref(), x, y)
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        Some(dense_diagonal(self.as_ref()))
    }
    fn validate(&self) -> Result<()> {
        dense_validate(self.as_ref())
    }
}

/// A dense view is the operator x ↦ A·x, applied with `Par::default()`.
impl<T: Real> LinearOperator<T> for MatRef<'_, T> {
    fn dim(&self) -> usize {
        self.rows()
    }
    fn apply(&self, x: &[T], y: &mut [T]) {
        dense_apply(Par::default(), *self, x, y)
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        Some(dense_diagonal(*self))
    }
    fn validate(&self) -> Result<()> {
        dense_validate(*self)
    }
}

/// A dense matrix as an operator with an explicit choice of parallelism for its products
/// (`Matrix` and `MatRef` are operators too, on the default [`Par`]).
///
/// ```
/// use linalg::{cg, CgOptions, DenseOperator, Matrix, Par};
/// let a = Matrix::from_vec(2, 2, vec![4.0f64, 1.0, 1.0, 3.0]).unwrap();
/// let op = DenseOperator::new(a.as_ref(), Par::Seq);
/// let res = cg(&op, &[1.0, 2.0], None, &CgOptions::default()).unwrap();
/// assert!((4.0 * res.x[0] + res.x[1] - 1.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy)]
pub struct DenseOperator<'a, T> {
    a: MatRef<'a, T>,
    par: Par,
}

impl<'a, T: Real> DenseOperator<'a, T> {
    /// The operator x ↦ A·x, its products run under `par`.
    pub fn new(a: MatRef<'a, T>, par: Par) -> Self {
        DenseOperator { a, par }
    }
}

impl<T: Real> LinearOperator<T> for DenseOperator<'_, T> {
    fn dim(&self) -> usize {
        self.a.rows()
    }
    fn apply(&self, x: &[T], y: &mut [T]) {
        dense_apply(self.par, self.a, x, y)
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        Some(dense_diagonal(self.a))
    }
    fn validate(&self) -> Result<()> {
        dense_validate(self.a)
    }
}

impl<T: Real, O: LinearOperator<T> + ?Sized> LinearOperator<T> for &O {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn apply(&self, x: &[T], y: &mut [T]) {
        (**self).apply(x, y)
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        (**self).diagonal()
    }
    fn validate(&self) -> Result<()> {
        (**self).validate()
    }
}

/// Which preconditioner M ≈ A to use; CG then runs on M⁻¹A in the M-inner product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Preconditioner {
    /// M = I: plain CG.
    #[default]
    None,
    /// M = diag(A) (Jacobi); needs [`LinearOperator::diagonal`] and a positive diagonal.
    Jacobi,
}

/// Stopping rule and preconditioner for [`cg`].
#[derive(Clone, Debug, PartialEq)]
pub struct CgOptions {
    /// Stop when the relative residual ‖rₖ‖₂/‖b‖₂ ≤ `rtol` (rₖ = b − A·xₖ as updated by the
    /// recurrence). Default 1e-8.
    pub rtol: f64,
    /// At most this many operator applications inside the iteration. Default 10 000.
    pub max_iter: usize,
    /// The preconditioner M ≈ A. Default [`Preconditioner::None`].
    pub preconditioner: Preconditioner,
}

impl Default for CgOptions {
    fn default() -> Self {
        CgOptions {
            rtol: 1e-8,
            max_iter: 10_000,
            preconditioner: Preconditioner::None,
        }
    }
}

/// How a CG run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum CgVerdict {
    /// ‖rₖ‖/‖b‖ ≤ rtol.
    Converged,
    /// `max_iter` iterations were spent without reaching rtol.
    HitIterationCap,
    /// The recurrence cannot continue: pₖᵀApₖ ≤ 0 (A is not positive definite along pₖ) or a
    /// non-finite value appeared; `reason` says which.
    Breakdown {
        /// What went wrong, with the offending value and iteration.
        reason: String,
    },
    /// The observer of [`cg_observed`] asked to stop (before rtol, the cap or a breakdown
    /// ended the run).
    Stopped,
}

/// "converged", "hit the iteration cap", "breakdown: …", "stopped by the observer".
impl fmt::Display for CgVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CgVerdict::Converged => write!(f, "converged"),
            CgVerdict::HitIterationCap => write!(f, "hit the iteration cap"),
            CgVerdict::Breakdown { reason } => write!(f, "breakdown: {reason}"),
            CgVerdict::Stopped => write!(f, "stopped by the observer"),
        }
    }
}

/// Outcome of [`cg`].
#[derive(Clone, Debug)]
pub struct CgResult<T> {
    /// The last iterate xₖ (for a breakdown, the last iterate before it).
    pub x: Vec<T>,
    /// Number of operator applications in the iteration (k).
    pub iterations: usize,
    /// ‖rⱼ‖₂/‖b‖₂ for j = 0..=k (entry 0 is the starting residual).
    pub residual_history: Vec<f64>,
    /// Why the run stopped.
    pub verdict: CgVerdict,
}

/// One iterate of a CG run, as [`cg_observed`] reports it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct CgIterate<'a, T> {
    /// k: the number of operator applications (CG steps) that produced this iterate; 0 is the
    /// starting point.
    pub iteration: usize,
    /// xₖ. Bit-identical to the `x` of a run with `max_iter = k` (all else equal).
    pub x: &'a [T],
    /// rₖ = b − A·xₖ as updated by the recurrence (it drifts from the true residual by
    /// rounding).
    pub residual: &'a [T],
    /// ‖rₖ‖₂/‖b‖₂, the quantity the stopping rule tests (`residual_history[k]`).
    pub relative_residual: f64,
}

/// Solves A·x = b for symmetric positive definite A by (preconditioned) conjugate gradient,
/// Golub & Van Loan Algorithm 11.5.1:
///
/// r₀ = b − Ax₀, z₀ = M⁻¹r₀, p₀ = z₀; then αₖ = rₖᵀzₖ / pₖᵀApₖ, xₖ₊₁ = xₖ + αₖpₖ,
/// rₖ₊₁ = rₖ − αₖApₖ, zₖ₊₁ = M⁻¹rₖ₊₁, βₖ = rₖ₊₁ᵀzₖ₊₁ / rₖᵀzₖ, pₖ₊₁ = zₖ₊₁ + βₖpₖ.
///
/// In exact arithmetic CG finishes in at most as many steps as A has distinct eigenvalues.
/// Inner products are accumulated in f64 in a fixed order ([`dot_f64`]), so the result does
/// not depend on the thread count (as long as the operator's does not).
///
/// Errors: `DimensionMismatch` (b or x₀ of the wrong length), `NonFinite` (NaN/±inf in b or
/// x₀), `InvalidArgument` (rtol not positive and finite; Jacobi without a diagonal),
/// `NotPositiveDefinite { pivot, value }` (Jacobi with a diagonal entry ≤ 0), or the operator's
/// own `validate` error. A non-SPD operator met during the iteration is a
/// [`CgVerdict::Breakdown`], not an error.
pub fn cg<T: Real, O: LinearOperator<T> + ?Sized>(
    op: &O,
    b: &[T],
    x0: Option<&[T]>,
    opts: &CgOptions,
) -> Result<CgResult<T>> {
    cg_observed(op, b, x0, opts, &mut |_| ControlFlow::Continue(()))
}

/// [`cg`] that hands every iterate x₀, x₁, …, xₖ (the last one included) to `observer` as a
/// [`CgIterate`], so a whole error curve ‖xⱼ − x*‖ comes from one run instead of one run per
/// point. The iterates are bit-identical to those of runs truncated with `max_iter = j`.
///
/// Returning `ControlFlow::Break(())` stops the run at that iterate with
/// [`CgVerdict::Stopped`], unless the iterate also ends the run by itself (converged, broke
/// down or reached the cap), whose verdict then wins. Observing costs one call per iteration;
/// the arithmetic is exactly that of [`cg`]. Errors as [`cg`].
pub fn cg_observed<T: Real, O: LinearOperator<T> + ?Sized>(
    op: &O,
    b: &[T],
    x0: Option<&[T]>,
    opts: &CgOptions,
    observer: &mut dyn FnMut(&CgIterate<'_, T>) -> ControlFlow<()>,
) -> Result<CgResult<T>> {
    let (mut x, inv_diag) = prepare(op, b, x0, opts)?;
    let n = b.len();
    let precondition = |r: &[T], z: &mut [T]| match &inv_diag {
        Some(dinv) => {
            for ((zi, &ri), &di) in z.iter_mut().zip(r).zip(dinv) {
                *zi = ri * di;
            }
        }
        None => z.copy_from_slice(r),
    };

    let b_norm = dot_f64(b, b).sqrt();
    if b_norm == 0.0 {
        // The solution of Ax = 0 is x = 0, whatever x₀.
        let x = vec![T::zero(); n];
        let _ = observer(&CgIterate {
            iteration: 0,
            x: &x,
            residual: b,
            relative_residual: 0.0,
        });
        return Ok(CgResult {
            x,
            iterations: 0,
            residual_history: vec![0.0],
            verdict: CgVerdict::Converged,
        });
    }

    let mut q = vec![T::zero(); n];
    let mut r = b.to_vec();
    if x0.is_some() {
        op.apply(&x, &mut q);
        for (ri, &qi) in r.iter_mut().zip(&q) {
            *ri -= qi;
        }
    }
    let mut z = vec![T::zero(); n];
    precondition(&r, &mut z);
    let mut p = z.clone();
    let mut rz = dot_f64(&r, &z);
    let mut rel = dot_f64(&r, &r).sqrt() / b_norm;
    let mut history = vec![rel];
    let mut iterations = 0;
    let verdict = loop {
        let flow = observer(&CgIterate {
            iteration: iterations,
            x: &x,
            residual: &r,
            relative_residual: rel,
        });
        if let Some(verdict) = natural_end(rel, iterations, opts) {
            break verdict;
        }
        if flow.is_break() {
            break CgVerdict::Stopped;
        }
        op.apply(&p, &mut q);
        let pq = dot_f64(&p, &q);
        if !pq.is_finite() || pq <= 0.0 {
            break CgVerdict::Breakdown {
                reason: format!(
                    "pᵀAp = {pq:e} at iteration {iterations}: the operator is not positive \
                     definite along the search direction"
                ),
            };
        }
        iterations += 1;
        let alpha = T::from_f64(rz / pq);
        for i in 0..n {
            x[i] += alpha * p[i];
            r[i] -= alpha * q[i];
        }
        rel = dot_f64(&r, &r).sqrt() / b_norm;
        history.push(rel);
        if rel <= opts.rtol || !rel.is_finite() {
            continue;
        }
        precondition(&r, &mut z);
        let rz_next = dot_f64(&r, &z);
        let beta = T::from_f64(rz_next / rz);
        rz = rz_next;
        for (pi, &zi) in p.iter_mut().zip(&z) {
            *pi = zi + beta * *pi;
        }
    };
    Ok(CgResult {
        x,
        iterations,
        residual_history: history,
        verdict,
    })
}

/// The verdict when iterate k ends the run by itself: a non-finite residual, rtol reached, or
/// the iteration cap.
fn natural_end(rel: f64, iterations: usize, opts: &CgOptions) -> Option<CgVerdict> {
    if !rel.is_finite() {
        Some(CgVerdict::Breakdown {
            reason: format!("non-finite residual norm {rel} at iteration {iterations}"),
        })
    } else if rel <= opts.rtol {
        Some(CgVerdict::Converged)
    } else if iterations == opts.max_iter {
        Some(CgVerdict::HitIterationCap)
    } else {
        None
    }
}

/// Checks the inputs of [`cg`] and returns (x₀, the inverse Jacobi diagonal if asked for).
#[allow(clippy::type_complexity)]
fn prepare<T: Real, O: LinearOperator<T> + ?Sized>(
    op: &O,
    b: &[T],
    x0: Option<&[T]>,
    opts: &CgOptions,
) -> Result<(Vec<T>, Option<Vec<T>>)> {
    op.validate()?;
    let n = op.dim();
    if b.len() != n {
        return Err(LinalgError::len_mismatch("cg", "b", n, b.len()));
    }
    if !opts.rtol.is_finite() || opts.rtol <= 0.0 {
        return Err(LinalgError::InvalidArgument {
            op: "cg",
            arg: "rtol",
            value: Some(opts.rtol),
            reason: "must be positive and finite",
        });
    }
    if let Some(i) = b.iter().position(|v| !v.is_finite()) {
        return Err(LinalgError::NonFinite { at: (i, 0) });
    }
    let x = match x0 {
        Some(x0) => {
            if x0.len() != n {
                return Err(LinalgError::len_mismatch("cg", "x0", n, x0.len()));
            }
            if let Some(i) = x0.iter().position(|v| !v.is_finite()) {
                return Err(LinalgError::NonFinite { at: (i, 0) });
            }
            x0.to_vec()
        }
        None => vec![T::zero(); n],
    };
    let inv_diag = match opts.preconditioner {
        Preconditioner::None => None,
        Preconditioner::Jacobi => Some(jacobi_inverse(op, n)?),
    };
    Ok((x, inv_diag))
}

/// (1/aᵢᵢ)ᵢ for the Jacobi preconditioner, after checking that the diagonal exists, has n
/// entries and is positive.
fn jacobi_inverse<T: Real, O: LinearOperator<T> + ?Sized>(op: &O, n: usize) -> Result<Vec<T>> {
    let d = op.diagonal().ok_or(LinalgError::InvalidArgument {
        op: "cg",
        arg: "preconditioner",
        value: None,
        reason: "Jacobi needs the operator's diagonal, which it does not provide",
    })?;
    if d.len() != n {
        return Err(LinalgError::len_mismatch("cg", "diagonal", n, d.len()));
    }
    if let Some(i) = d.iter().position(|v| !v.is_finite() || *v <= T::zero()) {
        return Err(LinalgError::NotPositiveDefinite {
            pivot: i,
            value: d[i].to_f64(),
        });
    }
    Ok(d.iter().map(|&v| T::one() / v).collect())
}
