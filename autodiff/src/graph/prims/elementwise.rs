//! Elementwise primitives: any [`Unary`] applied entry by entry, and scaling by a constant.
//!
//! | primitive          | forward      | JVP             | VJP             |
//! |--------------------|--------------|-----------------|-----------------|
//! | [`Elementwise`]`(g)` | yᵢ = g(xᵢ)  | ẏ = g'(x) ⊙ ẋ   | x̄ = g'(x) ⊙ ȳ   |
//! | [`Scale`]`(c)`     | y = c·x      | ẏ = c·ẋ         | x̄ = c·ȳ         |
//! | [`Neg`]            | y = −x       | ẏ = −ẋ          | x̄ = −ȳ          |
//!
//! The Jacobian of an elementwise map is diagonal, so its JVP and VJP are the same product
//! with the slope; the scalar rules (value, slope, curvature) of each g live in
//! [`crate::unary`], one `impl Unary` per function.

use super::block::rows_mut;
use super::operands::{one_operand_primitive, OneOperand};
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use crate::unary::Unary;
use linalg::Real;
use std::fmt::Debug;

/// The primitive y = g(x) entry by entry, for a scalar function g with its rules.
///
/// Domain rule: every entry is checked with [`Unary::in_domain`] before anything is computed,
/// and the first one outside is an [`AdError::Domain`] error (for ln: x < 0 or NaN; ln 0 = −∞
/// is allowed and handled by the 0·∞ = 0 convention of the rules).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elementwise<U>(pub U);

impl<T: Real, U: Unary + Debug + 'static> OneOperand<T> for Elementwise<U> {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let g = self.0;
        if let Some(i) = x.data().iter().position(|&v| !g.in_domain(v)) {
            return Err(AdError::Domain {
                what: format!(
                    "{g:?} of {} at flat index {i} is outside its domain",
                    x.data()[i]
                ),
            });
        }
        Ok(x.map(|v| g.value(v)))
    }
    fn jvp(&self, x: &Tensor<T>, y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(slope_times(self.0, x, y, dx))
    }
    fn vjp(&self, x: &Tensor<T>, y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        // The Jacobian is diagonal: the VJP is the JVP rule applied to ȳ.
        Ok(slope_times(self.0, x, y, dy.clone()))
    }
}

/// g'(x)·t with the convention 0·∞ = 0: a zero tangent or cotangent contributes exactly zero
/// even where the slope is infinite (ln at 0, eˣ after overflow), so such points never turn a
/// gradient into NaN.
#[inline(always)]
fn times_slope<T: Real>(slope: T, t: T) -> T {
    if t == T::zero() {
        T::zero()
    } else {
        slope * t
    }
}

/// g'(x) ⊙ d for each of the k rows of a block d.
fn slope_times<T: Real, U: Unary>(
    g: U,
    x: &Tensor<T>,
    y: &Tensor<T>,
    mut d: Tensor<T>,
) -> Tensor<T> {
    let slope: Vec<T> = x
        .data()
        .iter()
        .zip(y.data())
        .map(|(&a, &b)| g.slope(a, b))
        .collect();
    for row in rows_mut(d.data_mut(), slope.len()) {
        for (t, &s) in row.iter_mut().zip(&slope) {
            *t = times_slope(s, *t);
        }
    }
    d
}

/// y = c·x for a constant c.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale(pub f64);

impl<T: Real> OneOperand<T> for Scale {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let c = T::from_f64(self.0);
        Ok(x.map(|v| c * v))
    }
    fn jvp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(scale_block(self.0, dx))
    }
    fn vjp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(scale_block(self.0, dy.clone()))
    }
}

/// y = −x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neg;

impl<T: Real> OneOperand<T> for Neg {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Ok(x.map(|v| -v))
    }
    fn jvp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(scale_block(-1.0, dx))
    }
    fn vjp(&self, _x: &Tensor<T>, _y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(scale_block(-1.0, dy.clone()))
    }
}

one_operand_primitive!([U: Unary + Debug + 'static] Elementwise<U>, [] Scale, [] Neg);

/// c·d for a block d: the JVP and the VJP of y = c·x, which is linear and symmetric.
fn scale_block<T: Real>(c: f64, mut block: Tensor<T>) -> Tensor<T> {
    let c = T::from_f64(c);
    for v in block.data_mut() {
        *v *= c;
    }
    block
}
