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

/// One small, fast command line per experiment (a second or two each), shared by the tests
/// that run the binary: thread-count determinism and the browser check of the reports.
pub const TINY_RUNS: &[(&str, &[&str])] = &[
    (
        "linearize",
        &[
            "linearize",
            "--n-train",
            "30",
            "--n-test",
            "40",
            "--widths",
            "64,32",
            "--steps",
            "30",
        ],
    ),
    (
        "width-sweep",
        &[
            "width-sweep",
            "--n-train",
            "20",
            "--n-test",
            "30",
            "--widths",
            "16,32",
            "--seeds",
            "2",
            "--steps",
            "20",
        ],
    ),
    (
        "newton-vs-gd",
        &[
            "newton-vs-gd",
            "--rows",
            "120",
            "--cols",
            "60",
            "--kappa",
            "50",
        ],
    ),
    (
        "imbalance",
        &[
            "imbalance",
            "--m",
            "30",
            "--features",
            "64",
            "--steps",
            "200",
        ],
    ),
    (
        "lottery",
        &[
            "lottery",
            "--n-train",
            "200",
            "--n-val",
            "50",
            "--n-test",
            "100",
            "--widths",
            "32,16",
            "--iterations",
            "40",
            "--eval-every",
            "20",
            "--batch-size",
            "20",
            "--rounds",
            "2",
            "--seeds",
            "2",
        ],
    ),
    (
        "tickets",
        &[
            "tickets",
            "--n-train",
            "40",
            "--n-test",
            "60",
            "--widths",
            "24,12",
            "--width-scales",
            "0.5,1",
            "--keep",
            "0.5,0.2",
            "--iterations",
            "30",
            "--seeds",
            "2",
        ],
    ),
    (
        "stability",
        &[
            "stability",
            "--n-train",
            "200",
            "--n-val",
            "50",
            "--n-test",
            "100",
            "--widths",
            "32,16",
            "--iterations",
            "40",
            "--batch-size",
            "20",
            "--ks",
            "0,10",
            "--ticket-rounds",
            "2",
            "--alphas",
            "5",
            "--kernel-samples",
            "30",
            "--seeds",
            "2",
        ],
    ),
    (
        "linearize-ce",
        &[
            "linearize",
            "--loss",
            "cross-entropy",
            "--n-train",
            "30",
            "--n-test",
            "40",
            "--widths",
            "24",
            "--steps",
            "20",
        ],
    ),
    (
        "probe",
        &[
            "probe",
            "--n-train",
            "60",
            "--n-test",
            "60",
            "--widths",
            "16,32",
            "--iterations",
            "30",
            "--features-per-layer",
            "50",
            "--seeds",
            "2",
        ],
    ),
    (
        "sgd-noise",
        &[
            "sgd-noise",
            "--n-train",
            "30",
            "--n-test",
            "40",
            "--widths",
            "16,32",
            "--batch-sizes",
            "5,30",
            "--steps",
            "40",
            "--inits",
            "2",
            "--orders",
            "3",
        ],
    ),
    (
        "supermask",
        &[
            "supermask",
            "--n-train",
            "120",
            "--n-test",
            "60",
            "--widths",
            "24,12",
            "--keep",
            "0.5,0.2",
            "--iterations",
            "30",
            "--batch-size",
            "20",
            "--seeds",
            "2",
        ],
    ),
    (
        "bench-jacobian",
        &["bench-jacobian", "--no-reference", "--reps", "1"],
    ),
    (
        "bench-train",
        &[
            "bench-train",
            "--thread-counts",
            "1,2",
            "--warmup",
            "2",
            "--blocks",
            "2",
            "--steps-per-block",
            "3",
            "--n",
            "600",
        ],
    ),
];
