//! The layer engine's model on the reference engine: [`GraphOps`] implements [`Ops`] on any
//! [`Graph`], so [`mlp`] — the one place the architecture is written — also runs as a function
//! of tensors, evaluated and differentiated by the reference engine (its `Eval`, `DualGraph`
//! and `Tape`).
//!
//! An affine layer h = s·a Wᵀ + σ_b·1 bᵀ becomes general primitives: slice W and b out of θ,
//! reshape W to [n_out, n_in], transpose, matmul, scale by s, scale b by σ_b, add the bias row;
//! φ becomes the elementwise primitive of the same [`Activation`]. No derivative rule is
//! written here, so when the two engines agree on f, J·v and Jᵀu, the layer engine's
//! hand-written rules (`affine.rs` and the three modes) agree with the reference engine's
//! primitive rules, on the same model code.

use super::net::{Layer, Mlp};
use super::ops::{mlp, Ops};
use crate::error::{AdError, Result};
use crate::graph::backend::{Graph, Var};
use crate::tensor::Tensor;
use crate::unary::Activation;
use linalg::Real;

/// [`Ops`] on a reference-engine graph: values are handles, θ is one vector-valued handle
/// (shape \[p\], laid out by [`super::layout::ParamLayout`]).
pub struct GraphOps<'g, T: Real> {
    graph: &'g mut dyn Graph<T>,
    theta: Var,
}

impl<'g, T: Real> GraphOps<'g, T> {
    /// The layer operations on `graph`, reading W and b from the handle `theta`.
    pub fn new(graph: &'g mut dyn Graph<T>, theta: Var) -> Self {
        GraphOps { graph, theta }
    }
}

impl<T: Real> Ops<T> for GraphOps<'_, T> {
    type Value = Var;

    /// h = s·a Wᵀ + σ_b·b, with W = reshape(θ[W block], [n_out, n_in]) and b = θ[b block].
    fn affine(&mut self, layer: &Layer, input: Var) -> Result<Var> {
        let g = &mut *self.graph;
        let (n_in, n_out) = (layer.n_in, layer.n_out);
        let w = g.slice(self.theta, 0, layer.w_offset, n_out * n_in)?;
        let w = g.reshape(w, &[n_out, n_in])?;
        let wt = g.transpose(w)?;
        let z = g.matmul(input, wt)?;
        let z = g.scale(z, layer.w_scale)?;
        let b = g.slice(self.theta, 0, layer.b_offset, n_out)?;
        let b = g.scale(b, layer.b_scale)?;
        g.add(z, b)
    }

    /// a = φ(z) by the elementwise primitive of φ.
    fn unary(&mut self, act: Activation, input: Var) -> Result<Var> {
        self.graph.activation(act, input)
    }
}

/// f(X; θ) as a function of tensors for the reference engine's transforms: its single input
/// is θ (shape \[p\]) and X (n×d) is a constant. It is [`mlp`] itself, run through [`GraphOps`].
pub fn mlp_on_graph<'a, T: Real>(
    net: &'a Mlp,
    x: &'a Tensor<T>,
) -> impl Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var> + 'a {
    move |g: &mut dyn Graph<T>, inputs: &[Var]| {
        let &[theta] = inputs else {
            return Err(AdError::InvalidArgument {
                what: format!("the network takes one input (θ), got {}", inputs.len()),
            });
        };
        let x = g.constant(x.clone());
        mlp(&mut GraphOps::new(g, theta), net, x)
    }
}
