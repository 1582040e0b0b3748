//! `Matrix<T>`: an owned row-major matrix, and the borrowed strided views `MatRef` / `MatMut`.
//!
//! A view is a pointer with a row stride and a column stride (in elements), so a block, a
//! transpose or a column of a matrix is a view of the same memory, never a copy. Blocked
//! algorithms (Golub & Van Loan, *Matrix Computations*, 4th ed., §1.3) work on such views.

use crate::error::{LinalgError, Result};
use crate::real::Real;
use std::marker::PhantomData;

/// Owned dense matrix, row-major: entry (i, j) is `data[i * cols + j]`.
#[derive(Clone, PartialEq)]
pub struct Matrix<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
}

impl<T: Real> std::fmt::Debug for Matrix<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Matrix {}×{} [", self.rows, self.cols)?;
        for i in 0..self.rows.min(8) {
            let row: Vec<String> = (0..self.cols.min(8))
                .map(|j| format!("{:.4e}", self.get(i, j).to_f64()))
                .collect();
            writeln!(f, "  {}", row.join(" "))?;
        }
        write!(f, "]")
    }
}

impl<T: Real> Matrix<T> {
    /// The rows × cols zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![T::zero(); rows * cols],
        }
    }

    /// The n × n identity.
    pub fn identity(n: usize) -> Self {
        let mut m = Self::zeros(n, n);
        for i in 0..n {
            m.set(i, i, T::one());
        }
        m
    }

    /// Wraps a row-major buffer; errors if `data.len() != rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(LinalgError::DimensionMismatch {
                what: format!(
                    "buffer of {} entries for a {rows}×{cols} matrix",
                    data.len()
                ),
            });
        }
        Ok(Matrix { rows, cols, data })
    }

    /// Builds the matrix whose (i, j) entry is `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Matrix { rows, cols, data }
    }

    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// (rows, cols).
    #[inline]
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Entry (i, j); panics when out of bounds (an indexing bug, not bad input).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds"
        );
        self.data[i * self.cols + j]
    }

    /// Sets entry (i, j).
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: T) {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds"
        );
        self.data[i * self.cols + j] = v;
    }

    /// The row-major buffer.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The row-major buffer, mutable.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Consumes the matrix, returning its row-major buffer.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Row i as a slice.
    #[inline]
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row i as a mutable slice.
    #[inline]
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Borrowed view of the whole matrix.
    #[inline]
    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef {
            ptr: self.data.as_ptr(),
            rows: self.rows,
            cols: self.cols,
            rs: self.cols as isize,
            cs: 1,
            _life: PhantomData,
        }
    }

    /// Mutable view of the whole matrix.
    #[inline]
    pub fn as_mut(&mut self) -> MatMut<'_, T> {
        MatMut {
            ptr: self.data.as_mut_ptr(),
            rows: self.rows,
            cols: self.cols,
            rs: self.cols as isize,
            cs: 1,
            _life: PhantomData,
        }
    }

    /// The transpose as a new owned matrix.
    pub fn transpose(&self) -> Self {
        self.as_ref().t().to_owned()
    }

    /// First (row, col) holding NaN or ±inf, if any.
    pub fn find_non_finite(&self) -> Option<(usize, usize)> {
        self.as_ref().find_non_finite()
    }

    /// Frobenius norm ‖A‖_F = sqrt(Σ a_ij²), accumulated in f64 with scaling-free summation.
    pub fn norm_fro(&self) -> f64 {
        self.as_ref().norm_fro()
    }

    /// Largest absolute entry, max |a_ij|.
    pub fn norm_max(&self) -> f64 {
        self.data
            .iter()
            .fold(0.0f64, |m, x| m.max(x.to_f64().abs()))
    }
}

/// Immutable strided view: entry (i, j) sits at `ptr + i·rs + j·cs`.
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    ptr: *const T,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    _life: PhantomData<&'a T>,
}

// SAFETY: a MatRef is a shared borrow of `T: Sync` data.
unsafe impl<T: Sync> Send for MatRef<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for MatRef<'_, T> {}

impl<'a, T: Real> MatRef<'a, T> {
    /// View of a row-major slice with `rows` rows of `cols` entries, consecutive rows
    /// `row_stride` apart. Errors when the slice is too short.
    pub fn from_slice(data: &'a [T], rows: usize, cols: usize, row_stride: usize) -> Result<Self> {
        let need = if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * row_stride + cols
        };
        if data.len() < need || (rows > 1 && row_stride < cols) {
            return Err(LinalgError::DimensionMismatch {
                what: format!(
                    "slice of {} entries for a {rows}×{cols} view with row stride {row_stride}",
                    data.len()
                ),
            });
        }
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

    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Row stride in elements.
    #[inline]
    pub fn row_stride(&self) -> isize {
        self.rs
    }
    /// Column stride in elements.
    #[inline]
    pub fn col_stride(&self) -> isize {
        self.cs
    }
    /// Pointer to entry (0, 0).
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// Entry (i, j).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds"
        );
        // SAFETY: bounds checked above; the view's invariant covers every in-bounds entry.
        unsafe { *self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }

    /// Entry (i, j) without bounds checks.
    ///
    /// # Safety
    /// `i < rows` and `j < cols`.
    #[inline(always)]
    pub unsafe fn get_unchecked(&self, i: usize, j: usize) -> T {
        *self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }

    /// The transpose, as a view (strides swapped).
    #[inline]
    pub fn t(self) -> MatRef<'a, T> {
        MatRef {
            ptr: self.ptr,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            _life: PhantomData,
        }
    }

    /// The block of `nrows` × `ncols` starting at (i, j).
    #[inline]
    pub fn submatrix(self, i: usize, j: usize, nrows: usize, ncols: usize) -> MatRef<'a, T> {
        assert!(
            i + nrows <= self.rows && j + ncols <= self.cols,
            "block ({i}, {j}) of {nrows}×{ncols} out of a {}×{} view",
            self.rows,
            self.cols
        );
        MatRef {
            // SAFETY: the block start lies inside the view (or is one past an empty block).
            ptr: unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) },
            rows: nrows,
            cols: ncols,
            rs: self.rs,
            cs: self.cs,
            _life: PhantomData,
        }
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

/// Mutable strided view: entry (i, j) sits at `ptr + i·rs + j·cs`.
pub struct MatMut<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    _life: PhantomData<&'a mut T>,
}

// SAFETY: a MatMut is an exclusive borrow of `T: Send` data.
unsafe impl<T: Send> Send for MatMut<'_, T> {}
// SAFETY: shared access to a MatMut only allows reads.
unsafe impl<T: Sync> Sync for MatMut<'_, T> {}

impl<'a, T: Real> MatMut<'a, T> {
    /// Mutable view of a row-major slice, consecutive rows `row_stride` apart.
    pub fn from_slice(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
    ) -> Result<Self> {
        let need = if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * row_stride + cols
        };
        if data.len() < need || (rows > 1 && row_stride < cols) {
            return Err(LinalgError::DimensionMismatch {
                what: format!(
                    "slice of {} entries for a {rows}×{cols} view with row stride {row_stride}",
                    data.len()
                ),
            });
        }
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

    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Row stride in elements.
    #[inline]
    pub fn row_stride(&self) -> isize {
        self.rs
    }
    /// Column stride in elements.
    #[inline]
    pub fn col_stride(&self) -> isize {
        self.cs
    }
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

    /// Entry (i, j).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds"
        );
        // SAFETY: bounds checked.
        unsafe { *self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
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

    /// The transpose, as a mutable view.
    #[inline]
    pub fn t(self) -> MatMut<'a, T> {
        MatMut {
            ptr: self.ptr,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            _life: PhantomData,
        }
    }

    /// The block of `nrows` × `ncols` starting at (i, j), consuming this view.
    #[inline]
    pub fn submatrix(self, i: usize, j: usize, nrows: usize, ncols: usize) -> MatMut<'a, T> {
        assert!(
            i + nrows <= self.rows && j + ncols <= self.cols,
            "block ({i}, {j}) of {nrows}×{ncols} out of a {}×{} view",
            self.rows,
            self.cols
        );
        MatMut {
            // SAFETY: the block start lies inside the view.
            ptr: unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) },
            rows: nrows,
            cols: ncols,
            rs: self.rs,
            cs: self.cs,
            _life: PhantomData,
        }
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
