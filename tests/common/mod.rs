//! Helpers shared by the root integration tests (each test file uses a subset).
#![allow(dead_code)]

use linalg::Matrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded matrix with entries uniform in [−1, 1).
pub fn random_matrix(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Matrix::from_fn(rows, cols, |_, _| rng.random::<f64>() * 2.0 - 1.0)
}

/// A seeded vector with entries uniform in [−1, 1).
pub fn random_vec(n: usize, seed: u64) -> Vec<f64> {
    random_matrix(1, n, seed).into_vec()
}

/// ‖a − b‖/‖a‖: the workspace's one relative difference, `linalg::vec::rel_diff`, with the
/// first argument as the reference.
pub fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    linalg::vec::rel_diff(b, a)
}

/// ⟨a, b⟩.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    linalg::vec::dot(a, b)
}
