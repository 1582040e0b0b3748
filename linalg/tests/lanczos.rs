//! Lanczos extreme eigenvalues against the dense eigensolver.

mod solvers_common;

use linalg::{lanczos_extremes, symmetric_eigenvalues, LinalgError, LinearOperator, Matrix};
use solvers_common::*;

#[test]
fn extremes_match_dense_eigensolver_on_random_spd() {
    for (seed, kappa) in [(1u64, 1e2), (2, 1e4), (3, 1e6)] {
        let n = 200;
        let a = random_spd(n, kappa, seed);
        let dense = symmetric_eigenvalues(a.as_ref()).unwrap();
        let res = lanczos_extremes(&a, 300, 1e-10, seed).unwrap();
        assert!(
            res.converged,
            "κ={kappa:e}: not converged after {}",
            res.iterations
        );
        let (lo, hi) = (dense[0], dense[n - 1]);
        assert!(
            (res.min - lo).abs() <= 1e-8 * lo.abs(),
            "κ={kappa:e}: min {} vs {lo}",
            res.min
        );
        assert!(
            (res.max - hi).abs() <= 1e-8 * hi.abs(),
            "κ={kappa:e}: max {} vs {hi}",
            res.max
        );
        assert!(res.iterations <= n);
        assert_eq!(res.ritz_values.len(), res.iterations);
        assert!(res.ritz_values.windows(2).all(|w| w[0] <= w[1]));
        // Ritz values lie inside the spectrum (interlacing), up to rounding.
        assert!(res.min >= lo - 1e-10 * hi && res.max <= hi + 1e-10 * hi);
    }
}

#[test]
fn indefinite_spectrum_and_f32() {
    let n = 120;
    let q = random_orthogonal(n, 8);
    let lambda: Vec<f64> = (0..n)
        .map(|i| -5.0 + 10.0 * (i as f64 / (n - 1) as f64).powi(3))
        .collect();
    let a = with_spectrum(&q, &lambda);
    let res = lanczos_extremes(&a, n, 1e-10, 4).unwrap();
    assert!(
        (res.min + 5.0).abs() < 1e-8 && (res.max - 5.0).abs() < 1e-8,
        "{res:?}"
    );
    let a32: Matrix<f32> = cast(&a);
    let res32 = lanczos_extremes(&a32, n, 1e-5, 4).unwrap();
    assert!((res32.min + 5.0).abs() < 1e-4 && (res32.max - 5.0).abs() < 1e-4);
}

#[test]
fn deterministic_and_capped() {
    let a = random_spd(150, 1e3, 5);
    let one = with_threads(1, || lanczos_extremes(&a, 150, 1e-10, 99).unwrap());
    let two = with_threads(2, || lanczos_extremes(&a, 150, 1e-10, 99).unwrap());
    assert_eq!(one, two);
    // A tiny budget: estimates inside the spectrum, honestly flagged.
    let capped = lanczos_extremes(&a, 3, 1e-12, 99).unwrap();
    assert!(!capped.converged);
    assert_eq!(capped.iterations, 3);
    assert!(capped.max <= one.max * (1.0 + 1e-12) && capped.min >= one.min * (1.0 - 1e-12));
}

/// Diagonal operator with few distinct values: Lanczos finds an invariant subspace.
struct FewValues;

impl LinearOperator<f64> for FewValues {
    fn dim(&self) -> usize {
        50
    }
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        for (i, (yi, xi)) in y.iter_mut().zip(x).enumerate() {
            *yi = (1 + i % 3) as f64 * xi;
        }
    }
}

#[test]
fn invariant_subspace_stops_early_with_exact_values() {
    let res = lanczos_extremes(&FewValues, 50, 1e-12, 1).unwrap();
    assert!(res.converged);
    assert!(res.iterations <= 4, "{} iterations", res.iterations);
    assert!(
        (res.min - 1.0).abs() < 1e-12 && (res.max - 3.0).abs() < 1e-12,
        "{res:?}"
    );
}

#[test]
fn bad_arguments() {
    let a = random_spd(10, 10.0, 1);
    for tol in [0.0, -1.0, f64::NAN] {
        assert!(matches!(
            lanczos_extremes(&a, 10, tol, 0),
            Err(LinalgError::InvalidArgument { .. })
        ));
    }
    assert!(matches!(
        lanczos_extremes(&a, 0, 1e-8, 0),
        Err(LinalgError::InvalidArgument { .. })
    ));
    let rect = Matrix::<f64>::zeros(3, 4);
    assert!(matches!(
        lanczos_extremes(&rect, 3, 1e-8, 0),
        Err(LinalgError::NotSquare { .. })
    ));
    let mut nan = a.clone();
    nan.set(0, 0, f64::NAN);
    assert!(matches!(
        lanczos_extremes(&nan, 10, 1e-8, 0),
        Err(LinalgError::NonFinite { .. })
    ));
}
