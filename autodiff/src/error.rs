//! The crate's one error type.

use linalg::LinalgError;
use std::fmt;

/// Everything that can go wrong in `autodiff`.
#[derive(Debug, Clone, PartialEq)]
pub enum AdError {
    /// Operand shapes do not fit together.
    Shape {
        /// What was expected and what was found.
        what: String,
    },
    /// An input lies outside a primitive's domain (log of a negative number, …).
    Domain {
        /// Which primitive and which value.
        what: String,
    },
    /// A parameter or option is invalid (zero width, negative σ, chunk size 0, …).
    InvalidArgument {
        /// What was wrong.
        what: String,
    },
    /// A job would need more memory than allowed.
    TooLarge {
        /// What was asked for.
        what: String,
    },
    /// An error from the linear algebra layer.
    Linalg(LinalgError),
}

impl fmt::Display for AdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdError::Shape { what } => write!(f, "shape mismatch: {what}"),
            AdError::Domain { what } => write!(f, "domain error: {what}"),
            AdError::InvalidArgument { what } => write!(f, "invalid argument: {what}"),
            AdError::TooLarge { what } => write!(f, "too large: {what}"),
            AdError::Linalg(e) => write!(f, "linear algebra: {e}"),
        }
    }
}

impl std::error::Error for AdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdError::Linalg(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LinalgError> for AdError {
    fn from(e: LinalgError) -> Self {
        AdError::Linalg(e)
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, AdError>;
