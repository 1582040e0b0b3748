//! AVX2 + FMA micro-kernels (256-bit registers, 16 of them): 6×8 for f64 and 6×16 for f32,
//! i.e. 12 accumulators + 2 B vectors + 1 broadcast, the register budget of the BLIS Haswell
//! and Zen kernels.

use super::Simd;
use std::arch::x86_64::*;

/// f64 in 4-lane ymm registers.
pub(crate) struct F64x4;
/// f32 in 8-lane ymm registers.
pub(crate) struct F32x8;

impl Simd for F64x4 {
    type Elem = f64;
    type V = __m256d;
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn zero() -> __m256d {
        _mm256_setzero_pd()
    }
    #[inline(always)]
    unsafe fn splat(x: f64) -> __m256d {
        _mm256_set1_pd(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> __m256d {
        _mm256_loadu_pd(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: __m256d) {
        _mm256_storeu_pd(p, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        _mm256_fmadd_pd(a, b, c)
    }
    #[inline(always)]
    unsafe fn mul(a: __m256d, b: __m256d) -> __m256d {
        _mm256_mul_pd(a, b)
    }
    #[inline(always)]
    unsafe fn prefetch(p: *const f64) {
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
    }
}

impl Simd for F32x8 {
    type Elem = f32;
    type V = __m256;
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        _mm256_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        _mm256_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        _mm256_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn prefetch(p: *const f32) {
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
    }
}

/// Rows per f64 tile.
pub(crate) const MR_F64: usize = 6;
/// Vectors per f64 tile row (NR = 8).
pub(crate) const NV_F64: usize = 2;
/// Rows per f32 tile.
pub(crate) const MR_F32: usize = 6;
/// Vectors per f32 tile row (NR = 16).
pub(crate) const NV_F32: usize = 2;

/// AVX2 f64 6×8 micro-kernel (see [`super::MicroKernel`]).
///
/// # Safety
/// The CPU must support AVX2 and FMA; pointer contract as in [`super::tile`].
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn kernel_f64(
    kc: usize,
    a: *const f64,
    b: *const f64,
    coef: *const [f64; 2],
    c: *mut f64,
    rs: isize,
    cs: isize,
    m: usize,
    n: usize,
) {
    super::tile::<F64x4, MR_F64, NV_F64>(kc, a, b, coef, c, rs, cs, m, n)
}

/// AVX2 f32 6×16 micro-kernel (see [`super::MicroKernel`]).
///
/// # Safety
/// The CPU must support AVX2 and FMA; pointer contract as in [`super::tile`].
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn kernel_f32(
    kc: usize,
    a: *const f32,
    b: *const f32,
    coef: *const [f32; 2],
    c: *mut f32,
    rs: isize,
    cs: isize,
    m: usize,
    n: usize,
) {
    super::tile::<F32x8, MR_F32, NV_F32>(kc, a, b, coef, c, rs, cs, m, n)
}
