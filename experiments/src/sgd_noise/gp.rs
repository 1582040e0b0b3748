//! The Gaussian process that a wide network trained by GD on squared error follows
//! (Lee et al., "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient
//! Descent", NeurIPS 2019, §2.3.1, eq. 15–16), in discrete time.
//!
//! With Θ the NTK and K the NNGP kernel (the covariance of f₀ over inits) on the training
//! inputs X, and Θ*, K* their test × train blocks, the linearised model after t GD steps of
//! size η on L = ‖f − Y‖²/(2n) is f_t(x*) = f₀(x*) + A_t (Y − f₀(X)) with
//! A_t = Θ* Θ⁻¹ (I − (I − ηΘ/n)ᵗ) (the same filter as [`crate::tangent::closed_form`]).
//! Over the draw of θ₀ (f₀ ~ GP(0, K), Θ deterministic at infinite width) f_t(x*) is Gaussian:
//!
//! * mean μ_t(x*) = A_t Y;
//! * covariance Σ_t = K** + A_t K A_tᵀ − A_t K*ᵀ − K* A_tᵀ.
//!
//! At t → ∞ and x* ∈ X, A = I and Σ = 0 (the training set is interpolated); at t = 0, A = 0
//! and Σ = K** (the prior). Every output has the same Σ (the GP of Θ ⊗ I, the traced kernel).

use crate::tangent::closed_form::factors;
use anyhow::{bail, Result};
use linalg::{matmul, symmetric_eigen, Matrix};

/// The kernels the GP is built from, all for one output (the traced form).
pub struct GpKernels<'a> {
    /// Θ on the training inputs, n×n.
    pub ntk: &'a Matrix<f64>,
    /// Θ*, test × train.
    pub ntk_cross: &'a Matrix<f64>,
    /// K on the training inputs, n×n.
    pub nngp: &'a Matrix<f64>,
    /// K*, test × train.
    pub nngp_cross: &'a Matrix<f64>,
    /// K** on the test inputs, m×m.
    pub nngp_test: &'a Matrix<f64>,
}

/// μ_t and Σ_t on the test inputs.
#[derive(Clone, Debug)]
pub struct GpPrediction {
    /// m × o: A_t Y.
    pub mean: Matrix<f64>,
    /// m×m: the covariance of every output over the test inputs.
    pub covariance: Matrix<f64>,
    /// m: its diagonal, clamped at 0 against rounding.
    pub variance: Vec<f64>,
}

/// A_t = Θ* V diag((1 − qᵢᵗ)/λᵢ) Vᵀ with Θ = V diag(λ) Vᵀ and qᵢ = 1 − ηλᵢ/n.
fn filter(k: &GpKernels<'_>, lr: f64, t: f64) -> Result<Matrix<f64>> {
    let n = k.ntk.rows();
    let eig = symmetric_eigen(k.ntk.as_ref())?;
    let eta_n = lr / n as f64;
    let shrink: Vec<f64> = eig
        .values
        .iter()
        .map(|&l| factors(eta_n * l.max(0.0), t, eta_n).1)
        .collect();
    let v = &eig.vectors;
    let scaled = Matrix::from_fn(n, n, |i, j| v.get(i, j) * shrink[j]);
    let b = matmul(scaled.as_ref(), v.as_ref().t())?;
    Ok(matmul(k.ntk_cross.as_ref(), b.as_ref())?)
}

/// The GP after `t` GD steps of size `lr` for targets `y` (n × o).
pub fn ntk_gp(k: &GpKernels<'_>, y: &Matrix<f64>, lr: f64, t: f64) -> Result<GpPrediction> {
    let (n, m) = (k.ntk.rows(), k.ntk_cross.rows());
    let shapes_fit = k.ntk.cols() == n
        && k.nngp.rows() == n
        && k.nngp.cols() == n
        && k.ntk_cross.cols() == n
        && k.nngp_cross.rows() == m
        && k.nngp_cross.cols() == n
        && k.nngp_test.rows() == m
        && k.nngp_test.cols() == m
        && y.rows() == n;
    if !shapes_fit {
        bail!("the GP's kernels and targets disagree on n = {n} or m = {m}");
    }
    if !(lr.is_finite() && lr > 0.0 && t >= 0.0) {
        bail!("the GP needs a positive step and a time t ≥ 0");
    }
    let a = filter(k, lr, t)?;
    let mean = matmul(a.as_ref(), y.as_ref())?;
    let ak = matmul(a.as_ref(), k.nngp.as_ref())?;
    let akat = matmul(ak.as_ref(), a.as_ref().t())?;
    let akc = matmul(a.as_ref(), k.nngp_cross.as_ref().t())?;
    // Each term symmetrised, so that Σ is symmetric to the last bit.
    let covariance = Matrix::from_fn(m, m, |i, j| {
        0.5 * (k.nngp_test.get(i, j) + k.nngp_test.get(j, i))
            + 0.5 * (akat.get(i, j) + akat.get(j, i))
            - (akc.get(i, j) + akc.get(j, i))
    });
    let variance = (0..m).map(|i| covariance.get(i, i).max(0.0)).collect();
    Ok(GpPrediction {
        mean,
        covariance,
        variance,
    })
}
