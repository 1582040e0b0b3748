//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong in `linalg`, implemented by hand so the crate stays
/// dependency-free.
#[derive(Debug, Clone, PartialEq)]
pub enum LinalgError {
    /// Operand shapes do not fit together; `what` names the operation and the shapes.
    DimensionMismatch {
        /// Human-readable description of the mismatch.
        what: String,
    },
    /// A square matrix was required.
    NotSquare {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
    /// Cholesky met a pivot `value ≤ 0` (or NaN) at diagonal index `pivot` (0-based): the matrix
    /// is not (numerically) positive definite.
    NotPositiveDefinite {
        /// 0-based index of the failing diagonal entry.
        pivot: usize,
        /// The value that would have had to be square-rooted.
        value: f64,
    },
    /// A NaN or infinite entry was found in an input; `at` is its (row, column).
    NonFinite {
        /// Where the first offending entry sits.
        at: (usize, usize),
    },
    /// A triangular matrix had an exactly zero diagonal entry.
    Singular {
        /// 0-based index of the zero diagonal entry.
        index: usize,
    },
    /// An iterative method did not converge within its iteration budget.
    NoConvergence {
        /// Iterations spent.
        iterations: usize,
    },
    /// A parameter was outside its valid range.
    InvalidArgument {
        /// What was wrong.
        what: String,
    },
}

impl fmt::Display for LinalgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinalgError::DimensionMismatch { what } => write!(f, "dimension mismatch: {what}"),
            LinalgError::NotSquare { rows, cols } => {
                write!(f, "matrix must be square, got {rows}×{cols}")
            }
            LinalgError::NotPositiveDefinite { pivot, value } => write!(
                f,
                "matrix is not positive definite: pivot {pivot} is {value:e} (must be > 0)"
            ),
            LinalgError::NonFinite { at } => {
                write!(
                    f,
                    "non-finite entry (NaN or ±inf) at row {}, column {}",
                    at.0, at.1
                )
            }
            LinalgError::Singular { index } => {
                write!(f, "triangular matrix is singular: zero diagonal at {index}")
            }
            LinalgError::NoConvergence { iterations } => {
                write!(f, "no convergence after {iterations} iterations")
            }
            LinalgError::InvalidArgument { what } => write!(f, "invalid argument: {what}"),
        }
    }
}

impl std::error::Error for LinalgError {}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, LinalgError>;
