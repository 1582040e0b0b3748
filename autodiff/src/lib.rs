//! Reverse- and forward-mode automatic differentiation for Tangent.
#![warn(missing_docs)]

pub mod check;
pub mod error;
pub mod forward;
pub mod graph;
pub mod ops;
pub mod tape;
pub mod tensor;

pub mod hvp;
pub mod jacobian;
pub mod model;
pub mod nn;
pub mod ntk;

pub use error::{AdError, Result};
pub use graph::{Graph, Var};
pub use ops::elementwise::Activation;
pub use tensor::Tensor;
