//! Triangular solves: residual ratios for every triangle/transpose, layouts and sizes.

mod solvers_common;

use linalg::triangular::*;
use linalg::{LinalgError, MatMut, MatRef, Matrix, Real};
use proptest::prelude::*;
use solvers_common::*;

use linalg::check::random_lower;
use linalg::check::solve_ratio as ratio;

type Solver<T> = fn(MatRef<'_, T>, MatMut<'_, T>) -> linalg::Result<()>;

/// (name, solver, whether the stored triangle is upper, whether it is applied transposed)
fn variants<T: Real>() -> Vec<(&'static str, Solver<T>, bool, bool)> {
    vec![
        ("lower", solve_lower_in_place::<T>, false, false),
        (
            "lower_transpose",
            solve_lower_transpose_in_place::<T>,
            false,
            true,
        ),
        ("upper", solve_upper_in_place::<T>, true, false),
        (
            "upper_transpose",
            solve_upper_transpose_in_place::<T>,
            true,
            true,
        ),
    ]
}

fn check_all<T: Real>(n: usize, m: usize, seed: u64) {
    let lower = random_lower(n, seed);
    let upper = lower.transpose();
    let mut r = rng(seed + 1);
    let b = random_matrix(n, m, &mut r);
    for (name, solve, is_upper, trans) in variants::<T>() {
        let stored = if is_upper { &upper } else { &lower };
        // Garbage in the other triangle must be ignored.
        let mut with_garbage = cast::<T>(stored);
        for i in 0..n {
            for j in 0..n {
                if (is_upper && j < i) || (!is_upper && j > i) {
                    with_garbage.set(i, j, T::from_f64(1e30));
                }
            }
        }
        let applied = widen(&cast::<T>(stored));
        let applied = if trans { applied.transpose() } else { applied };
        let bt = cast::<T>(&b);
        let bw = widen(&bt);
        // Row-major B.
        let mut x = bt.clone();
        solve(with_garbage.as_ref(), x.as_mut()).unwrap();
        let q = ratio(&applied, &x, &bw);
        assert!(q < 10.0, "{name} {} n={n} m={m}: ratio {q}", T::NAME);
        // Column-major B (a transposed view) takes the other kernel; same numbers expected
        // up to rounding, same residual bound.
        let mut xt = bt.transpose();
        solve(with_garbage.as_ref(), xt.as_mut().t()).unwrap();
        let q = ratio(&applied, &xt.transpose(), &bw);
        assert!(
            q < 10.0,
            "{name} {} column-major n={n} m={m}: ratio {q}",
            T::NAME
        );
        // B as a block of a larger buffer.
        let mut big = Matrix::<T>::zeros(n + 3, m + 5);
        big.as_mut().submatrix(2, 3, n, m).copy_from(bt.as_ref());
        solve(with_garbage.as_ref(), big.as_mut().submatrix(2, 3, n, m)).unwrap();
        assert_eq!(
            big.as_ref().submatrix(2, 3, n, m).to_owned(),
            x,
            "{name} strided"
        );
        // The border is untouched.
        assert!((0..m + 5).all(|j| big.get(0, j) == T::zero() && big.get(n + 2, j) == T::zero()));
    }
}

#[test]
fn residual_ratios_f64() {
    for &n in &[1usize, 2, 7, 31, 32, 33, 65, 200] {
        for &m in &[1usize, 5, 100] {
            check_all::<f64>(n, m, (n * 131 + m) as u64);
        }
    }
}

#[test]
fn residual_ratios_f32() {
    for &n in &[1usize, 7, 65, 150] {
        for &m in &[1usize, 60] {
            check_all::<f32>(n, m, (n * 17 + m) as u64);
        }
    }
}

#[test]
fn vector_versions_match_matrix_versions() {
    let n = 97;
    let l = random_lower(n, 5);
    let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).cos()).collect();
    let bm = Matrix::from_vec(n, 1, b.clone()).unwrap();
    let mut x = b.clone();
    solve_lower_vec(l.as_ref(), &mut x).unwrap();
    let mut xm = bm.clone();
    solve_lower_in_place(l.as_ref(), xm.as_mut()).unwrap();
    assert_eq!(x, xm.as_slice());
    let mut y = b.clone();
    solve_lower_transpose_vec(l.as_ref(), &mut y).unwrap();
    let q = ratio::<f64>(&l.transpose(), &Matrix::from_vec(n, 1, y).unwrap(), &bm);
    assert!(q < 10.0, "ratio {q}");
    let mut z = b.clone();
    solve_upper_vec(l.transpose().as_ref(), &mut z).unwrap();
    let q = ratio::<f64>(&l.transpose(), &Matrix::from_vec(n, 1, z).unwrap(), &bm);
    assert!(q < 10.0, "ratio {q}");
}

#[test]
fn singular_and_shape_errors_leave_b_untouched() {
    for &(n, k) in &[(1usize, 0usize), (40, 0), (40, 33), (100, 99)] {
        let mut l = random_lower(n, 3);
        l.set(k, k, 0.0);
        let b = random_matrix(n, 4, &mut rng(2));
        for (name, solve, is_upper, _) in variants::<f64>() {
            let t = if is_upper { l.transpose() } else { l.clone() };
            let mut x = b.clone();
            assert_eq!(
                solve(t.as_ref(), x.as_mut()),
                Err(LinalgError::Singular { index: k }),
                "{name}"
            );
            assert_eq!(x, b, "{name}: B changed on error");
        }
        let mut v = vec![1.0; n];
        assert_eq!(
            solve_lower_vec(l.as_ref(), &mut v),
            Err(LinalgError::Singular { index: k })
        );
    }
    let l = random_lower(5, 1);
    let mut b = Matrix::<f64>::zeros(4, 2);
    assert!(matches!(
        solve_lower_in_place(l.as_ref(), b.as_mut()),
        Err(LinalgError::DimensionMismatch { .. })
    ));
    let rect = Matrix::<f64>::zeros(5, 4);
    let mut b = Matrix::<f64>::zeros(5, 2);
    assert!(matches!(
        solve_upper_in_place(rect.as_ref(), b.as_mut()),
        Err(LinalgError::NotSquare { .. })
    ));
}

#[test]
fn bit_identical_with_one_and_two_threads() {
    let l = random_lower(300, 8);
    let b = random_matrix(300, 250, &mut rng(9));
    let run = || {
        let mut x = b.clone();
        solve_lower_in_place(l.as_ref(), x.as_mut()).unwrap();
        solve_lower_transpose_in_place(l.as_ref(), x.as_mut()).unwrap();
        x
    };
    let one = with_threads(1, run);
    let two = with_threads(2, run);
    assert!(one
        .as_slice()
        .iter()
        .zip(two.as_slice())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// L·(L⁻¹B) = B and Lᵀ·(L⁻ᵀB) = B to residual-ratio accuracy for random shapes.
    #[test]
    fn solve_then_multiply_recovers_b(n in 1usize..120, m in 1usize..70, seed in 0u64..10_000) {
        let l = random_lower(n, seed);
        let b = random_matrix(n, m, &mut rng(seed ^ 0xabc));
        let mut x = b.clone();
        solve_lower_in_place(l.as_ref(), x.as_mut()).unwrap();
        prop_assert!(ratio(&l, &x, &b) < 10.0);
        let mut y = b.clone();
        solve_lower_transpose_in_place(l.as_ref(), y.as_mut()).unwrap();
        prop_assert!(ratio(&l.transpose(), &y, &b) < 10.0);
    }
}
