//! Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1),
//! with bias correction, ε = 1e-8 by default and PyTorch's coupled L2 weight decay
//! (`torch.optim.Adam(weight_decay=wd)`):
//!
//! g ← ∇L_B(θ) + wd·θ,  m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
//! m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ),  θ ← θ − η m̂/(√v̂ + ε).
//!
//! With a [`Mask`] the gradient is masked first: a pruned weight keeps m = v = 0, its update
//! is 0/(0 + ε) = 0 and it stays exactly 0.

use super::batches::GradientSource;
use super::sgd::MaskedGradient;
use super::Iterative;
use anyhow::{bail, Result};
use autodiff::mlp::Mask;
use linalg::Real;

/// Adam's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Step size η > 0 (the paper's α).
    pub lr: f64,
    /// Decay of the first moment, β₁ ∈ [0, 1).
    pub beta1: f64,
    /// Decay of the second moment, β₂ ∈ [0, 1).
    pub beta2: f64,
    /// ε > 0 added to √v̂.
    pub eps: f64,
    /// L2 weight decay wd ≥ 0, added to the gradient as wd·θ.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// The paper's defaults: η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8; no weight decay.
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl AdamConfig {
    /// Errors on a step size or ε that is not finite and positive, a β outside [0, 1) or a
    /// negative or non-finite weight decay.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("step size", self.lr), ("ε", self.eps)] {
            if !(v.is_finite() && v > 0.0) {
                bail!("Adam {name} {v} must be finite and > 0");
            }
        }
        for (name, v) in [("β₁", self.beta1), ("β₂", self.beta2)] {
            if !(0.0..1.0).contains(&v) {
                bail!("Adam {name} {v} must lie in [0, 1)");
            }
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!("weight decay {} must be finite and ≥ 0", self.weight_decay);
        }
        Ok(())
    }
}

/// Adam on a [`GradientSource`], as an [`Iterative`] method.
///
/// [`Iterative::objective`] is the minibatch loss L_B(θ_t) on the batch the next step will
/// use (without the weight-decay term); [`Iterative::step`] reuses its gradient and then
/// moves to the next batch.
pub struct Adam<T: Real, S: GradientSource<T>> {
    gradient: MaskedGradient<T, S>,
    config: AdamConfig,
    /// The current parameters θ_t.
    pub theta: Vec<T>,
    m: Vec<T>,
    v: Vec<T>,
    t: i32,
}

impl<T: Real, S: GradientSource<T>> Adam<T, S> {
    /// Adam from `theta0` (masked first when a mask is given).
    pub fn new(
        source: S,
        mut theta0: Vec<T>,
        config: AdamConfig,
        mask: Option<Mask>,
    ) -> Result<Self> {
        config.validate()?;
        let gradient = MaskedGradient::new(source, mask, config.weight_decay, &mut theta0)?;
        let p = theta0.len();
        Ok(Adam {
            gradient,
            config,
            theta: theta0,
            m: vec![T::zero(); p],
            v: vec![T::zero(); p],
            t: 0,
        })
    }

    /// Steps taken so far (t in the bias corrections).
    pub fn steps(&self) -> i32 {
        self.t
    }

    /// The gradient source (e.g. to read the current batch).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.gradient.source
    }
}

impl<T: Real, S: GradientSource<T>> Iterative for Adam<T, S> {
    fn objective(&mut self) -> Result<f64> {
        self.gradient.objective(&self.theta)
    }

    fn step(&mut self) -> Result<()> {
        let g = self.gradient.take(&self.theta)?;
        self.t = self.t.saturating_add(1);
        let c = &self.config;
        // The bias corrections in f64: β₂ᵗ = 0.999ᵗ needs the precision for small t in f32.
        let bc1 = 1.0 - c.beta1.powi(self.t);
        let bc2 = 1.0 - c.beta2.powi(self.t);
        let k = AdamStep {
            b1: T::from_f64(c.beta1),
            b2: T::from_f64(c.beta2),
            eps: T::from_f64(c.eps),
            inv_bc1: T::from_f64(1.0 / bc1),
            inv_bc2: T::from_f64(1.0 / bc2),
            lr: T::from_f64(c.lr),
        };
        k.apply(
            &mut self.theta,
            &mut self.m,
            &mut self.v,
            &g,
            self.gradient.keep(),
        );
        self.gradient.finish()
    }
}

/// The scalars of one Adam update, in the working precision.
#[derive(Clone, Copy)]
struct AdamStep<T> {
    b1: T,
    b2: T,
    eps: T,
    inv_bc1: T,
    inv_bc2: T,
    lr: T,
}

impl<T: Real> AdamStep<T> {
    /// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ − η·(m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε).
    ///
    /// The same arithmetic runs in both branches (Rust never contracts a·b + c into an FMA
    /// on its own), so the AVX2 build differs from the baseline build only in vector width
    /// and gives bit-identical θ; it matters because the update touches all p parameters
    /// every step and the baseline x86-64 target has 4-wide square roots and divisions.
    fn apply(&self, theta: &mut [T], m: &mut [T], v: &mut [T], g: &[T], keep: Option<&[bool]>) {
        use rayon::prelude::*;
        // Every entry is updated by exactly one task with the same arithmetic, so the split
        // (and the thread count) cannot change the result.
        const GRAIN: usize = 1 << 15;
        let flags = |i: usize, len: usize| keep.map(|k| &k[i * GRAIN..i * GRAIN + len]);
        if theta.len() > GRAIN && rayon::current_num_threads() > 1 {
            theta
                .par_chunks_mut(GRAIN)
                .zip(m.par_chunks_mut(GRAIN))
                .zip(v.par_chunks_mut(GRAIN))
                .zip(g.par_chunks(GRAIN))
                .enumerate()
                .for_each(|(i, (((t, m), v), g))| {
                    self.apply_serial(t, m, v, g, flags(i, t.len()));
                });
        } else {
            self.apply_serial(theta, m, v, g, keep);
        }
    }

    fn apply_serial(&self, theta: &mut [T], m: &mut [T], v: &mut [T], g: &[T], k: Option<&[bool]>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, the only feature the function is compiled for.
            unsafe { self.apply_avx2(theta, m, v, g, k) };
            return;
        }
        self.body(theta, m, v, g, k);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn apply_avx2(
        &self,
        theta: &mut [T],
        m: &mut [T],
        v: &mut [T],
        g: &[T],
        k: Option<&[bool]>,
    ) {
        self.body(theta, m, v, g, k);
    }

    /// The update loop; with a mask the gradient is masked on the fly: a pruned entry
    /// (keep = false) sees g = 0, so its moments stay exactly 0 and its update is exactly
    /// 0/(√0 + ε) = 0.
    #[inline(always)]
    fn body(&self, theta: &mut [T], m: &mut [T], v: &mut [T], g: &[T], keep: Option<&[bool]>) {
        let entries = theta.iter_mut().zip(m).zip(v).zip(g);
        match keep {
            None => entries.for_each(|(((t, m), v), &gi)| self.entry(t, m, v, gi)),
            Some(keep) => entries.zip(keep).for_each(|((((t, m), v), &gi), &k)| {
                self.entry(t, m, v, if k { gi } else { T::zero() });
            }),
        }
    }

    #[inline(always)]
    fn entry(&self, t: &mut T, m: &mut T, v: &mut T, gi: T) {
        let one = T::one();
        *m = self.b1 * *m + (one - self.b1) * gi;
        *v = self.b2 * *v + (one - self.b2) * gi * gi;
        let m_hat = *m * self.inv_bc1;
        let v_hat = *v * self.inv_bc2;
        *t -= self.lr * m_hat / (v_hat.sqrt() + self.eps);
    }
}
