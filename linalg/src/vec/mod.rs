//! Level-1 vector operations (BLAS names): [`dot`], [`nrm2`], [`axpy`], [`scal`], and the one
//! relative difference of the workspace, [`rel_diff`].
//!
//! Every function sums in an order fixed by the length alone (partial sums combined in a
//! fixed tree), so a result never depends on the thread count. Where the CPU has AVX2+FMA
//! (the same test the GEMM kernels use), multiply-adds are fused; results are then identical
//! run to run on one machine but may differ in the last bits from a machine without FMA.
//!
//! Lengths must agree: a mismatch is a programming error and panics, as slice indexing does.

pub(crate) mod kernels;

use crate::real::Real;

/// xᵀy = Σᵢ xᵢyᵢ in `T`, with eight partial sums combined in a fixed tree.
///
/// # Panics
/// If `x.len() != y.len()`.
pub fn dot<T: Real>(x: &[T], y: &[T]) -> T {
    assert_eq!(x.len(), y.len(), "dot: lengths differ");
    kernels::dot8(kernels::fma_available(), x, y)
}

/// xᵀy accumulated in `f64` whatever `T` is, with four partial sums combined as
/// ((s₀ + s₁) + (s₂ + s₃)) + tail: the inner product of the iterative solvers (CG, Lanczos),
/// where f32 data should not lose the orthogonality the recurrences rely on.
///
/// # Panics
/// If `x.len() != y.len()`.
pub fn dot_f64<T: Real>(x: &[T], y: &[T]) -> f64 {
    assert_eq!(x.len(), y.len(), "dot_f64: lengths differ");
    let mut acc = [0.0f64; 4];
    let chunks = x.len() / 4;
    for k in 0..chunks {
        for (l, accl) in acc.iter_mut().enumerate() {
            *accl += x[4 * k + l].to_f64() * y[4 * k + l].to_f64();
        }
    }
    let mut tail = 0.0;
    for k in 4 * chunks..x.len() {
        tail += x[k].to_f64() * y[k].to_f64();
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail
}

/// The Euclidean norm ‖x‖₂ = (Σᵢ xᵢ²)^½, without overflow or underflow in the intermediate
/// sum: the result is accurate whenever ‖x‖₂ itself is representable (entries of 1e300 or
/// 1e-300 in f64 included), as LAPACK's `dnrm2` guarantees.
///
/// Method: the plain sum of squares (one pass) is returned when it is finite and above
/// `MIN_POSITIVE/EPSILON`, where no square that matters can have lost bits; otherwise the
/// entries are scaled by the power of two 2^−⌊log₂ maxᵢ|xᵢ|⌋ (exact) and summed again (Blue,
/// "A portable Fortran program to find the Euclidean norm of a vector", ACM TOMS 4(1), 1978,
/// uses three accumulators instead; Anderson, "Algorithm 978: Safe scaling in the Level 1
/// BLAS", ACM TOMS 44(1), 2017, discusses both). NaN in x gives NaN, ±inf gives +inf.
pub fn nrm2<T: Real>(x: &[T]) -> T {
    nrm2_by(x.len(), |i| x[i])
}

/// [`nrm2`] of the vector whose entry i is `f(i)`, i < n (so differences need no buffer).
fn nrm2_by<T: Real>(n: usize, f: impl Fn(usize) -> T) -> T {
    let mut acc = [T::zero(); 4];
    let chunks = n / 4;
    for k in 0..chunks {
        for (l, accl) in acc.iter_mut().enumerate() {
            let v = f(4 * k + l);
            *accl += v * v;
        }
    }
    let mut tail = T::zero();
    for i in 4 * chunks..n {
        let v = f(i);
        tail += v * v;
    }
    let sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
    if sum.is_finite() && sum >= T::MIN_POSITIVE / T::EPSILON {
        return sum.sqrt();
    }
    // Overflowed, underflowed, zero or NaN: find the largest magnitude and rescale.
    let mut max_abs = T::zero();
    for i in 0..n {
        let a = f(i).abs();
        if a.is_nan() {
            return a;
        }
        max_abs = max_abs.max(a);
    }
    if max_abs == T::zero() || !max_abs.is_finite() {
        return max_abs;
    }
    let scale: T = power_of_two_scale(max_abs.to_f64());
    let mut s = T::zero();
    for i in 0..n {
        let v = f(i) * scale;
        s += v * v;
    }
    s.sqrt() / scale
}

/// y ← αx + y.
///
/// # Panics
/// If `x.len() != y.len()`.
pub fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    assert_eq!(x.len(), y.len(), "axpy: lengths differ");
    kernels::axpy(kernels::fma_available(), alpha, x, y)
}

/// x ← αx.
pub fn scal<T: Real>(alpha: T, x: &mut [T]) {
    for xi in x {
        *xi *= alpha;
    }
}

/// The relative difference of `a` from the reference `b`:
///
/// rel_diff(a, b) = ‖a − b‖₂ / max(‖b‖₂, `f64::MIN_POSITIVE`),
///
/// computed in f64 with [`nrm2`]'s overflow-safe scaling. **`b` is the reference** (the
/// denominator), so the measure is not symmetric. Equal vectors give exactly 0 (two zero
/// vectors included); a zero reference with a ≠ 0 gives ‖a‖₂/2.2e-308, which is huge or
/// +inf: "no relative accuracy at all".
///
/// # Panics
/// If `a.len() != b.len()`.
pub fn rel_diff<T: Real>(a: &[T], b: &[T]) -> f64 {
    assert_eq!(a.len(), b.len(), "rel_diff: lengths differ");
    let diff = nrm2_by(a.len(), |i| a[i].to_f64() - b[i].to_f64());
    let reference = nrm2_by(b.len(), |i| b[i].to_f64());
    diff / reference.max(f64::MIN_POSITIVE)
}

/// 2^−⌊log₂ m⌋, or 1 for m = 0 or non-finite m. Multiplying by it is exact and brings the
/// largest magnitude m into [1, 2). The exponent is clamped to ±(the exponent of
/// `T::MIN_POSITIVE`), ±1022 for f64, so that the scale and its inverse are both normal
/// numbers: m ≥ 2¹⁰²³ then lands in [2, 4), and a subnormal m below 1.
pub(crate) fn power_of_two_scale<T: Real>(max_abs: f64) -> T {
    if max_abs == 0.0 || !max_abs.is_finite() {
        return T::one();
    }
    // Exact: MIN_POSITIVE is a power of two.
    let emax = -(T::MIN_POSITIVE.to_f64().log2() as i32);
    let e = (max_abs.log2().floor() as i32).clamp(-emax, emax);
    T::from_f64(2f64.powi(-e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nrm2_survives_huge_and_tiny_entries() {
        assert_eq!(nrm2(&[3.0f64, 4.0]), 5.0);
        assert_eq!(nrm2::<f64>(&[]), 0.0);
        assert_eq!(nrm2(&[0.0f64; 5]), 0.0);
        let big = nrm2(&[3e300f64, 4e300]);
        assert!((big / 5e300 - 1.0).abs() < 4.0 * f64::EPSILON, "{big:e}");
        let tiny = nrm2(&[3e-300f64, 4e-300]);
        assert!((tiny / 5e-300 - 1.0).abs() < 4.0 * f64::EPSILON, "{tiny:e}");
        // Subnormal entries: 2^-1074 is the smallest positive f64.
        let sub = f64::from_bits(1);
        assert_eq!(nrm2(&[sub, 0.0]), sub);
        // A huge entry next to ordinary ones, and the f32 analogue.
        let mixed = nrm2(&[1e300f64, 1.0, -1.0]);
        assert_eq!(mixed, 1e300);
        let f = nrm2(&[3e30f32, 4e30]);
        assert!((f / 5e30 - 1.0).abs() < 4.0 * f32::EPSILON, "{f:e}");
        let g = nrm2(&[3e-30f32, 4e-30]);
        assert!((g / 5e-30 - 1.0).abs() < 4.0 * f32::EPSILON, "{g:e}");
        // Overflow of the true norm is +inf; NaN propagates.
        assert_eq!(nrm2(&[f64::MAX, f64::MAX]), f64::INFINITY);
        assert_eq!(nrm2(&[1.0, f64::NEG_INFINITY]), f64::INFINITY);
        assert!(nrm2(&[1.0, f64::NAN, 1e300]).is_nan());
    }

    #[test]
    fn nrm2_matches_the_plain_formula_in_range() {
        let x: Vec<f64> = (0..37).map(|i| (i as f64 * 0.37).sin()).collect();
        let plain = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((nrm2(&x) - plain).abs() <= 4.0 * f64::EPSILON * plain);
    }

    #[test]
    fn rel_diff_has_b_as_reference() {
        let a = [1.0f64, 2.0, 3.0];
        assert_eq!(rel_diff(&a, &a), 0.0);
        assert_eq!(rel_diff(&[0.0f64; 3], &[0.0; 3]), 0.0);
        // ‖a − b‖ = 1; ‖b‖ = 2 versus ‖a‖ = 1: the denominator is b's norm.
        assert_eq!(rel_diff(&[1.0f64, 0.0], &[2.0, 0.0]), 0.5);
        assert_eq!(rel_diff(&[2.0f64, 0.0], &[1.0, 0.0]), 1.0);
        // A zero reference: no relative accuracy at all.
        assert!(rel_diff(&[1.0f64], &[0.0]) > 1e300);
        // Overflow-safe: huge vectors.
        let r = rel_diff(&[1e300f64, 1e300], &[1e300, 0.0]);
        assert!((r - 1.0).abs() < 1e-15, "{r}");
        // f32 inputs are compared in f64.
        assert_eq!(rel_diff(&[1.5f32, 2.0], &[1.5, 2.0]), 0.0);
    }

    #[test]
    fn dot_axpy_scal() {
        let x: Vec<f64> = (0..19).map(|i| i as f64).collect();
        let y: Vec<f64> = (0..19).map(|i| 1.0 - i as f64 * 0.5).collect();
        let exact: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        assert_eq!(dot(&x, &y), exact); // small integers and halves: exact in any order
        assert_eq!(dot_f64(&x, &y), exact);
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        assert_eq!(dot_f64(&xf, &xf), dot_f64(&x, &x));
        let mut z = y.clone();
        axpy(2.0, &x, &mut z);
        for i in 0..19 {
            assert_eq!(z[i], y[i] + 2.0 * x[i]);
        }
        scal(-0.5, &mut z);
        for i in 0..19 {
            assert_eq!(z[i], -0.5 * (y[i] + 2.0 * x[i]));
        }
        assert_eq!(dot::<f64>(&[], &[]), 0.0);
    }

    #[test]
    #[should_panic(expected = "lengths differ")]
    fn dot_rejects_mismatched_lengths() {
        dot(&[1.0f64, 2.0], &[1.0]);
    }

    #[test]
    fn power_of_two_scale_brings_the_maximum_into_one_two() {
        for m in [1e-300f64, 3e-5, 1.0, 1.5, 2.0, 7e12, 1e300] {
            let s: f64 = power_of_two_scale(m);
            assert!((1.0..2.0).contains(&(m * s)), "{m:e} → {}", m * s);
        }
        assert_eq!(power_of_two_scale::<f64>(0.0), 1.0);
        // Clamped so that the scale and its inverse stay normal numbers.
        for m in [1e-40f64, 1e-45, 3e38, 3.4e38] {
            let s: f32 = power_of_two_scale(m);
            assert!(s.is_normal() && (1.0 / s).is_normal(), "{m:e}");
        }
        for m in [f64::MAX, f64::from_bits(1), 1e-310] {
            let s: f64 = power_of_two_scale(m);
            assert!(s.is_normal() && (1.0 / s).is_normal(), "{m:e}");
        }
    }
}
