//! AVX-512F micro-kernels (512-bit registers, 32 of them): 14×16 for f64 and 14×32 for f32,
//! i.e. 28 accumulators + 2 B vectors, the A scalar folded into the FMA as an embedded
//! broadcast: the shape of the BLIS Skylake-X kernel (there 16×14 on column-major C). The
//! KC×16 f64 B micro-panel (32 KiB at KC = 256) stays in L1 across the ir loop.

use std::arch::x86_64::*;

/// f64 in 8-lane zmm registers.
pub(crate) struct F64x8;
/// f32 in 16-lane zmm registers.
pub(crate) struct F32x16;

impl_x86_simd!(
    F64x8,
    f64,
    __m512d,
    8,
    _mm512_setzero_pd,
    _mm512_set1_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_fmadd_pd,
    _mm512_mul_pd
);

impl_x86_simd!(
    F32x16,
    f32,
    __m512,
    16,
    _mm512_setzero_ps,
    _mm512_set1_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_fmadd_ps,
    _mm512_mul_ps
);

/// Rows per f64 tile.
pub(crate) const MR_F64: usize = 14;
/// Vectors per f64 tile row (NR = 16).
pub(crate) const NV_F64: usize = 2;
/// Rows per f32 tile.
pub(crate) const MR_F32: usize = 14;
/// Vectors per f32 tile row (NR = 32).
pub(crate) const NV_F32: usize = 2;

/// AVX-512 f64 14×16 micro-kernel (see [`super::MicroKernel`]).
///
/// # Safety
/// The CPU must support AVX-512F; pointer contract as in [`super::tile`].
#[target_feature(enable = "avx512f")]
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
    super::tile::<F64x8, MR_F64, NV_F64>(kc, a, b, coef, c, rs, cs, m, n)
}

/// AVX-512 f32 14×32 micro-kernel (see [`super::MicroKernel`]).
///
/// # Safety
/// The CPU must support AVX-512F; pointer contract as in [`super::tile`].
#[target_feature(enable = "avx512f")]
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
    super::tile::<F32x16, MR_F32, NV_F32>(kc, a, b, coef, c, rs, cs, m, n)
}
