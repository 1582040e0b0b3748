//! The Newton step in the tangent space as a kernel ridge solve: (K + λI)α = Y − f₀.
//!
//! Cholesky is the first choice (half the flops of anything else, backward stable for SPD
//! matrices). A kernel computed in f32 carries rounding of order ε_f32·‖K‖ in every entry, so
//! a rank-deficient K can come out with eigenvalues slightly below zero; with a small λ,
//! K + λI is then indefinite and Cholesky stops at a non-positive pivot. The fallback is the
//! spectral solve α = V (Λ₊ + λI)⁻¹ Vᵀ b with Λ₊ = max(Λ, 0): the ridge solution of the
//! nearest positive semi-definite kernel (in the Frobenius norm, Higham 1988), which exists
//! for every λ > 0.

use anyhow::{Context, Result};
use linalg::{symmetric_eigen, Cholesky, LinalgError, Matrix, SymmetricEigen};
use serde::Serialize;

/// How the ridge system was solved.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum RidgeSolver {
    /// Cholesky factorisation of K + λI.
    Cholesky,
    /// Cholesky failed; the eigendecomposition of K with negative eigenvalues clamped to 0.
    Eigen {
        /// Why Cholesky was not used.
        reason: String,
        /// How many eigenvalues were below zero and clamped.
        clamped: usize,
    },
}

impl std::fmt::Display for RidgeSolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RidgeSolver::Cholesky => f.write_str("Cholesky"),
            RidgeSolver::Eigen { reason, clamped } => write!(
                f,
                "eigendecomposition ({clamped} negative eigenvalue(s) clamped to 0), because Cholesky failed: {reason}"
            ),
        }
    }
}

/// Solves (K + λI)α = `rhs` (one column per right-hand side). `eig` holds the
/// eigendecomposition of K if the caller already has it; when the fallback has to compute it,
/// it is stored there so the caller does not compute it twice.
pub fn solve(
    k: &Matrix<f64>,
    lambda: f64,
    rhs: &Matrix<f64>,
    eig: &mut Option<SymmetricEigen<f64>>,
) -> Result<(Matrix<f64>, RidgeSolver)> {
    let n = k.rows();
    let mut kl = k.clone();
    for i in 0..n {
        kl.set(i, i, kl.get(i, i) + lambda);
    }
    let factor = Cholesky::factor(kl.as_ref());
    drop(kl);
    match factor {
        Ok(chol) => Ok((chol.solve(rhs.as_ref())?, RidgeSolver::Cholesky)),
        Err(e @ LinalgError::NotPositiveDefinite { .. }) => {
            let e_k = match eig {
                Some(e) => e,
                None => eig.insert(
                    symmetric_eigen(k.as_ref())
                        .with_context(|| format!("eigendecomposition of the {n}×{n} kernel"))?,
                ),
            };
            let (alpha, clamped) = spectral_solve(e_k, lambda, rhs)?;
            Ok((
                alpha,
                RidgeSolver::Eigen {
                    reason: e.to_string(),
                    clamped,
                },
            ))
        }
        Err(e) => Err(e).with_context(|| format!("Cholesky of K + λI with λ = {lambda}")),
    }
}

/// Kernel predictions f₀(X*) + K(X*, X)·coef, flattened row-major: the Newton step's with
/// coef = α, linearised GD's with coef = β_t.
pub fn kernel_predict(f0: &Matrix<f64>, k: &Matrix<f64>, coef: &Matrix<f64>) -> Result<Vec<f64>> {
    let kc = linalg::matmul(k.as_ref(), coef.as_ref())?;
    Ok(f0
        .as_slice()
        .iter()
        .zip(kc.as_slice())
        .map(|(a, b)| a + b)
        .collect())
}

/// α = V (Λ₊ + λI)⁻¹ Vᵀ b; returns α and the number of eigenvalues clamped from below 0.
pub fn spectral_solve(
    eig: &SymmetricEigen<f64>,
    lambda: f64,
    rhs: &Matrix<f64>,
) -> Result<(Matrix<f64>, usize)> {
    let v = &eig.vectors;
    let mut c = linalg::matmul(v.as_ref().t(), rhs.as_ref())?;
    let mut clamped = 0;
    for (i, &l) in eig.values.iter().enumerate() {
        if l < 0.0 {
            clamped += 1;
        }
        let s = 1.0 / (l.max(0.0) + lambda);
        for x in c.row_mut(i) {
            *x *= s;
        }
    }
    Ok((linalg::matmul(v.as_ref(), c.as_ref())?, clamped))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// K = Q diag(d) Qᵀ with a fixed orthogonal Q (a product of Givens rotations).
    fn kernel_with_spectrum(d: &[f64]) -> Matrix<f64> {
        let n = d.len();
        let mut q = Matrix::<f64>::identity(n);
        for i in 0..n - 1 {
            let (c, s) = ((0.3 + i as f64).cos(), (0.3 + i as f64).sin());
            for r in 0..n {
                let (a, b) = (q.get(r, i), q.get(r, i + 1));
                q.set(r, i, c * a - s * b);
                q.set(r, i + 1, s * a + c * b);
            }
        }
        Matrix::from_fn(n, n, |i, j| {
            (0..n).map(|k| q.get(i, k) * d[k] * q.get(j, k)).sum()
        })
    }

    fn residual_ratio(k: &Matrix<f64>, lambda: f64, alpha: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
        let ka = linalg::matmul(k.as_ref(), alpha.as_ref()).unwrap();
        let mut r = 0.0f64;
        for i in 0..b.rows() {
            for j in 0..b.cols() {
                r = r.max((ka.get(i, j) + lambda * alpha.get(i, j) - b.get(i, j)).abs());
            }
        }
        r / ((k.norm_max() + lambda) * alpha.norm_max() * f64::EPSILON * k.rows() as f64)
    }

    #[test]
    fn spd_kernel_uses_cholesky() {
        let k = kernel_with_spectrum(&[3.0, 2.0, 1.0, 0.5, 0.1]);
        let b = Matrix::from_fn(5, 2, |i, j| (i + 2 * j) as f64 - 2.0);
        let mut eig = None;
        let (alpha, how) = solve(&k, 1e-3, &b, &mut eig).unwrap();
        assert_eq!(how, RidgeSolver::Cholesky);
        assert!(eig.is_none());
        assert!(residual_ratio(&k, 1e-3, &alpha, &b) < 10.0);
    }

    #[test]
    fn singular_kernel_with_rounding_falls_back_to_the_spectrum() {
        // Rank 3 of 6, with the null space perturbed below zero as f32 rounding does.
        let d = [4.0, 2.0, 1.0, -3e-7, -1e-7, 0.0];
        let k = kernel_with_spectrum(&d);
        let b = Matrix::from_fn(6, 1, |i, _| 1.0 + i as f64);
        let lambda = 1e-9;
        let mut eig = None;
        let (alpha, how) = solve(&k, lambda, &b, &mut eig).unwrap();
        match &how {
            RidgeSolver::Eigen { clamped, reason } => {
                assert!(*clamped >= 1, "{how}");
                assert!(reason.contains("positive definite"), "{reason}");
            }
            RidgeSolver::Cholesky => panic!("Cholesky should fail on an indefinite K + λI"),
        }
        assert!(eig.is_some(), "the decomposition is kept for the caller");
        // α solves the ridge system of the clamped kernel K₊ = V Λ₊ Vᵀ.
        let clamped: Vec<f64> = d.iter().map(|x| x.max(0.0)).collect();
        let kp = kernel_with_spectrum(&clamped);
        let ratio = residual_ratio(&kp, lambda, &alpha, &b);
        // α is as large as ‖b‖/λ in the null space, so the ratio is measured against ‖α‖.
        assert!(ratio < 100.0, "residual ratio {ratio}");
        assert!(alpha.as_slice().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn spectral_solve_equals_cholesky_on_spd() {
        let k = kernel_with_spectrum(&[5.0, 1.0, 0.2, 0.05]);
        let b = Matrix::from_fn(4, 3, |i, j| ((i * 3 + j) as f64).sin());
        let mut none = None;
        let (a1, _) = solve(&k, 0.01, &b, &mut none).unwrap();
        let e = symmetric_eigen(k.as_ref()).unwrap();
        let (a2, clamped) = spectral_solve(&e, 0.01, &b).unwrap();
        assert_eq!(clamped, 0);
        let diff = a1
            .as_slice()
            .iter()
            .zip(a2.as_slice())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(diff < 1e-10 * a1.norm_max(), "{diff}");
    }
}
