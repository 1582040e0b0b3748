//! Plain evaluation on the layer engine: values are n×width matrices, nothing is recorded.

use super::net::Layer;
use super::ops::{map_activation_in_place, Ops};
use crate::error::Result;
use crate::unary::Activation;
use linalg::{MatRef, Matrix, Par, Real};

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

/// A value of plain evaluation: the caller's input, borrowed (the network's X is read in
/// place, not copied), or a layer's output.
pub enum Activations<'x, T> {
    /// The input X, as the caller passed it.
    Input(MatRef<'x, T>),
    /// An n×width matrix computed by a layer.
    Owned(Matrix<T>),
}

impl<T: Real> Activations<'_, T> {
    fn as_ref(&self) -> MatRef<'_, T> {
        match self {
            Activations::Input(m) => *m,
            Activations::Owned(m) => m.as_ref(),
        }
    }

    /// The values as an owned matrix (a copy only for a borrowed input).
    pub fn into_owned(self) -> Matrix<T> {
        match self {
            Activations::Input(m) => m.to_owned(),
            Activations::Owned(m) => m,
        }
    }
}

// The input borrows for as long as θ does (the shorter of the two, as the caller sees it).
impl<'a, T: Real> Ops<T> for LayerEval<'a, T> {
    type Value = Activations<'a, T>;
    fn affine(&mut self, layer: &Layer, input: Self::Value) -> Result<Self::Value> {
        let aff = layer.affine(self.theta)?;
        let mut h = Matrix::zeros(input.as_ref().rows(), aff.n_out());
        aff.forward(input.as_ref(), h.as_mut(), self.par)?;
        Ok(Activations::Owned(h))
    }
    fn unary(&mut self, act: Activation, input: Self::Value) -> Result<Self::Value> {
        let mut z = input.into_owned();
        map_activation_in_place(act, z.as_mut_slice());
        Ok(Activations::Owned(z))
    }
    fn affine_unary(
        &mut self,
        layer: &Layer,
        act: Activation,
        input: Self::Value,
    ) -> Result<Self::Value> {
        let aff = layer.affine(self.theta)?;
        let mut h = Matrix::zeros(input.as_ref().rows(), aff.n_out());
        let post = |_: usize, _: usize, row: &mut [T]| map_activation_in_place(act, row);
        aff.forward_mapped(input.as_ref(), h.as_mut(), self.par, &post)?;
        Ok(Activations::Owned(h))
    }
}
