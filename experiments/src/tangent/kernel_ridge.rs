//! The Newton step in the tangent space as a kernel ridge solve: (K + λI)α = Y − f₀.
//!
//! Cholesky is the first choice (half the flops of anything else, backward stable for SPD
//! matrices). A kernel computed in f32 carries rounding of order ε_f32·‖K‖ in every entry, so
//! a rank-deficient K can come out with eigenvalues slightly below zero; with a small λ,
//! K + λI is then indefinite and Cholesky stops at a non-positive pivot. That only happens
//! when λ is below the rounding level of K's spectrum, and the most negative eigenvalue
//! measures that level: τ = |λ_min| (the eigenvalues of K + E lie within ‖E‖₂ of K's, Weyl's
//! inequality, and a PSD K has none below 0). The fallback treats every eigenvalue at or below
//! τ as the null space it is in exact arithmetic:
//!
//! α = Σ_{λᵢ > τ} vᵢ vᵢᵀ b / (λᵢ + λ).
//!
//! In exact arithmetic the dropped components change no prediction (for v in the null space
//! of K = JJᵀ, Jᵀv = 0, so K(X*, X)v = 0 too); kept, they would have size ‖b‖/λ and multiply
//! the rounding of K and of the test kernel into the predictions (a train loss of 813 where
//! the f64 run gives 0.22, for λ = 1e-9 with 140 such eigenvalues). The train residual in the
//! dropped directions stays unfit, as it does in exact arithmetic.

use anyhow::{Context, Result};
use linalg::{symmetric_eigen, Cholesky, LinalgError, Matrix, SymmetricEigen};
use serde::Serialize;

/// How the ridge system was solved.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum RidgeSolver {
    /// Cholesky factorisation of K + λI.
    Cholesky,
    /// Cholesky failed; the eigendecomposition of K, with the eigenvalues at or below the
    /// rounding level τ = |λ_min(K)| treated as zero (see the module doc).
    Eigen {
        /// Why Cholesky was not used.
        reason: String,
        /// How many eigenvalues were below zero.
        clamped: usize,
        /// How many eigenvalues were at or below τ and dropped from α.
        dropped: usize,
        /// τ, the magnitude of the most negative eigenvalue.
        rounding_level: f64,
    },
}

impl std::fmt::Display for RidgeSolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RidgeSolver::Cholesky => f.write_str("Cholesky"),
            RidgeSolver::Eigen {
                reason,
                clamped,
                dropped,
                rounding_level,
            } => write!(
                f,
                "eigendecomposition, because Cholesky failed ({reason}): {clamped} eigenvalue(s) of K were below 0, so its rounding level is {rounding_level:.2e}; the {dropped} eigenvalue(s) at or below it were treated as K's null space (λ below that level cannot be resolved in this precision)"
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
            let sol = spectral_solve(e_k, lambda, rhs)?;
            Ok((
                sol.alpha,
                RidgeSolver::Eigen {
                    reason: e.to_string(),
                    clamped: sol.clamped,
                    dropped: sol.dropped,
                    rounding_level: sol.rounding_level,
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

/// The spectral ridge solution and what it left out.
pub struct SpectralSolution {
    /// α, one column per right-hand side.
    pub alpha: Matrix<f64>,
    /// Eigenvalues below 0.
    pub clamped: usize,
    /// Eigenvalues at or below the rounding level, dropped from α.
    pub dropped: usize,
    /// τ = max(0, −λ_min).
    pub rounding_level: f64,
}

/// α = Σ_{λᵢ > τ} vᵢ vᵢᵀ b / (λᵢ + λ) with τ = max(0, −λ_min) (see the module doc); for a
/// PSD spectrum (τ = 0) this is exactly (K + λI)⁻¹ b.
pub fn spectral_solve(
    eig: &SymmetricEigen<f64>,
    lambda: f64,
    rhs: &Matrix<f64>,
) -> Result<SpectralSolution> {
    let v = &eig.vectors;
    let mut c = linalg::matmul(v.as_ref().t(), rhs.as_ref())?;
    let tau = eig.values.iter().fold(0.0f64, |m, &l| m.max(-l));
    let (mut clamped, mut dropped) = (0, 0);
    for (i, &l) in eig.values.iter().enumerate() {
        clamped += usize::from(l < 0.0);
        let s = if tau > 0.0 && l <= tau {
            dropped += 1;
            0.0
        } else {
            1.0 / (l.max(0.0) + lambda)
        };
        for x in c.row_mut(i) {
            *x *= s;
        }
    }
    Ok(SpectralSolution {
        alpha: linalg::matmul(v.as_ref(), c.as_ref())?,
        clamped,
        dropped,
        rounding_level: tau,
    })
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
            RidgeSolver::Eigen {
                clamped,
                reason,
                dropped,
                rounding_level,
            } => {
                assert_eq!(*clamped, 2, "{how}");
                // τ = 3e-7: the two negative eigenvalues and the zero one are dropped.
                assert_eq!(*dropped, 3, "{how}");
                assert!((rounding_level - 3e-7).abs() < 1e-12, "{how}");
                assert!(reason.contains("positive definite"), "{reason}");
            }
            RidgeSolver::Cholesky => panic!("Cholesky should fail on an indefinite K + λI"),
        }
        assert!(eig.is_some(), "the decomposition is kept for the caller");
        // On the kept eigenvectors, α solves the ridge system of K itself; the train fit
        // K α does not feel the rounding-level eigenvalues, and α stays of size ‖b‖/λ_kept
        // instead of ‖b‖/λ = 1e9·‖b‖.
        let kept = kernel_with_spectrum(&[4.0, 2.0, 1.0, 0.0, 0.0, 0.0]);
        let ka = linalg::matmul(k.as_ref(), alpha.as_ref()).unwrap();
        let kpa = linalg::matmul(kept.as_ref(), alpha.as_ref()).unwrap();
        let gap = ka
            .as_slice()
            .iter()
            .zip(kpa.as_slice())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(gap < 1e-12 * b.norm_max(), "K α vs K_kept α: {gap}");
        assert!(
            alpha.norm_max() <= 2.0 * b.norm_max() * 6.0,
            "{}",
            alpha.norm_max()
        );
        // And the train residual is b's projection on the dropped directions, as in exact
        // arithmetic: the kept part is fitted to the ridge.
        let fit = linalg::matmul(kept.as_ref(), alpha.as_ref()).unwrap();
        let ridge_kept = residual_ratio(&kept, lambda, &alpha, &fit_target(&kept, &b));
        assert!(
            ridge_kept < 100.0,
            "ridge residual on the kept space {ridge_kept}"
        );
        assert!(fit.as_slice().iter().all(|v| v.is_finite()));
    }

    /// b projected on the range of a PSD `k` (its eigenvectors with eigenvalue > 0).
    fn fit_target(k: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
        let e = symmetric_eigen(k.as_ref()).unwrap();
        let mut c = linalg::matmul(e.vectors.as_ref().t(), b.as_ref()).unwrap();
        for (i, &l) in e.values.iter().enumerate() {
            if l <= 1e-12 {
                c.row_mut(i).fill(0.0);
            }
        }
        linalg::matmul(e.vectors.as_ref(), c.as_ref()).unwrap()
    }

    #[test]
    fn spectral_solve_equals_cholesky_on_spd() {
        let k = kernel_with_spectrum(&[5.0, 1.0, 0.2, 0.05]);
        let b = Matrix::from_fn(4, 3, |i, j| ((i * 3 + j) as f64).sin());
        let mut none = None;
        let (a1, _) = solve(&k, 0.01, &b, &mut none).unwrap();
        let e = symmetric_eigen(k.as_ref()).unwrap();
        let sol = spectral_solve(&e, 0.01, &b).unwrap();
        assert_eq!((sol.clamped, sol.dropped), (0, 0));
        let a2 = sol.alpha;
        let diff = a1
            .as_slice()
            .iter()
            .zip(a2.as_slice())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(diff < 1e-10 * a1.norm_max(), "{diff}");
    }
}
