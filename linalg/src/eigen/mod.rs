//! Symmetric eigendecomposition A = VΛVᵀ.
//!
//! Two stages (Golub & Van Loan, *Matrix Computations*, 4th ed., §8.3):
//!
//! 1. Householder tridiagonalisation QᵀAQ = T (Algorithm 8.3.1): for k = 0..n−3 a reflector
//!    Hₖ = I − βₖvₖvₖᵀ zeroes column k below the subdiagonal and the trailing block is updated by
//!    the symmetric rank-2 form A ← A − vwᵀ − wvᵀ, with p = βAv and w = p − (β/2)(pᵀv)v.
//! 2. Implicit symmetric QL with Wilkinson-type shifts on T (the QL variant of §8.3.5, as in
//!    EISPACK `tql2` / Bowdler, Martin, Reinsch & Wilkinson, Numer. Math. 11, 1968), deflating
//!    when |eₘ| ≤ ε(|dₘ| + |dₘ₊₁|) or |eₘ| ≤ ε‖T_block‖ (the norm of the unreduced block, so
//!    that eigenvalues at rounding level, e.g. the zero cluster of a rank-deficient AᵀA,
//!    deflate; this stays within the norm-wise backward error).
//!
//! Eigenvectors are accumulated as the rows of Zᵀ (each Givens rotation then touches two
//! contiguous rows) and finally multiplied by Q = H₀H₁⋯ one row at a time. The rotations of a
//! QL sweep are recorded and applied to fixed column blocks of Zᵀ in parallel, and every row
//! or block is owned by one task: results do not depend on the rayon thread count, and
//! [`Par::Seq`] (the `_with` forms) gives the same bits on the calling thread alone.

mod householder;
mod ql;

use crate::error::{LinalgError, Result};
use crate::gemm::Par;
use crate::matrix::{MatRef, Matrix};
use crate::real::Real;
use crate::vec::power_of_two_scale;
use householder::{back_transform, tridiagonalize};
use ql::tridiagonal_ql;

/// Eigenvalues in ascending order and, column by column, their orthonormal eigenvectors.
#[derive(Clone, Debug)]
pub struct SymmetricEigen<T: Real> {
    /// The eigenvalues λ₀ ≤ λ₁ ≤ … ≤ λₙ₋₁, ascending.
    pub values: Vec<T>,
    /// Column j is a unit eigenvector for `values[j]`; 0×0 when vectors were not requested.
    pub vectors: Matrix<T>,
}

/// All eigenvalues (ascending) and eigenvectors of the symmetric matrix `a`; only the lower
/// triangle is read.
///
/// Errors: `NotSquare`; `NonFinite { at }` for NaN/±inf in the lower triangle;
/// `NoConvergence` if a QL iteration fails to deflate (not seen in practice).
pub fn symmetric_eigen<T: Real>(a: MatRef<'_, T>) -> Result<SymmetricEigen<T>> {
    symmetric_eigen_with(Par::default(), a)
}

/// [`symmetric_eigen`] with an explicit choice of parallelism (results do not depend on it).
pub fn symmetric_eigen_with<T: Real>(par: Par, a: MatRef<'_, T>) -> Result<SymmetricEigen<T>> {
    decompose(a, true, par)
}

/// All eigenvalues (ascending) of the symmetric matrix `a`, without eigenvectors (the QL stage
/// is then O(n²) instead of O(n³)). Errors as [`symmetric_eigen`].
pub fn symmetric_eigenvalues<T: Real>(a: MatRef<'_, T>) -> Result<Vec<T>> {
    symmetric_eigenvalues_with(Par::default(), a)
}

/// [`symmetric_eigenvalues`] with an explicit choice of parallelism (results do not depend
/// on it).
pub fn symmetric_eigenvalues_with<T: Real>(par: Par, a: MatRef<'_, T>) -> Result<Vec<T>> {
    decompose(a, false, par).map(|e| e.values)
}

/// Eigenvalues (ascending) and, if `want_vectors`, eigenvectors of the symmetric tridiagonal
/// matrix with diagonal `diag` (length n) and sub/superdiagonal `off` (length n − 1).
///
/// Errors: `DimensionMismatch` for wrong lengths, `NonFinite` for NaN/±inf (`at` is
/// (i, i) for the diagonal and (i + 1, i) for the off-diagonal), `NoConvergence`.
pub fn tridiagonal_eigen<T: Real>(
    diag: &[T],
    off: &[T],
    want_vectors: bool,
) -> Result<SymmetricEigen<T>> {
    tridiagonal_eigen_with(Par::default(), diag, off, want_vectors)
}

/// [`tridiagonal_eigen`] with an explicit choice of parallelism for the eigenvector rotations
/// (results do not depend on it).
pub fn tridiagonal_eigen_with<T: Real>(
    par: Par,
    diag: &[T],
    off: &[T],
    want_vectors: bool,
) -> Result<SymmetricEigen<T>> {
    let n = diag.len();
    if off.len() + 1 != n && !(n == 0 && off.is_empty()) {
        let expected = n.saturating_sub(1);
        return Err(LinalgError::len_mismatch(
            "tridiagonal_eigen",
            "off",
            expected,
            off.len(),
        ));
    }
    if let Some(i) = diag.iter().position(|v| !v.is_finite()) {
        return Err(LinalgError::NonFinite { at: (i, i) });
    }
    if let Some(i) = off.iter().position(|v| !v.is_finite()) {
        return Err(LinalgError::NonFinite { at: (i + 1, i) });
    }
    let scale = power_of_two_scale(
        diag.iter()
            .chain(off.iter())
            .fold(0.0f64, |m, v| m.max(v.to_f64().abs())),
    );
    let mut d: Vec<T> = diag.iter().map(|&v| v * scale).collect();
    let mut e: Vec<T> = off.iter().map(|&v| v * scale).collect();
    e.push(T::zero());
    let mut zt = if want_vectors {
        Some(Matrix::identity(n))
    } else {
        None
    };
    tridiagonal_ql(&mut d, &mut e, zt.as_mut(), par)?;
    let inv = T::one() / scale;
    let (values, zt) = sort_ascending(d, zt);
    Ok(SymmetricEigen {
        values: values.into_iter().map(|v| v * inv).collect(),
        vectors: zt
            .map(|z| z.transpose())
            .unwrap_or_else(|| Matrix::zeros(0, 0)),
    })
}

fn decompose<T: Real>(a: MatRef<'_, T>, want_vectors: bool, par: Par) -> Result<SymmetricEigen<T>> {
    let n = a.rows();
    if n != a.cols() {
        return Err(LinalgError::NotSquare {
            rows: n,
            cols: a.cols(),
        });
    }
    let mut max_abs = 0.0f64;
    for i in 0..n {
        for j in 0..=i {
            // SAFETY: i, j < n.
            let v = unsafe { a.get_unchecked(i, j) };
            if !v.is_finite() {
                return Err(LinalgError::NonFinite { at: (i, j) });
            }
            max_abs = max_abs.max(v.to_f64().abs());
        }
    }
    // Work on a power-of-two-scaled full symmetric copy: the scaling is exact and keeps the
    // norms below from overflowing or underflowing.
    let scale = power_of_two_scale(max_abs);
    let mut w = Matrix::from_fn(n, n, |i, j| {
        let (r, c) = if i >= j { (i, j) } else { (j, i) };
        // SAFETY: r, c < n.
        let v = unsafe { a.get_unchecked(r, c) };
        v * scale
    });
    let (mut d, mut e, reflectors) = tridiagonalize(&mut w, want_vectors, par);
    drop(w);
    e.push(T::zero());
    let mut zt = if want_vectors {
        Some(Matrix::identity(n))
    } else {
        None
    };
    tridiagonal_ql(&mut d, &mut e, zt.as_mut(), par)?;
    let inv = T::one() / scale;
    let (values, zt) = sort_ascending(d, zt);
    let vectors = match zt {
        Some(mut zt) => {
            back_transform(&mut zt, &reflectors, par);
            zt.transpose()
        }
        None => Matrix::zeros(0, 0),
    };
    Ok(SymmetricEigen {
        values: values.into_iter().map(|v| v * inv).collect(),
        vectors,
    })
}

/// Sorts eigenvalues ascending, permuting the rows of zt alongside.
fn sort_ascending<T: Real>(d: Vec<T>, zt: Option<Matrix<T>>) -> (Vec<T>, Option<Matrix<T>>) {
    let n = d.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| d[i].partial_cmp(&d[j]).expect("eigenvalues are finite"));
    let values = order.iter().map(|&i| d[i]).collect();
    let zt = zt.map(|z| {
        let mut sorted = Matrix::zeros(n, n);
        for (dst, &src) in order.iter().enumerate() {
            sorted.row_mut(dst).copy_from_slice(z.row(src));
        }
        sorted
    });
    (values, zt)
}
