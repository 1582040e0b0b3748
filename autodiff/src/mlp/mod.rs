//! The layer engine: dense networks, fast, with the model written once.
//!
//! [`mlp`] is the only place the architecture is spelled out; it is generic over the
//! layer-level [`Ops`] trait (two operations: an affine layer and an activation), and each
//! implementation is one mode, one file:
//!
//! | file | mode | values |
//! |---|---|---|
//! | `eval.rs` | [`LayerEval`]: f(X; θ) | n×width matrices |
//! | `forward.rs` | [`Forward`]: k JVPs in one pass | a primal and a block of k tangents ([`LayerDual`]) |
//! | `reverse.rs` | [`Reverse`]: records a [`LayerTape`]; [`LayerTape::backward`] sweeps a block of cotangents | tape indices |
//! | `on_graph.rs` | [`GraphOps`]: the same model on the reference engine ([`crate::graph`]) | graph handles |
//!
//! The rules are in `affine.rs` ([`Affine`]: forward, JVP, VJP and the tangents of the VJP,
//! side by side) and in [`crate::unary`] for φ. Around them: the network and its
//! parameterizations (`net.rs`, [`Mlp`]), where each parameter lives in θ (`layout.rs`), the
//! seeded initialisation (`init.rs`), one-call entry points f, J·v, Jᵀu, MSE gradient
//! (`api.rs`), whole Jacobians (`jacobian.rs`) and chosen columns of J from the NTK's factors (`columns.rs`), the empirical NTK (`ntk.rs`), matrix-free
//! kernel and Gauss–Newton operators (`operators.rs`), Hessian-vector products (`hvp.rs`) and
//! the linearised model f_lin(δ) = f(θ₀) + Jδ with those as its faces (`linearized.rs`), and
//! masks over the parameter layout with magnitude, global and random pruning (`mask.rs`).
//!
//! Use this engine for anything that runs at scale; use the reference engine to check it.

pub mod affine;
pub mod api;
pub mod audit;
pub mod columns;
pub mod eval;
pub mod forward;
pub mod hvp;
pub mod init;
pub mod jacobian;
pub mod layout;
pub mod linearized;
pub mod mask;
pub mod masked;
pub mod net;
pub mod ntk;
pub mod on_graph;
pub mod operators;
pub mod ops;
pub mod reverse;

pub use affine::Affine;
pub use columns::jacobian_columns;
pub use eval::{Activations, LayerEval};
pub use forward::{Forward, LayerDual, Seeds, Tangent};
pub use hvp::{gauss_newton_vp, mse_hvp};
pub use init::{Init, NormalStream};
pub use jacobian::{jacobian_by_jvp, jacobian_by_vjp, jacobian_columns_by_jvp};
pub use layout::{ParamEntry, ParamKind, ParamLayout};
pub use linearized::Linearized;
pub use mask::{prune_count, Mask};
pub use masked::{
    check_mask, jacobian_masked_by_jvp, jacobian_masked_by_vjp, kept_columns, ntk_masked,
    KeptJacobian, MaskedGaussNewtonOperator, MaskedNtkOperator,
};
pub use net::{Layer, Mlp, Parameterization};
pub use ntk::{
    ntk_by_contraction, ntk_cross_by_contraction, ntk_factor_bytes, ntk_memory_bytes,
    ntk_per_layer, ntk_structured, ntk_traced, NtkForm,
};
pub use on_graph::{mlp_on_graph, GraphOps};
pub use operators::{GaussNewtonOperator, NtkOperator, Ridge};
pub use ops::{mlp, Ops};
pub use reverse::{Cotangents, GradientSink, LayerTape, Node, NodeOp, ParamSink, Reverse};
