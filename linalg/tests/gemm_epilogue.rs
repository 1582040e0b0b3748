//! `gemm_then`: the epilogue sees every entry of C exactly once, with its right row and
//! column, after the product is complete, and the result has the bits of the product followed
//! by the same map — on every route (packed and parallel, tiny, matrix-vector, k = 0, a
//! column-major C) and under `Par::Seq` and 1 and 2 rayon threads.

use linalg::{gemm_then, gemm_with, MatMut, Matrix, Par};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicU32, Ordering};

fn random(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Matrix::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

/// A map whose result depends on the value and on its position, so a wrong (i, j) shows.
fn post(i: usize, j: usize, v: f64) -> f64 {
    v.tanh() + i as f64 * 1e-3 + j as f64 * 1e-6
}

fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// C = post(0.7·AB + 1.3·C₀) through `gemm_then` into `c` (a view of `store`), checking that
/// each entry was visited once; returns the stored matrix.
fn fused(
    par: Par,
    a: &Matrix<f64>,
    b: &Matrix<f64>,
    c0: &Matrix<f64>,
    column_major: bool,
) -> Matrix<f64> {
    let (m, n) = (a.rows(), b.cols());
    let visits: Vec<AtomicU32> = (0..m * n).map(|_| AtomicU32::new(0)).collect();
    let g = |i: usize, j0: usize, row: &mut [f64]| {
        for (jj, v) in row.iter_mut().enumerate() {
            visits[i * n + j0 + jj].fetch_add(1, Ordering::Relaxed);
            *v = post(i, j0 + jj, *v);
        }
    };
    let mut store = if column_major {
        c0.transpose()
    } else {
        c0.clone()
    };
    let c: MatMut<'_, f64> = if column_major {
        store.as_mut().t()
    } else {
        store.as_mut()
    };
    gemm_then(par, 0.7, a.as_ref(), b.as_ref(), 1.3, c, &g).unwrap();
    for (e, v) in visits.iter().enumerate() {
        let count = v.load(Ordering::Relaxed);
        assert_eq!(
            count,
            1,
            "entry ({}, {}) visited {count} times",
            e / n,
            e % n
        );
    }
    if column_major {
        store.transpose()
    } else {
        store
    }
}

/// The product first, then the map over the finished C.
fn unfused(a: &Matrix<f64>, b: &Matrix<f64>, c0: &Matrix<f64>) -> Matrix<f64> {
    let mut c = c0.clone();
    gemm_with(Par::Seq, 0.7, a.as_ref(), b.as_ref(), 1.3, c.as_mut()).unwrap();
    Matrix::from_fn(c.rows(), c.cols(), |i, j| post(i, j, c.get(i, j)))
}

#[test]
fn the_epilogue_sees_each_finished_entry_once_on_every_route() {
    // (m, n, k): packed with several KC steps and row blocks; tiny; n = 1 and m = 1
    // (matrix-vector); k = 0 (β·C only).
    let shapes = [
        (301, 530, 700),
        (64, 40, 33),
        (3, 4, 5),
        (70, 1, 40),
        (1, 90, 40),
        (12, 9, 0),
    ];
    for (s, &(m, n, k)) in shapes.iter().enumerate() {
        let a = random(m, k, 10 + s as u64);
        let b = random(k, n, 20 + s as u64);
        let c0 = random(m, n, 30 + s as u64);
        let want = unfused(&a, &b, &c0);
        for column_major in [false, true] {
            for (par, threads) in [(Par::Seq, 2), (Par::Rayon, 1), (Par::Rayon, 2)] {
                let got = with_threads(threads, || fused(par, &a, &b, &c0, column_major));
                let same = got
                    .as_slice()
                    .iter()
                    .zip(want.as_slice())
                    .all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(
                    same,
                    "({m}, {n}, {k}), column-major {column_major}, {par:?} on {threads} threads"
                );
            }
        }
    }
}

#[test]
fn shape_errors_come_before_the_epilogue() {
    let (a, b) = (random(4, 5, 1), random(6, 3, 2));
    let mut c = Matrix::<f64>::zeros(4, 3);
    let called = AtomicU32::new(0);
    let g = |_: usize, _: usize, _: &mut [f64]| {
        called.fetch_add(1, Ordering::Relaxed);
    };
    let err = gemm_then(Par::Seq, 1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut(), &g);
    assert!(err.is_err());
    assert_eq!(called.load(Ordering::Relaxed), 0);
}
