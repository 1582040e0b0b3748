//! Test matrices with known spectra for the solver tests (Cholesky, CG, eigen, Lanczos).
#![allow(dead_code)]

use linalg::{matmul, Matrix, Real};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seeded generator for every test.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Standard normal by Box–Muller.
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Uniform on [−1, 1).
pub fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>() * 2.0 - 1.0
}

/// n×m matrix of uniform [−1, 1) entries.
pub fn random_matrix(n: usize, m: usize, rng: &mut ChaCha8Rng) -> Matrix<f64> {
    Matrix::from_fn(n, m, |_, _| uniform(rng))
}

/// A random orthogonal matrix: the product of n Householder reflectors I − 2uuᵀ with
/// Gaussian directions (Stewart 1980's construction, without the sign fix, which only matters
/// for exact Haar distribution).
pub fn random_orthogonal(n: usize, rng: &mut ChaCha8Rng) -> Matrix<f64> {
    let mut q = Matrix::<f64>::identity(n);
    for _ in 0..n {
        let mut u: Vec<f64> = (0..n).map(|_| normal(rng)).collect();
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

/// Q diag(λ) Qᵀ, made exactly symmetric (lower triangle mirrored).
pub fn with_spectrum(q: &Matrix<f64>, lambda: &[f64]) -> Matrix<f64> {
    let n = lambda.len();
    let ql = Matrix::from_fn(n, n, |i, j| q.get(i, j) * lambda[j]);
    let a = matmul(ql.as_ref(), q.as_ref().t()).unwrap();
    symmetrize(&a)
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

/// λ log-spaced from 1 down to 1/κ (κ = 1 gives all ones).
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

/// Random SPD with condition number κ.
pub fn random_spd(n: usize, kappa: f64, seed: u64) -> Matrix<f64> {
    let mut r = rng(seed);
    let q = random_orthogonal(n, &mut r);
    with_spectrum(&q, &log_spaced(n, kappa))
}

/// Converts a matrix entrywise (rounding to T).
pub fn cast<T: Real>(a: &Matrix<f64>) -> Matrix<T> {
    Matrix::from_fn(a.rows(), a.cols(), |i, j| T::from_f64(a.get(i, j)))
}

/// Widens to f64.
pub fn widen<T: Real>(a: &Matrix<T>) -> Matrix<f64> {
    Matrix::from_fn(a.rows(), a.cols(), |i, j| a.get(i, j).to_f64())
}

/// ‖A − B‖_F in f64.
pub fn diff_fro(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// A·B in f64 by the plain triple loop (independent of the code under test).
pub fn mul_f64(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
    let (n, k, m) = (a.rows(), a.cols(), b.cols());
    let mut c = Matrix::zeros(n, m);
    for i in 0..n {
        for p in 0..k {
            let aip = a.get(i, p);
            if aip == 0.0 {
                continue;
            }
            let crow = c.row_mut(i);
            for (cj, bj) in crow.iter_mut().zip(b.row(p)) {
                *cj += aip * bj;
            }
        }
    }
    c
}

/// Runs `f` in a rayon pool with `threads` threads.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}
