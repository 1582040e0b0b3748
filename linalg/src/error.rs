//! The crate's one error type, with structured variants: the operation, the operand and the
//! shapes are fields, so callers can match on them and `Display` can still say it in a
//! sentence.

use std::fmt;

/// The size of an operand, as reported by [`LinalgError::DimensionMismatch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dims {
    /// A vector or buffer of exactly this many entries.
    Len(usize),
    /// A vector or buffer of at least this many entries (a strided view's backing slice).
    MinLen(usize),
    /// A matrix with this many (rows, columns).
    Shape(usize, usize),
}

impl fmt::Display for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dims::Len(n) => write!(f, "length {n}"),
            Dims::MinLen(n) => write!(f, "length ≥ {n}"),
            Dims::Shape(r, c) => write!(f, "{r}×{c}"),
        }
    }
}

/// Everything that can go wrong in `linalg`, implemented by hand so the crate stays
/// dependency-free.
#[derive(Debug, Clone, PartialEq)]
pub enum LinalgError {
    /// Operand shapes do not fit together: `operand` of `op` has size `got` where the other
    /// operands require `expected`. Displayed as "gemm: B is 5×4, expected 3×4".
    DimensionMismatch {
        /// The routine that checked, e.g. `"gemm"` or `"Cholesky::solve"`.
        op: &'static str,
        /// The operand whose size is wrong, named as in the routine's docs (e.g. `"B"`).
        operand: &'static str,
        /// The size the other operands require.
        expected: Dims,
        /// The size the operand has.
        got: Dims,
    },
    /// A square matrix was required (Cholesky, the eigensolver, a triangle, a dense CG
    /// operator).
    NotSquare {
        /// Row count of the matrix that was passed.
        rows: usize,
        /// Its column count, which should have equalled `rows`.
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
        /// (row, column) of the first offending entry in row-major order; a vector's entry i
        /// is (i, 0).
        at: (usize, usize),
    },
    /// A triangular matrix had an exactly zero diagonal entry.
    Singular {
        /// 0-based index of the zero diagonal entry.
        index: usize,
    },
    /// An iterative method did not converge within its iteration budget.
    NoConvergence {
        /// Iterations spent before giving up.
        iterations: usize,
    },
    /// A parameter was outside its valid range. Displayed as
    /// "cg: invalid rtol = -1.0: must be positive and finite".
    InvalidArgument {
        /// The routine that checked.
        op: &'static str,
        /// The parameter's name in that routine's signature.
        arg: &'static str,
        /// The offending value when it is a number (counts included, as f64).
        value: Option<f64>,
        /// What the parameter must satisfy, or why it cannot be used.
        reason: &'static str,
    },
}

impl fmt::Display for LinalgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinalgError::DimensionMismatch {
                op,
                operand,
                expected,
                got,
            } => write!(
                f,
                "dimension mismatch in {op}: {operand} is {got}, expected {expected}"
            ),
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
            LinalgError::InvalidArgument {
                op,
                arg,
                value,
                reason,
            } => match value {
                Some(v) => write!(f, "invalid argument to {op}: {arg} = {v:?}: {reason}"),
                None => write!(f, "invalid argument to {op}: {arg}: {reason}"),
            },
        }
    }
}

impl std::error::Error for LinalgError {}

impl LinalgError {
    /// A [`LinalgError::DimensionMismatch`] for a vector or buffer of length `got` where
    /// `expected` entries are required.
    pub fn len_mismatch(
        op: &'static str,
        operand: &'static str,
        expected: usize,
        got: usize,
    ) -> Self {
        LinalgError::DimensionMismatch {
            op,
            operand,
            expected: Dims::Len(expected),
            got: Dims::Len(got),
        }
    }

    /// A [`LinalgError::DimensionMismatch`] for a matrix of shape `got` where `expected` is
    /// required.
    pub fn shape_mismatch(
        op: &'static str,
        operand: &'static str,
        expected: (usize, usize),
        got: (usize, usize),
    ) -> Self {
        LinalgError::DimensionMismatch {
            op,
            operand,
            expected: Dims::Shape(expected.0, expected.1),
            got: Dims::Shape(got.0, got.1),
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, LinalgError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_as_a_sentence() {
        let e = LinalgError::shape_mismatch("gemm", "B", (3, 4), (5, 4));
        assert_eq!(
            e.to_string(),
            "dimension mismatch in gemm: B is 5×4, expected 3×4"
        );
        let e = LinalgError::len_mismatch("cg", "b", 10, 9);
        assert_eq!(
            e.to_string(),
            "dimension mismatch in cg: b is length 9, expected length 10"
        );
        let e = LinalgError::InvalidArgument {
            op: "cg",
            arg: "rtol",
            value: Some(-1.0),
            reason: "must be positive and finite",
        };
        assert_eq!(
            e.to_string(),
            "invalid argument to cg: rtol = -1.0: must be positive and finite"
        );
        let e = LinalgError::InvalidArgument {
            op: "cg",
            arg: "preconditioner",
            value: None,
            reason: "Jacobi needs the operator's diagonal",
        };
        assert_eq!(
            e.to_string(),
            "invalid argument to cg: preconditioner: Jacobi needs the operator's diagonal"
        );
    }
}
