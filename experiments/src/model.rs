//! Network construction from command-line style settings, and the empirical NTK as the
//! experiments consume it (always returned in f64, whatever precision the network runs in).

use anyhow::{anyhow, bail, Result};
use autodiff::nn::{Mlp, Parameterization};
use autodiff::Activation;
use linalg::{MatRef, Matrix, Real};
use serde::{Deserialize, Serialize};

/// The network settings shared by `linearize`, `width-sweep` and `bench-jacobian`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ModelConfig {
    /// Hidden widths, input side first.
    pub widths: Vec<usize>,
    /// Activation name (relu, tanh, erf, gelu, softplus, sigmoid, identity, leaky-relu).
    pub activation: String,
    /// `ntk` or `standard`.
    pub parameterization: String,
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
            activation: "relu".into(),
            parameterization: "ntk".into(),
            sigma_w: 2f64.sqrt(),
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
        if w == 0 {
            bail!("width 0 in `{s}`: every hidden layer needs at least one unit");
        }
        if w > MAX_WIDTH {
            bail!("width {w} in `{s}` is larger than the supported maximum {MAX_WIDTH}");
        }
        out.push(w);
    }
    if out.is_empty() {
        bail!("--widths needs at least one hidden width");
    }
    Ok(out)
}

/// Builds the network for inputs of dimension `d` and `o` outputs.
pub fn build(cfg: &ModelConfig, d: usize, o: usize) -> Result<Mlp> {
    let act: Activation = cfg.activation.parse().map_err(|e: String| anyhow!(e))?;
    let par: Parameterization = cfg.parameterization.parse().map_err(|_| {
        anyhow!(
            "unknown parameterization `{}` (expected ntk or standard)",
            cfg.parameterization
        )
    })?;
    if cfg.widths.contains(&0) {
        bail!("every hidden width must be at least 1");
    }
    let mlp = Mlp::new(d, &cfg.widths, o, act, par, cfg.sigma_w, cfg.sigma_b)
        .map_err(|e| anyhow!("cannot build the network: {e}"))?;
    Ok(mlp)
}

/// Which form of the empirical NTK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelForm {
    /// The full (n·o)×(n·o) kernel, row index i·o + a.
    Full,
    /// The n×n output-averaged kernel K̄ᵢⱼ = (1/o²) Σ_{a,b} K_{(i,a),(j,b)}.
    Traced,
}

/// Bytes of the kernel matrices `linearize` holds at once for `n` train and `m` test points:
/// K (train×train) three times (K, its eigenvectors, its Cholesky factor) and K(test, train),
/// all f64.
pub fn linearize_kernel_bytes(n: usize, m: usize, o: usize, form: KernelForm) -> u128 {
    let (a, b) = match form {
        KernelForm::Full => ((n * o) as u128, (m * o) as u128),
        KernelForm::Traced => (n as u128, m as u128),
    };
    8 * (3 * a * a + a * b)
}

/// Memory available to this process, from /proc/meminfo (`MemAvailable`), if readable.
pub fn available_memory_bytes() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Empirical NTK Θ(X₁, X₂) = J(X₁) J(X₂)ᵀ at θ, in f64 (full or output-averaged), by
/// contracting Jacobians computed by reverse mode.
pub fn ntk<T: Real>(
    mlp: &Mlp,
    theta: &[T],
    x1: MatRef<'_, T>,
    x2: Option<MatRef<'_, T>>,
    form: KernelForm,
) -> Result<Matrix<f64>> {
    let o = mlp.output_dim();
    let jac = |x: MatRef<'_, T>| {
        autodiff::jacobian::jacobian_by_vjp(mlp, theta, x, 64).map_err(|e| anyhow!("Jacobian: {e}"))
    };
    let j1 = jac(x1)?;
    let j2 = match x2 {
        Some(x2) => Some(jac(x2)?),
        None => None,
    };
    let j2r = j2.as_ref().unwrap_or(&j1);
    let k = linalg::matmul(j1.as_ref(), j2r.as_ref().t())?;
    let full = Matrix::from_fn(k.rows(), k.cols(), |i, j| k.get(i, j).to_f64());
    Ok(match form {
        KernelForm::Full => full,
        KernelForm::Traced => average_outputs(&full, o),
    })
}

/// K̄ᵢⱼ = (1/o²) Σ_{a,b} K_{(i,a),(j,b)}: the output-averaged kernel of a full one.
pub fn average_outputs(k: &Matrix<f64>, o: usize) -> Matrix<f64> {
    let (n1, n2) = (k.rows() / o, k.cols() / o);
    let scale = 1.0 / (o * o) as f64;
    Matrix::from_fn(n1, n2, |i, j| {
        let mut s = 0.0;
        for a in 0..o {
            for b in 0..o {
                s += k.get(i * o + a, j * o + b);
            }
        }
        s * scale
    })
}
