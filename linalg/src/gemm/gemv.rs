//! Matrix-vector product y ← αAx + βy (BLAS `gemv`), for `matvec` and for GEMMs with one row
//! or one column.
//!
//! Row-major A: yᵢ is a dot product of row i with x, summed in 16 interleaved partial sums
//! (combined in a fixed tree) so the loop vectorises. Column-major A: y accumulates
//! x_j·A[:, j] over j in order. Either way each yᵢ is computed by one task in an order fixed
//! by the shape, so threads never change the result.

use super::Kernel;
use crate::matrix::{MatMut, MatRef};
use crate::real::Real;
use rayon::prelude::*;

/// Rows of y per task.
const ROW_BLOCK: usize = 64;
/// Partial sums per dot product.
const LANES: usize = 16;

#[inline(always)]
fn dot_body<T: Real>(a: &[T], x: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let chunks = a.len() / LANES;
    for c in 0..chunks {
        let (ac, xc) = (&a[c * LANES..][..LANES], &x[c * LANES..][..LANES]);
        for l in 0..LANES {
            acc[l] = ac[l].mul_add(xc[l], acc[l]);
        }
    }
    let mut tail = T::zero();
    for i in chunks * LANES..a.len() {
        tail = a[i].mul_add(x[i], tail);
    }
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            acc[l] += acc[l + w];
        }
    }
    acc[0] + tail
}

#[inline(always)]
fn axpy_body<T: Real>(s: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = xi.mul_add(s, *yi);
    }
}

/// Plain multiply-then-add versions for CPUs without FMA (a software `fma` call per element
/// would be far slower).
#[inline(always)]
fn dot_plain<T: Real>(a: &[T], x: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let chunks = a.len() / LANES;
    for c in 0..chunks {
        let (ac, xc) = (&a[c * LANES..][..LANES], &x[c * LANES..][..LANES]);
        for l in 0..LANES {
            acc[l] += ac[l] * xc[l];
        }
    }
    let mut tail = T::zero();
    for i in chunks * LANES..a.len() {
        tail += a[i] * x[i];
    }
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            acc[l] += acc[l + w];
        }
    }
    acc[0] + tail
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_fma<T: Real>(a: &[T], x: &[T]) -> T {
    dot_body(a, x)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn axpy_fma<T: Real>(s: T, x: &[T], y: &mut [T]) {
    axpy_body(s, x, y)
}

fn use_fma() -> bool {
    super::selected_kernel() != Kernel::Portable
}

fn dot<T: Real>(fma: bool, a: &[T], x: &[T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: `fma` is true only when the CPU has AVX2 and FMA.
        return unsafe { dot_fma(a, x) };
    }
    let _ = fma;
    dot_plain(a, x)
}

fn axpy<T: Real>(fma: bool, s: T, x: &[T], y: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: as in `dot`.
        return unsafe { axpy_fma(s, x, y) };
    }
    let _ = fma;
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += xi * s;
    }
}

/// y ← αAx + βy with A m×k, x k×1, y m×1 (any strides); β = 0 overwrites y.
pub(crate) fn gemv<T: Real>(
    parallel: bool,
    alpha: T,
    a: MatRef<'_, T>,
    x: MatRef<'_, T>,
    beta: T,
    mut y: MatMut<'_, T>,
) {
    let (m, k) = (a.rows(), a.cols());
    let fma = use_fma();
    let xs: Vec<T> = (0..k).map(|p| x.get(p, 0)).collect();
    let mut t = vec![T::zero(); m];
    let col_major = a.row_stride() == 1 && a.col_stride() != 1;

    let block = |(bi, tb): (usize, &mut [T])| {
        let r0 = bi * ROW_BLOCK;
        if col_major {
            for (p, &xp) in xs.iter().enumerate() {
                // SAFETY: column p, rows r0..r0+len, contiguous because the row stride is 1.
                let col = unsafe {
                    std::slice::from_raw_parts(
                        a.as_ptr().offset(p as isize * a.col_stride() + r0 as isize),
                        tb.len(),
                    )
                };
                axpy(fma, xp, col, tb);
            }
        } else if a.col_stride() == 1 {
            for (i, ti) in tb.iter_mut().enumerate() {
                *ti = dot(fma, a.row_slice(r0 + i).expect("row-contiguous"), &xs);
            }
        } else {
            let mut row = vec![T::zero(); k];
            for (i, ti) in tb.iter_mut().enumerate() {
                for (p, rp) in row.iter_mut().enumerate() {
                    // SAFETY: in bounds.
                    *rp = unsafe { a.get_unchecked(r0 + i, p) };
                }
                *ti = dot(fma, &row, &xs);
            }
        }
    };
    if parallel && m > ROW_BLOCK {
        t.par_chunks_mut(ROW_BLOCK).enumerate().for_each(block);
    } else {
        t.chunks_mut(ROW_BLOCK).enumerate().for_each(block);
    }

    for (i, &ti) in t.iter().enumerate() {
        // SAFETY: i < m.
        let yi = unsafe { y.get_mut_unchecked(i, 0) };
        *yi = if beta == T::zero() {
            alpha * ti
        } else {
            beta.mul_add(*yi, alpha * ti)
        };
    }
}
