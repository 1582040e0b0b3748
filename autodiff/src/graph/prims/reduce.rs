//! Reductions: sum and mean, over everything or along one axis.
//!
//! All four are linear, y = R x, so the JVP is the same reduction applied to the tangent,
//! ẏ = R ẋ, and the VJP is its adjoint, broadcasting back: x̄ = Rᵀ ȳ (every entry that was
//! summed receives ȳ, scaled by 1/N for a mean). On a block [k, S…] the reduction runs
//! along axis a + 1, so the k directions never mix.

use super::block::{block_shape, rows};
use super::operands::{one_operand_primitive, OneOperand};
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use linalg::Real;

/// y = Σᵢ xᵢ, a scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sum;

impl<T: Real> OneOperand<T> for Sum {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Ok(sum_forward(x))
    }
    fn jvp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(sum_jvp(&dx))
    }
    fn vjp(&self, x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(sum_vjp(x.shape(), dy, T::one()))
    }
}

/// y = (1/N) Σᵢ xᵢ, a scalar; N = 0 is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mean;

impl<T: Real> OneOperand<T> for Mean {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        mean_forward(x)
    }
    fn jvp(&self, x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        mean_jvp(x, &dx)
    }
    fn vjp(&self, x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        mean_vjp(x, dy)
    }
}

/// Sum along one axis (the axis is removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SumAxis(pub usize);

impl<T: Real> OneOperand<T> for SumAxis {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        sum_axis_forward(x, self.0, false)
    }
    fn jvp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        sum_axis_forward(&dx, self.0 + 1, false)
    }
    fn vjp(&self, x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(sum_axis_vjp(x.shape(), dy, self.0, false))
    }
}

/// Mean along one axis (the axis is removed); an empty axis is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeanAxis(pub usize);

impl<T: Real> OneOperand<T> for MeanAxis {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        sum_axis_forward(x, self.0, true)
    }
    fn jvp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        sum_axis_forward(&dx, self.0 + 1, true)
    }
    fn vjp(&self, x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(sum_axis_vjp(x.shape(), dy, self.0, true))
    }
}

one_operand_primitive!([] Sum, [] Mean, [] SumAxis, [] MeanAxis);

/// (outer, len, inner) of a shape around an axis: the tensor is an outer × len × inner block.
pub(crate) fn split_at_axis(shape: &[usize], axis: usize) -> Result<(usize, usize, usize)> {
    if axis >= shape.len() {
        return Err(AdError::Shape {
            what: format!("axis {axis} out of range for shape {shape:?}"),
        });
    }
    Ok((
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    ))
}

/// Forward rule of the whole sum: y = Σᵢ xᵢ (a scalar).
fn sum_forward<T: Real>(x: &Tensor<T>) -> Tensor<T> {
    Tensor::scalar(x.data().iter().copied().sum())
}

/// Forward rule of the whole mean: y = (1/N) Σᵢ xᵢ; errors for an empty tensor.
fn mean_forward<T: Real>(x: &Tensor<T>) -> Result<Tensor<T>> {
    let n = nonzero_count(x.len(), "mean")?;
    Ok(Tensor::scalar(x.data().iter().copied().sum::<T>() * n))
}

fn nonzero_count<T: Real>(n: usize, what: &str) -> Result<T> {
    if n == 0 {
        return Err(AdError::InvalidArgument {
            what: format!("{what} of zero entries"),
        });
    }
    Ok(T::one() / T::from_usize(n))
}

/// JVP rule of the whole sum: ẏᵣ = Σᵢ ẋᵣᵢ for each direction r (a block of shape `[k]`).
fn sum_jvp<T: Real>(dx: &Tensor<T>) -> Tensor<T> {
    let k = dx.shape()[0];
    let n = dx.len() / k.max(1);
    let mut out: Vec<T> = rows(dx.data(), n)
        .map(|r| r.iter().copied().sum())
        .collect();
    out.resize(k, T::zero());
    Tensor::from_parts(vec![k], out)
}

/// JVP rule of the whole mean: ẏᵣ = (1/N) Σᵢ ẋᵣᵢ.
fn mean_jvp<T: Real>(x: &Tensor<T>, dx: &Tensor<T>) -> Result<Tensor<T>> {
    let s = nonzero_count::<T>(x.len(), "mean")?;
    Ok(sum_jvp(dx).map(|v| v * s))
}

/// VJP rule of the whole sum (times `scale`): x̄ᵣᵢ = scale · ȳᵣ.
fn sum_vjp<T: Real>(x_shape: &[usize], dy: &Tensor<T>, scale: T) -> Tensor<T> {
    let k = dy.shape()[0];
    let n: usize = x_shape.iter().product();
    let mut out = Vec::with_capacity(k * n);
    for &g in dy.data() {
        out.extend(std::iter::repeat_n(g * scale, n));
    }
    Tensor::from_parts(block_shape(x_shape, k), out)
}

/// VJP rule of the whole mean: x̄ᵣᵢ = ȳᵣ / N.
fn mean_vjp<T: Real>(x: &Tensor<T>, dy: &Tensor<T>) -> Result<Tensor<T>> {
    let s = nonzero_count::<T>(x.len(), "mean")?;
    Ok(sum_vjp(x.shape(), dy, s))
}

/// Forward rule along an axis: y[o, i] = Σ_l x[o, l, i] (times 1/len for a mean). Also the
/// JVP rule, applied to a block with the axis shifted by one.
fn sum_axis_forward<T: Real>(x: &Tensor<T>, axis: usize, mean: bool) -> Result<Tensor<T>> {
    let (outer, len, inner) = split_at_axis(x.shape(), axis)?;
    let scale = if mean {
        nonzero_count::<T>(len, "mean along an axis")?
    } else {
        T::one()
    };
    let mut out = vec![T::zero(); outer * inner];
    for o in 0..outer {
        let dst = &mut out[o * inner..(o + 1) * inner];
        for l in 0..len {
            let src = &x.data()[(o * len + l) * inner..(o * len + l + 1) * inner];
            for (d, &s) in dst.iter_mut().zip(src) {
                *d += s;
            }
        }
        for d in dst.iter_mut() {
            *d *= scale;
        }
    }
    let mut shape = x.shape().to_vec();
    shape.remove(axis);
    Ok(Tensor::from_parts(shape, out))
}

/// VJP rule along an axis: x̄[r, o, l, i] = ȳ[r, o, i] (times 1/len for a mean).
fn sum_axis_vjp<T: Real>(x_shape: &[usize], dy: &Tensor<T>, axis: usize, mean: bool) -> Tensor<T> {
    let k = dy.shape()[0];
    let full = block_shape(x_shape, k);
    let (outer, len, inner) = split_at_axis(&full, axis + 1).expect("axis checked by forward");
    let scale = if mean && len > 0 {
        T::one() / T::from_usize(len)
    } else {
        T::one()
    };
    let mut out = vec![T::zero(); outer * len * inner];
    for o in 0..outer {
        let src = &dy.data()[o * inner..(o + 1) * inner];
        for l in 0..len {
            let dst = &mut out[(o * len + l) * inner..(o * len + l + 1) * inner];
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = s * scale;
            }
        }
    }
    Tensor::from_parts(full, out)
}
