//! `MatMut`: the borrowed, mutable strided view.

use super::strided::{check_row_major, strided_view_common, strided_view_debug};
use super::MatRef;
use crate::error::Result;
use crate::real::Real;
use std::marker::PhantomData;

/// Mutable strided view: entry (i, j) sits at `ptr + i·rs + j·cs`.
pub struct MatMut<'a, T> {
    pub(super) ptr: *mut T,
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) rs: isize,
    pub(super) cs: isize,
    pub(super) _life: PhantomData<&'a mut T>,
}

// SAFETY: a MatMut is an exclusive borrow of `T: Send` data.
unsafe impl<T: Send> Send for MatMut<'_, T> {}
// SAFETY: shared access to a MatMut only allows reads.
unsafe impl<T: Sync> Sync for MatMut<'_, T> {}

strided_view_debug!(MatMut);

impl<'a, T: Real> MatMut<'a, T> {
    /// Mutable view of a row-major slice, consecutive rows `row_stride` apart.
    ///
    /// Errors as [`MatRef::from_slice`].
    pub fn from_slice(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
    ) -> Result<Self> {
        check_row_major("MatMut::from_slice", data.len(), rows, cols, row_stride)?;
        Ok(MatMut {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            rs: row_stride as isize,
            cs: 1,
            _life: PhantomData,
        })
    }

    /// Raw constructor.
    ///
    /// # Safety
    /// Every in-bounds (i, j) must address a valid `T`, distinct (i, j) must address distinct
    /// memory, and nothing else may access it during `'a`.
    pub unsafe fn from_raw_parts(
        ptr: *mut T,
        rows: usize,
        cols: usize,
        rs: isize,
        cs: isize,
    ) -> Self {
        MatMut {
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
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr
    }

    /// Read-only view of the same entries.
    #[inline]
    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef {
            ptr: self.ptr,
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
            _life: PhantomData,
        }
    }

    /// Reborrows the view for a shorter lifetime.
    #[inline]
    pub fn rb(&mut self) -> MatMut<'_, T> {
        MatMut {
            ptr: self.ptr,
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
            _life: PhantomData,
        }
    }

    /// Sets entry (i, j).
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: T) {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds"
        );
        // SAFETY: bounds checked; exclusive borrow.
        unsafe { *self.ptr.offset(i as isize * self.rs + j as isize * self.cs) = v }
    }

    /// Mutable reference to (i, j) without bounds checks.
    ///
    /// # Safety
    /// `i < rows` and `j < cols`.
    #[inline(always)]
    pub unsafe fn get_mut_unchecked(&mut self, i: usize, j: usize) -> &mut T {
        &mut *self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }

    /// Splits into rows `[0, r)` and `[r, rows)`.
    pub fn split_at_row(self, r: usize) -> (MatMut<'a, T>, MatMut<'a, T>) {
        assert!(r <= self.rows);
        let (rows, cols, rs, cs) = (self.rows, self.cols, self.rs, self.cs);
        let top = MatMut {
            ptr: self.ptr,
            rows: r,
            cols,
            rs,
            cs,
            _life: PhantomData,
        };
        // SAFETY: row r starts inside (or one past) the view; the halves are disjoint.
        let bottom = MatMut {
            ptr: unsafe { self.ptr.offset(r as isize * rs) },
            rows: rows - r,
            cols,
            rs,
            cs,
            _life: PhantomData,
        };
        (top, bottom)
    }

    /// Splits into columns `[0, c)` and `[c, cols)`.
    pub fn split_at_col(self, c: usize) -> (MatMut<'a, T>, MatMut<'a, T>) {
        let (a, b) = self.t().split_at_row(c);
        (a.t(), b.t())
    }

    /// Sets every entry to `v`.
    pub fn fill(&mut self, v: T) {
        for i in 0..self.rows {
            for j in 0..self.cols {
                // SAFETY: in bounds.
                unsafe { *self.get_mut_unchecked(i, j) = v };
            }
        }
    }

    /// Copies `src` (same shape) into this view.
    pub fn copy_from(&mut self, src: MatRef<'_, T>) {
        assert_eq!(
            (self.rows, self.cols),
            (src.rows(), src.cols()),
            "copy_from shape mismatch"
        );
        for i in 0..self.rows {
            for j in 0..self.cols {
                // SAFETY: in bounds for both.
                unsafe { *self.get_mut_unchecked(i, j) = src.get_unchecked(i, j) };
            }
        }
    }
}
