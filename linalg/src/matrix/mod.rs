//! `Matrix<T>`: an owned row-major matrix, and the borrowed strided views `MatRef` / `MatMut`.
//!
//! A view is a pointer with a row stride and a column stride (in elements), so a block, a
//! transpose or a column of a matrix is a view of the same memory, never a copy. Blocked
//! algorithms (Golub & Van Loan, *Matrix Computations*, 4th ed., §1.3) work on such views.

mod strided;
mod view;
mod view_mut;

pub use view::MatRef;
pub use view_mut::MatMut;

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
            return Err(LinalgError::len_mismatch(
                "Matrix::from_vec",
                "data",
                rows * cols,
                data.len(),
            ));
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
