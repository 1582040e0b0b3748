//! Primitives, one file per family. Each primitive states its forward rule, its JVP rule and
//! its VJP rule side by side, so a reader checks all three against one formula.
//!
//! [`Prim`] names a primitive; its three methods dispatch to the family files:
//!
//! * [`Prim::forward`]: y = f(x₁, …, x_m);
//! * [`Prim::jvp`]: ẏ = Σᵢ ∂f/∂xᵢ · ẋᵢ for a *block* of k tangents at once;
//! * [`Prim::vjp`]: x̄ᵢ = (∂f/∂xᵢ)ᵀ ȳ for a block of k cotangents at once.
//!
//! A block of k tangents (or cotangents) of a value with shape S is a tensor with shape
//! [k, S…]: row r is the r-th direction. Carrying blocks lets linear maps act on all k
//! directions with one matrix–matrix product (matmul's JVP/VJP become GEMMs), and it is how
//! both forward mode (k JVPs in one pass) and reverse mode (k VJPs in one sweep) are built.
//! A single JVP or VJP is the block with k = 1.

pub mod affine;
pub mod binary;
pub mod elementwise;
pub mod loss;
pub mod matmul;
pub mod reduce;
pub mod shape;

use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use elementwise::UnaryOp;
use linalg::Real;

/// A differentiable primitive. Parameters that are not tensors (an axis, a constant) live in
/// the variant; tensor operands are passed to the rules.
#[derive(Clone, Debug, PartialEq)]
pub enum Prim {
    /// C = A B for A: [m, p], B: [p, n].
    MatMul,
    /// Cᵦ = Aᵦ Bᵦ for A: [b, m, p], B: [b, p, n].
    BatchMatMul,
    /// y = a + b, b's shape a suffix of a's (b is repeated, e.g. a bias row `[d]` over `[n, d]`).
    Add,
    /// y = a − b, broadcasting as for `Add`.
    Sub,
    /// y = a ⊙ b, broadcasting as for `Add`.
    Mul,
    /// y = a ⊘ b, broadcasting as for `Add`; any zero divisor is a domain error.
    Div,
    /// y = −x.
    Neg,
    /// y = c·x for a constant c.
    Scale(f64),
    /// y = g(x) entry by entry.
    Unary(UnaryOp),
    /// y = Σᵢ xᵢ, a scalar.
    Sum,
    /// y = (1/N) Σᵢ xᵢ, a scalar; N = 0 is an error.
    Mean,
    /// Sum along one axis (the axis is removed).
    SumAxis(usize),
    /// Mean along one axis (the axis is removed); an empty axis is an error.
    MeanAxis(usize),
    /// The same entries under a new shape.
    Reshape(Vec<usize>),
    /// y[i_{p(0)}, …] axes permuted: output axis a is input axis `perm[a]`.
    Permute(Vec<usize>),
    /// Concatenation of one or more tensors along an axis.
    Concat(usize),
    /// Entries `start..start + len` along an axis.
    Slice {
        /// The axis sliced.
        axis: usize,
        /// First index kept.
        start: usize,
        /// Number of indices kept.
        len: usize,
    },
    /// Mean squared error L = (1/N) Σ (p − t)² of a prediction and a target, a scalar.
    Mse,
    /// Softmax along the last axis, yᵢ = e^{xᵢ − max x} / Σⱼ e^{xⱼ − max x}.
    Softmax,
    /// Log-softmax along the last axis, yᵢ = xᵢ − max x − ln Σⱼ e^{xⱼ − max x}.
    LogSoftmax,
    /// Softmax cross-entropy of logits z and targets t (same shape, classes on the last axis),
    /// averaged over rows: L = −(1/R) Σ_r Σ_c t_rc · log_softmax(z_r)_c.
    SoftmaxCrossEntropy,
}

impl Prim {
    /// Number of tensor operands, or `None` for a variable count (concat: one or more).
    pub fn arity(&self) -> Option<usize> {
        match self {
            Prim::MatMul
            | Prim::BatchMatMul
            | Prim::Add
            | Prim::Sub
            | Prim::Mul
            | Prim::Div
            | Prim::Mse
            | Prim::SoftmaxCrossEntropy => Some(2),
            Prim::Concat(_) => None,
            _ => Some(1),
        }
    }

    /// A short name for error messages.
    pub fn name(&self) -> String {
        format!("{self:?}")
    }

    fn check_arity(&self, m: usize) -> Result<()> {
        let ok = match self.arity() {
            Some(a) => a == m,
            None => m >= 1,
        };
        if ok {
            Ok(())
        } else {
            Err(AdError::InvalidArgument {
                what: format!("{} called with {m} operands", self.name()),
            })
        }
    }

    /// Forward rule: y = f(x₁, …, x_m). Checks shapes and domains.
    pub fn forward<T: Real>(&self, x: &[&Tensor<T>]) -> Result<Tensor<T>> {
        self.check_arity(x.len())?;
        match self {
            Prim::MatMul => matmul::matmul_forward(x[0], x[1]),
            Prim::BatchMatMul => matmul::batch_matmul_forward(x[0], x[1]),
            Prim::Add => binary::forward(binary::BinaryOp::Add, x[0], x[1]),
            Prim::Sub => binary::forward(binary::BinaryOp::Sub, x[0], x[1]),
            Prim::Mul => binary::forward(binary::BinaryOp::Mul, x[0], x[1]),
            Prim::Div => binary::forward(binary::BinaryOp::Div, x[0], x[1]),
            Prim::Neg => Ok(elementwise::scale_forward(-1.0, x[0])),
            Prim::Scale(c) => Ok(elementwise::scale_forward(*c, x[0])),
            Prim::Unary(op) => elementwise::unary_forward(*op, x[0]),
            Prim::Sum => Ok(reduce::sum_forward(x[0])),
            Prim::Mean => reduce::mean_forward(x[0]),
            Prim::SumAxis(a) => reduce::sum_axis_forward(x[0], *a, false),
            Prim::MeanAxis(a) => reduce::sum_axis_forward(x[0], *a, true),
            Prim::Reshape(s) => x[0].clone().reshape(s),
            Prim::Permute(p) => shape::permute(x[0], p),
            Prim::Concat(a) => shape::concat(x, *a),
            Prim::Slice { axis, start, len } => shape::slice(x[0], *axis, *start, *len),
            Prim::Mse => loss::mse_forward(x[0], x[1]),
            Prim::Softmax => loss::softmax_forward(x[0]),
            Prim::LogSoftmax => loss::log_softmax_forward(x[0]),
            Prim::SoftmaxCrossEntropy => loss::cross_entropy_forward(x[0], x[1]),
        }
    }

    /// JVP rule for a block of k tangents: `x` are the operands, `y` the forward result,
    /// `dx[i]` the tangent block [k, shape(xᵢ)…] of operand i (`None` = zero, a constant).
    /// Returns the block [k, shape(y)…] of ẏ = Σᵢ ∂f/∂xᵢ · ẋᵢ.
    pub fn jvp<T: Real>(
        &self,
        x: &[&Tensor<T>],
        y: &Tensor<T>,
        dx: &[Option<&Tensor<T>>],
        k: usize,
    ) -> Result<Tensor<T>> {
        self.check_arity(x.len())?;
        if dx.len() != x.len() {
            return Err(AdError::InvalidArgument {
                what: format!(
                    "{}: {} tangents for {} operands",
                    self.name(),
                    dx.len(),
                    x.len()
                ),
            });
        }
        for (xi, di) in x.iter().zip(dx) {
            if let Some(d) = di {
                check_block(d, xi.shape(), k, "tangent")?;
            }
        }
        match self {
            Prim::MatMul => matmul::matmul_jvp(x[0], x[1], dx[0], dx[1], k),
            Prim::BatchMatMul => matmul::batch_matmul_jvp(x[0], x[1], dx[0], dx[1], k),
            Prim::Add => binary::jvp(binary::BinaryOp::Add, x[0], x[1], y, dx[0], dx[1], k),
            Prim::Sub => binary::jvp(binary::BinaryOp::Sub, x[0], x[1], y, dx[0], dx[1], k),
            Prim::Mul => binary::jvp(binary::BinaryOp::Mul, x[0], x[1], y, dx[0], dx[1], k),
            Prim::Div => binary::jvp(binary::BinaryOp::Div, x[0], x[1], y, dx[0], dx[1], k),
            Prim::Neg => Ok(elementwise::scale_linear(-1.0, req(dx[0], x[0], k))),
            Prim::Scale(c) => Ok(elementwise::scale_linear(*c, req(dx[0], x[0], k))),
            Prim::Unary(op) => Ok(elementwise::unary_jvp(*op, x[0], y, &req(dx[0], x[0], k))),
            Prim::Sum => Ok(reduce::sum_jvp(&req(dx[0], x[0], k))),
            Prim::Mean => reduce::mean_jvp(x[0], &req(dx[0], x[0], k)),
            Prim::SumAxis(a) => reduce::sum_axis_forward(&req(dx[0], x[0], k), a + 1, false),
            Prim::MeanAxis(a) => reduce::sum_axis_forward(&req(dx[0], x[0], k), a + 1, true),
            Prim::Reshape(s) => shape::reshape_block(req(dx[0], x[0], k), s, k),
            Prim::Permute(p) => shape::permute(&req(dx[0], x[0], k), &shape::block_perm(p)),
            Prim::Concat(a) => shape::concat_jvp(x, dx, *a, k),
            Prim::Slice { axis, start, len } => {
                shape::slice(&req(dx[0], x[0], k), axis + 1, *start, *len)
            }
            Prim::Mse => loss::mse_jvp(x[0], x[1], dx[0], dx[1], k),
            Prim::Softmax => loss::softmax_jvp(y, &req(dx[0], x[0], k)),
            Prim::LogSoftmax => loss::log_softmax_jvp(y, &req(dx[0], x[0], k)),
            Prim::SoftmaxCrossEntropy => loss::cross_entropy_jvp(x[0], x[1], dx[0], dx[1], k),
        }
    }

    /// VJP rule for a block of k cotangents: `dy` is the block [k, shape(y)…]; returns, for
    /// each operand i with `needs[i]`, the block [k, shape(xᵢ)…] of x̄ᵢ = (∂f/∂xᵢ)ᵀ ȳ
    /// (`None` where not needed, so constant operands cost nothing).
    pub fn vjp<T: Real>(
        &self,
        x: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: &Tensor<T>,
        needs: &[bool],
    ) -> Result<Vec<Option<Tensor<T>>>> {
        self.check_arity(x.len())?;
        if needs.len() != x.len() {
            return Err(AdError::InvalidArgument {
                what: format!(
                    "{}: {} flags for {} operands",
                    self.name(),
                    needs.len(),
                    x.len()
                ),
            });
        }
        let k = block_count(dy, y.shape())?;
        let one = |t: Tensor<T>| Ok(vec![Some(t)]);
        match self {
            Prim::MatMul => matmul::matmul_vjp(x[0], x[1], dy, needs, k),
            Prim::BatchMatMul => matmul::batch_matmul_vjp(x[0], x[1], dy, needs, k),
            Prim::Add => binary::vjp(binary::BinaryOp::Add, x[0], x[1], y, dy, needs, k),
            Prim::Sub => binary::vjp(binary::BinaryOp::Sub, x[0], x[1], y, dy, needs, k),
            Prim::Mul => binary::vjp(binary::BinaryOp::Mul, x[0], x[1], y, dy, needs, k),
            Prim::Div => binary::vjp(binary::BinaryOp::Div, x[0], x[1], y, dy, needs, k),
            Prim::Neg => one(elementwise::scale_linear(-1.0, dy.clone())),
            Prim::Scale(c) => one(elementwise::scale_linear(*c, dy.clone())),
            Prim::Unary(op) => one(elementwise::unary_vjp(*op, x[0], y, dy)),
            Prim::Sum => one(reduce::sum_vjp(x[0].shape(), dy, T::one())),
            Prim::Mean => one(reduce::mean_vjp(x[0], dy)?),
            Prim::SumAxis(a) => one(reduce::sum_axis_vjp(x[0].shape(), dy, *a, false)),
            Prim::MeanAxis(a) => one(reduce::sum_axis_vjp(x[0].shape(), dy, *a, true)),
            Prim::Reshape(_) => one(shape::reshape_block(dy.clone(), x[0].shape(), k)?),
            Prim::Permute(p) => one(shape::permute(
                dy,
                &shape::block_perm(&shape::inverse_perm(p)),
            )?),
            Prim::Concat(a) => shape::concat_vjp(x, dy, *a, needs),
            Prim::Slice { axis, start, .. } => {
                one(shape::slice_vjp(x[0].shape(), dy, *axis, *start))
            }
            Prim::Mse => loss::mse_vjp(x[0], x[1], dy, needs, k),
            Prim::Softmax => one(loss::softmax_vjp(y, dy)),
            Prim::LogSoftmax => one(loss::log_softmax_vjp(y, dy)),
            Prim::SoftmaxCrossEntropy => loss::cross_entropy_vjp(x[0], x[1], dy, needs, k),
        }
    }
}

/// The tangent block of an operand, or zeros when it is a constant (used by rules whose
/// output tangent depends on that operand alone, so at least one tangent is present).
fn req<T: Real>(d: Option<&Tensor<T>>, x: &Tensor<T>, k: usize) -> Tensor<T> {
    match d {
        Some(t) => t.clone(),
        None => zeros_block(x.shape(), k),
    }
}

/// The block shape [k, shape…].
pub(crate) fn block_shape(shape: &[usize], k: usize) -> Vec<usize> {
    let mut s = Vec::with_capacity(shape.len() + 1);
    s.push(k);
    s.extend_from_slice(shape);
    s
}

/// A zero block of k directions for a value of a shape.
pub(crate) fn zeros_block<T: Real>(shape: &[usize], k: usize) -> Tensor<T> {
    let s = block_shape(shape, k);
    let n = crate::tensor::numel(&s);
    Tensor::from_parts(s, vec![T::zero(); n])
}

/// Checks that `b` is a block [k, shape…].
pub(crate) fn check_block<T: Real>(
    b: &Tensor<T>,
    shape: &[usize],
    k: usize,
    what: &str,
) -> Result<()> {
    if b.ndim() != shape.len() + 1 || b.shape()[0] != k || &b.shape()[1..] != shape {
        return Err(AdError::Shape {
            what: format!(
                "{what} block has shape {:?}, expected [{k}, {}]",
                b.shape(),
                shape
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(())
}

/// The k of a block [k, shape…], checking the trailing shape.
pub(crate) fn block_count<T: Real>(b: &Tensor<T>, shape: &[usize]) -> Result<usize> {
    if b.ndim() != shape.len() + 1 || &b.shape()[1..] != shape {
        return Err(AdError::Shape {
            what: format!(
                "cotangent block has shape {:?} for a value of shape {shape:?}",
                b.shape()
            ),
        });
    }
    Ok(b.shape()[0])
}

/// Splits a flat buffer into consecutive rows of length n (none when n = 0).
pub(crate) fn rows<T>(data: &[T], n: usize) -> impl Iterator<Item = &[T]> {
    data.chunks(n.max(1)).filter(move |_| n > 0)
}

/// Mutable version of [`rows`].
pub(crate) fn rows_mut<T>(data: &mut [T], n: usize) -> impl Iterator<Item = &mut [T]> {
    data.chunks_mut(n.max(1)).filter(move |_| n > 0)
}
