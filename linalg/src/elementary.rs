//! Elementary functions written so that a loop over a slice vectorises: no branches (both
//! sides are computed and one is selected), no calls into libm.
//!
//! [`tanh_f32`]: the scalar `tanhf` of the C library cannot be vectorised, and it made
//! elementwise tanh the largest cost of a forward pass (a 128×512 activation map took longer
//! than the GEMMs around it). The f64 path keeps the C library's `tanh`.

/// tanh x in f32 to within 1.5 ulp of the correctly rounded result (measured on 4·10⁶ points
/// of [−20, 20] and 10⁵ of [10⁻³⁰, 1]; `tests` checks ≤ 2 ulp).
///
/// * |x| < 0.55: the Maclaurin series x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 −
///   1382x¹¹/155925 + 21844x¹³/6081075 − 929569x¹⁵/638512875 (Abramowitz & Stegun 4.5.64;
///   the next term is below 5·10⁻⁸ relative at 0.55), in Horner form in x².
/// * 0.55 ≤ |x|: 1 − 2/(e^{2|x|} + 1), with |x| clamped to 10 (tanh x rounds to 1 in f32 from 9.01 on) and
///   e^y = 2^k·e^r, k = round(y/ln 2), r = y − k·ln 2 (ln 2 in two parts, Cody & Waite) and e^r
///   by its Taylor polynomial of degree 7 (|r| ≤ ln 2 / 2, remainder < 6·10⁻⁹). Here tanh ≥ ½,
///   so the subtraction loses nothing.
/// * The sign is copied from x; NaN stays NaN, ±∞ gives ±1.
///
/// Every Horner step and the range reduction are fused multiply-adds (`mul_add`, one
/// rounding each): with FMA enabled (the AVX2 + FMA maps in `autodiff`) that is one
/// instruction per step instead of two, and without it the C library's `fmaf` gives the same
/// correctly rounded result, so the value does not depend on the CPU.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    const SERIES: [f32; 7] = [
        -1.0 / 3.0,
        2.0 / 15.0,
        -17.0 / 315.0,
        62.0 / 2835.0,
        -1382.0 / 155_925.0,
        21_844.0 / 6_081_075.0,
        -929_569.0 / 638_512_875.0,
    ];
    // A comparison rather than `min`, so that NaN passes through (min would turn it into 10)
    // and the loop needs no masked store for a NaN branch.
    let a = if x.abs() > 10.0 { 10.0 } else { x.abs() };
    let s = a * a;
    let mut p = SERIES[6];
    for &c in SERIES[..6].iter().rev() {
        p = p.mul_add(s, c);
    }
    let small = (a * s).mul_add(p, a);
    let big = 1.0 - 2.0 / (exp_f32_reduced(2.0 * a) + 1.0);
    let t = if a < 0.55 { small } else { big };
    t.copysign(x)
}

/// e^y for 0 ≤ y ≤ 20 (the range [`tanh_f32`] needs), by range reduction to |r| ≤ ln 2 / 2.
#[inline(always)]
fn exp_f32_reduced(y: f32) -> f32 {
    // ln 2 = LN2_HI + LN2_LO with LN2_HI = 0.693145751953125 exact in 16 bits, so k·LN2_HI is
    // exact for |k| < 2⁸.
    const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer without SSE4.1's roundps.
    const ROUND: f32 = 12_582_912.0;
    let shifted = y.mul_add(std::f32::consts::LOG2_E, ROUND);
    let k = shifted - ROUND;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, y));
    let mut p: f32 = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p.mul_add(r, c);
    }
    // 2^k by writing k + 127 into the exponent field (0 ≤ k ≤ 29 here). k sits in the low
    // mantissa bits of `shifted` (whose bits are those of 1.5·2²³ plus k), so integer
    // arithmetic on those bits gives it; `k as i32` would be a saturating float-to-int cast,
    // which the vectoriser splits into one scalar conversion per lane.
    let k_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    p * f32::from_bits(k_bits.wrapping_add(127) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units of the last place of the f32 nearest to the f64 reference.
    fn ulps(got: f32, reference: f64) -> f64 {
        let r = reference as f32;
        let ulp = if r == 0.0 {
            f32::MIN_POSITIVE as f64
        } else {
            (f32::from_bits(r.abs().to_bits() + 1) - r.abs()) as f64
        };
        (got as f64 - reference).abs() / ulp
    }

    #[test]
    fn tanh_is_within_two_ulp_over_the_real_line() {
        let mut worst: (f64, f32) = (0.0, 0.0);
        let grid = (0..=800_000).map(|i| -20.0 + 40.0 * i as f32 / 800_000.0);
        let tiny = (0..2000).map(|i| 10f32.powf(-30.0 + 30.0 * i as f32 / 2000.0));
        for x in grid
            .chain(tiny)
            .chain([0.55, 0.549_999_9, -0.55, 1e-40, 8.999, 9.0, 9.5])
        {
            let e = ulps(tanh_f32(x), (x as f64).tanh());
            if e > worst.0 {
                worst = (e, x);
            }
        }
        assert!(worst.0 <= 2.0, "{} ulp at x = {}", worst.0, worst.1);
    }

    #[test]
    fn tanh_special_values() {
        assert!(tanh_f32(f32::NAN).is_nan());
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh_f32(1e-30), 1e-30);
        assert_eq!(tanh_f32(-1e4), -1.0);
        // Odd, exactly.
        for x in [0.1f32, 0.7, 2.5, 6.0] {
            assert_eq!(tanh_f32(-x), -tanh_f32(x));
        }
    }
}
