//! Write a function once, evaluate it three ways.
//!
//! A function of tensors is written against [`Graph`], an object-safe trait whose values are
//! handles ([`Var`]); three backends implement it:
//!
//! * [`Eval`]: plain evaluation, y = f(x);
//! * [`DualGraph`]: forward mode with a block of k tangents,
//!   (y, J·V) for V = [v₁ … v_k] in one pass;
//! * [`Tape`]: reverse mode, records a Wengert list, then Jᵀ·U for a block
//!   of k cotangents in one backward sweep.
//!
//! Because `f: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>` is a plain closure, the
//! function-level entry points [`eval`], [`jvp`], [`jvp_block`], [`vjp`], [`vjp_block`],
//! [`grad`] and [`value_and_grad`] take the same `f`:
//!
//! ```
//! use autodiff::graph::{jvp, vjp, Graph};
//! use autodiff::Tensor;
//! let f = |g: &mut dyn Graph<f64>, x: &[autodiff::Var]| {
//!     let h = g.tanh(x[0])?;
//!     g.sum(h)
//! };
//! let x = Tensor::vector(vec![0.1, -0.4]);
//! let v = Tensor::vector(vec![1.0, 0.0]);
//! let (_y, jv) = jvp(f, &[x.clone()], &[v]).unwrap();
//! let (_y, jtu) = vjp(f, &[x], &Tensor::scalar(1.0)).unwrap();
//! assert!((jv.item().unwrap() - jtu[0].data()[0]).abs() < 1e-15);
//! ```

use crate::error::{AdError, Result};
use crate::forward::DualGraph;
use crate::ops::elementwise::{Activation, UnaryOp};
use crate::ops::shape::transpose_perm;
use crate::ops::Prim;
use crate::tape::Tape;
use crate::tensor::Tensor;
use linalg::Real;

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
    fn apply(&mut self, prim: Prim, inputs: &[Var]) -> Result<Var>;

    /// A · B (2-D).
    fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Prim::MatMul, &[a, b])
    }
    /// Aᵦ · Bᵦ for each β (3-D, same batch).
    fn batch_matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Prim::BatchMatMul, &[a, b])
    }
    /// a + b (b may be a suffix-shaped bias).
    fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Prim::Add, &[a, b])
    }
    /// a − b (b may be a suffix-shaped bias).
    fn sub(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Prim::Sub, &[a, b])
    }
    /// a ⊙ b (b may be suffix-shaped).
    fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Prim::Mul, &[a, b])
    }
    /// a ⊘ b (b may be suffix-shaped); a zero divisor is a domain error.
    fn div(&mut self, a: Var, b: Var) -> Result<Var> {
        self.apply(Prim::Div, &[a, b])
    }
    /// −x.
    fn neg(&mut self, x: Var) -> Result<Var> {
        self.apply(Prim::Neg, &[x])
    }
    /// c·x.
    fn scale(&mut self, x: Var, c: f64) -> Result<Var> {
        self.apply(Prim::Scale(c), &[x])
    }
    /// An activation applied entry by entry.
    fn activation(&mut self, act: Activation, x: Var) -> Result<Var> {
        self.apply(Prim::Unary(UnaryOp::Act(act)), &[x])
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
        self.apply(Prim::Unary(UnaryOp::Exp), &[x])
    }
    /// ln x: −∞ at 0, a domain error for x < 0 (see `ops::elementwise::unary_forward`).
    fn log(&mut self, x: Var) -> Result<Var> {
        self.apply(Prim::Unary(UnaryOp::Log), &[x])
    }
    /// x².
    fn square(&mut self, x: Var) -> Result<Var> {
        self.apply(Prim::Unary(UnaryOp::Square), &[x])
    }
    /// Σ of all entries (a scalar).
    fn sum(&mut self, x: Var) -> Result<Var> {
        self.apply(Prim::Sum, &[x])
    }
    /// Mean of all entries (a scalar).
    fn mean(&mut self, x: Var) -> Result<Var> {
        self.apply(Prim::Mean, &[x])
    }
    /// Σ along an axis (removed).
    fn sum_axis(&mut self, x: Var, axis: usize) -> Result<Var> {
        self.apply(Prim::SumAxis(axis), &[x])
    }
    /// Mean along an axis (removed).
    fn mean_axis(&mut self, x: Var, axis: usize) -> Result<Var> {
        self.apply(Prim::MeanAxis(axis), &[x])
    }
    /// Same entries, new shape.
    fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        self.apply(Prim::Reshape(shape.to_vec()), &[x])
    }
    /// Output axis a is input axis `perm[a]`.
    fn permute(&mut self, x: Var, perm: &[usize]) -> Result<Var> {
        self.apply(Prim::Permute(perm.to_vec()), &[x])
    }
    /// Swaps the last two axes.
    fn transpose(&mut self, x: Var) -> Result<Var> {
        let p = transpose_perm(self.value(x)?.ndim())?;
        self.apply(Prim::Permute(p), &[x])
    }
    /// Operands laid end to end along an axis.
    fn concat(&mut self, xs: &[Var], axis: usize) -> Result<Var> {
        self.apply(Prim::Concat(axis), xs)
    }
    /// Indices start..start + len along an axis.
    fn slice(&mut self, x: Var, axis: usize, start: usize, len: usize) -> Result<Var> {
        self.apply(Prim::Slice { axis, start, len }, &[x])
    }
    /// (1/N) Σ (p − t)².
    fn mse(&mut self, prediction: Var, target: Var) -> Result<Var> {
        self.apply(Prim::Mse, &[prediction, target])
    }
    /// Softmax along the last axis.
    fn softmax(&mut self, x: Var) -> Result<Var> {
        self.apply(Prim::Softmax, &[x])
    }
    /// Log-softmax along the last axis.
    fn log_softmax(&mut self, x: Var) -> Result<Var> {
        self.apply(Prim::LogSoftmax, &[x])
    }
    /// −(1/R) Σᵣ ⟨tᵣ, log_softmax(zᵣ)⟩.
    fn softmax_cross_entropy(&mut self, logits: Var, targets: Var) -> Result<Var> {
        self.apply(Prim::SoftmaxCrossEntropy, &[logits, targets])
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

/// Plain evaluation: values only, nothing recorded for derivatives.
#[derive(Clone, Debug, Default)]
pub struct Eval<T: Real> {
    values: Vec<Tensor<T>>,
}

impl<T: Real> Eval<T> {
    /// An empty evaluator.
    pub fn new() -> Self {
        Eval { values: Vec::new() }
    }

    /// Moves a value out (leaving an empty placeholder in the graph).
    pub fn take(&mut self, v: Var) -> Result<Tensor<T>> {
        let n = self.values.len();
        let slot = self.values.get_mut(v.0).ok_or_else(|| bad_var(v, n))?;
        Ok(std::mem::replace(
            slot,
            Tensor::from_parts(vec![0], Vec::new()),
        ))
    }
}

impl<T: Real> Graph<T> for Eval<T> {
    fn constant(&mut self, value: Tensor<T>) -> Var {
        self.values.push(value);
        Var(self.values.len() - 1)
    }
    fn value(&self, v: Var) -> Result<&Tensor<T>> {
        self.values
            .get(v.0)
            .ok_or_else(|| bad_var(v, self.values.len()))
    }
    fn apply(&mut self, prim: Prim, inputs: &[Var]) -> Result<Var> {
        let xs = inputs
            .iter()
            .map(|&v| self.value(v))
            .collect::<Result<Vec<_>>>()?;
        let y = prim.forward(&xs)?;
        Ok(self.constant(y))
    }
}

fn check_count<U>(what: &str, got: &[U], want: usize) -> Result<()> {
    if got.len() != want {
        return Err(AdError::InvalidArgument {
            what: format!("{} {what} for {want} inputs", got.len()),
        });
    }
    Ok(())
}

/// y = f(x₁, …, x_m).
pub fn eval<T: Real, F>(f: F, inputs: &[Tensor<T>]) -> Result<Tensor<T>>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    let mut g = Eval::new();
    let xs: Vec<Var> = inputs.iter().map(|x| g.constant(x.clone())).collect();
    let y = f(&mut g, &xs)?;
    g.take(y)
}

/// (y, ẏ) = (f(x), Σᵢ ∂f/∂xᵢ · vᵢ): one JVP by forward mode; `tangents[i]` has xᵢ's shape.
pub fn jvp<T: Real, F>(
    f: F,
    inputs: &[Tensor<T>],
    tangents: &[Tensor<T>],
) -> Result<(Tensor<T>, Tensor<T>)>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    check_count("tangents", tangents, inputs.len())?;
    let blocks = tangents
        .iter()
        .map(|t| {
            let mut s = vec![1];
            s.extend_from_slice(t.shape());
            t.clone().reshape(&s)
        })
        .collect::<Result<Vec<_>>>()?;
    let (y, dy) = jvp_block(f, inputs, &blocks)?;
    let s = y.shape().to_vec();
    Ok((y, dy.reshape(&s)?))
}

/// (y, Ẏ) for a block of k directions in one forward pass: `tangents[i]` has shape
/// [k, shape(xᵢ)…], and row r of the result [k, shape(y)…] is J·(v₁ᵣ, …, v_mᵣ).
pub fn jvp_block<T: Real, F>(
    f: F,
    inputs: &[Tensor<T>],
    tangents: &[Tensor<T>],
) -> Result<(Tensor<T>, Tensor<T>)>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    check_count("tangent blocks", tangents, inputs.len())?;
    let k = tangents
        .first()
        .map_or(1, |t| t.shape().first().copied().unwrap_or(0));
    let mut g = DualGraph::new(k);
    let xs = inputs
        .iter()
        .zip(tangents)
        .map(|(x, t)| g.input(x.clone(), t.clone()))
        .collect::<Result<Vec<_>>>()?;
    let y = f(&mut g, &xs)?;
    let d = g.take(y)?;
    let tangents = d.tangents_or_zeros(k);
    Ok((d.primal, tangents))
}

/// (y, (x̄₁, …, x̄_m)) with x̄ᵢ = (∂f/∂xᵢ)ᵀ u: one VJP by reverse mode; `cotangent` has y's shape.
pub fn vjp<T: Real, F>(
    f: F,
    inputs: &[Tensor<T>],
    cotangent: &Tensor<T>,
) -> Result<(Tensor<T>, Vec<Tensor<T>>)>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    let mut tape = Tape::new();
    let xs: Vec<Var> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
    let y = f(&mut tape, &xs)?;
    let grads = tape.vjp(y, cotangent)?;
    let out = xs
        .iter()
        .map(|&x| grads.wrt(x))
        .collect::<Result<Vec<_>>>()?;
    Ok((tape.value(y)?.clone(), out))
}

/// (y, (X̄₁, …, X̄_m)) for a block of k cotangents [k, shape(y)…] in one backward sweep;
/// X̄ᵢ has shape [k, shape(xᵢ)…], row r being (∂f/∂xᵢ)ᵀ uᵣ.
pub fn vjp_block<T: Real, F>(
    f: F,
    inputs: &[Tensor<T>],
    cotangents: &Tensor<T>,
) -> Result<(Tensor<T>, Vec<Tensor<T>>)>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    let mut tape = Tape::new();
    let xs: Vec<Var> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
    let y = f(&mut tape, &xs)?;
    let grads = tape.vjp_block(y, cotangents)?;
    let out = xs
        .iter()
        .map(|&x| grads.wrt(x))
        .collect::<Result<Vec<_>>>()?;
    Ok((tape.value(y)?.clone(), out))
}

/// ∇f(x₁, …, x_m) for a scalar-valued f (one entry), by reverse mode.
pub fn grad<T: Real, F>(f: F, inputs: &[Tensor<T>]) -> Result<Vec<Tensor<T>>>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    Ok(value_and_grad(f, inputs)?.1)
}

/// (f(x), ∇f(x)) for a scalar-valued f (one entry), by reverse mode.
pub fn value_and_grad<T: Real, F>(f: F, inputs: &[Tensor<T>]) -> Result<(T, Vec<Tensor<T>>)>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    let mut tape = Tape::new();
    let xs: Vec<Var> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
    let y = f(&mut tape, &xs)?;
    let (value, grads) = tape.value_and_grad(y)?;
    let out = xs
        .iter()
        .map(|&x| grads.wrt(x))
        .collect::<Result<Vec<_>>>()?;
    Ok((value, out))
}

/// How [`jacobian`] builds the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JacobianMode {
    /// By columns: forward passes carrying blocks of `chunk` unit tangents eⱼ.
    Forward,
    /// By rows: one recorded tape, backward sweeps carrying blocks of `chunk` unit
    /// cotangents eᵢ.
    Reverse,
}

/// The full m × n Jacobian of y = f(x₁, …, x_m) (output flattened row-major, inputs
/// concatenated in order, each flattened row-major), built `chunk` directions at a time so
/// memory stays O(chunk·(n + m + intermediates)). Both modes give the same matrix up to
/// rounding; forward mode suits n ≤ m, reverse mode m ≤ n.
pub fn jacobian<T: Real, F>(
    f: F,
    inputs: &[Tensor<T>],
    mode: JacobianMode,
    chunk: usize,
) -> Result<linalg::Matrix<T>>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    if chunk == 0 {
        return Err(AdError::InvalidArgument {
            what: "Jacobian chunk size 0".into(),
        });
    }
    let lens: Vec<usize> = inputs.iter().map(Tensor::len).collect();
    let n: usize = lens.iter().sum();
    match mode {
        JacobianMode::Forward => {
            if n == 0 {
                let m = eval(&f, inputs)?.len();
                return Ok(linalg::Matrix::zeros(m, 0));
            }
            let mut cols: Vec<Vec<T>> = Vec::with_capacity(n);
            let mut m = 0;
            let mut j0 = 0;
            while j0 < n {
                let k = chunk.min(n - j0);
                // Unit tangents e_{j0}, …, e_{j0+k−1}, cut into the inputs' blocks.
                let mut start = 0;
                let blocks = inputs
                    .iter()
                    .zip(&lens)
                    .map(|(x, &len)| {
                        let mut data = vec![T::zero(); k * len];
                        for r in 0..k {
                            let j = j0 + r;
                            if (start..start + len).contains(&j) {
                                data[r * len + j - start] = T::one();
                            }
                        }
                        start += len;
                        Tensor::from_vec(&crate::ops::block_shape(x.shape(), k), data)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let (y, dy) = jvp_block(&f, inputs, &blocks)?;
                m = y.len();
                for r in 0..k {
                    cols.push(dy.data()[r * m..(r + 1) * m].to_vec());
                }
                j0 += k;
            }
            Ok(linalg::Matrix::from_fn(m, n, |i, j| cols[j][i]))
        }
        JacobianMode::Reverse => {
            let mut tape = Tape::new();
            let xs: Vec<Var> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
            let y = f(&mut tape, &xs)?;
            let y_shape = tape.value(y)?.shape().to_vec();
            let m = crate::tensor::numel(&y_shape);
            let mut out = linalg::Matrix::zeros(m, n);
            let mut i0 = 0;
            while i0 < m {
                let k = chunk.min(m - i0);
                let mut data = vec![T::zero(); k * m];
                for r in 0..k {
                    data[r * m + i0 + r] = T::one();
                }
                let cot = Tensor::from_vec(&crate::ops::block_shape(&y_shape, k), data)?;
                let grads = tape.vjp_block(y, &cot)?;
                let mut start = 0;
                for (&x, &len) in xs.iter().zip(&lens) {
                    let g = grads.wrt(x)?;
                    for r in 0..k {
                        out.row_mut(i0 + r)[start..start + len]
                            .copy_from_slice(&g.data()[r * len..(r + 1) * len]);
                    }
                    start += len;
                }
                i0 += k;
            }
            Ok(out)
        }
    }
}
