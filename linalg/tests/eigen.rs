//! Symmetric eigensolver: residual and orthogonality ratios, ordering, special matrices.

mod solvers_common;

use linalg::{
    symmetric_eigen, symmetric_eigenvalues, tridiagonal_eigen, LinalgError, Matrix, Real,
};
use proptest::prelude::*;
use solvers_common::*;

use linalg::check::eigen_ratios as ratios;

fn assert_sorted<T: Real>(values: &[T]) {
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "not ascending: {values:?}"
    );
}

fn random_symmetric(n: usize, seed: u64) -> Matrix<f64> {
    symmetrize(&random_matrix(n, n, &mut rng(seed)))
}

#[test]
fn residual_and_orthogonality_f64() {
    for &n in &[1usize, 2, 3, 10, 50, 129, 200] {
        let a = random_symmetric(n, n as u64);
        let e = symmetric_eigen(a.as_ref()).unwrap();
        assert_sorted(&e.values);
        let (res, orth) = ratios(&a, &e);
        assert!(
            res < 10.0 && orth < 10.0,
            "n={n}: residual {res}, orthogonality {orth}"
        );
        // The eigenvalues-only path agrees.
        let values = symmetric_eigenvalues(a.as_ref()).unwrap();
        for (p, q) in values.iter().zip(&e.values) {
            assert!(
                (p - q).abs() <= 10.0 * n as f64 * f64::EPSILON * a.norm_fro(),
                "{p} vs {q}"
            );
        }
        // Trace is preserved.
        let trace: f64 = (0..n).map(|i| a.get(i, i)).sum();
        let sum: f64 = e.values.iter().sum();
        assert!((trace - sum).abs() <= 10.0 * n as f64 * f64::EPSILON * a.norm_fro());
    }
}

#[test]
fn residual_and_orthogonality_f32() {
    for &n in &[1usize, 5, 64, 150] {
        let a64 = random_symmetric(n, 1000 + n as u64);
        let a32: Matrix<f32> = cast(&a64);
        let e = symmetric_eigen(a32.as_ref()).unwrap();
        assert_sorted(&e.values);
        let (res, orth) = ratios(&widen(&a32), &e);
        assert!(
            res < 10.0 && orth < 10.0,
            "f32 n={n}: residual {res}, orthogonality {orth}"
        );
    }
}

#[test]
fn known_spectrum_with_repeated_eigenvalues() {
    let n = 90;
    let q = random_orthogonal(n, 5);
    // Three clusters of exact repeats plus a few singles, scrambled in order.
    let mut lambda: Vec<f64> = (0..n)
        .map(|i| match i % 5 {
            0 | 1 => -2.0,
            2 => 1.0,
            3 => 1.0,
            _ => 3.0 + i as f64 / 100.0,
        })
        .collect();
    lambda.swap(0, 17);
    let a = with_spectrum(&q, &lambda);
    let e = symmetric_eigen(a.as_ref()).unwrap();
    let (res, orth) = ratios(&a, &e);
    assert!(
        res < 10.0 && orth < 10.0,
        "residual {res}, orthogonality {orth}"
    );
    let mut want = lambda.clone();
    want.sort_by(|a, b| a.partial_cmp(b).unwrap());
    for (got, want) in e.values.iter().zip(&want) {
        assert!((got - want).abs() < 1e-12 * 50.0, "{got} vs {want}");
    }
}

#[test]
fn special_matrices() {
    // 1×1.
    let e = symmetric_eigen(Matrix::from_vec(1, 1, vec![-3.5f64]).unwrap().as_ref()).unwrap();
    assert_eq!(e.values, vec![-3.5]);
    assert_eq!(e.vectors.as_slice()[0].abs(), 1.0);
    // 2×2 [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, ∓1)/√2.
    let a = Matrix::from_vec(2, 2, vec![2.0f64, 1.0, 1.0, 2.0]).unwrap();
    let e = symmetric_eigen(a.as_ref()).unwrap();
    assert!((e.values[0] - 1.0).abs() < 1e-15 && (e.values[1] - 3.0).abs() < 1e-15);
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert!((e.vectors.get(0, 0).abs() - h).abs() < 1e-15);
    assert!((e.vectors.get(0, 0) + e.vectors.get(1, 0)).abs() < 1e-15);
    assert!((e.vectors.get(0, 1) - e.vectors.get(1, 1)).abs() < 1e-15);
    // Diagonal: eigenvalues are the sorted diagonal, exactly; vectors a permutation.
    let d = [4.0, -1.0, 2.5, 0.0, -7.0, 2.5];
    let a = Matrix::from_fn(6, 6, |i, j| if i == j { d[i] } else { 0.0 });
    let e = symmetric_eigen(a.as_ref()).unwrap();
    assert_eq!(e.values, vec![-7.0, -1.0, 0.0, 2.5, 2.5, 4.0]);
    let (res, orth) = ratios(&a, &e);
    assert!(res < 1.0 && orth < 1.0);
    // Zero matrix: all zero, orthonormal vectors.
    let z = Matrix::<f64>::zeros(7, 7);
    let e = symmetric_eigen(z.as_ref()).unwrap();
    assert!(e.values.iter().all(|&v| v == 0.0));
    assert!(ratios(&z, &e).1 < 1.0);
    // Empty.
    let e = symmetric_eigen(Matrix::<f64>::zeros(0, 0).as_ref()).unwrap();
    assert!(e.values.is_empty());
    // Tiny and huge scales do not underflow or overflow.
    for scale in [1e-300, 1e300] {
        let a = Matrix::from_fn(20, 20, |i, j| random_symmetric(20, 3).get(i, j) * scale);
        let e = symmetric_eigen(a.as_ref()).unwrap();
        let ref_e = symmetric_eigen(random_symmetric(20, 3).as_ref()).unwrap();
        for (p, q) in e.values.iter().zip(&ref_e.values) {
            assert!((p / scale - q).abs() < 1e-12, "scale {scale}: {p} vs {q}");
        }
    }
}

#[test]
fn laplacian_eigenvalues_match_the_formula() {
    // tridiag(−1, 2, −1): λₖ = 2 − 2cos(kπ/(n+1)), k = 1..n.
    let n = 60;
    let diag = vec![2.0f64; n];
    let off = vec![-1.0f64; n - 1];
    let e = tridiagonal_eigen(&diag, &off, true).unwrap();
    let dense = Matrix::from_fn(n, n, |i, j| match i.abs_diff(j) {
        0 => 2.0,
        1 => -1.0,
        _ => 0.0,
    });
    for (k, v) in e.values.iter().enumerate() {
        let want = 2.0 - 2.0 * ((k + 1) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
        assert!((v - want).abs() < 1e-13, "λ{k}: {v} vs {want}");
    }
    let (res, orth) = ratios(&dense, &e);
    assert!(res < 10.0 && orth < 10.0);
    let values_only = tridiagonal_eigen(&diag, &off, false).unwrap();
    assert_eq!(values_only.vectors.rows(), 0);
    let full = symmetric_eigen(dense.as_ref()).unwrap();
    for (p, q) in values_only.values.iter().zip(&full.values) {
        assert!((p - q).abs() < 1e-13);
    }
}

#[test]
fn bad_input_is_an_error() {
    let mut a = random_symmetric(8, 1);
    a.set(5, 3, f64::NAN);
    assert_eq!(
        symmetric_eigen(a.as_ref()).unwrap_err(),
        LinalgError::NonFinite { at: (5, 3) }
    );
    a.set(5, 3, f64::NEG_INFINITY);
    assert_eq!(
        symmetric_eigenvalues(a.as_ref()).unwrap_err(),
        LinalgError::NonFinite { at: (5, 3) }
    );
    assert!(matches!(
        symmetric_eigen(Matrix::<f64>::zeros(2, 3).as_ref()),
        Err(LinalgError::NotSquare { .. })
    ));
    assert!(matches!(
        tridiagonal_eigen(&[1.0f64, 2.0], &[1.0, 1.0], false),
        Err(LinalgError::DimensionMismatch { .. })
    ));
    assert_eq!(
        tridiagonal_eigen(&[1.0f64, 2.0, 3.0], &[1.0, f64::NAN], false).unwrap_err(),
        LinalgError::NonFinite { at: (2, 1) }
    );
}

#[test]
fn bit_identical_with_one_and_two_threads() {
    let a = random_symmetric(300, 9);
    let one = with_threads(1, || symmetric_eigen(a.as_ref()).unwrap());
    let two = with_threads(2, || symmetric_eigen(a.as_ref()).unwrap());
    assert!(one
        .values
        .iter()
        .zip(&two.values)
        .all(|(p, q)| p.to_bits() == q.to_bits()));
    assert!(one
        .vectors
        .as_slice()
        .iter()
        .zip(two.vectors.as_slice())
        .all(|(p, q)| p.to_bits() == q.to_bits()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A = VΛVᵀ with orthonormal V for random symmetric matrices, including ones with
    /// deliberately repeated diagonal structure.
    #[test]
    fn decomposition_identities(n in 1usize..70, seed in 0u64..10_000, repeat in 0usize..4) {
        let mut a = random_symmetric(n, seed);
        if repeat > 0 {
            // Block-diagonal copies produce exactly repeated eigenvalues.
            let b = random_symmetric(n.div_ceil(repeat + 1), seed + 1);
            a = Matrix::from_fn(n, n, |i, j| {
                let k = b.rows();
                if i / k == j / k { b.get(i % k, j % k) } else { 0.0 }
            });
        }
        let e = symmetric_eigen(a.as_ref()).unwrap();
        let (res, orth) = ratios(&a, &e);
        prop_assert!(res < 10.0, "residual {}", res);
        prop_assert!(orth < 10.0, "orthogonality {}", orth);
        prop_assert!(e.values.windows(2).all(|w| w[0] <= w[1]));
    }
}

/// AᵀA for a random wide A (r × n, r < n): n − r eigenvalues are zero in exact arithmetic and
/// come out of the tridiagonal stage as a large cluster at the rounding level.
fn gram_of_wide(r: usize, n: usize, seed: u64) -> Matrix<f64> {
    let a = random_matrix(r, n, &mut rng(seed));
    let g = mul_f64(&a.transpose(), &a);
    symmetrize(&g)
}

#[test]
fn rank_deficient_gram_matrix() {
    for &(r, n, seed) in &[
        (200usize, 500usize, 1u64),
        (40, 160, 2),
        (1, 60, 3),
        (90, 100, 4),
    ] {
        let a = gram_of_wide(r, n, seed);
        let e =
            symmetric_eigen(a.as_ref()).unwrap_or_else(|err| panic!("AᵀA {r}×{n}, {n}×{n}: {err}"));
        assert_sorted(&e.values);
        let (res, orth) = ratios(&a, &e);
        assert!(
            res < 10.0 && orth < 10.0,
            "AᵀA r={r} n={n}: residual {res}, orthogonality {orth}"
        );
        // n − r eigenvalues at rounding level, r clearly positive.
        let tol = 100.0 * n as f64 * f64::EPSILON * a.norm_fro();
        let zeros = e.values.iter().filter(|v| v.abs() <= tol).count();
        assert_eq!(
            zeros,
            n - r,
            "AᵀA r={r} n={n}: {zeros} eigenvalues near zero"
        );
        let values = symmetric_eigenvalues(a.as_ref()).unwrap();
        for (p, q) in values.iter().zip(&e.values) {
            assert!((p - q).abs() <= 10.0 * n as f64 * f64::EPSILON * a.norm_fro());
        }
    }
}

#[test]
fn rank_deficient_gram_matrix_f32() {
    let a64 = gram_of_wide(30, 120, 5);
    let a32: Matrix<f32> = cast(&a64);
    let e = symmetric_eigen(a32.as_ref()).unwrap();
    assert_sorted(&e.values);
    let (res, orth) = ratios(&widen(&a32), &e);
    assert!(
        res < 10.0 && orth < 10.0,
        "f32 AᵀA: residual {res}, orthogonality {orth}"
    );
}

/// Spectra with a big block of exact zeros (or of values at rounding level) next to O(1)
/// values of both signs, and tight clusters: deflation must not rely on relative smallness.
#[test]
fn many_zero_and_clustered_eigenvalues() {
    let n = 160;
    let q = random_orthogonal(n, 11);
    let spectra: Vec<(&str, Vec<f64>)> = vec![
        (
            "zeros and ±1",
            (0..n)
                .map(|i| match i % 4 {
                    0 => 1.0,
                    1 => -1.0,
                    _ => 0.0,
                })
                .collect(),
        ),
        (
            "zeros and a spread",
            (0..n)
                .map(|i| if i < 120 { 0.0 } else { i as f64 - 100.0 })
                .collect(),
        ),
        (
            "rounding-level cluster",
            (0..n)
                .map(|i| if i % 2 == 0 { 1e-17 * i as f64 } else { 3.0 })
                .collect(),
        ),
        (
            "tight clusters",
            (0..n).map(|i| (i % 3) as f64 + 1e-13 * i as f64).collect(),
        ),
    ];
    for (name, lambda) in spectra {
        let a = with_spectrum(&q, &lambda);
        let e = symmetric_eigen(a.as_ref()).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_sorted(&e.values);
        let (res, orth) = ratios(&a, &e);
        assert!(
            res < 10.0 && orth < 10.0,
            "{name}: residual {res}, orthogonality {orth}"
        );
        let mut want = lambda.clone();
        want.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let tol = 10.0 * n as f64 * f64::EPSILON * a.norm_fro();
        for (got, want) in e.values.iter().zip(&want) {
            assert!((got - want).abs() <= tol, "{name}: {got} vs {want}");
        }
    }
}

/// Tridiagonal input whose leading half is a cluster at rounding level, coupled by an O(1)
/// entry to an O(1) block: the direct tridiagonal entry point must deflate it too.
#[test]
fn tridiagonal_with_rounding_level_block() {
    let n = 200;
    let mut r = rng(12);
    let diag: Vec<f64> = (0..n)
        .map(|i| {
            if i >= n / 2 {
                1.0 + uniform(&mut r)
            } else {
                1e-15 * normal(&mut r)
            }
        })
        .collect();
    let off: Vec<f64> = (0..n - 1)
        .map(|i| {
            if i + 1 >= n / 2 {
                0.5 * normal(&mut r)
            } else {
                1e-16 * normal(&mut r)
            }
        })
        .collect();
    let dense = Matrix::from_fn(n, n, |i, j| match i.abs_diff(j) {
        0 => diag[i],
        1 => off[i.min(j)],
        _ => 0.0,
    });
    let e = tridiagonal_eigen(&diag, &off, true).unwrap();
    assert_sorted(&e.values);
    let (res, orth) = ratios(&dense, &e);
    assert!(
        res < 10.0 && orth < 10.0,
        "residual {res}, orthogonality {orth}"
    );
}

/// Graded matrices D·S·D with D = diag(10^{−k/8}): entries span many orders of magnitude.
#[test]
fn graded_matrices() {
    for (n, seed) in [(64usize, 21u64), (150, 22)] {
        let s = random_symmetric(n, seed);
        let g: Vec<f64> = (0..n).map(|k| 10f64.powf(-(k as f64) / 8.0)).collect();
        for reversed in [false, true] {
            let a = Matrix::from_fn(n, n, |i, j| {
                let (gi, gj) = if reversed {
                    (g[n - 1 - i], g[n - 1 - j])
                } else {
                    (g[i], g[j])
                };
                gi * s.get(i, j) * gj
            });
            let e = symmetric_eigen(a.as_ref())
                .unwrap_or_else(|err| panic!("graded n={n} reversed={reversed}: {err}"));
            assert_sorted(&e.values);
            let (res, orth) = ratios(&a, &e);
            assert!(
                res < 10.0 && orth < 10.0,
                "graded n={n} reversed={reversed}: residual {res}, orthogonality {orth}"
            );
        }
    }
}
