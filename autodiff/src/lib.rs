//! Reverse- and forward-mode automatic differentiation for Tangent, as two named engines.
//!
//! * [`graph`] — **the reference engine**: any function of tensors, checked rule by rule. A
//!   function is written once against the [`Graph`] trait and evaluated plainly, in forward
//!   mode (blocks of tangents) or in reverse mode (a tape); every primitive states its forward,
//!   JVP and VJP rules side by side in one impl ([`graph::prims`]), and [`graph::check`] tests
//!   them against finite differences and the adjoint identity. General, slow, easy to trust.
//! * [`mlp`] — **the layer engine**: dense networks at speed. The model is written once
//!   ([`mlp::mlp`] over the [`mlp::Ops`] trait) and run by one file per mode; on top of it:
//!   whole Jacobians, the empirical NTK, Gauss–Newton and Hessian-vector products, and the
//!   linearised model. Its model code also runs on the reference engine (`mlp::GraphOps`), which
//!   is how the two engines are cross-checked.
//!
//! Both read the scalar rules of elementwise functions from [`unary`] (value, slope,
//! curvature). Errors are one enum, [`AdError`].
#![warn(missing_docs)]

pub mod error;
pub mod graph;
pub mod mlp;
pub mod tensor;
pub mod unary;

pub use error::{AdError, Result};
pub use graph::{Graph, Var};
pub use tensor::Tensor;
pub use unary::Activation;
