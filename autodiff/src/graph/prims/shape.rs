//! Shape primitives: reshape, permute (transpose), concat, slice.
//!
//! All of them only move entries, so each is a linear map P with a 0/1 matrix:
//! JVP ẏ = P ẋ (the same move applied to each direction of the block, with every axis
//! shifted by one past the block axis) and VJP x̄ = Pᵀ ȳ (the inverse move; for slice, the
//! adjoint pads with zeros; for concat, it cuts ȳ back into pieces).

use super::block::{block_shape, zeros_block};
use super::operands::{one_operand_primitive, OneOperand};
use super::primitive::Primitive;
use super::reduce::split_at_axis;
use crate::error::{AdError, Result};
use crate::tensor::{numel, strides, Tensor, MAX_AXES};
use linalg::Real;

/// The same entries under a new shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reshape(pub Vec<usize>);

impl<T: Real> OneOperand<T> for Reshape {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.clone().reshape(&self.0)
    }
    fn jvp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, k: usize) -> Result<Tensor<T>> {
        reshape_block(dx, &self.0, k)
    }
    fn vjp(&self, x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, k: usize) -> Result<Tensor<T>> {
        reshape_block(dy.clone(), x.shape(), k)
    }
}

/// Axes permuted: output axis a is input axis `perm[a]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permute(pub Vec<usize>);

impl<T: Real> OneOperand<T> for Permute {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        permute(x, &self.0)
    }
    fn jvp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        permute(&dx, &block_perm(&self.0))
    }
    fn vjp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        permute(dy, &block_perm(&inverse_perm(&self.0)))
    }
}

/// Concatenation of one or more tensors along an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Concat(pub usize);

impl<T: Real> Primitive<T> for Concat {
    fn arity(&self) -> Option<usize> {
        None
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Result<Tensor<T>> {
        concat(x, self.0)
    }
    fn jvp(
        &self,
        x: &[&Tensor<T>],
        _y: &Tensor<T>,
        dx: &[Option<&Tensor<T>>],
        k: usize,
    ) -> Result<Tensor<T>> {
        concat_jvp(x, dx, self.0, k)
    }
    fn vjp(
        &self,
        x: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: &Tensor<T>,
        needs: &[bool],
        _k: usize,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        concat_vjp(x, dy, self.0, needs)
    }
}

/// Entries `start..start + len` along an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// The axis sliced.
    pub axis: usize,
    /// First index kept.
    pub start: usize,
    /// Number of indices kept.
    pub len: usize,
}

impl<T: Real> OneOperand<T> for Slice {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        slice(x, self.axis, self.start, self.len)
    }
    fn jvp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        slice(&dx, self.axis + 1, self.start, self.len)
    }
    fn vjp(&self, x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(slice_vjp(x.shape(), dy, self.axis, self.start))
    }
}

one_operand_primitive!([] Reshape, [] Permute, [] Slice);

/// Reshapes a block [k, S…] to [k, new…] (forward and both derivative rules of reshape).
fn reshape_block<T: Real>(b: Tensor<T>, new: &[usize], k: usize) -> Result<Tensor<T>> {
    b.reshape(&block_shape(new, k))
}

/// The permutation acting on a block: axis 0 stays, axis a + 1 goes to `perm[a] + 1`.
fn block_perm(perm: &[usize]) -> Vec<usize> {
    std::iter::once(0)
        .chain(perm.iter().map(|p| p + 1))
        .collect()
}

/// The inverse permutation q with `q[perm[a]] = a`.
fn inverse_perm(perm: &[usize]) -> Vec<usize> {
    let mut q = vec![0; perm.len()];
    for (a, &p) in perm.iter().enumerate() {
        q[p] = a;
    }
    q
}

/// The permutation that swaps the last two axes of an `ndim`-axis tensor (matrix transpose,
/// batched over leading axes).
pub(crate) fn transpose_perm(ndim: usize) -> Result<Vec<usize>> {
    if ndim < 2 {
        return Err(AdError::Shape {
            what: format!("transpose needs at least 2 axes, found {ndim}"),
        });
    }
    let mut p: Vec<usize> = (0..ndim).collect();
    p.swap(ndim - 2, ndim - 1);
    Ok(p)
}

/// Forward rule: output axis a runs over input axis `perm[a]`.
fn permute<T: Real>(x: &Tensor<T>, perm: &[usize]) -> Result<Tensor<T>> {
    let d = x.ndim();
    let mut seen = [false; MAX_AXES + 1];
    if perm.len() != d
        || perm
            .iter()
            .any(|&p| p >= d || std::mem::replace(&mut seen[p], true))
    {
        return Err(AdError::Shape {
            what: format!(
                "{perm:?} is not a permutation of the {d} axes of {:?}",
                x.shape()
            ),
        });
    }
    let in_strides = strides(x.shape());
    let out_shape: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    // Input stride of each output axis, so walking the output in order reads the input.
    let walk: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let n = x.len();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; d];
    let mut off = 0usize;
    for _ in 0..n {
        out.push(x.data()[off]);
        // Odometer increment over the output shape.
        for a in (0..d).rev() {
            idx[a] += 1;
            off += walk[a];
            if idx[a] < out_shape[a] {
                break;
            }
            off -= walk[a] * idx[a];
            idx[a] = 0;
        }
    }
    Ok(Tensor::from_parts(out_shape, out))
}

/// Forward rule: the operands laid end to end along `axis` (other extents must agree).
fn concat<T: Real>(xs: &[&Tensor<T>], axis: usize) -> Result<Tensor<T>> {
    let first = xs[0].shape();
    let (outer, _, inner) = split_at_axis(first, axis)?;
    for x in xs {
        let s = x.shape();
        if s.len() != first.len()
            || s.iter()
                .zip(first)
                .enumerate()
                .any(|(a, (u, v))| a != axis && u != v)
        {
            return Err(AdError::Shape {
                what: format!("concat along axis {axis} of {first:?} and {s:?}"),
            });
        }
    }
    let total: usize = xs.iter().map(|x| x.shape()[axis]).sum();
    let mut out = Vec::with_capacity(outer * total * inner);
    for o in 0..outer {
        for x in xs {
            let l = x.shape()[axis] * inner;
            out.extend_from_slice(&x.data()[o * l..(o + 1) * l]);
        }
    }
    let mut shape = first.to_vec();
    shape[axis] = total;
    Ok(Tensor::from_parts(shape, out))
}

/// JVP rule of concat: the tangent blocks concatenated along axis + 1 (zeros for constants).
fn concat_jvp<T: Real>(
    xs: &[&Tensor<T>],
    dx: &[Option<&Tensor<T>>],
    axis: usize,
    k: usize,
) -> Result<Tensor<T>> {
    let owned: Vec<Tensor<T>> = xs
        .iter()
        .zip(dx)
        .map(|(x, d)| match d {
            Some(t) => (*t).clone(),
            None => zeros_block(x.shape(), k),
        })
        .collect();
    let refs: Vec<&Tensor<T>> = owned.iter().collect();
    concat(&refs, axis + 1)
}

/// VJP rule of concat: ȳ cut back into the operands' pieces along axis + 1.
fn concat_vjp<T: Real>(
    xs: &[&Tensor<T>],
    dy: &Tensor<T>,
    axis: usize,
    needs: &[bool],
) -> Result<Vec<Option<Tensor<T>>>> {
    let mut start = 0;
    let mut out = Vec::with_capacity(xs.len());
    for (x, &need) in xs.iter().zip(needs) {
        let len = x.shape()[axis];
        out.push(if need {
            Some(slice(dy, axis + 1, start, len)?)
        } else {
            None
        });
        start += len;
    }
    Ok(out)
}

/// Forward rule: entries start..start + len along `axis`.
fn slice<T: Real>(x: &Tensor<T>, axis: usize, start: usize, len: usize) -> Result<Tensor<T>> {
    let (outer, n, inner) = split_at_axis(x.shape(), axis)?;
    if start.checked_add(len).is_none_or(|end| end > n) {
        return Err(AdError::Shape {
            what: format!("slice {start}..{start}+{len} of axis {axis} with extent {n}"),
        });
    }
    let mut out = Vec::with_capacity(outer * len * inner);
    for o in 0..outer {
        out.extend_from_slice(&x.data()[(o * n + start) * inner..(o * n + start + len) * inner]);
    }
    let mut shape = x.shape().to_vec();
    shape[axis] = len;
    Ok(Tensor::from_parts(shape, out))
}

/// VJP rule of slice: ȳ placed back at start.. along axis + 1, zeros elsewhere.
fn slice_vjp<T: Real>(x_shape: &[usize], dy: &Tensor<T>, axis: usize, start: usize) -> Tensor<T> {
    let k = dy.shape()[0];
    let full = block_shape(x_shape, k);
    let (outer, n, inner) = split_at_axis(&full, axis + 1).expect("axis checked by forward");
    let len = dy.shape()[axis + 1];
    let mut out = vec![T::zero(); numel(&full)];
    for o in 0..outer {
        out[(o * n + start) * inner..(o * n + start + len) * inner]
            .copy_from_slice(&dy.data()[o * len * inner..(o + 1) * len * inner]);
    }
    Tensor::from_parts(full, out)
}
