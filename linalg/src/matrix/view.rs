//! `MatRef`: the borrowed, read-only strided view.

use super::strided::{check_row_major, strided_view_common, strided_view_debug};
use super::Matrix;
use crate::error::Result;
use crate::real::Real;
use std::marker::PhantomData;

/// Immutable strided view: entry (i, j) sits at `ptr + i·rs + j·cs`.
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    pub(super) ptr: *const T,
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) rs: isize,
    pub(super) cs: isize,
    pub(super) _life: PhantomData<&'a T>,
}

// SAFETY: a MatRef is a shared borrow of `T: Sync` data.
unsafe impl<T: Sync> Send for MatRef<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for MatRef<'_, T> {}

strided_view_debug!(MatRef);

impl<'a, T: Real> MatRef<'a, T> {
    /// View of a row-major slice with `rows` rows of `cols` entries, consecutive rows
    /// `row_stride` apart.
    ///
    /// Errors: `InvalidArgument` when `row_stride < cols` with more than one row (rows would
    /// overlap); `DimensionMismatch` when the slice is shorter than (rows − 1)·row_stride + cols.
    pub fn from_slice(data: &'a [T], rows: usize, cols: usize, row_stride: usize) -> Result<Self> {
        check_row_major("MatRef::from_slice", data.len(), rows, cols, row_stride)?;
        Ok(MatRef {
            ptr: data.as_ptr(),
            rows,
            cols,
            rs: row_stride as isize,
            cs: 1,
            _life: PhantomData,
        })
    }

    /// Raw constructor from a pointer and strides.
    ///
    /// # Safety
    /// Every (i, j) with i < rows, j < cols must address a valid `T` for lifetime `'a`.
    pub unsafe fn from_raw_parts(
        ptr: *const T,
        rows: usize,
        cols: usize,
        rs: isize,
        cs: isize,
    ) -> Self {
        MatRef {
            ptr,
            rows,
            cols,
            rs,
            cs,
            _life: PhantomData,
        }
    }

    strided_view_common!();

    /// Pointer to entry (0, 0).
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// Entry (i, j) without bounds checks.
    ///
    /// # Safety
    /// `i < rows` and `j < cols`.
    #[inline(always)]
    pub unsafe fn get_unchecked(&self, i: usize, j: usize) -> T {
        *self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }

    /// Row i as a slice, when columns are contiguous (`cs == 1`).
    pub fn row_slice(&self, i: usize) -> Option<&'a [T]> {
        if self.cs != 1 || i >= self.rows {
            return None;
        }
        // SAFETY: cs == 1, so row i is `cols` consecutive valid entries.
        Some(unsafe {
            std::slice::from_raw_parts(self.ptr.offset(i as isize * self.rs), self.cols)
        })
    }

    /// Copies the view into an owned row-major matrix.
    pub fn to_owned(&self) -> Matrix<T> {
        if self.cs == 1 {
            // Contiguous rows (the usual case: a row-major matrix or a block of its rows)
            // copy as slices, which is several times faster than entry-by-entry reads.
            let mut data = Vec::with_capacity(self.rows * self.cols);
            for i in 0..self.rows {
                data.extend_from_slice(self.row_slice(i).unwrap_or(&[]));
            }
            return Matrix {
                rows: self.rows,
                cols: self.cols,
                data,
            };
        }
        Matrix::from_fn(self.rows, self.cols, |i, j| unsafe {
            self.get_unchecked(i, j)
        })
    }

    /// First (row, col) holding NaN or ±inf, if any.
    pub fn find_non_finite(&self) -> Option<(usize, usize)> {
        for i in 0..self.rows {
            for j in 0..self.cols {
                // SAFETY: in bounds.
                if !unsafe { self.get_unchecked(i, j) }.is_finite() {
                    return Some((i, j));
                }
            }
        }
        None
    }

    /// Frobenius norm, accumulated in f64.
    pub fn norm_fro(&self) -> f64 {
        let mut s = 0.0f64;
        for i in 0..self.rows {
            for j in 0..self.cols {
                // SAFETY: in bounds.
                let v = unsafe { self.get_unchecked(i, j) }.to_f64();
                s += v * v;
            }
        }
        s.sqrt()
    }
}
