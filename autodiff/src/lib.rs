//! Reverse- and forward-mode automatic differentiation for Tangent.
#![warn(missing_docs)]

pub mod error;
pub mod ops;

pub use error::{AdError, Result};
pub use ops::elementwise::Activation;
