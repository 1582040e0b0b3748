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

/// Old path of the network types, now in [`crate::mlp`].
// compatibility path, removed once experiments/ moves
pub mod nn {
    pub use crate::mlp::{
        Layer, Mlp, NormalStream, ParamEntry, ParamKind, ParamLayout, Parameterization,
    };
}

/// Old path of the network Jacobians, now in [`crate::mlp::jacobian`].
// compatibility path, removed once experiments/ moves
pub mod jacobian {
    pub use crate::mlp::jacobian::{jacobian_by_jvp, jacobian_by_vjp, jacobian_columns_by_jvp};
}

/// Old path of the empirical NTK and its operators, now in [`crate::mlp::ntk`] and
/// [`crate::mlp::operators`].
// compatibility path, removed once experiments/ moves
pub mod ntk {
    pub use crate::mlp::ntk::{
        ntk_by_contraction, ntk_cross_by_contraction, ntk_factor_bytes, ntk_memory_bytes,
        ntk_structured, ntk_traced,
    };
    pub use crate::mlp::operators::{GaussNewtonOperator, NtkOperator};
}

/// Old path of the Hessian-vector products, now in [`crate::mlp::hvp`].
// compatibility path, removed once experiments/ moves
pub mod hvp {
    pub use crate::mlp::hvp::{gauss_newton_vp, mse_hvp};
}
