//! Matrix-vector product y ← αAx + βy (BLAS `gemv`), for `matvec` and for GEMMs with one row
//! or one column.
//!
//! Row-major A: yᵢ is a dot product of row i with x, summed in 16 interleaved partial sums
//! (combined in a fixed tree) so the loop vectorises. Column-major A: y accumulates
//! x_j·A[:, j] over j in order (both kernels live in `vec::kernels`). Either way each yᵢ is
//! computed by one task in an order fixed by the shape, so threads never change the result.

use crate::matrix::{MatMut, MatRef};
use crate::real::Real;
use crate::vec::kernels::{axpy, dot16 as dot, fma_available};
use rayon::prelude::*;

/// Rows of y per task.
const ROW_BLOCK: usize = 64;

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
    let fma = fma_available();
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
