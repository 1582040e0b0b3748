//! Network construction from command-line style settings, and the empirical NTK as the
//! experiments consume it (always returned in f64, whatever precision the network runs in).

use anyhow::{anyhow, bail, Context, Result};
use autodiff::mlp::{Mlp, Parameterization};
use autodiff::Activation;
use linalg::{MatRef, Matrix, Real};
use serde::{Deserialize, Serialize};

/// The network settings shared by `linearize`, `width-sweep` and `bench-jacobian`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ModelConfig {
    /// Hidden widths, input side first.
    pub widths: Vec<usize>,
    /// Activation φ (written by name: relu, tanh, erf, gelu, softplus, sigmoid, identity,
    /// leaky-relu).
    #[serde(with = "crate::config::by_name")]
    pub activation: Activation,
    /// NTK or standard parameterization (written as `ntk` / `standard`).
    #[serde(with = "crate::config::by_name")]
    pub parameterization: Parameterization,
    /// σ_w.
    pub sigma_w: f64,
    /// σ_b.
    pub sigma_b: f64,
    /// Seed of θ₀.
    pub seed: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            widths: vec![512],
            activation: Activation::Relu,
            parameterization: Parameterization::Ntk,
            sigma_w: 1.0,
            sigma_b: 0.1,
            seed: 0,
        }
    }
}

/// Largest hidden width accepted: beyond it θ alone would not fit a workstation.
pub const MAX_WIDTH: usize = 1 << 20;

/// Parses `512,512` into widths, rejecting empty entries, zeros and absurd sizes.
pub fn parse_widths(s: &str) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        let w: usize = part
            .parse()
            .map_err(|_| anyhow!("width `{part}` in `{s}` is not a positive integer"))?;
        out.push(w);
    }
    check_widths(&out).map_err(|e| anyhow!("{e} (in `{s}`)"))?;
    Ok(out)
}

/// Checks hidden widths: at least one, each in 1..=[`MAX_WIDTH`].
pub fn check_widths(widths: &[usize]) -> Result<()> {
    if widths.is_empty() {
        bail!("--widths needs at least one hidden width");
    }
    for &w in widths {
        if w == 0 {
            bail!("width 0: every hidden layer needs at least one unit");
        }
        if w > MAX_WIDTH {
            bail!("width {w} is larger than the supported maximum {MAX_WIDTH}");
        }
    }
    Ok(())
}

/// Largest σ_w or σ_b accepted: beyond it the pre-activations overflow f32 at θ₀.
pub const MAX_SIGMA: f64 = 1e6;

/// Checks the network settings: widths, σ_w > 0 and σ_b ≥ 0, both finite and ≤ [`MAX_SIGMA`].
pub fn validate(cfg: &ModelConfig) -> Result<()> {
    if cfg.widths.is_empty() || cfg.widths.contains(&0) {
        bail!("--widths needs at least one hidden layer, each of width ≥ 1");
    }
    if !(cfg.sigma_w.is_finite() && cfg.sigma_w > 0.0 && cfg.sigma_w <= MAX_SIGMA) {
        bail!(
            "--sigma-w (σ_w) must be a positive finite number ≤ {MAX_SIGMA:e}, got {:e}",
            cfg.sigma_w
        );
    }
    if !(cfg.sigma_b.is_finite() && cfg.sigma_b >= 0.0 && cfg.sigma_b <= MAX_SIGMA) {
        bail!(
            "--sigma-b (sigma_b, σ_b) must be a finite number in [0, {MAX_SIGMA:e}], got {:e}",
            cfg.sigma_b
        );
    }
    Ok(())
}

/// Builds the network for inputs of dimension `d` and `o` outputs.
pub fn build(cfg: &ModelConfig, d: usize, o: usize) -> Result<Mlp> {
    if cfg.widths.contains(&0) {
        bail!("every hidden width must be at least 1");
    }
    let mlp = Mlp::new(
        d,
        &cfg.widths,
        o,
        cfg.activation,
        cfg.parameterization,
        cfg.sigma_w,
        cfg.sigma_b,
    )
    .context("cannot build the network")?;
    Ok(mlp)
}

/// f(X; θ) in f64, whatever precision the network runs in.
pub fn forward_f64<T: Real>(mlp: &Mlp, theta: &[T], x: MatRef<'_, T>) -> Result<Matrix<f64>> {
    let f = mlp.forward(theta, x)?;
    Ok(Matrix::from_fn(f.rows(), f.cols(), |i, j| {
        f.get(i, j).to_f64()
    }))
}

/// Which form of the empirical NTK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelForm {
    /// The full (n·o)×(n·o) kernel, row index i·o + a.
    Full,
    /// The n×n output-traced kernel K̄ᵢⱼ = (1/o) Σ_a K_{(i,a),(j,a)}.
    Traced,
}

/// Empirical NTK Θ(X₁, X₂) = J(X₁) J(X₂)ᵀ at θ, in f64: the full (n₁·o)×(n₂·o) kernel or the
/// output-traced n₁×n₂ kernel (1/o)·Σ_a K[(i, a), (j, a)], by the structured per-layer products
/// of `autodiff::mlp::ntk`, which never form J.
pub fn ntk<T: Real>(
    mlp: &Mlp,
    theta: &[T],
    x1: MatRef<'_, T>,
    x2: Option<MatRef<'_, T>>,
    form: KernelForm,
) -> Result<Matrix<f64>> {
    let k = match form {
        KernelForm::Full => autodiff::mlp::ntk::ntk_structured(mlp, theta, x1, x2),
        KernelForm::Traced => autodiff::mlp::ntk::ntk_traced(mlp, theta, x1, x2),
    }
    .context("empirical NTK")?;
    Ok(Matrix::from_fn(k.rows(), k.cols(), |i, j| {
        k.get(i, j).to_f64()
    }))
}
