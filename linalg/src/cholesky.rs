//! Cholesky factorisation A = LLᵀ of a symmetric positive definite matrix.
//!
//! Recursive blocked algorithm (Gustavson, "Recursion leads to automatic variable blocking for
//! dense linear-algebra algorithms", IBM J. Res. Dev. 41(6), 1997; Golub & Van Loan, *Matrix
//! Computations*, 4th ed., §4.2.9): with A = [A₁₁ ·; A₂₁ A₂₂],
//!
//! 1. L₁₁ = chol(A₁₁) (recursively; small blocks by the scalar Cholesky–Banachiewicz loop),
//! 2. L₂₁ = A₂₁L₁₁⁻ᵀ (a triangular solve whose flops are GEMM calls),
//! 3. A₂₂ ← A₂₂ − L₂₁L₂₁ᵀ on the lower triangle only (a recursive SYRK: off-diagonal blocks are
//!    GEMM calls, diagonal blocks recurse, so almost no flops are spent above the diagonal),
//! 4. L₂₂ = chol(A₂₂).
//!
//! Every output entry is written by exactly one deterministic GEMM call or scalar loop, so
//! results are bit-identical whatever the rayon thread count, and under [`Par::Seq`] (each
//! routine has a `_with(par, …)` form; the plain one uses `Par::default()`).

use crate::error::{LinalgError, Result};
use crate::gemm::{gemm_with, Par};
use crate::matrix::{MatMut, MatRef, Matrix};
use crate::real::Real;
use crate::triangular;
use crate::vec::kernels;

/// Diagonal blocks up to this order are factored by the scalar loop.
const CHOL_BASE: usize = 64;

/// Diagonal blocks of the SYRK update up to this order are one small GEMM into scratch.
const SYRK_LEAF: usize = 32;

/// The Cholesky factor L of an SPD matrix A = LLᵀ, with solves and the log-determinant.
#[derive(Clone, Debug)]
pub struct Cholesky<T: Real> {
    l: Matrix<T>,
}

impl<T: Real> Cholesky<T> {
    /// Factors A = LLᵀ, reading only the lower triangle of `a` (the upper one is assumed to
    /// mirror it).
    ///
    /// Errors: `NotSquare`; `NonFinite { at }` for a NaN/±inf in the lower triangle (checked
    /// before any work); `NotPositiveDefinite { pivot, value }` when the pivot
    /// aⱼⱼ − Σₖ<ⱼ lⱼₖ² at 0-based index `pivot` is not positive (`value` is that pivot).
    pub fn factor(a: MatRef<'_, T>) -> Result<Self> {
        Self::factor_with(Par::default(), a)
    }

    /// [`Cholesky::factor`] with an explicit choice of parallelism (results do not depend
    /// on it).
    pub fn factor_with(par: Par, a: MatRef<'_, T>) -> Result<Self> {
        if a.rows() != a.cols() || a.col_stride() != 1 {
            check_input(a)?;
        }
        let n = a.rows();
        // One pass over the input, writing each entry once: the lower triangle copied (and
        // checked for NaN/±inf on the way), zeros above.
        let mut data = Vec::with_capacity(n * n);
        for i in 0..n {
            match a.row_slice(i) {
                Some(row) => {
                    let row = &row[..=i];
                    data.extend_from_slice(row);
                    // Branch-free so that it vectorises; the position is found only on failure.
                    if !row.iter().fold(true, |ok, v| ok & v.is_finite()) {
                        let j = row.iter().position(|v| !v.is_finite()).unwrap_or(0);
                        return Err(LinalgError::NonFinite { at: (i, j) });
                    }
                }
                // SAFETY: i, j < n.
                None => data.extend((0..=i).map(|j| unsafe { a.get_unchecked(i, j) })),
            }
            data.resize((i + 1) * n, T::zero());
        }
        let mut l = Matrix::from_vec(n, n, data)?;
        // The recursion never writes above the diagonal, so those zeros stay.
        chol_rec(l.as_mut(), 0, par)?;
        Ok(Cholesky { l })
    }

    /// The lower-triangular factor L (entries above the diagonal are zero).
    pub fn l(&self) -> &Matrix<T> {
        &self.l
    }

    /// Consumes the factorisation, returning L.
    pub fn into_l(self) -> Matrix<T> {
        self.l
    }

    /// Order n of the factored matrix.
    pub fn dim(&self) -> usize {
        self.l.rows()
    }

    /// Solves AX = B in place (B ← A⁻¹B = L⁻ᵀL⁻¹B) by a forward and a back substitution with
    /// many right-hand sides.
    ///
    /// Errors: `DimensionMismatch` if B does not have n rows; `NonFinite` if B holds NaN/±inf.
    pub fn solve_in_place(&self, b: MatMut<'_, T>) -> Result<()> {
        self.solve_in_place_with(Par::default(), b)
    }

    /// [`Cholesky::solve_in_place`] with an explicit choice of parallelism (results do not
    /// depend on it).
    pub fn solve_in_place_with(&self, par: Par, mut b: MatMut<'_, T>) -> Result<()> {
        if b.rows() != self.dim() {
            let expected = (self.dim(), b.cols());
            let got = (b.rows(), b.cols());
            return Err(LinalgError::shape_mismatch(
                "Cholesky::solve",
                "B",
                expected,
                got,
            ));
        }
        if let Some(at) = b.as_ref().find_non_finite() {
            return Err(LinalgError::NonFinite { at });
        }
        triangular::solve_lower_in_place_with(par, self.l.as_ref(), b.rb())?;
        triangular::solve_lower_transpose_in_place_with(par, self.l.as_ref(), b)
    }

    /// Solves AX = B, returning X.
    ///
    /// Errors as [`Cholesky::solve_in_place`].
    pub fn solve(&self, b: MatRef<'_, T>) -> Result<Matrix<T>> {
        self.solve_with(Par::default(), b)
    }

    /// [`Cholesky::solve`] with an explicit choice of parallelism.
    pub fn solve_with(&self, par: Par, b: MatRef<'_, T>) -> Result<Matrix<T>> {
        let mut x = b.to_owned();
        self.solve_in_place_with(par, x.as_mut())?;
        Ok(x)
    }

    /// Solves Ax = b for one right-hand side.
    ///
    /// Errors as [`Cholesky::solve_in_place`].
    pub fn solve_vec(&self, b: &[T]) -> Result<Vec<T>> {
        self.solve_vec_with(Par::default(), b)
    }

    /// [`Cholesky::solve_vec`] with an explicit choice of parallelism.
    pub fn solve_vec_with(&self, par: Par, b: &[T]) -> Result<Vec<T>> {
        let mut x = b.to_vec();
        let n = x.len();
        self.solve_in_place_with(par, MatMut::from_slice(&mut x, n, 1, 1)?)?;
        Ok(x)
    }

    /// ln det A = 2 Σᵢ ln lᵢᵢ, accumulated in f64 (no overflow where det A itself would).
    pub fn log_det(&self) -> f64 {
        (0..self.dim())
            .map(|i| self.l.get(i, i).to_f64().ln())
            .sum::<f64>()
            * 2.0
    }
}

/// Overwrites the lower triangle of `a` with L where A = LLᵀ (reading only the lower
/// triangle) and sets the strict upper triangle to zero, so `a` ends up holding exactly L.
///
/// Errors as [`Cholesky::factor`]; on `NotPositiveDefinite` the contents of `a` are
/// unspecified. The input check happens before anything is written.
pub fn cholesky_in_place<T: Real>(a: MatMut<'_, T>) -> Result<()> {
    cholesky_in_place_with(Par::default(), a)
}

/// [`cholesky_in_place`] with an explicit choice of parallelism (results do not depend on it).
pub fn cholesky_in_place_with<T: Real>(par: Par, mut a: MatMut<'_, T>) -> Result<()> {
    check_input(a.as_ref())?;
    factor_unchecked(a.rb(), par)
}

fn check_input<T: Real>(a: MatRef<'_, T>) -> Result<()> {
    if a.rows() != a.cols() {
        return Err(LinalgError::NotSquare {
            rows: a.rows(),
            cols: a.cols(),
        });
    }
    for i in 0..a.rows() {
        let finite = match a.row_slice(i) {
            // Branch-free over the row so that it vectorises; the position is found after.
            Some(row) => row[..=i].iter().fold(true, |ok, v| ok & v.is_finite()),
            // SAFETY: i, j < n.
            None => (0..=i).all(|j| unsafe { a.get_unchecked(i, j) }.is_finite()),
        };
        if !finite {
            let j = (0..=i)
                .find(|&j| !a.get(i, j).is_finite())
                .expect("a non-finite entry exists");
            return Err(LinalgError::NonFinite { at: (i, j) });
        }
    }
    Ok(())
}

/// Factors in place (square, finite input assumed) and zeroes the strict upper triangle.
fn factor_unchecked<T: Real>(mut a: MatMut<'_, T>, par: Par) -> Result<()> {
    chol_rec(a.rb(), 0, par)?;
    let n = a.rows();
    if a.col_stride() == 1 {
        let (rs, base) = (a.row_stride(), a.as_mut_ptr());
        for i in 0..n {
            // SAFETY: row i of a row-contiguous view: entries i+1..n are valid and exclusive.
            let row = unsafe { std::slice::from_raw_parts_mut(base.offset(i as isize * rs), n) };
            row[i + 1..].fill(T::zero());
        }
    } else {
        for i in 0..n {
            for j in i + 1..n {
                // SAFETY: i, j < n.
                unsafe { *a.get_mut_unchecked(i, j) = T::zero() };
            }
        }
    }
    Ok(())
}

/// Split point: a multiple of the base size so that leaves are whole base blocks.
fn split_point(n: usize, base: usize) -> usize {
    let half = n / 2;
    let rounded = half.div_ceil(base) * base;
    if rounded >= n {
        half
    } else {
        rounded
    }
}

/// Recursive step on the lower triangle of `a`; `offset` is the global index of a's (0, 0) so
/// that a failing pivot is reported with its index in the whole matrix.
fn chol_rec<T: Real>(a: MatMut<'_, T>, offset: usize, par: Par) -> Result<()> {
    let n = a.rows();
    if n <= CHOL_BASE {
        return chol_unblocked(a, offset);
    }
    let h = split_point(n, CHOL_BASE);
    let (top, bottom) = a.split_at_row(h);
    let (mut a11, _a12) = top.split_at_col(h);
    let (mut a21, mut a22) = bottom.split_at_col(h);
    chol_rec(a11.rb(), offset, par)?;
    // L₂₁ L₁₁ᵀ = A₂₁  ⇔  L₁₁ L₂₁ᵀ = A₂₁ᵀ.
    triangular::lower_rec(a11.as_ref(), a21.rb().t(), par);
    syrk_lower(a22.rb(), a21.as_ref(), par)?;
    chol_rec(a22, offset + h, par)
}

/// C ← C − A·Aᵀ on the lower triangle of C (n×n), A n×k, without touching the strict upper
/// triangle. Recursive: two diagonal halves (recursing) and one off-diagonal GEMM, the three
/// independent and run concurrently under `Par::Rayon`. A diagonal block of at most
/// [`SYRK_LEAF`] rows is one small GEMM into scratch whose lower triangle is then subtracted,
/// so the flops spent above the diagonal are a fraction SYRK_LEAF/(2n) of the total instead
/// of one half.
fn syrk_lower<T: Real>(mut c: MatMut<'_, T>, a: MatRef<'_, T>, par: Par) -> Result<()> {
    let n = c.rows();
    if n == 0 {
        return Ok(());
    }
    if n <= SYRK_LEAF {
        let mut tmp = [T::zero(); SYRK_LEAF * SYRK_LEAF];
        let t = MatMut::from_slice(&mut tmp[..n * n], n, n, n)?;
        gemm_with(Par::Seq, T::one(), a, a.t(), T::zero(), t)?;
        for i in 0..n {
            for j in 0..=i {
                // SAFETY: i, j < n.
                unsafe { *c.get_mut_unchecked(i, j) -= tmp[i * n + j] };
            }
        }
        return Ok(());
    }
    let h = split_point(n, SYRK_LEAF);
    let (top, bottom) = c.split_at_row(h);
    let (c11, _c12) = top.split_at_col(h);
    let (c21, c22) = bottom.split_at_col(h);
    let a1 = a.submatrix(0, 0, h, a.cols());
    let a2 = a.submatrix(h, 0, n - h, a.cols());
    let first = || syrk_lower(c11, a1, par);
    let off_diagonal = || gemm_with(par, -T::one(), a2, a1.t(), T::one(), c21);
    let last = || syrk_lower(c22, a2, par);
    let (r1, (r2, r3)) = match par {
        Par::Rayon => rayon::join(first, || rayon::join(off_diagonal, last)),
        Par::Seq => (first(), (off_diagonal(), last())),
    };
    r1.and(r2).and(r3)
}

/// Cholesky–Banachiewicz: row i of L from lᵢⱼ = (aᵢⱼ − Σₖ<ⱼ lᵢₖlⱼₖ)/lⱼⱼ and
/// lᵢᵢ = √(aᵢᵢ − Σₖ<ᵢ lᵢₖ²). Rows are copied to a contiguous buffer so the inner products run
/// over contiguous memory whatever a's strides.
fn chol_unblocked<T: Real>(mut a: MatMut<'_, T>, offset: usize) -> Result<()> {
    let n = a.rows();
    let fused = kernels::fma_available();
    let mut buf = vec![T::zero(); n * n];
    for i in 0..n {
        for j in 0..=i {
            // SAFETY: i, j < n.
            buf[i * n + j] = unsafe { *a.get_mut_unchecked(i, j) };
        }
    }
    for i in 0..n {
        let (done, rest) = buf.split_at_mut(i * n);
        let row_i = &mut rest[..n];
        for j in 0..i {
            let row_j = &done[j * n..j * n + j];
            let s = row_i[j] - kernels::dot8(fused, &row_i[..j], row_j);
            row_i[j] = s / done[j * n + j];
        }
        let d = row_i[i] - kernels::dot8(fused, &row_i[..i], &row_i[..i]);
        if !d.is_finite() || d <= T::zero() {
            return Err(LinalgError::NotPositiveDefinite {
                pivot: offset + i,
                value: d.to_f64(),
            });
        }
        row_i[i] = d.sqrt();
    }
    for i in 0..n {
        for j in 0..=i {
            // SAFETY: i, j < n.
            unsafe { *a.get_mut_unchecked(i, j) = buf[i * n + j] };
        }
    }
    Ok(())
}
