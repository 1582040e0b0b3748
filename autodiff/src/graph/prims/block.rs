//! Blocks of directions: k tangents (or cotangents) of a value with shape S are one tensor
//! with shape [k, S…], row r being the r-th direction.
//!
//! Carrying blocks lets linear maps act on all k directions with one matrix–matrix product
//! (matmul's JVP and VJP become GEMMs); it is how forward mode pushes k JVPs through one pass
//! and reverse mode k VJPs through one sweep. A single JVP or VJP is the block with k = 1.

use crate::error::{AdError, Result};
use crate::tensor::{numel, Tensor};
use linalg::Real;

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
    let n = numel(&s);
    Tensor::from_parts(s, vec![T::zero(); n])
}

/// The tangent block of an operand, or zeros when it is a constant (used by rules whose
/// output tangent depends on that operand alone, so at least one tangent is present).
pub(crate) fn tangent_or_zeros<T: Real>(
    d: Option<&Tensor<T>>,
    x: &Tensor<T>,
    k: usize,
) -> Tensor<T> {
    match d {
        Some(t) => t.clone(),
        None => zeros_block(x.shape(), k),
    }
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

/// The cotangent list of a one-operand primitive.
pub(crate) fn single<T: Real>(t: Tensor<T>) -> Result<Vec<Option<Tensor<T>>>> {
    Ok(vec![Some(t)])
}
