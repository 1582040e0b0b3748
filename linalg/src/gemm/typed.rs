//! From a generic `T: Real` to the concrete f32 / f64 kernels, and the blocking parameters of
//! each kernel.
//!
//! `Real` is implemented for f32 and f64 only; the `TypeId` test below turns the generic call
//! into the concrete one without widening the public trait.

use super::driver::{gemm_packed, Epilogue, Spec};
use super::kernels::portable;
use super::Kernel;
use crate::matrix::{MatMut, MatRef};
use crate::real::Real;
use std::any::TypeId;

/// A scalar type with packed kernels.
pub(crate) trait Packed: Real {
    /// Kernel and blocking for `kernel` (which the caller has checked is available).
    fn spec(kernel: Kernel) -> Spec<Self>;
}

/// Blocking sizes: KC·NR values of the B micro-panel stay in L1 (32–48 KiB), an MC×KC A block
/// in L2 (512 KiB – 2 MiB per core), a KC×NC B block in the shared L3. The AVX2 f64 values
/// (MC = 240, KC = 512) are those AMD's BLIS uses on Zen and measured best among
/// (72…240) × (256…512) on a Zen 3 EPYC; the f32 ones are BLIS's (144, 256).
impl Packed for f64 {
    fn spec(kernel: Kernel) -> Spec<f64> {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => Spec {
                mr: super::kernels::avx2::MR_F64,
                nr: super::kernels::avx2::NV_F64 * 4,
                mc: 240,
                kc: 512,
                nc: 4096,
                ukr: super::kernels::avx2::kernel_f64,
            },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => Spec {
                mr: super::kernels::avx512::MR_F64,
                nr: super::kernels::avx512::NV_F64 * 8,
                mc: 168,
                kc: 256,
                nc: 4096,
                ukr: super::kernels::avx512::kernel_f64,
            },
            _ => portable_spec(),
        }
    }
}

impl Packed for f32 {
    fn spec(kernel: Kernel) -> Spec<f32> {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => Spec {
                mr: super::kernels::avx2::MR_F32,
                nr: super::kernels::avx2::NV_F32 * 8,
                mc: 144,
                kc: 256,
                nc: 4096,
                ukr: super::kernels::avx2::kernel_f32,
            },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => Spec {
                mr: super::kernels::avx512::MR_F32,
                nr: super::kernels::avx512::NV_F32 * 16,
                mc: 168,
                kc: 256,
                nc: 4096,
                ukr: super::kernels::avx512::kernel_f32,
            },
            _ => portable_spec(),
        }
    }
}

fn portable_spec<T: Real>() -> Spec<T> {
    Spec {
        mr: portable::MR,
        nr: portable::NR,
        mc: 128,
        kc: 256,
        nc: 4096,
        ukr: portable::kernel::<T>,
    }
}

/// Whether `T` is f32 or f64.
pub(crate) fn is_supported<T: Real>() -> bool {
    let id = TypeId::of::<T>();
    id == TypeId::of::<f64>() || id == TypeId::of::<f32>()
}

/// Runs the packed GEMM for `T` ∈ {f32, f64} (checked by [`is_supported`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<T: Real>(
    kernel: Kernel,
    parallel: bool,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
    epilogue: Epilogue<'_, T>,
) {
    if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: T is f64, so these are identity conversions.
        unsafe { run_as::<T, f64>(kernel, parallel, alpha, a, b, beta, c, epilogue) }
    } else if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32.
        unsafe { run_as::<T, f32>(kernel, parallel, alpha, a, b, beta, c, epilogue) }
    } else {
        unreachable!("run called for an unsupported scalar type");
    }
}

/// # Safety
/// `T` and `U` must be the same type.
#[allow(clippy::too_many_arguments)]
unsafe fn run_as<T: Real, U: Packed>(
    kernel: Kernel,
    parallel: bool,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
    epilogue: Epilogue<'_, T>,
) {
    let cast_ref = |m: MatRef<'_, T>| {
        MatRef::<U>::from_raw_parts(
            m.as_ptr() as *const U,
            m.rows(),
            m.cols(),
            m.row_stride(),
            m.col_stride(),
        )
    };
    let cu = MatMut::<U>::from_raw_parts(
        c.as_mut_ptr() as *mut U,
        c.rows(),
        c.cols(),
        c.row_stride(),
        c.col_stride(),
    );
    let alpha: U = std::mem::transmute_copy(&alpha);
    let beta: U = std::mem::transmute_copy(&beta);
    gemm_packed(
        &U::spec(kernel),
        parallel,
        alpha,
        cast_ref(a),
        cast_ref(b),
        beta,
        cu,
        // SAFETY: T and U are the same type, so the closure's argument types agree.
        epilogue.map(|g| {
            std::mem::transmute::<
                &(dyn Fn(usize, usize, &mut [T]) + Sync),
                &(dyn Fn(usize, usize, &mut [U]) + Sync),
            >(g)
        }),
    );
}
