//! Seeded test matrices with a known spectrum, built in f64 with the plain triple loop
//! ([`reference_matmul`]) so that they do not depend on the GEMM under test.

use super::ratios::reference_matmul;
use crate::random::SplitMix64;
use crate::Matrix;

/// A random n×n orthogonal matrix: the product of n Householder reflectors I − 2uuᵀ with
/// Gaussian unit directions u (Stewart, "The efficient generation of random orthogonal
/// matrices", SIAM J. Numer. Anal. 17, 1980; the sign fix that makes it exactly Haar is
/// omitted, as only orthogonality matters here). Seeded by `seed` alone.
pub fn random_orthogonal(n: usize, seed: u64) -> Matrix<f64> {
    let mut rng = SplitMix64::new(seed);
    let mut q = Matrix::<f64>::identity(n);
    for _ in 0..n {
        let mut u: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let norm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
        u.iter_mut().for_each(|x| *x /= norm);
        // Q ← Q (I − 2uuᵀ): each row r ← r − 2 (r·u) uᵀ.
        for i in 0..n {
            let row = q.row_mut(i);
            let t = 2.0 * row.iter().zip(&u).map(|(a, b)| a * b).sum::<f64>();
            row.iter_mut().zip(&u).for_each(|(a, b)| *a -= t * b);
        }
    }
    q
}

/// Q diag(λ) Qᵀ, made exactly symmetric (the lower triangle mirrored), so its eigenvalues
/// are λ to within n·ε·max|λ|.
pub fn with_spectrum(q: &Matrix<f64>, lambda: &[f64]) -> Matrix<f64> {
    let n = lambda.len();
    let ql = Matrix::from_fn(n, n, |i, j| q.get(i, j) * lambda[j]);
    symmetrize(&reference_matmul(&ql, &q.transpose()))
}

/// Copies the lower triangle onto the upper one.
pub fn symmetrize(a: &Matrix<f64>) -> Matrix<f64> {
    Matrix::from_fn(a.rows(), a.cols(), |i, j| {
        if i >= j {
            a.get(i, j)
        } else {
            a.get(j, i)
        }
    })
}

/// λᵢ = κ^(−i/(n−1)), i = 0…n−1: log-spaced from 1 down to 1/κ (all ones for n = 1).
pub fn log_spaced(n: usize, kappa: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            if n == 1 {
                1.0
            } else {
                kappa.powf(-(i as f64) / (n - 1) as f64)
            }
        })
        .collect()
}

/// A random symmetric positive-definite matrix with 2-norm condition number κ:
/// Q diag(log-spaced λ) Qᵀ with Q from [`random_orthogonal`].
pub fn random_spd(n: usize, kappa: f64, seed: u64) -> Matrix<f64> {
    with_spectrum(&random_orthogonal(n, seed), &log_spaced(n, kappa))
}

/// The Hilbert matrix Hᵢⱼ = 1/(i + j + 1): SPD and notoriously ill-conditioned
/// (κ(H₁₀) ≈ 1.6e13, κ(H₁₃) ≈ 1.8e18 > 1/ε in f64; Higham, *Accuracy and Stability of
/// Numerical Algorithms*, 2nd ed., §28.1).
pub fn hilbert(n: usize) -> Matrix<f64> {
    Matrix::from_fn(n, n, |i, j| 1.0 / (i + j + 1) as f64)
}

/// A random lower-triangular matrix with a dominant diagonal, Lᵢᵢ ∈ [0.5, 1)·(1 + Σⱼ<ᵢ |Lᵢⱼ|)
/// and off-diagonal entries uniform in [−1, 1): well enough conditioned at every size that
/// the solutions of Lx = b stay representable, so the residual ratio measures the solver.
pub fn random_lower(n: usize, seed: u64) -> Matrix<f64> {
    let mut r = SplitMix64::new(seed);
    let mut l = Matrix::from_fn(n, n, |i, j| if j < i { r.next_symmetric() } else { 0.0 });
    for i in 0..n {
        let off: f64 = (0..i).map(|j| l.get(i, j).abs()).sum();
        l.set(i, i, (0.5 + 0.5 * r.next_f64()) * (1.0 + off));
    }
    l
}
