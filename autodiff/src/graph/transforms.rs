//! Function-level transforms of the reference engine: [`eval`], [`jvp`], [`jvp_block`],
//! [`vjp`], [`vjp_block`], [`grad`], [`value_and_grad`] and [`jacobian`].
//!
//! Each takes a plain closure `f: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>` and runs it on
//! the backend its mode needs: [`Eval`] for values, [`DualGraph`] for forward mode (k
//! tangents per pass), [`Tape`] for reverse mode (k cotangents per sweep).

use super::backend::{Graph, Var};
use super::dual::DualGraph;
use super::eval::Eval;
use super::prims::block::block_shape;
use super::tape::{Gradients, Tape};
use crate::error::{AdError, Result};
use crate::tensor::{numel, Tensor};
use linalg::{Matrix, Real};

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
    reverse(f, inputs, |tape, y| tape.vjp(y, cotangent))
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
    reverse(f, inputs, |tape, y| tape.vjp_block(y, cotangents))
}

/// Records f on a tape, runs one backward sweep from its output and returns (y, x̄ per input).
fn reverse<T: Real, F>(
    f: F,
    inputs: &[Tensor<T>],
    sweep: impl FnOnce(&Tape<T>, Var) -> Result<Gradients<T>>,
) -> Result<(Tensor<T>, Vec<Tensor<T>>)>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    let mut tape = Tape::new();
    let xs: Vec<Var> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
    let y = f(&mut tape, &xs)?;
    let grads = sweep(&tape, y)?;
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
) -> Result<Matrix<T>>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    if chunk == 0 {
        return Err(AdError::InvalidArgument {
            what: "Jacobian chunk size 0".into(),
        });
    }
    match mode {
        JacobianMode::Forward => forward_jacobian(f, inputs, chunk),
        JacobianMode::Reverse => reverse_jacobian(f, inputs, chunk),
    }
}

/// Forward mode: blocks of `chunk` unit tangents eⱼ, each block giving `chunk` columns.
fn forward_jacobian<T: Real, F>(f: F, inputs: &[Tensor<T>], chunk: usize) -> Result<Matrix<T>>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    let lens: Vec<usize> = inputs.iter().map(Tensor::len).collect();
    let n: usize = lens.iter().sum();
    if n == 0 {
        let m = eval(&f, inputs)?.len();
        return Ok(Matrix::zeros(m, 0));
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
                Tensor::from_vec(&block_shape(x.shape(), k), data)
            })
            .collect::<Result<Vec<_>>>()?;
        let (y, dy) = jvp_block(&f, inputs, &blocks)?;
        m = y.len();
        for r in 0..k {
            cols.push(dy.data()[r * m..(r + 1) * m].to_vec());
        }
        j0 += k;
    }
    Ok(Matrix::from_fn(m, n, |i, j| cols[j][i]))
}

/// Reverse mode: one recorded tape, backward sweeps carrying blocks of `chunk` unit
/// cotangents eᵢ, each sweep giving `chunk` rows.
fn reverse_jacobian<T: Real, F>(f: F, inputs: &[Tensor<T>], chunk: usize) -> Result<Matrix<T>>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    let lens: Vec<usize> = inputs.iter().map(Tensor::len).collect();
    let n: usize = lens.iter().sum();
    let mut tape = Tape::new();
    let xs: Vec<Var> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
    let y = f(&mut tape, &xs)?;
    let y_shape = tape.value(y)?.shape().to_vec();
    let m = numel(&y_shape);
    let mut out = Matrix::zeros(m, n);
    let mut i0 = 0;
    while i0 < m {
        let k = chunk.min(m - i0);
        let mut data = vec![T::zero(); k * m];
        for r in 0..k {
            data[r * m + i0 + r] = T::one();
        }
        let cot = Tensor::from_vec(&block_shape(&y_shape, k), data)?;
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
