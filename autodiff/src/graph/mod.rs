//! The reference engine: any function of tensors, checked rule by rule.
//!
//! A function of tensors is written once against [`Graph`], an object-safe trait whose values
//! are handles ([`Var`]); three backends implement it:
//!
//! * [`Eval`] (`eval.rs`): plain evaluation, y = f(x);
//! * [`DualGraph`] (`dual.rs`): forward mode with a block of k tangents, (y, J·V) for
//!   V = [v₁ … v_k] in one pass (Griewank & Walther, *Evaluating Derivatives*, 2nd ed., §3.1);
//! * [`Tape`] (`tape.rs`): reverse mode, records a Wengert list, then Jᵀ·U for a block of k
//!   cotangents in one backward sweep (ibid., §3.2).
//!
//! Every primitive ([`prims`]) is one [`Primitive`] impl with its forward, JVP and VJP rules
//! side by side, and [`check`] tests rules and whole functions against finite differences and
//! the adjoint identity. The function-level transforms (`transforms.rs`: [`eval()`], [`jvp`],
//! [`jvp_block`], [`vjp`], [`vjp_block`], [`grad`], [`value_and_grad`], [`jacobian`]) take the
//! same closure `f: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>`:
//!
//! ```
//! use autodiff::graph::{jvp, vjp, Graph, Var};
//! use autodiff::Tensor;
//! let f = |g: &mut dyn Graph<f64>, x: &[Var]| {
//!     let h = g.tanh(x[0])?;
//!     g.sum(h)
//! };
//! let x = Tensor::vector(vec![0.1, -0.4]);
//! let v = Tensor::vector(vec![1.0, 0.0]);
//! let (_y, jv) = jvp(f, &[x.clone()], &[v]).unwrap();
//! let (_y, jtu) = vjp(f, &[x], &Tensor::scalar(1.0)).unwrap();
//! assert!((jv.item().unwrap() - jtu[0].data()[0]).abs() < 1e-15);
//! ```
//!
//! This engine favours generality and checkability over speed: every value is a [`Tensor`],
//! every operation allocates. Networks that must be fast run on the layer engine
//! ([`crate::mlp`]), whose model code also runs here through `mlp::GraphOps`, so the two
//! engines are compared on the same model.
//!
//! [`Tensor`]: crate::tensor::Tensor

pub mod audit;
pub mod backend;
pub mod check;
pub mod dual;
pub mod eval;
pub mod prims;
pub mod tape;
pub mod transforms;

pub use backend::{Graph, Var};
pub use dual::{Dual, DualGraph};
pub use eval::Eval;
pub use prims::{prim, Prim, Primitive};
pub use tape::{Gradients, Tape};
pub use transforms::{
    eval, grad, jacobian, jvp, jvp_block, value_and_grad, vjp, vjp_block, JacobianMode,
};
