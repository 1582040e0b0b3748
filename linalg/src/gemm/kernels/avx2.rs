//! AVX2 + FMA micro-kernels (256-bit registers, 16 of them): 6×8 for f64 and 6×16 for f32,
//! i.e. 12 accumulators + 2 B vectors + 1 broadcast, the register budget of the BLIS Haswell
//! and Zen kernels.

use std::arch::x86_64::*;

/// f64 in 4-lane ymm registers.
pub(crate) struct F64x4;
/// f32 in 8-lane ymm registers.
pub(crate) struct F32x8;

impl_x86_simd!(
    F64x4,
    f64,
    __m256d,
    4,
    _mm256_setzero_pd,
    _mm256_set1_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_fmadd_pd,
    _mm256_mul_pd
);

impl_x86_simd!(
    F32x8,
    f32,
    __m256,
    8,
    _mm256_setzero_ps,
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_fmadd_ps,
    _mm256_mul_ps
);

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
