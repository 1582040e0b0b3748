//! Portable micro-kernel: plain scalar arithmetic (multiply then add, so no slow software
//! `fma` call on targets without the instruction), always compiled and always tested.

use super::Simd;
use crate::real::Real;
use std::marker::PhantomData;

/// Scalar "vector" of one lane.
pub(crate) struct Scalar<T>(PhantomData<T>);

impl<T: Real> Simd for Scalar<T> {
    type Elem = T;
    type V = T;
    const LANES: usize = 1;
    #[inline(always)]
    unsafe fn zero() -> T {
        T::zero()
    }
    #[inline(always)]
    unsafe fn splat(x: T) -> T {
        x
    }
    #[inline(always)]
    unsafe fn load(p: *const T) -> T {
        *p
    }
    #[inline(always)]
    unsafe fn store(p: *mut T, v: T) {
        *p = v
    }
    #[inline(always)]
    unsafe fn fmadd(a: T, b: T, c: T) -> T {
        a * b + c
    }
    #[inline(always)]
    unsafe fn mul(a: T, b: T) -> T {
        a * b
    }
}

/// Rows per portable tile.
pub(crate) const MR: usize = 4;
/// Columns per portable tile.
pub(crate) const NR: usize = 4;

/// Portable MR×NR micro-kernel (see [`super::MicroKernel`]).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn kernel<T: Real>(
    kc: usize,
    a: *const T,
    b: *const T,
    coef: *const [T; 2],
    c: *mut T,
    rs: isize,
    cs: isize,
    m: usize,
    n: usize,
) {
    super::tile::<Scalar<T>, MR, NR>(kc, a, b, coef, c, rs, cs, m, n)
}
