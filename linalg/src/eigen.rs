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
//! or block is owned by one task: results do not depend on the rayon thread count.

use crate::error::{LinalgError, Result};
use crate::matrix::{MatRef, Matrix};
use crate::real::Real;
use rayon::prelude::*;

/// Eigenvalues in ascending order and, column by column, their orthonormal eigenvectors.
#[derive(Clone, Debug)]
pub struct SymmetricEigen<T: Real> {
    /// λ₀ ≤ λ₁ ≤ … ≤ λₙ₋₁.
    pub values: Vec<T>,
    /// Column j is a unit eigenvector for `values[j]`; 0×0 when vectors were not requested.
    pub vectors: Matrix<T>,
}

/// QL sweeps allowed per eigenvalue before giving up with `NoConvergence` (EISPACK uses 30;
/// the extra room costs nothing when it is not needed).
const MAX_SWEEPS_PER_VALUE: usize = 60;

/// Columns of Zᵀ per task when a sweep's rotations are applied.
const ROTATION_COLS: usize = 128;

/// Rows of Zᵀ per task in the back-transformation (reflectors are reused from cache across
/// these rows).
const BACK_ROWS: usize = 16;

/// All eigenvalues (ascending) and eigenvectors of the symmetric matrix `a`; only the lower
/// triangle is read.
///
/// Errors: `NotSquare`; `NonFinite { at }` for NaN/±inf in the lower triangle;
/// `NoConvergence` if a QL iteration fails to deflate (not seen in practice).
pub fn symmetric_eigen<T: Real>(a: MatRef<'_, T>) -> Result<SymmetricEigen<T>> {
    decompose(a, true)
}

/// All eigenvalues (ascending) of the symmetric matrix `a`, without eigenvectors (the QL stage
/// is then O(n²) instead of O(n³)). Errors as [`symmetric_eigen`].
pub fn symmetric_eigenvalues<T: Real>(a: MatRef<'_, T>) -> Result<Vec<T>> {
    decompose(a, false).map(|e| e.values)
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
    let n = diag.len();
    if off.len() + 1 != n && !(n == 0 && off.is_empty()) {
        return Err(LinalgError::DimensionMismatch {
            what: format!(
                "tridiagonal_eigen: diagonal has {n} entries, off-diagonal {} (need n − 1)",
                off.len()
            ),
        });
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
    tridiagonal_ql(&mut d, &mut e, zt.as_mut())?;
    let inv = T::one() / scale;
    let (values, zt) = sort_ascending(d, zt);
    Ok(SymmetricEigen {
        values: values.into_iter().map(|v| v * inv).collect(),
        vectors: zt
            .map(|z| z.transpose())
            .unwrap_or_else(|| Matrix::zeros(0, 0)),
    })
}

fn decompose<T: Real>(a: MatRef<'_, T>, want_vectors: bool) -> Result<SymmetricEigen<T>> {
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
    let (mut d, mut e, reflectors) = tridiagonalize(&mut w, want_vectors);
    drop(w);
    e.push(T::zero());
    let mut zt = if want_vectors {
        Some(Matrix::identity(n))
    } else {
        None
    };
    tridiagonal_ql(&mut d, &mut e, zt.as_mut())?;
    let inv = T::one() / scale;
    let (values, zt) = sort_ascending(d, zt);
    let vectors = match zt {
        Some(mut zt) => {
            back_transform(&mut zt, &reflectors);
            zt.transpose()
        }
        None => Matrix::zeros(0, 0),
    };
    Ok(SymmetricEigen {
        values: values.into_iter().map(|v| v * inv).collect(),
        vectors,
    })
}

/// 2^−⌊log₂ m⌋ (clamped so that it is representable in T), or 1 for m = 0.
fn power_of_two_scale<T: Real>(max_abs: f64) -> T {
    if max_abs == 0.0 || !max_abs.is_finite() {
        return T::one();
    }
    let emax = T::MAX.to_f64().log2().floor() as i32;
    let e = (max_abs.log2().floor() as i32).clamp(1 - emax, emax);
    T::from_f64(2f64.powi(-e))
}

/// Householder reflectors: vₖ (with vₖ[0] = 1, stored in full) and βₖ, acting on indices
/// k+1..n.
struct Reflectors<T> {
    vs: Vec<Vec<T>>,
    betas: Vec<T>,
}

/// Reduces the full symmetric `a` to tridiagonal form, returning (diagonal, off-diagonal,
/// reflectors). `a` is destroyed.
fn tridiagonalize<T: Real>(a: &mut Matrix<T>, keep: bool) -> (Vec<T>, Vec<T>, Reflectors<T>) {
    let n = a.rows();
    let mut d = vec![T::zero(); n];
    let mut e = vec![T::zero(); n.saturating_sub(1)];
    let mut refl = Reflectors {
        vs: Vec::new(),
        betas: Vec::new(),
    };
    if n == 0 {
        return (d, e, refl);
    }
    let mut p = vec![T::zero(); n];
    let fused = kernels::fma_available();
    for k in 0..n.saturating_sub(2) {
        let m = n - k - 1;
        // x = A[k+1.., k] = A[k, k+1..] by symmetry (a contiguous row).
        let x = &a.row(k)[k + 1..];
        let (v, beta, mu) = householder(x);
        d[k] = a.get(k, k);
        e[k] = mu;
        if beta != T::zero() {
            let cols = a.cols();
            let data = a.as_mut_slice();
            let trailing = &mut data[(k + 1) * cols..];
            // p = β A₂₂ v, one row per entry.
            let p = &mut p[..m];
            p.par_chunks_mut(64).enumerate().for_each(|(blk, ps)| {
                for (r, pr) in ps.iter_mut().enumerate() {
                    let i = blk * 64 + r;
                    let row = &trailing[i * cols + k + 1..(i + 1) * cols];
                    *pr = beta * kernels::dot(fused, row, &v);
                }
            });
            // w = p − (β/2)(pᵀv) v.
            let half = T::from_f64(0.5) * beta * dot(p, &v);
            let w: Vec<T> = p.iter().zip(&v).map(|(&pi, &vi)| pi - half * vi).collect();
            // A₂₂ ← A₂₂ − v wᵀ − w vᵀ.
            trailing
                .par_chunks_mut(cols)
                .take(m)
                .enumerate()
                .for_each(|(i, row)| {
                    kernels::rank2(fused, &mut row[k + 1..], v[i], &w, w[i], &v);
                });
        }
        if keep {
            refl.vs.push(v);
            refl.betas.push(beta);
        }
    }
    if n >= 2 {
        d[n - 2] = a.get(n - 2, n - 2);
        e[n - 2] = a.get(n - 1, n - 2);
    }
    d[n - 1] = a.get(n - 1, n - 1);
    (d, e, refl)
}

/// Householder vector (Golub & Van Loan Algorithm 5.1.1): returns (v, β, μ) with v[0] = 1 and
/// (I − βvvᵀ)x = μe₁. β = 0 when x is already a multiple of e₁.
fn householder<T: Real>(x: &[T]) -> (Vec<T>, T, T) {
    let mut v = x.to_vec();
    let sigma = if x.len() > 1 {
        dot(&x[1..], &x[1..])
    } else {
        T::zero()
    };
    let x0 = x[0];
    if sigma == T::zero() {
        v[0] = T::one();
        return (v, T::zero(), x0);
    }
    let mu = (x0 * x0 + sigma).sqrt();
    let v0 = if x0 <= T::zero() {
        x0 - mu
    } else {
        -sigma / (x0 + mu)
    };
    let beta = T::from_f64(2.0) * v0 * v0 / (sigma + v0 * v0);
    let inv = T::one() / v0;
    for vi in v.iter_mut().skip(1) {
        *vi *= inv;
    }
    v[0] = T::one();
    (v, beta, mu)
}

/// Implicit QL on the tridiagonal (d, e) with e[i] coupling i and i+1 (e[n−1] = 0); on return
/// d holds the eigenvalues (unsorted). If `zt` is given, its rows are rotated along, so that
/// with zt = I on entry, row j ends as the eigenvector of d[j].
fn tridiagonal_ql<T: Real>(d: &mut [T], e: &mut [T], mut zt: Option<&mut Matrix<T>>) -> Result<()> {
    let n = d.len();
    let eps = T::EPSILON;
    let two = T::from_f64(2.0);
    let mut rotations: Vec<(usize, T, T)> = Vec::new();
    let mut total_sweeps = 0;
    for l in 0..n {
        let mut sweeps = 0;
        loop {
            // The unreduced block l..=end by the relative test |eᵢ| ≤ ε(|dᵢ| + |dᵢ₊₁|).
            let mut end = l;
            let mut norm = T::zero();
            while end + 1 < n {
                let dd = d[end].abs() + d[end + 1].abs();
                if e[end].abs() <= eps * dd || e[end].abs() < T::MIN_POSITIVE {
                    break;
                }
                norm = norm.max(d[end].abs() + e[end].abs());
                end += 1;
            }
            norm = norm.max(d[end].abs());
            // Within the block, also deflate couplings below ε‖T_block‖. The relative test
            // alone cannot be met next to eigenvalues at rounding level (the zero cluster of a
            // rank-deficient matrix): every sweep re-injects rounding noise of order ε‖T_block‖
            // into eₗ, so |eₗ| stalls far above ε|dₗ| and the iteration never deflates. Dropping
            // such a coupling is a perturbation of T within the norm-wise backward error the
            // algorithm has anyway (EISPACK tql2's test; LAPACK dsteqr's anorm).
            let floor = eps * norm;
            let mut m = l;
            while m < end && e[m].abs() > floor {
                m += 1;
            }
            if m == l {
                break;
            }
            sweeps += 1;
            total_sweeps += 1;
            if sweeps > MAX_SWEEPS_PER_VALUE {
                return Err(LinalgError::NoConvergence {
                    iterations: total_sweeps,
                });
            }
            // Shift from the leading 2×2 block (closest eigenvalue to d[l]).
            let mut g = (d[l + 1] - d[l]) / (two * e[l]);
            let mut r = hypot(g, T::one());
            g = d[m] - d[l] + e[l] / (g + if g >= T::zero() { r.abs() } else { -r.abs() });
            let (mut s, mut c, mut p) = (T::one(), T::one(), T::zero());
            let mut underflow = false;
            rotations.clear();
            let mut i = m;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = hypot(f, g);
                e[i + 1] = r;
                if r == T::zero() {
                    // Deflation by underflow: split here and restart.
                    d[i + 1] -= p;
                    e[m] = T::zero();
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + two * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                rotations.push((i, c, s));
            }
            if let Some(zt) = zt.as_deref_mut() {
                apply_rotations(zt, &rotations);
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = T::zero();
        }
    }
    Ok(())
}

/// Applies the rotations of one sweep, in order, to the rows of zt: rows (i, i+1) ←
/// (c·zᵢ − s·zᵢ₊₁, s·zᵢ + c·zᵢ₊₁). Column blocks are independent and run in parallel.
fn apply_rotations<T: Real>(zt: &mut Matrix<T>, rotations: &[(usize, T, T)]) {
    if rotations.is_empty() {
        return;
    }
    let cols = zt.cols();
    let ptr = SendPtr(zt.as_mut_slice().as_mut_ptr());
    let blocks = cols.div_ceil(ROTATION_COLS);
    let fused = kernels::fma_available();
    let work = |blk: usize| {
        let c0 = blk * ROTATION_COLS;
        let width = ROTATION_COLS.min(cols - c0);
        // SAFETY: column block [c0, c0 + width) of every row belongs to this task alone.
        unsafe { kernels::rotate_block(fused, ptr.get().add(c0), cols, width, rotations) };
    };
    if blocks > 1 && rotations.len() * cols >= 32 * 1024 {
        (0..blocks).into_par_iter().for_each(work);
    } else {
        (0..blocks).for_each(work);
    }
}

/// Raw pointer that may cross threads; every user writes a disjoint part.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: only used for disjoint writes, see the call sites.
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SendPtr<T> {}
impl<T> SendPtr<T> {
    #[inline]
    fn get(self) -> *mut T {
        self.0
    }
}

/// Each row y of zt (an eigenvector of T) becomes Q·y = H₀(H₁(⋯Hₙ₋₃y)), applying
/// Hₖ: y[k+1..] ← y[k+1..] − βₖvₖ(vₖᵀy[k+1..]) for k descending. Rows are independent; a
/// block of rows shares each reflector while it is in cache.
fn back_transform<T: Real>(zt: &mut Matrix<T>, refl: &Reflectors<T>) {
    let n = zt.cols();
    if refl.vs.is_empty() {
        return;
    }
    let fused = kernels::fma_available();
    zt.as_mut_slice()
        .par_chunks_mut(n * BACK_ROWS)
        .for_each(|rows| {
            for k in (0..refl.vs.len()).rev() {
                let beta = refl.betas[k];
                if beta == T::zero() {
                    continue;
                }
                let v = &refl.vs[k];
                for y in rows.chunks_mut(n) {
                    kernels::reflect(fused, &mut y[k + 1..], beta, v);
                }
            }
        });
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

/// √(a² + b²) without overflow or destructive underflow.
#[inline]
fn hypot<T: Real>(a: T, b: T) -> T {
    let (a, b) = (a.abs(), b.abs());
    let (big, small) = if a >= b { (a, b) } else { (b, a) };
    if big == T::zero() {
        return T::zero();
    }
    let q = small / big;
    big * (T::one() + q * q).sqrt()
}

/// Σ aᵢbᵢ with four partial sums in a fixed order.
#[inline]
fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::zero(); 4];
    let chunks = a.len().min(b.len()) / 4;
    for k in 0..chunks {
        for (l, accl) in acc.iter_mut().enumerate() {
            *accl += a[4 * k + l] * b[4 * k + l];
        }
    }
    let mut tail = T::zero();
    for k in 4 * chunks..a.len().min(b.len()) {
        tail += a[k] * b[k];
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail
}

/// The O(n³) inner loops, each in a plain version and one compiled for AVX2+FMA and chosen at
/// run time (the same test the GEMM kernels use). `mul_add` is one fused instruction only
/// inside the `target_feature` functions; elsewhere it would be a library call, so the plain
/// versions multiply and add separately.
pub(crate) mod kernels {
    use crate::real::Real;

    /// Whether the AVX2+FMA versions may run.
    pub(crate) fn fma_available() -> bool {
        crate::gemm::selected_kernel() != crate::gemm::Kernel::Portable
    }

    #[inline(always)]
    fn madd<T: Real, const F: bool>(a: T, b: T, c: T) -> T {
        if F {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }

    /// Σ aᵢbᵢ in 8 partial sums combined in a fixed tree.
    #[inline(always)]
    fn dot_body<T: Real, const F: bool>(a: &[T], b: &[T]) -> T {
        const L: usize = 8;
        let len = a.len().min(b.len());
        let mut acc = [T::zero(); L];
        let chunks = len / L;
        for c in 0..chunks {
            let (ac, bc) = (&a[c * L..][..L], &b[c * L..][..L]);
            for l in 0..L {
                acc[l] = madd::<T, F>(ac[l], bc[l], acc[l]);
            }
        }
        let mut tail = T::zero();
        for i in chunks * L..len {
            tail = madd::<T, F>(a[i], b[i], tail);
        }
        (((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))) + tail
    }

    /// rowⱼ ← rowⱼ − (vᵢwⱼ + wᵢvⱼ): one row of the symmetric rank-2 update.
    #[inline(always)]
    fn rank2_body<T: Real, const F: bool>(row: &mut [T], vi: T, w: &[T], wi: T, v: &[T]) {
        let (nvi, nwi) = (-vi, -wi);
        for ((r, &wj), &vj) in row.iter_mut().zip(w).zip(v) {
            *r = madd::<T, F>(nwi, vj, madd::<T, F>(nvi, wj, *r));
        }
    }

    /// y ← y − β(vᵀy)v: one Householder reflector applied to one vector.
    #[inline(always)]
    fn reflect_body<T: Real, const F: bool>(y: &mut [T], beta: T, v: &[T]) {
        let t = -(beta * dot_body::<T, F>(y, v));
        for (yi, &vi) in y.iter_mut().zip(v) {
            *yi = madd::<T, F>(t, vi, *yi);
        }
    }

    /// For each (i, c, s) in order, rows i and i+1 (`stride` apart, `width` wide from `base`)
    /// ← (c·zᵢ − s·zᵢ₊₁, s·zᵢ + c·zᵢ₊₁).
    ///
    /// # Safety
    /// Every row named by `rotations` (and the next) must have `width` valid entries at
    /// `base + row·stride` that nothing else accesses during the call.
    #[inline(always)]
    unsafe fn rotate_body<T: Real, const F: bool>(
        base: *mut T,
        stride: usize,
        width: usize,
        rotations: &[(usize, T, T)],
    ) {
        for &(i, c, s) in rotations {
            let zi = std::slice::from_raw_parts_mut(base.add(i * stride), width);
            let zi1 = std::slice::from_raw_parts_mut(base.add((i + 1) * stride), width);
            for (a, b) in zi.iter_mut().zip(zi1.iter_mut()) {
                let (x, y) = (*a, *b);
                *b = madd::<T, F>(s, x, c * y);
                *a = madd::<T, F>(c, x, -(s * y));
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    mod fma {
        use crate::real::Real;

        #[target_feature(enable = "avx2,fma")]
        pub(super) unsafe fn dot<T: Real>(a: &[T], b: &[T]) -> T {
            super::dot_body::<T, true>(a, b)
        }
        #[target_feature(enable = "avx2,fma")]
        pub(super) unsafe fn rank2<T: Real>(row: &mut [T], vi: T, w: &[T], wi: T, v: &[T]) {
            super::rank2_body::<T, true>(row, vi, w, wi, v)
        }
        #[target_feature(enable = "avx2,fma")]
        pub(super) unsafe fn reflect<T: Real>(y: &mut [T], beta: T, v: &[T]) {
            super::reflect_body::<T, true>(y, beta, v)
        }
        #[target_feature(enable = "avx2,fma")]
        pub(super) unsafe fn rotate<T: Real>(
            base: *mut T,
            stride: usize,
            width: usize,
            rotations: &[(usize, T, T)],
        ) {
            super::rotate_body::<T, true>(base, stride, width, rotations)
        }
    }

    pub(crate) fn dot<T: Real>(fused: bool, a: &[T], b: &[T]) -> T {
        #[cfg(target_arch = "x86_64")]
        if fused {
            // SAFETY: `fused` comes from `fma_available`.
            return unsafe { fma::dot(a, b) };
        }
        let _ = fused;
        dot_body::<T, false>(a, b)
    }

    pub(super) fn rank2<T: Real>(fused: bool, row: &mut [T], vi: T, w: &[T], wi: T, v: &[T]) {
        #[cfg(target_arch = "x86_64")]
        if fused {
            // SAFETY: as in `dot`.
            return unsafe { fma::rank2(row, vi, w, wi, v) };
        }
        let _ = fused;
        rank2_body::<T, false>(row, vi, w, wi, v)
    }

    pub(super) fn reflect<T: Real>(fused: bool, y: &mut [T], beta: T, v: &[T]) {
        #[cfg(target_arch = "x86_64")]
        if fused {
            // SAFETY: as in `dot`.
            return unsafe { fma::reflect(y, beta, v) };
        }
        let _ = fused;
        reflect_body::<T, false>(y, beta, v)
    }

    /// # Safety
    /// As for `rotate_body`.
    pub(super) unsafe fn rotate_block<T: Real>(
        fused: bool,
        base: *mut T,
        stride: usize,
        width: usize,
        rotations: &[(usize, T, T)],
    ) {
        #[cfg(target_arch = "x86_64")]
        if fused {
            return fma::rotate(base, stride, width, rotations);
        }
        let _ = fused;
        rotate_body::<T, false>(base, stride, width, rotations)
    }
}

#[cfg(test)]
mod tests {
    use super::kernels;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        (0..n)
            .map(|i| (((i as u64 + 1) * (seed * 2654435761 + 1)) % 1000) as f64 / 500.0 - 1.0)
            .collect()
    }

    /// The plain and the FMA versions of every kernel compute the same thing (to rounding);
    /// on CPUs without AVX2 both calls take the plain path and the test still runs.
    #[test]
    fn plain_and_fused_kernels_agree() {
        let fused = kernels::fma_available();
        for n in [1usize, 7, 8, 33, 200] {
            let (a, b) = (data(n, 1), data(n, 2));
            let (p, q) = (kernels::dot(false, &a, &b), kernels::dot(fused, &a, &b));
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((p - exact).abs() < 1e-12 && (q - exact).abs() < 1e-12);

            let (mut r1, mut r2) = (data(n, 3), data(n, 3));
            kernels::rank2(false, &mut r1, 0.3, &a, -0.7, &b);
            kernels::rank2(fused, &mut r2, 0.3, &a, -0.7, &b);
            let want: Vec<f64> = data(n, 3)
                .iter()
                .enumerate()
                .map(|(j, r)| r - (0.3 * a[j] + -0.7 * b[j]))
                .collect();
            for ((x, y), w) in r1.iter().zip(&r2).zip(&want) {
                assert!((x - w).abs() < 1e-14 && (y - w).abs() < 1e-14);
            }

            let (mut y1, mut y2) = (data(n, 4), data(n, 4));
            kernels::reflect(false, &mut y1, 1.5, &a);
            kernels::reflect(fused, &mut y2, 1.5, &a);
            for (x, y) in y1.iter().zip(&y2) {
                assert!((x - y).abs() < 1e-12);
            }

            let mut z1 = [data(n, 5), data(n, 6), data(n, 7)].concat();
            let mut z2 = z1.clone();
            let (c, s) = (0.6, 0.8);
            let rotations = [(0usize, c, s), (1, s, -c)];
            // SAFETY: three rows of n entries, rows 0..=2 touched.
            unsafe {
                kernels::rotate_block(false, z1.as_mut_ptr(), n, n, &rotations);
                kernels::rotate_block(fused, z2.as_mut_ptr(), n, n, &rotations);
            }
            let (r0, r1, r2) = (data(n, 5), data(n, 6), data(n, 7));
            for j in 0..n {
                // First rotation on rows 0, 1, then the second on rows 1, 2.
                let (a0, a1) = (c * r0[j] - s * r1[j], s * r0[j] + c * r1[j]);
                let (b1, b2) = (s * a1 - (-c) * r2[j], (-c) * a1 + s * r2[j]);
                for z in [&z1, &z2] {
                    assert!((z[j] - a0).abs() < 1e-14);
                    assert!((z[n + j] - b1).abs() < 1e-14);
                    assert!((z[2 * n + j] - b2).abs() < 1e-14);
                }
            }
        }
    }
}
