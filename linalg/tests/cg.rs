//! Conjugate gradient: convergence, finite termination, honest verdicts, preconditioning.

mod solvers_common;

use linalg::{
    cg, cg_observed, CgIterate, CgOptions, CgVerdict, Cholesky, LinalgError, LinearOperator,
    Matrix, Preconditioner,
};
use proptest::prelude::*;
use solvers_common::*;
use std::ops::ControlFlow;

/// ‖b − A·x‖/‖b‖ computed afresh (not the recurrence's residual).
fn true_relative_residual(a: &Matrix<f64>, x: &[f64], b: &[f64]) -> f64 {
    let mut r = 0.0;
    for (row, bi) in b.iter().enumerate() {
        let ax: f64 = a.row(row).iter().zip(x).map(|(p, q)| p * q).sum();
        r += (bi - ax).powi(2);
    }
    r.sqrt() / b.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn rhs(n: usize, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n).map(|_| uniform(&mut r)).collect()
}

#[test]
fn converges_on_spd_systems() {
    for &(n, kappa) in &[(1usize, 1.0), (10, 10.0), (120, 1e3), (300, 1e4)] {
        let a = random_spd(n, kappa, n as u64);
        let b = rhs(n, 5);
        let opts = CgOptions {
            rtol: 1e-10,
            ..Default::default()
        };
        let res = cg(&a, &b, None, &opts).unwrap();
        assert_eq!(res.verdict, CgVerdict::Converged, "n={n} κ={kappa:e}");
        assert_eq!(res.residual_history.len(), res.iterations + 1);
        assert!(res.residual_history[0] == 1.0);
        assert!(*res.residual_history.last().unwrap() <= 1e-10);
        // The true residual, recomputed, is at the requested level (rounding in the
        // recurrence may leave it a little above, scaled by κ·ε).
        let t = true_relative_residual(&a, &res.x, &b);
        assert!(t < 1e-9, "n={n} κ={kappa:e}: true residual {t}");
        // And x agrees with the direct solve.
        let direct = Cholesky::factor(a.as_ref()).unwrap().solve_vec(&b).unwrap();
        let err: f64 = res
            .x
            .iter()
            .zip(&direct)
            .map(|(p, q)| (p - q).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = direct.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(err <= 1e-9 * kappa * norm, "n={n}: forward error {err}");
    }
}

#[test]
fn finishes_within_the_number_of_distinct_eigenvalues() {
    for &(n, d) in &[(60usize, 1usize), (60, 3), (80, 5), (120, 8)] {
        let q = random_orthogonal(n, 40 + d as u64);
        let distinct: Vec<f64> = (0..d).map(|k| 1.0 + k as f64 * 1.5).collect();
        let lambda: Vec<f64> = (0..n).map(|i| distinct[i % d]).collect();
        let a = with_spectrum(&q, &lambda);
        let b = rhs(n, 6);
        let opts = CgOptions {
            rtol: 1e-10,
            ..Default::default()
        };
        let res = cg(&a, &b, None, &opts).unwrap();
        assert_eq!(res.verdict, CgVerdict::Converged);
        assert!(
            res.iterations <= d + 2,
            "n={n}, {d} distinct eigenvalues: {} iterations",
            res.iterations
        );
        assert!(true_relative_residual(&a, &res.x, &b) < 1e-9);
    }
}

#[test]
fn reports_the_iteration_cap_honestly() {
    let a = random_spd(200, 1e4, 2);
    let b = rhs(200, 3);
    let opts = CgOptions {
        rtol: 1e-12,
        max_iter: 7,
        ..Default::default()
    };
    let res = cg(&a, &b, None, &opts).unwrap();
    assert_eq!(res.verdict, CgVerdict::HitIterationCap);
    assert_eq!(res.iterations, 7);
    assert_eq!(res.residual_history.len(), 8);
    let last = *res.residual_history.last().unwrap();
    assert!(last > 1e-12);
    // The history is the residual of the iterate returned.
    let t = true_relative_residual(&a, &res.x, &b);
    assert!((t - last).abs() <= 1e-8 + 1e-6 * last, "{t} vs {last}");
    // max_iter = 0 with a nonzero residual: capped immediately.
    let zero = cg(
        &a,
        &b,
        None,
        &CgOptions {
            max_iter: 0,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(zero.verdict, CgVerdict::HitIterationCap);
    assert_eq!(zero.iterations, 0);
}

#[test]
fn breaks_down_on_indefinite_matrices() {
    // Negative definite: p₀ᵀAp₀ < 0 at once.
    let a = Matrix::from_fn(5, 5, |i, j| if i == j { -1.0 - i as f64 } else { 0.0 });
    let res = cg(&a, &[1.0; 5], None, &CgOptions::default()).unwrap();
    assert!(
        matches!(res.verdict, CgVerdict::Breakdown { .. }),
        "{:?}",
        res.verdict
    );
    assert_eq!(res.iterations, 0);
    // diag(1, −1) with b = (1, 1): p₀ᵀAp₀ = 0.
    let a = Matrix::from_vec(2, 2, vec![1.0, 0.0, 0.0, -1.0]).unwrap();
    let res = cg(&a, &[1.0, 1.0], None, &CgOptions::default()).unwrap();
    match &res.verdict {
        CgVerdict::Breakdown { reason } => assert!(reason.contains("pᵀAp"), "{reason}"),
        v => panic!("expected breakdown, got {v:?}"),
    }
    assert!(res.x.iter().all(|v: &f64| v.is_finite()));
}

#[test]
fn jacobi_helps_on_a_badly_scaled_matrix() {
    // A = D S D with S well conditioned and D spanning six orders of magnitude.
    let n = 150;
    let s = random_spd(n, 10.0, 11);
    let d: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(-3.0 + 6.0 * i as f64 / (n - 1) as f64))
        .collect();
    let a = symmetrize(&Matrix::from_fn(n, n, |i, j| d[i] * s.get(i, j) * d[j]));
    let b = rhs(n, 12);
    let plain = cg(
        &a,
        &b,
        None,
        &CgOptions {
            rtol: 1e-8,
            max_iter: 2000,
            preconditioner: Preconditioner::None,
        },
    )
    .unwrap();
    let jacobi = cg(
        &a,
        &b,
        None,
        &CgOptions {
            rtol: 1e-8,
            max_iter: 2000,
            preconditioner: Preconditioner::Jacobi,
        },
    )
    .unwrap();
    assert_eq!(jacobi.verdict, CgVerdict::Converged);
    assert!(
        jacobi.iterations * 4 < plain.iterations,
        "Jacobi {} vs plain {} iterations",
        jacobi.iterations,
        plain.iterations
    );
    assert!(true_relative_residual(&a, &jacobi.x, &b) < 1e-7);
}

/// The 1-D Laplacian tridiag(−1, 2, −1) + σI, never stored.
struct Laplacian {
    n: usize,
    shift: f64,
}

impl LinearOperator<f64> for Laplacian {
    fn dim(&self) -> usize {
        self.n
    }
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        for i in 0..self.n {
            let left = if i > 0 { x[i - 1] } else { 0.0 };
            let right = if i + 1 < self.n { x[i + 1] } else { 0.0 };
            y[i] = (2.0 + self.shift) * x[i] - left - right;
        }
    }
}

#[test]
fn matrix_free_operator_matches_dense() {
    let op = Laplacian { n: 80, shift: 0.1 };
    let dense = Matrix::from_fn(80, 80, |i, j| match i.abs_diff(j) {
        0 => 2.1,
        1 => -1.0,
        _ => 0.0,
    });
    let b = rhs(80, 1);
    let opts = CgOptions {
        rtol: 1e-12,
        ..Default::default()
    };
    let free = cg(&op, &b, None, &opts).unwrap();
    let as_dyn: &dyn LinearOperator<f64> = &op;
    let via_dyn = cg(as_dyn, &b, None, &opts).unwrap();
    assert_eq!(free.x, via_dyn.x);
    assert_eq!(free.verdict, CgVerdict::Converged);
    let direct = Cholesky::factor(dense.as_ref())
        .unwrap()
        .solve_vec(&b)
        .unwrap();
    for (p, q) in free.x.iter().zip(&direct) {
        assert!((p - q).abs() < 1e-9, "{p} vs {q}");
    }
    // Jacobi on an operator without a diagonal is a clear error.
    assert!(matches!(
        cg(
            &op,
            &b,
            None,
            &CgOptions {
                preconditioner: Preconditioner::Jacobi,
                ..Default::default()
            }
        ),
        Err(LinalgError::InvalidArgument { .. })
    ));
}

#[test]
fn warm_start_and_zero_rhs() {
    let a = random_spd(50, 100.0, 4);
    let b = rhs(50, 4);
    let exact = Cholesky::factor(a.as_ref()).unwrap().solve_vec(&b).unwrap();
    let res = cg(&a, &b, Some(&exact), &CgOptions::default()).unwrap();
    assert_eq!(res.verdict, CgVerdict::Converged);
    assert!(
        res.iterations <= 1,
        "{} iterations from the exact solution",
        res.iterations
    );
    let zero = cg(&a, &[0.0; 50], Some(&b), &CgOptions::default()).unwrap();
    assert_eq!(zero.verdict, CgVerdict::Converged);
    assert!(zero.x.iter().all(|&v| v == 0.0));
}

#[test]
fn bad_input_is_an_error() {
    let a = random_spd(6, 10.0, 1);
    let mut b = vec![1.0; 6];
    b[4] = f64::NAN;
    assert_eq!(
        cg(&a, &b, None, &CgOptions::default()).unwrap_err(),
        LinalgError::NonFinite { at: (4, 0) }
    );
    assert!(matches!(
        cg(&a, &[1.0; 5], None, &CgOptions::default()),
        Err(LinalgError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        cg(&a, &[1.0; 6], Some(&[0.0; 3]), &CgOptions::default()),
        Err(LinalgError::DimensionMismatch { .. })
    ));
    for rtol in [0.0, -1.0, f64::NAN] {
        assert!(matches!(
            cg(
                &a,
                &[1.0; 6],
                None,
                &CgOptions {
                    rtol,
                    ..Default::default()
                }
            ),
            Err(LinalgError::InvalidArgument { .. })
        ));
    }
    let mut bad_diag = a.clone();
    bad_diag.set(2, 2, -0.5);
    assert_eq!(
        cg(
            &bad_diag,
            &[1.0; 6],
            None,
            &CgOptions {
                preconditioner: Preconditioner::Jacobi,
                ..Default::default()
            }
        )
        .unwrap_err(),
        LinalgError::NotPositiveDefinite {
            pivot: 2,
            value: -0.5
        }
    );
    let rect = Matrix::<f64>::zeros(6, 5);
    assert!(matches!(
        cg(&rect, &[1.0; 6], None, &CgOptions::default()),
        Err(LinalgError::NotSquare { .. })
    ));
}

#[test]
fn f32_and_views() {
    let a64 = random_spd(100, 50.0, 21);
    let a: Matrix<f32> = cast(&a64);
    let b: Vec<f32> = rhs(100, 2).into_iter().map(|v| v as f32).collect();
    let res = cg(
        &a.as_ref(),
        &b,
        None,
        &CgOptions {
            rtol: 1e-5,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(res.verdict, CgVerdict::Converged);
    let x: Vec<f64> = res.x.iter().map(|&v| v as f64).collect();
    let bf: Vec<f64> = b.iter().map(|&v| v as f64).collect();
    assert!(true_relative_residual(&widen(&a), &x, &bf) < 1e-4);
}

#[test]
fn bit_identical_with_one_and_two_threads() {
    let a = random_spd(400, 1e3, 30);
    let b = rhs(400, 31);
    let opts = CgOptions {
        preconditioner: Preconditioner::Jacobi,
        ..Default::default()
    };
    let one = with_threads(1, || cg(&a, &b, None, &opts).unwrap());
    let two = with_threads(2, || cg(&a, &b, None, &opts).unwrap());
    assert_eq!(one.iterations, two.iterations);
    assert!(one
        .x
        .iter()
        .zip(&two.x)
        .all(|(p, q)| p.to_bits() == q.to_bits()));
}

/// What an observer records of one iterate: k, the bits of xₖ and rₖ, and ‖rₖ‖/‖b‖.
type Seen = (usize, Vec<u64>, Vec<u64>, f64);

fn record(seen: &mut Vec<Seen>, it: &CgIterate<'_, f64>) {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    seen.push((
        it.iteration,
        bits(it.x),
        bits(it.residual),
        it.relative_residual,
    ));
}

/// The observer sees x₀, x₁, …, xₖ, and each xⱼ is bit-identical to the answer of a run
/// truncated at max_iter = j: a whole error curve from one run.
#[test]
fn observed_iterates_equal_truncated_runs() {
    let a = random_spd(80, 1e3, 12);
    let b = rhs(80, 13);
    let x0 = rhs(80, 14);
    for (preconditioner, start) in [
        (Preconditioner::None, None),
        (Preconditioner::Jacobi, None),
        (Preconditioner::None, Some(&x0[..])),
    ] {
        let opts = CgOptions {
            rtol: 1e-9,
            preconditioner,
            ..Default::default()
        };
        let mut seen = Vec::new();
        let full = cg_observed(&a, &b, start, &opts, &mut |it| {
            record(&mut seen, it);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(full.verdict, CgVerdict::Converged);
        assert_eq!(
            seen.len(),
            full.iterations + 1,
            "x₀ … xₖ, the last included"
        );
        let plain = cg(&a, &b, start, &opts).unwrap();
        assert_eq!(plain.x, full.x, "observing changed the arithmetic");
        assert_eq!(plain.residual_history, full.residual_history);
        for (k, (iteration, x_bits, _, rel)) in seen.iter().enumerate() {
            assert_eq!(*iteration, k);
            assert_eq!(*rel, full.residual_history[k]);
            let truncated = cg(
                &a,
                &b,
                start,
                &CgOptions {
                    max_iter: k,
                    ..opts.clone()
                },
            )
            .unwrap();
            let want: Vec<u64> = truncated.x.iter().map(|v| v.to_bits()).collect();
            assert_eq!(
                x_bits, &want,
                "iterate {k} differs from a run capped at {k}"
            );
        }
        // The reported residual of the last iterate is the one the stopping rule tested.
        let (_, _, r_bits, rel) = seen.last().unwrap();
        let r: Vec<f64> = r_bits.iter().map(|&u| f64::from_bits(u)).collect();
        let norm_b = b.iter().map(|v| v * v).sum::<f64>().sqrt();
        let norm_r = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm_r / norm_b - rel).abs() <= 1e-12 * rel.max(1e-300));
    }
}

/// Break from the observer stops the run at that iterate with `Stopped`; when the iterate
/// ends the run by itself, its own verdict wins.
#[test]
fn observer_can_stop_early() {
    let a = random_spd(60, 1e4, 21);
    let b = rhs(60, 22);
    let opts = CgOptions::default();
    let mut calls = 0;
    let stopped = cg_observed(&a, &b, None, &opts, &mut |it| {
        calls += 1;
        if it.iteration == 5 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(stopped.verdict, CgVerdict::Stopped);
    assert_eq!(stopped.iterations, 5);
    assert_eq!(calls, 6);
    assert_eq!(stopped.residual_history.len(), 6);
    let capped = cg(
        &a,
        &b,
        None,
        &CgOptions {
            max_iter: 5,
            ..opts.clone()
        },
    )
    .unwrap();
    assert_eq!(capped.x, stopped.x);
    assert_eq!(capped.residual_history, stopped.residual_history);

    // Stop on a target relative residual, the use the hook is for.
    let target = 1e-3;
    let early = cg_observed(&a, &b, None, &opts, &mut |it| {
        if it.relative_residual <= target {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(early.verdict, CgVerdict::Stopped);
    assert!(*early.residual_history.last().unwrap() <= target);
    assert!(early.residual_history[..early.iterations]
        .iter()
        .all(|&r| r > target));

    // b an eigenvector of a diagonal A: one step solves it. Break at x₀ stops there; break at
    // x₁, which has converged, gives Converged (the run's own verdict wins), as does the cap.
    let d = Matrix::from_fn(4, 4, |i, j| if i == j { 1.0 + i as f64 } else { 0.0 });
    let mut seen = Vec::new();
    let res = cg_observed(&d, &[0.0, 2.0, 0.0, 0.0], None, &opts, &mut |it| {
        record(&mut seen, it);
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(res.verdict, CgVerdict::Stopped);
    assert_eq!(res.iterations, 0);
    let res = cg_observed(&d, &[0.0, 2.0, 0.0, 0.0], None, &opts, &mut |it| {
        if it.iteration == 1 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(res.verdict, CgVerdict::Converged);
    assert_eq!(res.iterations, 1);
    let cap = CgOptions {
        max_iter: 2,
        ..opts.clone()
    };
    let res = cg_observed(&a, &b, None, &cap, &mut |_| ControlFlow::Break(())).unwrap();
    assert_eq!(res.verdict, CgVerdict::Stopped, "x₀ is not the cap yet");
    let res = cg_observed(&a, &b, None, &cap, &mut |it| {
        if it.iteration == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(res.verdict, CgVerdict::HitIterationCap);

    // b = 0: one report (x = 0), verdict Converged.
    let mut reports = 0;
    let zero = cg_observed(&a, &[0.0; 60], None, &opts, &mut |it| {
        reports += 1;
        assert!(it.x.iter().all(|&v| v == 0.0));
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!((reports, zero.verdict), (1, CgVerdict::Converged));
}

#[test]
fn verdicts_read_as_words() {
    assert_eq!(CgVerdict::Converged.to_string(), "converged");
    assert_eq!(
        CgVerdict::HitIterationCap.to_string(),
        "hit the iteration cap"
    );
    assert_eq!(
        CgVerdict::Breakdown {
            reason: "pᵀAp = -1e0 at iteration 0".into()
        }
        .to_string(),
        "breakdown: pᵀAp = -1e0 at iteration 0"
    );
    assert_eq!(CgVerdict::Stopped.to_string(), "stopped by the observer");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// For SPD A = BBᵀ + δI, CG's answer satisfies A·x ≈ b when it says Converged, and the
    /// reported history ends at or below rtol.
    #[test]
    fn converged_means_small_true_residual(n in 1usize..60, delta in 0.1f64..5.0, seed in 0u64..1000, jacobi: bool) {
        let mut r = rng(seed);
        let m = random_matrix(n, n, &mut r);
        let mut a = symmetrize(&mul_f64(&m, &m.transpose()));
        for i in 0..n {
            a.set(i, i, a.get(i, i) + delta);
        }
        let b: Vec<f64> = (0..n).map(|_| uniform(&mut r)).collect();
        let opts = CgOptions {
            rtol: 1e-9,
            max_iter: 10 * n + 10,
            preconditioner: if jacobi { Preconditioner::Jacobi } else { Preconditioner::None },
        };
        let res = cg(&a, &b, None, &opts).unwrap();
        prop_assert_eq!(&res.verdict, &CgVerdict::Converged);
        prop_assert!(*res.residual_history.last().unwrap() <= 1e-9);
        prop_assert!(true_relative_residual(&a, &res.x, &b) < 1e-6);
    }
}
