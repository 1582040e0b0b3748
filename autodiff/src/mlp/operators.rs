//! Matrix-free operators of the linearised model: the kernel K + λI on the n·o outputs and the
//! Gauss–Newton matrix JᵀJ + λI on the p parameters, for CG without forming J or K.
//!
//! Both replay one recorded [`LayerTape`] (the forward values at θ), so a product costs one VJP
//! and one JVP and no forward pass. They are the two faces of
//! [`super::linearized::Linearized`] and share one validation of the ridge λ ([`Ridge`]).

use super::api::check_len;
use super::net::Mlp;
use super::ntk::factors_on;
use super::reverse::LayerTape;
use crate::error::{AdError, Result};
use linalg::{gemm, LinearOperator, MatRef, Matrix, Par, Real};
use std::borrow::Cow;

fn mat<T: Real>(data: &[T], rows: usize, cols: usize) -> Result<MatRef<'_, T>> {
    Ok(MatRef::from_slice(data, rows, cols, cols)?)
}

/// The ridge λ of K + λI and JᵀJ + λI: finite and ≥ 0, checked once here for both operators
/// (a negative λ could make either indefinite, and CG would then fail without saying why).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ridge(f64);

impl Ridge {
    /// λ, or an error when it is negative or not finite.
    pub fn new(lambda: f64) -> Result<Self> {
        if !lambda.is_finite() || lambda < 0.0 {
            return Err(AdError::InvalidArgument {
                what: format!("ridge λ = {lambda} must be finite and ≥ 0"),
            });
        }
        Ok(Ridge(lambda))
    }

    /// λ as given.
    pub fn value(self) -> f64 {
        self.0
    }
}

/// Matrix-free K·v = J(Jᵀv) on a batch X, for CG on the kernel system (K + λI)α = r.
///
/// The forward values are recorded once; each product is one VJP (Jᵀv) and one JVP
/// (J·(Jᵀv)), replaying them. `dim()` = n·o with entry i·o + a for output a of sample i.
pub struct NtkOperator<'a, T: Real> {
    net: &'a Mlp,
    tape: Cow<'a, LayerTape<'a, T>>,
    ridge: T,
}

impl<'a, T: Real> NtkOperator<'a, T> {
    /// The operator v ↦ K v for K = J(X)J(X)ᵀ at θ.
    pub fn new(net: &'a Mlp, theta: &'a [T], x: MatRef<'_, T>) -> Result<Self> {
        Self::with_ridge(net, theta, x, 0.0)
    }

    /// The operator v ↦ (K + λI) v; errors when λ is negative or not finite ([`Ridge`]).
    pub fn with_ridge(net: &'a Mlp, theta: &'a [T], x: MatRef<'_, T>, lambda: f64) -> Result<Self> {
        let ridge = Ridge::new(lambda)?;
        Ok(Self::on_tape(net, Cow::Owned(net.record(theta, x)?), ridge))
    }

    /// The operator on an already recorded tape (borrowed or owned).
    pub(crate) fn on_tape(net: &'a Mlp, tape: Cow<'a, LayerTape<'a, T>>, ridge: Ridge) -> Self {
        NtkOperator {
            net,
            tape,
            ridge: T::from_f64(ridge.value()),
        }
    }

    /// n·o.
    pub fn dim(&self) -> usize {
        self.tape.batch() * self.net.output_dim()
    }

    /// y ← (K + λI)·x, or an error on a length mismatch.
    pub fn try_apply(&self, x: &[T], y: &mut [T]) -> Result<()> {
        let (n, o) = (self.tape.batch(), self.net.output_dim());
        check_len("v", x.len(), n * o)?;
        check_len("K·v", y.len(), n * o)?;
        let g = self
            .net
            .vjp_on_tape(&self.tape, mat(x, n, o)?, Par::Rayon)?;
        let kv = self.net.jvp_on_tape(&self.tape, &g, Par::Rayon)?;
        for ((yi, &ki), &xi) in y.iter_mut().zip(kv.as_slice()).zip(x) {
            *yi = ki + self.ridge * xi;
        }
        Ok(())
    }

    /// diag(K) + λ: K[(i, a), (i, a)] = Σ_l (s_l²‖a_{l−1}\[i\]‖² + σ_b²)·‖δ_l[i, a]‖², from one
    /// batched backward pass (a Jacobi preconditioner for CG).
    pub fn try_diagonal(&self) -> Result<Vec<T>> {
        let f = factors_on(self.net, Cow::Borrowed(&*self.tape))?;
        let (n, o) = (f.n(), self.net.output_dim());
        let mut diag = vec![self.ridge; n * o];
        for layer in self.net.layers() {
            let a = f.a(layer.index);
            let s2 = T::from_f64(layer.w_scale * layer.w_scale);
            let b2 = T::from_f64(layer.b_scale * layer.b_scale);
            for (r, d) in diag.iter_mut().enumerate() {
                let an: T = a.row(r / o).iter().map(|&v| v * v).sum();
                let dn: T = f.delta[layer.index].row(r).iter().map(|&v| v * v).sum();
                *d += (s2 * an + b2) * dn;
            }
        }
        Ok(diag)
    }
}

/// Matrix-free Gauss–Newton product v ↦ (JᵀJ + λI)·v in parameter space, for the primal ridge
/// system (JᵀJ + λI)δ = Jᵀr solved by CG without forming J. One JVP and one VJP per product.
pub struct GaussNewtonOperator<'a, T: Real> {
    net: &'a Mlp,
    tape: Cow<'a, LayerTape<'a, T>>,
    ridge: T,
}

impl<'a, T: Real> GaussNewtonOperator<'a, T> {
    /// The operator at θ on inputs X with ridge λ ≥ 0 (errors otherwise, see [`Ridge`]).
    pub fn new(net: &'a Mlp, theta: &'a [T], x: MatRef<'_, T>, lambda: f64) -> Result<Self> {
        let ridge = Ridge::new(lambda)?;
        Ok(Self::on_tape(net, Cow::Owned(net.record(theta, x)?), ridge))
    }

    /// The operator on an already recorded tape (borrowed or owned).
    pub(crate) fn on_tape(net: &'a Mlp, tape: Cow<'a, LayerTape<'a, T>>, ridge: Ridge) -> Self {
        GaussNewtonOperator {
            net,
            tape,
            ridge: T::from_f64(ridge.value()),
        }
    }

    /// p.
    pub fn dim(&self) -> usize {
        self.net.num_params()
    }

    /// y ← (JᵀJ + λI)·x, or an error on a length mismatch.
    pub fn try_apply(&self, x: &[T], y: &mut [T]) -> Result<()> {
        let p = self.dim();
        check_len("v", x.len(), p)?;
        check_len("(JᵀJ + λI)·v", y.len(), p)?;
        let jv = self.net.jvp_on_tape(&self.tape, x, Par::Rayon)?;
        let g = self.net.vjp_on_tape(&self.tape, jv.as_ref(), Par::Rayon)?;
        for ((yi, &gi), &xi) in y.iter_mut().zip(&g).zip(x) {
            *yi = gi + self.ridge * xi;
        }
        Ok(())
    }

    /// diag(JᵀJ) + λ. For W_l[r, c]: s_l²·Σ_i (Σ_a δ_l[i, a, r]²)·a_{l−1}[i, c]², one GEMM per
    /// layer; for b_l\[r\]: σ_b²·Σ_{i, a} δ_l[i, a, r]².
    pub fn try_diagonal(&self) -> Result<Vec<T>> {
        let f = factors_on(self.net, Cow::Borrowed(&*self.tape))?;
        let (n, o) = (f.n(), self.net.output_dim());
        let mut diag = vec![self.ridge; self.dim()];
        for layer in self.net.layers() {
            let delta = &f.delta[layer.index];
            let d2 = Matrix::from_fn(n, layer.n_out, |i, r| {
                (0..o)
                    .map(|a| delta.get(i * o + a, r))
                    .map(|v| v * v)
                    .sum::<T>()
            });
            let a = f.a(layer.index);
            let a2 = Matrix::from_fn(n, layer.n_in, |i, c| a.get(i, c) * a.get(i, c));
            let s2 = T::from_f64(layer.w_scale * layer.w_scale);
            let b2 = T::from_f64(layer.b_scale * layer.b_scale);
            let mut w = Matrix::zeros(layer.n_out, layer.n_in);
            gemm(s2, d2.as_ref().t(), a2.as_ref(), T::zero(), w.as_mut())?;
            for (dst, &v) in diag[layer.w_offset..].iter_mut().zip(w.as_slice()) {
                *dst += v;
            }
            for r in 0..layer.n_out {
                let s: T = (0..n).map(|i| d2.get(i, r)).sum();
                diag[layer.b_offset + r] += b2 * s;
            }
        }
        Ok(diag)
    }
}

impl<T: Real> LinearOperator<T> for NtkOperator<'_, T> {
    fn dim(&self) -> usize {
        NtkOperator::dim(self)
    }
    /// y ← (K + λI)·x. Lengths were fixed at construction; a mismatch is a caller bug.
    fn apply(&self, x: &[T], y: &mut [T]) {
        if let Err(e) = self.try_apply(x, y) {
            panic!("NtkOperator::apply: {e}");
        }
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        self.try_diagonal().ok()
    }
}

impl<T: Real> LinearOperator<T> for GaussNewtonOperator<'_, T> {
    fn dim(&self) -> usize {
        GaussNewtonOperator::dim(self)
    }
    /// y ← (JᵀJ + λI)·x. Lengths were fixed at construction; a mismatch is a caller bug.
    fn apply(&self, x: &[T], y: &mut [T]) {
        if let Err(e) = self.try_apply(x, y) {
            panic!("GaussNewtonOperator::apply: {e}");
        }
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        self.try_diagonal().ok()
    }
}
