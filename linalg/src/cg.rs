//! Conjugate gradient (Hestenes & Stiefel, "Methods of conjugate gradients for solving linear
//! systems", J. Res. NBS 49(6), 1952) and Jacobi-preconditioned CG (Golub & Van Loan, *Matrix
//! Computations*, 4th ed., §11.3 and §11.5) on any [`LinearOperator`].
//!
//! The operator only has to compute y = A·x, so callers can pass a matrix-free operator (for
//! example JᵀJ + λI applied as two Jacobian products). The solver returns the residual history
//! and an explicit [`CgVerdict`] instead of panicking or looping forever.

use crate::error::{LinalgError, Result};
use crate::gemm::matvec;
use crate::matrix::{MatRef, Matrix};
use crate::real::Real;

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

/// y = A·x for a dense view through [`matvec`], which is parallel over fixed blocks of rows
/// (each entry of y is one task's inner product, so the thread count does not change it).
fn dense_apply<T: Real>(a: MatRef<'_, T>, x: &[T], y: &mut [T]) {
    matvec(T::one(), a, x, T::zero(), y).expect("dense operator must be square");
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

impl<T: Real> LinearOperator<T> for Matrix<T> {
    fn dim(&self) -> usize {
        self.rows()
    }
    fn apply(&self, x: &[T], y: &mut [T]) {
        dense_apply(self.as_ref(), x, y)
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        Some(
            (0..self.rows().min(self.cols()))
                .map(|i| self.get(i, i))
                .collect(),
        )
    }
    fn validate(&self) -> Result<()> {
        dense_validate(self.as_ref())
    }
}

impl<T: Real> LinearOperator<T> for MatRef<'_, T> {
    fn dim(&self) -> usize {
        self.rows()
    }
    fn apply(&self, x: &[T], y: &mut [T]) {
        dense_apply(*self, x, y)
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        Some(
            (0..self.rows().min(self.cols()))
                .map(|i| self.get(i, i))
                .collect(),
        )
    }
    fn validate(&self) -> Result<()> {
        dense_validate(*self)
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
    /// Default [`Preconditioner::None`].
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
        /// What went wrong, with the offending value.
        reason: String,
    },
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

/// Solves A·x = b for symmetric positive definite A by (preconditioned) conjugate gradient,
/// Golub & Van Loan Algorithm 11.5.1:
///
/// r₀ = b − Ax₀, z₀ = M⁻¹r₀, p₀ = z₀; then αₖ = rₖᵀzₖ / pₖᵀApₖ, xₖ₊₁ = xₖ + αₖpₖ,
/// rₖ₊₁ = rₖ − αₖApₖ, zₖ₊₁ = M⁻¹rₖ₊₁, βₖ = rₖ₊₁ᵀzₖ₊₁ / rₖᵀzₖ, pₖ₊₁ = zₖ₊₁ + βₖpₖ.
///
/// In exact arithmetic CG finishes in at most as many steps as A has distinct eigenvalues.
/// Inner products are accumulated in f64 in a fixed order, so the result does not depend on
/// the thread count (as long as the operator's does not).
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
    op.validate()?;
    let n = op.dim();
    if b.len() != n {
        return Err(LinalgError::DimensionMismatch {
            what: format!("cg: operator is {n}×{n}, b has {} entries", b.len()),
        });
    }
    if !opts.rtol.is_finite() || opts.rtol <= 0.0 {
        return Err(LinalgError::InvalidArgument {
            what: format!("cg: rtol must be positive and finite, got {}", opts.rtol),
        });
    }
    if let Some(i) = b.iter().position(|v| !v.is_finite()) {
        return Err(LinalgError::NonFinite { at: (i, 0) });
    }
    let mut x = match x0 {
        Some(x0) => {
            if x0.len() != n {
                return Err(LinalgError::DimensionMismatch {
                    what: format!("cg: operator is {n}×{n}, x0 has {} entries", x0.len()),
                });
            }
            if let Some(i) = x0.iter().position(|v| !v.is_finite()) {
                return Err(LinalgError::NonFinite { at: (i, 0) });
            }
            x0.to_vec()
        }
        None => vec![T::zero(); n],
    };
    let inv_diag: Option<Vec<T>> = match opts.preconditioner {
        Preconditioner::None => None,
        Preconditioner::Jacobi => {
            let d = op.diagonal().ok_or_else(|| LinalgError::InvalidArgument {
                what: "cg: the Jacobi preconditioner needs the operator's diagonal".into(),
            })?;
            if d.len() != n {
                return Err(LinalgError::DimensionMismatch {
                    what: format!("cg: diagonal has {} entries, operator is {n}×{n}", d.len()),
                });
            }
            if let Some(i) = d.iter().position(|v| !v.is_finite() || *v <= T::zero()) {
                return Err(LinalgError::NotPositiveDefinite {
                    pivot: i,
                    value: d[i].to_f64(),
                });
            }
            Some(d.iter().map(|&v| T::one() / v).collect())
        }
    };
    let precondition = |r: &[T], z: &mut [T]| match &inv_diag {
        Some(dinv) => {
            for ((zi, &ri), &di) in z.iter_mut().zip(r).zip(dinv) {
                *zi = ri * di;
            }
        }
        None => z.copy_from_slice(r),
    };

    let b_norm = dot(b, b).sqrt();
    let mut history = Vec::new();
    if b_norm == 0.0 {
        // The solution of Ax = 0 is x = 0, whatever x₀.
        history.push(0.0);
        return Ok(CgResult {
            x: vec![T::zero(); n],
            iterations: 0,
            residual_history: history,
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
    let mut rz = dot(&r, &z);
    let mut rel = dot(&r, &r).sqrt() / b_norm;
    history.push(rel);
    let mut iterations = 0;
    let verdict = loop {
        if !rel.is_finite() {
            break CgVerdict::Breakdown {
                reason: format!("non-finite residual norm {rel} at iteration {iterations}"),
            };
        }
        if rel <= opts.rtol {
            break CgVerdict::Converged;
        }
        if iterations == opts.max_iter {
            break CgVerdict::HitIterationCap;
        }
        op.apply(&p, &mut q);
        let pq = dot(&p, &q);
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
        rel = dot(&r, &r).sqrt() / b_norm;
        history.push(rel);
        if rel <= opts.rtol || !rel.is_finite() {
            continue;
        }
        precondition(&r, &mut z);
        let rz_next = dot(&r, &z);
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

/// Σ aᵢbᵢ in f64 with four partial sums in a fixed order.
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = a.len() / 4;
    for k in 0..chunks {
        for (l, accl) in acc.iter_mut().enumerate() {
            *accl += a[4 * k + l].to_f64() * b[4 * k + l].to_f64();
        }
    }
    let mut tail = 0.0;
    for k in 4 * chunks..a.len() {
        tail += a[k].to_f64() * b[k].to_f64();
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail
}
