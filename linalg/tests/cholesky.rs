//! Cholesky: LAPACK-style residual ratios, error reporting and determinism.

mod solvers_common;

use linalg::{cholesky_in_place, Cholesky, LinalgError, Matrix, Real};
use proptest::prelude::*;
use solvers_common::*;

use linalg::check::{cholesky_ratio as factor_ratio, solve_ratio};

fn check_upper_zero<T: Real>(l: &Matrix<T>) {
    for i in 0..l.rows() {
        for j in i + 1..l.cols() {
            assert_eq!(l.get(i, j), T::zero(), "L({i},{j}) above the diagonal");
        }
        assert!(l.get(i, i) > T::zero());
    }
}

#[test]
fn residual_ratio_f64_across_sizes_and_conditioning() {
    for (s, &n) in [1usize, 2, 7, 65, 300, 513].iter().enumerate() {
        let mut r = rng(100 + s as u64);
        let q = random_orthogonal(n, 100 + s as u64);
        for &kappa in &[1.0, 1e4, 1e8, 1e12] {
            let a = with_spectrum(&q, &log_spaced(n, kappa));
            let chol = Cholesky::factor(a.as_ref()).unwrap();
            check_upper_zero(chol.l());
            let ratio = factor_ratio(&a, chol.l());
            assert!(ratio < 30.0, "n={n} κ={kappa:e}: ratio {ratio}");
            // Solve with several right-hand sides.
            let b = random_matrix(n, 3, &mut r);
            let x = chol.solve(b.as_ref()).unwrap();
            let sr = solve_ratio(&a, &x, &b);
            assert!(sr < 30.0, "n={n} κ={kappa:e}: solve ratio {sr}");
            // log det A = Σ ln λ.
            let want: f64 = log_spaced(n, kappa).iter().map(|v| v.ln()).sum();
            let tol = 1e-9 * want.abs().max(1.0) + n as f64 * kappa * 1e-15;
            assert!(
                (chol.log_det() - want).abs() < tol,
                "log det {} vs {want}",
                chol.log_det()
            );
        }
    }
}

#[test]
fn residual_ratio_f32() {
    for &n in &[1usize, 7, 65, 200] {
        let mut r = rng(7 + n as u64);
        let q = random_orthogonal(n, 7 + n as u64);
        for &kappa in &[1.0, 1e2, 1e4] {
            let a64 = with_spectrum(&q, &log_spaced(n, kappa));
            let a32: Matrix<f32> = cast(&a64);
            // The ratio is measured against the matrix actually factored (A rounded to f32).
            let a = widen(&a32);
            let chol = Cholesky::factor(a32.as_ref()).unwrap();
            check_upper_zero(chol.l());
            let ratio = factor_ratio(&a, chol.l());
            assert!(ratio < 30.0, "f32 n={n} κ={kappa:e}: ratio {ratio}");
            let b = random_matrix(n, 2, &mut r);
            let x = chol.solve(cast::<f32>(&b).as_ref()).unwrap();
            let sr = solve_ratio::<f32>(&a, &x, &widen(&cast::<f32>(&b)));
            assert!(sr < 30.0, "f32 n={n} κ={kappa:e}: solve ratio {sr}");
        }
    }
}

#[test]
fn hilbert_matrices_up_to_the_f64_limit() {
    let mut first_failure = None;
    for n in 1..=20 {
        let h = hilbert(n);
        match Cholesky::factor(h.as_ref()) {
            Ok(chol) => {
                // Before and after the limit: a factor that succeeds must be a good one.
                let ratio = factor_ratio(&h, chol.l());
                assert!(ratio < 30.0, "Hilbert n={n}: ratio {ratio}");
            }
            Err(LinalgError::NotPositiveDefinite { pivot, value }) => {
                assert!(pivot < n && value <= 0.0, "pivot {pivot}, value {value}");
                first_failure.get_or_insert(n);
            }
            Err(e) => panic!("Hilbert n={n}: unexpected error {e}"),
        }
    }
    // κ(H₁₃) ≈ 1.8e18 > 1/ε: f64 factors up to about 12–13 and no further.
    let limit = first_failure.expect("some Hilbert matrix up to n = 20 must fail in f64");
    assert!((12..=16).contains(&limit), "first failure at n = {limit}");
}

/// A = BBᵀ + I with pivot k then pushed to exactly −1: pivots before k are untouched.
fn indefinite_at(n: usize, k: usize, seed: u64) -> Matrix<f64> {
    let mut r = rng(seed);
    let b = random_matrix(n, n, &mut r);
    let mut a = symmetrize(&mul_f64(&b, &b.transpose()));
    for i in 0..n {
        a.set(i, i, a.get(i, i) + 1.0);
    }
    let l = Cholesky::factor(a.as_ref()).unwrap();
    let lkk = l.l().get(k, k);
    a.set(k, k, a.get(k, k) - lkk * lkk - 1.0);
    a
}

#[test]
fn not_positive_definite_reports_the_pivot() {
    for &(n, k) in &[
        (1usize, 0usize),
        (5, 3),
        (70, 0),
        (70, 63),
        (70, 64),
        (300, 150),
        (300, 299),
    ] {
        let a = indefinite_at(n, k, 31 + k as u64);
        match Cholesky::factor(a.as_ref()) {
            Err(LinalgError::NotPositiveDefinite { pivot, value }) => {
                assert_eq!(pivot, k, "n = {n}");
                assert!((value + 1.0).abs() < 1e-6 * a.norm_max(), "value {value}");
            }
            other => panic!("n={n} k={k}: expected NotPositiveDefinite, got {other:?}"),
        }
    }
}

#[test]
fn non_finite_and_shape_errors() {
    let mut a = random_spd(10, 10.0, 3);
    a.set(6, 2, f64::NAN);
    assert_eq!(
        Cholesky::factor(a.as_ref()).unwrap_err(),
        LinalgError::NonFinite { at: (6, 2) }
    );
    let mut a = random_spd(10, 10.0, 3);
    a.set(4, 4, f64::INFINITY);
    assert_eq!(
        Cholesky::factor(a.as_ref()).unwrap_err(),
        LinalgError::NonFinite { at: (4, 4) }
    );
    // Only the lower triangle is read: garbage above the diagonal is ignored.
    let mut a = random_spd(10, 10.0, 3);
    let reference = Cholesky::factor(a.as_ref()).unwrap();
    a.set(2, 6, f64::NAN);
    let again = Cholesky::factor(a.as_ref()).unwrap();
    assert_eq!(reference.l(), again.l());
    let rect = Matrix::<f64>::zeros(3, 4);
    assert_eq!(
        Cholesky::factor(rect.as_ref()).unwrap_err(),
        LinalgError::NotSquare { rows: 3, cols: 4 }
    );
    let mut b = Matrix::<f64>::zeros(9, 1);
    assert!(matches!(
        reference.solve_in_place(b.as_mut()),
        Err(LinalgError::DimensionMismatch { .. })
    ));
    let mut b = Matrix::<f64>::zeros(10, 1);
    b.set(3, 0, f64::NAN);
    assert_eq!(
        reference.solve(b.as_ref()).unwrap_err(),
        LinalgError::NonFinite { at: (3, 0) }
    );
    let empty = Cholesky::factor(Matrix::<f64>::zeros(0, 0).as_ref()).unwrap();
    assert_eq!(empty.dim(), 0);
    assert_eq!(empty.log_det(), 0.0);
}

#[test]
fn in_place_matches_factor_and_works_on_views() {
    let a = random_spd(150, 1e3, 9);
    let reference = Cholesky::factor(a.as_ref()).unwrap();
    let mut copy = a.clone();
    cholesky_in_place(copy.as_mut()).unwrap();
    assert_eq!(&copy, reference.l());
    // A block of a bigger buffer (row stride ≠ n) and a transposed view (column-major).
    let mut big = Matrix::<f64>::zeros(160, 170);
    big.as_mut().submatrix(5, 7, 150, 150).copy_from(a.as_ref());
    cholesky_in_place(big.as_mut().submatrix(5, 7, 150, 150)).unwrap();
    assert_eq!(big.as_ref().submatrix(5, 7, 150, 150).to_owned(), copy);
    let mut at = a.clone();
    cholesky_in_place(at.as_mut().t()).unwrap();
    let l_from_t = at.transpose();
    let ratio = factor_ratio(&a, &l_from_t);
    assert!(ratio < 30.0, "column-major ratio {ratio}");
    // solve_vec agrees with solve.
    let b: Vec<f64> = (0..150).map(|i| (i as f64).sin()).collect();
    let x = reference.solve_vec(&b).unwrap();
    let xm = reference
        .solve(Matrix::from_vec(150, 1, b.clone()).unwrap().as_ref())
        .unwrap();
    assert_eq!(x, xm.into_vec());
}

#[test]
fn bit_identical_with_one_and_two_threads() {
    let a = random_spd(513, 1e6, 77);
    let one = with_threads(1, || Cholesky::factor(a.as_ref()).unwrap());
    let two = with_threads(2, || Cholesky::factor(a.as_ref()).unwrap());
    assert!(one
        .l()
        .as_slice()
        .iter()
        .zip(two.l().as_slice())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
    let b = random_matrix(513, 70, &mut rng(1));
    let x1 = with_threads(1, || one.solve(b.as_ref()).unwrap());
    let x2 = with_threads(2, || one.solve(b.as_ref()).unwrap());
    assert!(x1
        .as_slice()
        .iter()
        .zip(x2.as_slice())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// For A = BBᵀ + δI: LLᵀ reproduces A and A·solve(b) reproduces b (both as ratios).
    #[test]
    fn factor_and_solve_identities(n in 1usize..90, m in 1usize..5, delta in 1e-6f64..10.0, seed in 0u64..1000) {
        let mut r = rng(seed);
        let b = random_matrix(n, n, &mut r);
        let mut a = symmetrize(&mul_f64(&b, &b.transpose()));
        for i in 0..n {
            a.set(i, i, a.get(i, i) + delta);
        }
        let chol = Cholesky::factor(a.as_ref()).unwrap();
        prop_assert!(factor_ratio(&a, chol.l()) < 30.0);
        let rhs = random_matrix(n, m, &mut r);
        let x = chol.solve(rhs.as_ref()).unwrap();
        prop_assert!(solve_ratio(&a, &x, &rhs) < 30.0);
    }
}
