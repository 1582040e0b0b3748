//! Seeded generators for the solver tests; the structured matrices and the residual ratios
//! are the library's own (`linalg::check`), shared with `tangent selfcheck`.
#![allow(dead_code, unused_imports)]

pub use linalg::check::{
    diff_fro, hilbert, log_spaced, random_orthogonal, random_spd, reference_matmul as mul_f64,
    symmetrize, widen, with_spectrum,
};
use linalg::{Matrix, Real};
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

/// Converts a matrix entrywise (rounding to T).
pub fn cast<T: Real>(a: &Matrix<f64>) -> Matrix<T> {
    Matrix::from_fn(a.rows(), a.cols(), |i, j| T::from_f64(a.get(i, j)))
}

/// Runs `f` in a rayon pool with `threads` threads.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}
