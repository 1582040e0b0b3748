//! The interface of the reference engine: [`Graph`], a backend that holds tensors and applies
//! primitives to them, and [`Var`], a handle to a value inside one graph.
//!
//! A function of tensors is written once against `&mut dyn Graph<T>`; the backends differ only
//! in what [`Graph::apply`] records next to the value: nothing ([`super::eval::Eval`]), a
//! block of tangents ([`super::dual::DualGraph`]) or a tape entry ([`super::tape::Tape`]).

use super::prims::binary::{Add, Binary, Div, Mul, Sub};
use super::prims::elementwise::{Elementwise, Neg, Scale};
use super::prims::loss::{LogSoftmax, Mse, Softmax, SoftmaxCrossEntropy};
use super::prims::matmul::{BatchMatMul, MatMul};
use super::prims::primitive::Prim;
use super::prims::reduce::{Mean, MeanAxis, Sum, SumAxis};
use super::prims::shape::{transpose_perm, Concat, Permute, Reshape, Slice};
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use crate::unary::{Activation, Exp, Log, Square};
use linalg::Real;
use std::sync::Arc;

/// A handle to a value inside one graph (an index into its list of values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub(crate) usize);

impl Var {
    /// Position of the value in its graph, in creation order.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A backend that can hold tensors and apply primitives to them.
///
/// Only [`constant`](Graph::constant), [`value`](Graph::value) and
/// [`apply`](Graph::apply) are required; every named operation is a provided method that
/// calls `apply`, so backends differ only in what `apply` records alongside the value.
pub trait Graph<T: Real> {
    /// Adds a value that is not differentiated (zero tangent, no gradient).
    fn constant(&mut self, value: Tensor<T>) -> Var;
    /// The value behind a handle; errors for a handle from another graph.
    fn value(&self, v: Var) -> Result<&Tensor<T>>;
    /// Applies a primitive to operands, returning the handle of its result.
    fn apply(&mut self, prim: Prim<T>, inputs: &[Var]) -> Result<Var>;

    /// A · B (2-D).
    fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Arc::new(MatMul), &[a, b])
    }
    /// Aᵦ · Bᵦ for each β (3-D, same batch).
    fn batch_matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Arc::new(BatchMatMul), &[a, b])
    }
    /// a + b (b may be a suffix-shaped bias).
    fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Arc::new(Binary(Add)), &[a, b])
    }
    /// a − b (b may be a suffix-shaped bias).
    fn sub(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Arc::new(Binary(Sub)), &[a, b])
    }
    /// a ⊙ b (b may be suffix-shaped).
    fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Arc::new(Binary(Mul)), &[a, b])
    }
    /// a ⊘ b (b may be suffix-shaped); a zero divisor is a domain error.
    fn div(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Arc::new(Binary(Div)), &[a, b])
    }
    /// −x.
    fn neg(&mut self, x: Var) -> Result<Var> {
        self.apply(Arc::new(Neg), &[x])
    }
    /// c·x.
    fn scale(&mut self, x: Var, c: f64) -> Result<Var> {
        self.apply(Arc::new(Scale(c)), &[x])
    }
    /// An activation applied entry by entry.
    fn activation(&mut self, act: Activation, x: Var) -> Result<Var> {
        self.apply(Arc::new(Elementwise(act)), &[x])
    }
    /// max(x, 0).
    fn relu(&mut self, x: Var) -> Result<Var> {
        self.activation(Activation::Relu, x)
    }
    /// x for x > 0, a·x otherwise.
    fn leaky_relu(&mut self, x: Var, a: f64) -> Result<Var> {
        self.activation(Activation::LeakyRelu(a), x)
    }
    /// tanh x.
    fn tanh(&mut self, x: Var) -> Result<Var> {
        self.activation(Activation::Tanh, x)
    }
    /// 1/(1 + e⁻ˣ).
    fn sigmoid(&mut self, x: Var) -> Result<Var> {
        self.activation(Activation::Sigmoid, x)
    }
    /// ln(1 + eˣ).
    fn softplus(&mut self, x: Var) -> Result<Var> {
        self.activation(Activation::Softplus, x)
    }
    /// erf x.
    fn erf(&mut self, x: Var) -> Result<Var> {
        self.activation(Activation::Erf, x)
    }
    /// x·Φ(x) (exact GELU).
    fn gelu(&mut self, x: Var) -> Result<Var> {
        self.activation(Activation::Gelu, x)
    }
    /// eˣ.
    fn exp(&mut self, x: Var) -> Result<Var> {
        self.apply(Arc::new(Elementwise(Exp)), &[x])
    }
    /// ln x: −∞ at 0, a domain error for x < 0 (see [`Log`]).
    fn log(&mut self, x: Var) -> Result<Var> {
        self.apply(Arc::new(Elementwise(Log)), &[x])
    }
    /// x².
    fn square(&mut self, x: Var) -> Result<Var> {
        self.apply(Arc::new(Elementwise(Square)), &[x])
    }
    /// Σ of all entries (a scalar).
    fn sum(&mut self, x: Var) -> Result<Var> {
        self.apply(Arc::new(Sum), &[x])
    }
    /// Mean of all entries (a scalar).
    fn mean(&mut self, x: Var) -> Result<Var> {
        self.apply(Arc::new(Mean), &[x])
    }
    /// Σ along an axis (removed).
    fn sum_axis(&mut self, x: Var, axis: usize) -> Result<Var> {
        self.apply(Arc::new(SumAxis(axis)), &[x])
    }
    /// Mean along an axis (removed).
    fn mean_axis(&mut self, x: Var, axis: usize) -> Result<Var> {
        self.apply(Arc::new(MeanAxis(axis)), &[x])
    }
    /// Same entries, new shape.
    fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        self.apply(Arc::new(Reshape(shape.to_vec())), &[x])
    }
    /// Output axis a is input axis `perm[a]`.
    fn permute(&mut self, x: Var, perm: &[usize]) -> Result<Var> {
        self.apply(Arc::new(Permute(perm.to_vec())), &[x])
    }
    /// Swaps the last two axes.
    fn transpose(&mut self, x: Var) -> Result<Var> {
        let p = transpose_perm(self.value(x)?.ndim())?;
        self.apply(Arc::new(Permute(p)), &[x])
    }
    /// Operands laid end to end along an axis.
    fn concat(&mut self, xs: &[Var], axis: usize) -> Result<Var> {
        self.apply(Arc::new(Concat(axis)), xs)
    }
    /// Indices start..start + len along an axis.
    fn slice(&mut self, x: Var, axis: usize, start: usize, len: usize) -> Result<Var> {
        self.apply(Arc::new(Slice { axis, start, len }), &[x])
    }
    /// (1/N) Σ (p − t)².
    fn mse(&mut self, prediction: Var, target: Var) -> Result<Var> {
        self.apply(Arc::new(Mse), &[prediction, target])
    }
    /// Softmax along the last axis.
    fn softmax(&mut self, x: Var) -> Result<Var> {
        self.apply(Arc::new(Softmax), &[x])
    }
    /// Log-softmax along the last axis.
    fn log_softmax(&mut self, x: Var) -> Result<Var> {
        self.apply(Arc::new(LogSoftmax), &[x])
    }
    /// −(1/R) Σᵣ ⟨tᵣ, log_softmax(zᵣ)⟩.
    fn softmax_cross_entropy(&mut self, logits: Var, targets: Var) -> Result<Var> {
        self.apply(Arc::new(SoftmaxCrossEntropy), &[logits, targets])
    }
}

pub(crate) fn bad_var(v: Var, len: usize) -> AdError {
    AdError::InvalidArgument {
        what: format!(
            "variable #{} does not belong to this graph ({len} values)",
            v.0
        ),
    }
}
