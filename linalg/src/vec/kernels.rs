//! The vector inner loops, each in a plain version and one compiled for AVX2+FMA and chosen at
//! run time by `fused` (from [`fma_available`], the same CPU test as the GEMM AVX2 kernel).
//!
//! `mul_add` is one fused instruction only inside the `target_feature` functions; elsewhere it
//! would be a library call, so the plain versions multiply and add separately. Every kernel
//! sums in an order fixed by the lengths alone, so a result never depends on the thread that
//! computes it.

use crate::real::Real;

/// Whether the AVX2+FMA versions may run: the CPU has both (detected once and cached). This
/// is the test GEMM applies to its AVX2 kernel; it is made here, not asked of GEMM, so that
/// `vec` sits below `gemm` with no import circle.
pub(crate) fn fma_available() -> bool {
    static FMA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FMA.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

#[inline(always)]
fn madd<T: Real, const F: bool>(a: T, b: T, c: T) -> T {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Σ aᵢbᵢ (over the shorter length) in `T`, with plain multiplies and adds in four partial
/// sums combined as ((s₀ + s₁) + (s₂ + s₃)) + tail. The eigensolver's O(n²) inner products
/// (Householder norms), where the order matters more than the speed.
#[inline]
pub(crate) fn dot4<T: Real>(a: &[T], b: &[T]) -> T {
    let len = a.len().min(b.len());
    let mut acc = [T::zero(); 4];
    let chunks = len / 4;
    for k in 0..chunks {
        for (l, accl) in acc.iter_mut().enumerate() {
            *accl += a[4 * k + l] * b[4 * k + l];
        }
    }
    let mut tail = T::zero();
    for k in 4 * chunks..len {
        tail += a[k] * b[k];
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail
}

/// Σ aᵢbᵢ (over the shorter length) in 8 partial sums combined in the fixed tree
/// ((s₀+s₄)+(s₁+s₅)) + ((s₂+s₆)+(s₃+s₇)), then the tail.
#[inline(always)]
fn dot8_body<T: Real, const F: bool>(a: &[T], b: &[T]) -> T {
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

/// Σ aᵢxᵢ (a.len() terms) in 16 partial sums folded in halves (sₗ += sₗ₊₈, then sₗ += sₗ₊₄, …),
/// then the tail: the order `gemv` has always used.
#[inline(always)]
fn dot16_body<T: Real, const F: bool>(a: &[T], x: &[T]) -> T {
    const L: usize = 16;
    let mut acc = [T::zero(); L];
    let chunks = a.len() / L;
    for c in 0..chunks {
        let (ac, xc) = (&a[c * L..][..L], &x[c * L..][..L]);
        for l in 0..L {
            acc[l] = madd::<T, F>(ac[l], xc[l], acc[l]);
        }
    }
    let mut tail = T::zero();
    for i in chunks * L..a.len() {
        tail = madd::<T, F>(a[i], x[i], tail);
    }
    let mut w = L;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            acc[l] += acc[l + w];
        }
    }
    acc[0] + tail
}

/// y ← s·x + y.
#[inline(always)]
fn axpy_body<T: Real, const F: bool>(s: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = madd::<T, F>(xi, s, *yi);
    }
}

/// rowⱼ ← rowⱼ − (vᵢwⱼ + wᵢvⱼ): one row of the symmetric rank-2 update A ← A − vwᵀ − wvᵀ.
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
    let t = -(beta * dot8_body::<T, F>(y, v));
    for (yi, &vi) in y.iter_mut().zip(v) {
        *yi = madd::<T, F>(t, vi, *yi);
    }
}

/// For each (i, c, s) in order, rows i and i+1 (`stride` apart, `width` wide from `base`)
/// ← (c·zᵢ − s·zᵢ₊₁, s·zᵢ + c·zᵢ₊₁): BLAS `drot` on two rows.
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
    pub(super) unsafe fn dot8<T: Real>(a: &[T], b: &[T]) -> T {
        super::dot8_body::<T, true>(a, b)
    }
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot16<T: Real>(a: &[T], x: &[T]) -> T {
        super::dot16_body::<T, true>(a, x)
    }
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn axpy<T: Real>(s: T, x: &[T], y: &mut [T]) {
        super::axpy_body::<T, true>(s, x, y)
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

// Each dispatcher below runs the FMA version only when `fused` is true, and callers get
// `fused` from `fma_available`, so the CPU has AVX2 and FMA: that is the SAFETY argument for
// every `unsafe` call into `fma` (the slices' own bounds are checked by the bodies).

/// [`dot8_body`] on the chosen instruction set.
pub(crate) fn dot8<T: Real>(fused: bool, a: &[T], b: &[T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if fused {
        // SAFETY: see above.
        return unsafe { fma::dot8(a, b) };
    }
    let _ = fused;
    dot8_body::<T, false>(a, b)
}

/// [`dot16_body`] on the chosen instruction set.
pub(crate) fn dot16<T: Real>(fused: bool, a: &[T], x: &[T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if fused {
        // SAFETY: see above.
        return unsafe { fma::dot16(a, x) };
    }
    let _ = fused;
    dot16_body::<T, false>(a, x)
}

/// [`axpy_body`] on the chosen instruction set.
pub(crate) fn axpy<T: Real>(fused: bool, s: T, x: &[T], y: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if fused {
        // SAFETY: see above.
        return unsafe { fma::axpy(s, x, y) };
    }
    let _ = fused;
    axpy_body::<T, false>(s, x, y)
}

/// [`rank2_body`] on the chosen instruction set.
pub(crate) fn rank2<T: Real>(fused: bool, row: &mut [T], vi: T, w: &[T], wi: T, v: &[T]) {
    #[cfg(target_arch = "x86_64")]
    if fused {
        // SAFETY: see above.
        return unsafe { fma::rank2(row, vi, w, wi, v) };
    }
    let _ = fused;
    rank2_body::<T, false>(row, vi, w, wi, v)
}

/// [`reflect_body`] on the chosen instruction set.
pub(crate) fn reflect<T: Real>(fused: bool, y: &mut [T], beta: T, v: &[T]) {
    #[cfg(target_arch = "x86_64")]
    if fused {
        // SAFETY: see above.
        return unsafe { fma::reflect(y, beta, v) };
    }
    let _ = fused;
    reflect_body::<T, false>(y, beta, v)
}

/// [`rotate_body`] on the chosen instruction set.
///
/// # Safety
/// As for [`rotate_body`].
pub(crate) unsafe fn rotate_block<T: Real>(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        (0..n)
            .map(|i| (((i as u64 + 1) * (seed * 2654435761 + 1)) % 1000) as f64 / 500.0 - 1.0)
            .collect()
    }

    /// The plain and the FMA versions of every kernel compute the same thing (to rounding);
    /// on CPUs without AVX2 both calls take the plain path and the test still runs.
    #[test]
    fn plain_and_fused_kernels_agree() {
        let fused = fma_available();
        for n in [1usize, 7, 8, 17, 33, 200] {
            let (a, b) = (data(n, 1), data(n, 2));
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            for dot in [dot8::<f64>, dot16::<f64>] {
                let (p, q) = (dot(false, &a, &b), dot(fused, &a, &b));
                assert!((p - exact).abs() < 1e-12 && (q - exact).abs() < 1e-12);
            }

            let (mut y1, mut y2) = (data(n, 3), data(n, 3));
            axpy(false, 0.3, &a, &mut y1);
            axpy(fused, 0.3, &a, &mut y2);
            let y0 = data(n, 3);
            for j in 0..n {
                let want = y0[j] + 0.3 * a[j];
                assert!((y1[j] - want).abs() < 1e-14 && (y2[j] - want).abs() < 1e-14);
            }

            let (mut r1, mut r2) = (data(n, 3), data(n, 3));
            rank2(false, &mut r1, 0.3, &a, -0.7, &b);
            rank2(fused, &mut r2, 0.3, &a, -0.7, &b);
            let want: Vec<f64> = data(n, 3)
                .iter()
                .enumerate()
                .map(|(j, r)| r - (0.3 * a[j] + -0.7 * b[j]))
                .collect();
            for ((x, y), w) in r1.iter().zip(&r2).zip(&want) {
                assert!((x - w).abs() < 1e-14 && (y - w).abs() < 1e-14);
            }

            let (mut y1, mut y2) = (data(n, 4), data(n, 4));
            reflect(false, &mut y1, 1.5, &a);
            reflect(fused, &mut y2, 1.5, &a);
            for (x, y) in y1.iter().zip(&y2) {
                assert!((x - y).abs() < 1e-12);
            }

            let mut z1 = [data(n, 5), data(n, 6), data(n, 7)].concat();
            let mut z2 = z1.clone();
            let (c, s) = (0.6, 0.8);
            let rotations = [(0usize, c, s), (1, s, -c)];
            // SAFETY: three rows of n entries, rows 0..=2 touched.
            unsafe {
                rotate_block(false, z1.as_mut_ptr(), n, n, &rotations);
                rotate_block(fused, z2.as_mut_ptr(), n, n, &rotations);
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
