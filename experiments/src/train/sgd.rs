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

/// Checks θ against the source and the mask, and masks θ so pruned weights start at 0.
pub(crate) fn masked_start<T: Real>(
    num_params: usize,
    theta: &mut [T],
    mask: Option<&Mask>,
) -> Result<()> {
    if theta.len() != num_params {
        bail!("θ has {} entries, the objective {num_params}", theta.len());
    }
    if let Some(m) = mask {
        m.apply(theta)?;
    }
    Ok(())
}

/// (L_B, ∇L_B + wd·θ) at θ with the gradient masked; shared by SGD and Adam (both use
/// PyTorch's coupled L2 weight decay).
pub(crate) fn masked_gradient<T: Real, S: GradientSource<T>>(
    source: &mut S,
    theta: &[T],
    weight_decay: f64,
    mask: Option<&Mask>,
) -> Result<(f64, Vec<T>)> {
    let (value, mut g) = source.value_and_grad(theta)?;
    if let Some(m) = mask {
        m.apply_to_gradient(&mut g)?;
    }
    if weight_decay != 0.0 {
        let wd = T::from_f64(weight_decay);
        for (gi, &t) in g.iter_mut().zip(theta) {
            *gi += wd * t;
        }
    }
    Ok((value, g))
}

/// Minibatch SGD with momentum on a [`GradientSource`], as an [`Iterative`] method.
///
/// [`Iterative::objective`] is the minibatch loss L_B(θ_t) on the batch the next step will
/// use (without the weight-decay term); [`Iterative::step`] reuses its gradient and then
/// moves to the next batch, so each step consumes one batch.
pub struct Sgd<T: Real, S: GradientSource<T>> {
    source: S,
    config: SgdConfig,
    mask: Option<Mask>,
    /// The current parameters θ_t.
    pub theta: Vec<T>,
    velocity: Vec<T>,
    grad: Option<Vec<T>>,
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
        masked_start(source.num_params(), &mut theta0, mask.as_ref())?;
        Ok(Sgd {
            velocity: vec![T::zero(); theta0.len()],
            source,
            config,
            mask,
            theta: theta0,
            grad: None,
        })
    }

    /// The gradient source (e.g. to read the current batch).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }
}

impl<T: Real, S: GradientSource<T>> Iterative for Sgd<T, S> {
    fn objective(&mut self) -> Result<f64> {
        let (value, g) = masked_gradient(
            &mut self.source,
            &self.theta,
            self.config.weight_decay,
            self.mask.as_ref(),
        )?;
        self.grad = Some(g);
        Ok(value)
    }

    fn step(&mut self) -> Result<()> {
        let g = match self.grad.take() {
            Some(g) => g,
            None => {
                masked_gradient(
                    &mut self.source,
                    &self.theta,
                    self.config.weight_decay,
                    self.mask.as_ref(),
                )?
                .1
            }
        };
        let (mu, lr) = (
            T::from_f64(self.config.momentum),
            T::from_f64(self.config.lr),
        );
        for ((t, v), &gi) in self.theta.iter_mut().zip(&mut self.velocity).zip(&g) {
            *v = mu * *v + gi;
            *t -= lr * *v;
        }
        if let Some(m) = &self.mask {
            // A no-op in exact arithmetic (g and v are 0 there); kept so that no rounding
            // path can ever revive a pruned weight.
            m.apply(&mut self.theta)?;
        }
        self.source.advance();
        Ok(())
    }
}
