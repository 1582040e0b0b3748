//! What the two strided views share. [`MatRef`](super::MatRef) and
//! [`MatMut`](super::MatMut) differ only in the mutability of their pointer, so their shape
//! and stride accessors, bounds-checked reads, transposes and blocks are written once here,
//! as is the check of a row-major slice they are built from.

use crate::error::{Dims, LinalgError, Result};

/// Checks that a slice of `len` entries holds `rows` rows of `cols` entries, consecutive rows
/// `row_stride` apart, without overlap: the errors of `MatRef::from_slice` and
/// `MatMut::from_slice` (`op` names which).
pub(super) fn check_row_major(
    op: &'static str,
    len: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
) -> Result<()> {
    let need = if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * row_stride + cols
    };
    if rows > 1 && row_stride < cols {
        return Err(LinalgError::InvalidArgument {
            op,
            arg: "row_stride",
            value: Some(row_stride as f64),
            reason: "must be at least cols, or rows would overlap",
        });
    }
    if len < need {
        return Err(LinalgError::DimensionMismatch {
            op,
            operand: "data",
            expected: Dims::MinLen(need),
            got: Dims::Len(len),
        });
    }
    Ok(())
}

/// Expands, inside a view's `impl<'a, T: Real>` block, to `rows`, `cols`, `row_stride`,
/// `col_stride`, `get`, `t` and `submatrix`. The view has the fields `ptr`, `rows`, `cols`,
/// `rs`, `cs` and `_life`, and entry (i, j) at `ptr + i·rs + j·cs`.
macro_rules! strided_view_common {
    () => {
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

        /// The transpose, as a view (strides swapped).
        #[inline]
        pub fn t(self) -> Self {
            Self {
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
        pub fn submatrix(self, i: usize, j: usize, nrows: usize, ncols: usize) -> Self {
            assert!(
                i + nrows <= self.rows && j + ncols <= self.cols,
                "block ({i}, {j}) of {nrows}×{ncols} out of a {}×{} view",
                self.rows,
                self.cols
            );
            Self {
                // SAFETY: the block start lies inside the view (or is one past an empty block).
                ptr: unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) },
                rows: nrows,
                cols: ncols,
                rs: self.rs,
                cs: self.cs,
                _life: PhantomData,
            }
        }
    };
}
pub(super) use strided_view_common;

/// `Debug` for a view type: its shape and strides (not the entries: a view may be huge, and
/// reading it needs `T: Real`).
macro_rules! strided_view_debug {
    ($view:ident) => {
        impl<T> std::fmt::Debug for $view<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($view))
                    .field("rows", &self.rows)
                    .field("cols", &self.cols)
                    .field("row_stride", &self.rs)
                    .field("col_stride", &self.cs)
                    .finish()
            }
        }
    };
}
pub(super) use strided_view_debug;
