//! The network written once: [`mlp`] spells out the architecture against the layer-level
//! [`Ops`] trait, and each implementation of `Ops` is one mode of the layer engine:
//!
//! * [`super::eval::LayerEval`] (`eval.rs`): plain evaluation, values are matrices;
//! * [`super::forward::Forward`] (`forward.rs`): forward mode, values are a primal plus a
//!   *block* of k tangents, so k JVPs share one pass and their products become GEMMs;
//! * [`super::reverse::Reverse`] (`reverse.rs`): records the layer ops on a
//!   [`super::reverse::LayerTape`], which then backpropagates a block of cotangents;
//! * [`super::on_graph::GraphOps`] (`on_graph.rs`): the same model on the reference engine,
//!   for cross-checking.
//!
//! The rules themselves live in [`super::affine`] and [`crate::unary`]; the implementations
//! only wire them to values. This file also holds the elementwise maps the modes share.

use super::affine::Affine;
use super::net::{Layer, Mlp};
use crate::error::Result;
use crate::unary::{Activation, Unary, UnaryVisitor};
use linalg::{Matrix, Par, Real};
use rayon::prelude::*;

/// The two layer-level operations a dense network is made of.
pub trait Ops<T: Real> {
    /// What flows between layers (a matrix, a dual block, a tape node).
    type Value;
    /// z = s·a Wᵀ + σ_b·1 bᵀ for `layer`, with θ held by the implementation.
    /// Takes the input by value so that an implementation may reuse its buffers.
    fn affine(&mut self, layer: &Layer, input: Self::Value) -> Result<Self::Value>;
    /// a = φ(z), entry by entry.
    fn unary(&mut self, act: Activation, input: Self::Value) -> Result<Self::Value>;
    /// a = φ(s·a Wᵀ + σ_b·1 bᵀ): a hidden layer. An implementation may fuse the two (plain
    /// evaluation does, in the GEMM's epilogue); the default runs them one after the other.
    fn affine_unary(
        &mut self,
        layer: &Layer,
        act: Activation,
        input: Self::Value,
    ) -> Result<Self::Value> {
        let z = self.affine(layer, input)?;
        self.unary(act, z)
    }
}

/// The network f(x; θ): affine layers with φ between them and none after the last.
pub fn mlp<T: Real, O: Ops<T>>(o: &mut O, net: &Mlp, x: O::Value) -> Result<O::Value> {
    let mut h = x;
    for layer in net.layers() {
        h = if layer.is_last {
            o.affine(layer, h)?
        } else {
            o.affine_unary(layer, net.activation(), h)?
        };
    }
    Ok(h)
}

/// Entries per rayon task in elementwise maps: transcendental activations (tanh, erf) cost
/// tens of nanoseconds each, so large maps are worth splitting; each entry is computed by one
/// task, so the result does not depend on the thread count.
pub(crate) const MAP_GRAIN: usize = 1 << 14;

/// Applies φ to every entry of `x`.
pub(crate) fn map_activation<T: Real>(act: Activation, x: &Matrix<T>) -> Matrix<T> {
    let mut y = x.clone();
    map_activation_in_place(act, y.as_mut_slice());
    y
}

/// v ← φ(v) for every entry of `data`.
pub(crate) fn map_activation_in_place<T: Real>(act: Activation, data: &mut [T]) {
    act.visit(MapValue(data));
}

/// v ← φ(v) over a slice, with φ's concrete type.
struct MapValue<'a, T>(&'a mut [T]);

impl<T: Real> UnaryVisitor for MapValue<'_, T> {
    type Output = ();
    fn visit<U: Unary + Copy + Sync>(self, u: U) {
        map_in_place(self.0, |v| u.value(v));
    }
}

/// d ← φ'(x) given d = φ(x) on entry, for every entry of `d` and `x` (of equal length).
pub(crate) fn slopes_in_place<T: Real>(act: Activation, d: &mut [T], x: &[T]) {
    act.visit(MapSlope { d, x });
}

/// d ← φ'(x) given d = φ(x) on entry, with φ's concrete type.
struct MapSlope<'a, T> {
    d: &'a mut [T],
    x: &'a [T],
}

impl<T: Real> UnaryVisitor for MapSlope<'_, T> {
    type Output = ();
    fn visit<U: Unary + Copy + Sync>(self, u: U) {
        let chunk = |dc: &mut [T], xc: &[T]| {
            for (dv, &xv) in dc.iter_mut().zip(xc) {
                *dv = u.slope(xv, *dv);
            }
        };
        if self.x.len() <= MAP_GRAIN {
            chunk(self.d, self.x);
        } else {
            self.d
                .par_chunks_mut(MAP_GRAIN)
                .zip(self.x.par_chunks(MAP_GRAIN))
                .for_each(|(dc, xc)| chunk(dc, xc));
        }
    }
}

/// v ← g(v) for every entry, in parallel chunks when the slice is large.
pub(crate) fn map_in_place<T: Real>(data: &mut [T], g: impl Fn(T) -> T + Sync) {
    if data.len() <= MAP_GRAIN {
        map_chunk(data, &g);
    } else {
        data.par_chunks_mut(MAP_GRAIN)
            .for_each(|c| map_chunk(c, &g));
    }
}

/// One chunk of [`map_in_place`], built for AVX2 and FMA where the CPU has them: a
/// branch-free g (ReLU, the f32 tanh of `linalg::elementary`) then runs eight f32 lanes at a
/// time instead of the baseline target's four, and its explicit `mul_add`s become single
/// instructions. The compiler never fuses a plain `a * b + c` on its own, and an explicit
/// `mul_add` is correctly rounded on either path, so the results are the same bits either way.
#[inline(always)]
fn map_chunk<T: Real>(c: &mut [T], g: &impl Fn(T) -> T) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA, the features the function is compiled for.
        unsafe { map_chunk_avx2(c, g) };
        return;
    }
    c.iter_mut().for_each(|v| *v = g(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_chunk_avx2<T: Real>(c: &mut [T], g: &impl Fn(T) -> T) {
    c.iter_mut().for_each(|v| *v = g(*v));
}

pub(crate) fn affine_forward<T: Real>(
    aff: &Affine<'_, T>,
    a: &Matrix<T>,
    par: Par,
) -> Result<Matrix<T>> {
    let mut h = Matrix::zeros(a.rows(), aff.n_out());
    aff.forward(a.as_ref(), h.as_mut(), par)?;
    Ok(h)
}

/// φ'(z) entry by entry, given z and y = φ(z).
pub(crate) fn slopes<T: Real>(act: Activation, x: &Matrix<T>, y: &Matrix<T>) -> Matrix<T> {
    let mut d = y.clone();
    slopes_in_place(act, d.as_mut_slice(), x.as_slice());
    d
}
