//! Plain evaluation on the layer engine: values are n×width matrices, nothing is recorded.

use super::net::Layer;
use super::ops::{affine_forward, map_activation_in_place, Ops};
use crate::error::Result;
use crate::unary::Activation;
use linalg::{Matrix, Par, Real};

/// Plain evaluation: values are n×width matrices.
pub struct LayerEval<'a, T> {
    theta: &'a [T],
    par: Par,
}

impl<'a, T: Real> LayerEval<'a, T> {
    /// Evaluation at θ; `par` says whether the GEMMs may use the rayon pool.
    pub fn new(theta: &'a [T], par: Par) -> Self {
        LayerEval { theta, par }
    }
}

impl<T: Real> Ops<T> for LayerEval<'_, T> {
    type Value = Matrix<T>;
    fn affine(&mut self, layer: &Layer, input: Matrix<T>) -> Result<Matrix<T>> {
        affine_forward(&layer.affine(self.theta)?, &input, self.par)
    }
    fn unary(&mut self, act: Activation, mut input: Matrix<T>) -> Result<Matrix<T>> {
        map_activation_in_place(act, input.as_mut_slice());
        Ok(input)
    }
}
