//! Minibatch SGD with momentum and weight decay, in PyTorch's convention (`torch.optim.SGD`,
//! dampening 0, not Nesterov):
//!
//! g ← ∇L_B(θ) + wd·θ,  v ← μv + g (v₀ = 0, so v₁ = g),  θ ← θ − ηv,
//!
//! with L_B the loss on the current minibatch. With a [`Mask`] the gradient is masked before
//! anything else, so a pruned weight sees g = 0, its velocity stays 0 and it stays exactly 0
//! (θ is masked once at the start; weight decay of a 0 weight is 0).

use super::batches::GradientSource;
use super::Iterative;
use anyhow::{bail, Result};
use autodiff::mlp::Mask;
use linalg::Real;

/// SGD's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Step size η > 0.
    pub lr: f64,
    /// Momentum μ ∈ [0, 1); 0 is plain SGD.
    pub momentum: f64,
    /// L2 weight decay wd ≥ 0, added to the gradient as wd·θ.
    pub weight_decay: f64,
}

impl SgdConfig {
    /// Errors on a step size that is not finite and positive, a momentum outside [0, 1) or a
    /// negative or non-finite weight decay.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("SGD step size {} must be finite and > 0", self.lr);
        }
        if !(0.0..1.0).contains(&self.momentum) {
            bail!("SGD momentum {} must lie in [0, 1)", self.momentum);
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!("weight decay {} must be finite and ≥ 0", self.weight_decay);
        }
        Ok(())
    }
}

/// The gradient side shared by SGD and Adam: the minibatch source, the mask and the weight
/// decay, and the gradient computed with the objective, which the step then reuses.
pub(crate) struct MaskedGradient<T: Real, S: GradientSource<T>> {
    pub(crate) source: S,
    mask: Option<Mask>,
    weight_decay: f64,
    cached: Option<Vec<T>>,
}

impl<T: Real, S: GradientSource<T>> MaskedGradient<T, S> {
    /// Checks θ₀ against the source and masks it.
    pub(crate) fn new(
        source: S,
        mask: Option<Mask>,
        weight_decay: f64,
        theta0: &mut [T],
    ) -> Result<Self> {
        let p = source.num_params();
        if theta0.len() != p {
            bail!("θ has {} entries, the objective {p}", theta0.len());
        }
        if let Some(m) = &mask {
            m.apply(theta0)?;
        }
        Ok(MaskedGradient {
            source,
            mask,
            weight_decay,
            cached: None,
        })
    }

    /// (L_B, ∇L_B + wd·θ) at θ, not yet masked: the optimisers mask it in their update loop
    /// ([`Self::take_masked`] for SGD, Adam's fused update), which saves a pass over p per
    /// step. A pruned weight is 0, so its decay term is 0 either way.
    fn compute(&mut self, theta: &[T]) -> Result<(f64, Vec<T>)> {
        let (value, mut g) = self.source.value_and_grad(theta)?;
        if self.weight_decay != 0.0 {
            let wd = T::from_f64(self.weight_decay);
            for (gi, &t) in g.iter_mut().zip(theta) {
                *gi += wd * t;
            }
        }
        Ok((value, g))
    }

    /// The minibatch loss at θ (without the weight-decay term); keeps the gradient.
    pub(crate) fn objective(&mut self, theta: &[T]) -> Result<f64> {
        let (value, g) = self.compute(theta)?;
        self.cached = Some(g);
        Ok(value)
    }

    /// The unmasked gradient at θ: the one kept by [`Self::objective`], or a fresh one. The
    /// caller must zero the pruned entries ([`Self::keep`]) before using it.
    pub(crate) fn take(&mut self, theta: &[T]) -> Result<Vec<T>> {
        match self.cached.take() {
            Some(g) => Ok(g),
            None => Ok(self.compute(theta)?.1),
        }
    }

    /// The gradient at θ with the pruned entries set to exactly 0.
    pub(crate) fn take_masked(&mut self, theta: &[T]) -> Result<Vec<T>> {
        let mut g = self.take(theta)?;
        if let Some(m) = &self.mask {
            m.apply_to_gradient(&mut g)?;
        }
        Ok(g)
    }

    /// The mask's flags (true = kept), None for a dense network.
    pub(crate) fn keep(&self) -> Option<&[bool]> {
        self.mask.as_ref().map(|m| m.keep())
    }

    /// After an update: move to the next batch. θ needs no re-masking: a pruned entry has
    /// gradient exactly 0 (masked in [`Self::compute`], before weight decay), so its momentum
    /// or moments stay exactly 0 and its update is exactly 0 (Adam's 0/(√0 + ε) = 0), from a
    /// θ that was masked once at the start; `tests/train.rs` checks the entries stay 0.
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.source.advance();
        Ok(())
    }
}

/// Minibatch SGD with momentum on a [`GradientSource`], as an [`Iterative`] method.
///
/// [`Iterative::objective`] is the minibatch loss L_B(θ_t) on the batch the next step will
/// use (without the weight-decay term); [`Iterative::step`] reuses its gradient and then
/// moves to the next batch, so each step consumes one batch.
pub struct Sgd<T: Real, S: GradientSource<T>> {
    gradient: MaskedGradient<T, S>,
    config: SgdConfig,
    /// The current parameters θ_t.
    pub theta: Vec<T>,
    velocity: Vec<T>,
}

impl<T: Real, S: GradientSource<T>> Sgd<T, S> {
    /// SGD from `theta0` (masked first when a mask is given).
    pub fn new(
        source: S,
        mut theta0: Vec<T>,
        config: SgdConfig,
        mask: Option<Mask>,
    ) -> Result<Self> {
        config.validate()?;
        let gradient = MaskedGradient::new(source, mask, config.weight_decay, &mut theta0)?;
        Ok(Sgd {
            velocity: vec![T::zero(); theta0.len()],
            gradient,
            config,
            theta: theta0,
        })
    }

    /// The gradient source (e.g. to read the current batch).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.gradient.source
    }
}

impl<T: Real, S: GradientSource<T>> Iterative for Sgd<T, S> {
    fn objective(&mut self) -> Result<f64> {
        self.gradient.objective(&self.theta)
    }

    fn step(&mut self) -> Result<()> {
        let g = self.gradient.take_masked(&self.theta)?;
        let (mu, lr) = (
            T::from_f64(self.config.momentum),
            T::from_f64(self.config.lr),
        );
        for ((t, v), &gi) in self.theta.iter_mut().zip(&mut self.velocity).zip(&g) {
            *v = mu * *v + gi;
            *t -= lr * *v;
        }
        self.gradient.finish()
    }
}
