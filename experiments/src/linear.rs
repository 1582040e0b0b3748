//! Small dense helpers shared by the least-squares experiments (f64 throughout).

use anyhow::Result;
use linalg::{matvec, MatRef, Matrix};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::synthetic::normal;
use crate::metrics::{dot, norm};

/// y = A x.
pub fn mul(a: MatRef<'_, f64>, x: &[f64]) -> Result<Vec<f64>> {
    let mut y = vec![0.0; a.rows()];
    matvec(1.0, a, x, 0.0, &mut y)?;
    Ok(y)
}

/// An n × k matrix with orthonormal columns: modified Gram–Schmidt (twice, for orthogonality
/// to working precision) on Gaussian columns drawn from `rng`.
pub fn random_orthonormal(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Matrix<f64> {
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(k);
    while cols.len() < k {
        let mut v: Vec<f64> = (0..n).map(|_| normal(rng)).collect();
        for _ in 0..2 {
            for c in &cols {
                let p = dot(&v, c);
                for (vi, ci) in v.iter_mut().zip(c) {
                    *vi -= p * ci;
                }
            }
        }
        let nv = norm(&v);
        if nv > 1e-8 {
            v.iter_mut().for_each(|x| *x /= nv);
            cols.push(v);
        }
    }
    Matrix::from_fn(n, k, |i, j| cols[j][i])
}

/// A = U diag(s) Vᵀ (m × p) with the given singular values (length min(m, p)) and random
/// orthonormal U, V from `seed`.
pub fn matrix_with_singular_values(m: usize, p: usize, s: &[f64], seed: u64) -> Matrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let r = s.len();
    let u = random_orthonormal(m, r, &mut rng);
    let v = random_orthonormal(p, r, &mut rng);
    Matrix::from_fn(m, p, |i, j| {
        (0..r).map(|k| u.get(i, k) * s[k] * v.get(j, k)).sum()
    })
}
