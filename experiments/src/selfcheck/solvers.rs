//! Solver certificates: LAPACK-style residual ratios (`linalg::check`) for GEMM, Cholesky,
//! the triangular solves and the eigensolver, CG's finite termination and Lanczos against the
//! dense eigensolver.

use super::{worst_of, Check};
use anyhow::Result;
use linalg::check::{
    cholesky_ratio, eigen_ratios, gemm_ratio, hilbert, random_lower, random_orthogonal, random_spd,
    solve_ratio, symmetrize, widen, with_spectrum,
};
use linalg::random::SplitMix64;
use linalg::triangular::{
    solve_lower_in_place, solve_lower_transpose_in_place, solve_upper_in_place,
    solve_upper_transpose_in_place,
};
use linalg::{
    cg, gemm, lanczos_extremes, symmetric_eigen, symmetric_eigenvalues, CgOptions, CgVerdict,
    Cholesky, MatMut, MatRef, Matrix, Real,
};

const LAWN41: &str = "LAPACK Working Note 41 §6: ratios under 30 pass";
const HIGHAM: &str = "Higham, Accuracy and Stability §3.5: |Ĉ−C| ≤ γₖ₊₂|A||B|";

/// Rows for every solver.
pub(super) fn checks() -> Vec<Check> {
    let mut out = vec![gemm_check::<f64>(), gemm_check::<f32>()];
    out.extend(cholesky_checks());
    out.push(triangular_check::<f64>());
    out.push(triangular_check::<f32>());
    out.extend(eigen_checks());
    out.extend(cg_checks());
    out.push(lanczos_check());
    out
}

fn uniform(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut r = SplitMix64::new(seed);
    Matrix::from_fn(rows, cols, |_, _| r.next_symmetric())
}

fn cast<T: Real>(a: &Matrix<f64>) -> Matrix<T> {
    Matrix::from_fn(a.rows(), a.cols(), |i, j| T::from_f64(a.get(i, j)))
}

/// C = αAB + βC₀ with plain and transposed operands, small to a few hundred.
fn gemm_check<T: Real>() -> Check {
    let shapes = [
        (1, 1, 1),
        (7, 5, 3),
        (37, 53, 29),
        (129, 65, 257),
        (300, 200, 150),
    ];
    let figures = shapes.iter().enumerate().flat_map(|(k, &(m, n, kk))| {
        [false, true].into_iter().map(move |trans| -> Result<f64> {
            let seed = 10 * k as u64 + trans as u64;
            let a: Matrix<T> = cast(&uniform(m, kk, seed));
            let b: Matrix<T> = cast(&uniform(kk, n, seed + 1000));
            let c0: Matrix<T> = cast(&uniform(m, n, seed + 2000));
            let (alpha, beta) = (T::from_f64(1.25), T::from_f64(-0.5));
            let mut c = c0.clone();
            if trans {
                // The same product through transposed views of transposed copies.
                let (at, bt) = (a.transpose(), b.transpose());
                gemm(alpha, at.as_ref().t(), bt.as_ref().t(), beta, c.as_mut())?;
            } else {
                gemm(alpha, a.as_ref(), b.as_ref(), beta, c.as_mut())?;
            }
            Ok(gemm_ratio(&c, 1.25, &a, &b, -0.5, &c0))
        })
    });
    let (worst, n) = worst_of(figures);
    Check::new(
        &format!(
            "GEMM αAB + βC, {}, plain and transposed, up to 300×200",
            T::NAME
        ),
        worst,
        2.0,
        HIGHAM,
        n,
    )
}

fn cholesky_checks() -> Vec<Check> {
    let mut factor = Vec::new();
    let mut solve = Vec::new();
    for (s, n) in [7usize, 65, 300, 513].into_iter().enumerate() {
        let q = random_orthogonal(n, 100 + s as u64);
        for kappa in [1.0, 1e4, 1e8, 1e12] {
            let a = with_spectrum(&q, &linalg::check::log_spaced(n, kappa));
            let b = uniform(n, 3, 7 + s as u64);
            let run = || -> Result<(f64, f64)> {
                let chol = Cholesky::factor(a.as_ref())?;
                let x = chol.solve(b.as_ref())?;
                Ok((cholesky_ratio(&a, chol.l()), solve_ratio(&a, &x, &b)))
            };
            let r = run();
            factor.push(r.as_ref().map(|p| p.0).map_err(|e| anyhow::anyhow!("{e}")));
            solve.push(r.map(|p| p.1));
        }
    }
    let f32_cases = [7usize, 65, 200].into_iter().flat_map(|n| {
        [1.0, 1e2, 1e4]
            .into_iter()
            .map(move |kappa| -> Result<f64> {
                let a32: Matrix<f32> = cast(&random_spd(n, kappa, n as u64));
                let chol = Cholesky::factor(a32.as_ref())?;
                Ok(cholesky_ratio(&widen(&a32), chol.l()))
            })
    });
    let hilbert_cases = (1..=11).map(|n| -> Result<f64> {
        let h = hilbert(n);
        Ok(cholesky_ratio(&h, Cholesky::factor(h.as_ref())?.l()))
    });
    let (wf, nf) = worst_of(factor);
    let (ws, ns) = worst_of(solve);
    let (w32, n32) = worst_of(f32_cases);
    let (wh, nh) = worst_of(hilbert_cases);
    vec![
        Check::new(
            "Cholesky ‖A − LLᵀ‖/(nε‖A‖), f64, κ up to 1e12",
            wf,
            30.0,
            LAWN41,
            nf,
        ),
        Check::new(
            "Cholesky solve ‖Ax − b‖/(nε‖A‖‖x‖), f64, κ up to 1e12",
            ws,
            30.0,
            LAWN41,
            ns,
        ),
        Check::new(
            "Cholesky ‖A − LLᵀ‖/(nε‖A‖), f32, κ up to 1e4",
            w32,
            30.0,
            LAWN41,
            n32,
        ),
        Check::new(
            "Cholesky of Hilbert matrices n ≤ 11 (κ up to 5e14)",
            wh,
            30.0,
            LAWN41,
            nh,
        ),
    ]
}

type Solver<T> = fn(MatRef<'_, T>, MatMut<'_, T>) -> linalg::Result<()>;

/// All four triangle/transpose variants, each judged against the operator it applies.
fn triangular_check<T: Real>() -> Check {
    let variants: [(Solver<T>, bool, bool); 4] = [
        (solve_lower_in_place::<T>, false, false),
        (solve_lower_transpose_in_place::<T>, false, true),
        (solve_upper_in_place::<T>, true, false),
        (solve_upper_transpose_in_place::<T>, true, true),
    ];
    let figures = [5usize, 100, 257].into_iter().flat_map(|n| {
        variants
            .into_iter()
            .map(move |(solve, upper, trans)| -> Result<f64> {
                let lower = widen(&cast::<T>(&random_lower(n, n as u64)));
                let stored = if upper { lower.transpose() } else { lower };
                let applied = if trans {
                    stored.transpose()
                } else {
                    stored.clone()
                };
                let b = widen(&cast::<T>(&uniform(n, 3, 3 * n as u64)));
                let mut x: Matrix<T> = cast(&b);
                solve(cast::<T>(&stored).as_ref(), x.as_mut())?;
                Ok(solve_ratio(&applied, &x, &b))
            })
    });
    let (worst, n) = worst_of(figures);
    Check::new(
        &format!(
            "triangular solves (L, Lᵀ, U, Uᵀ), {}, ‖Tx − b‖/(nε‖T‖‖x‖)",
            T::NAME
        ),
        worst,
        10.0,
        "LAPACK xTRT02 ratio; LAWN 41 §6",
        n,
    )
}

fn eigen_checks() -> Vec<Check> {
    let symmetric = |n: usize, seed: u64| symmetrize(&uniform(n, n, seed));
    let mut cases: Vec<(String, Matrix<f64>)> = [10usize, 80, 300]
        .into_iter()
        .map(|n| (format!("random n={n}"), symmetric(n, 500 + n as u64)))
        .collect();
    cases.push(("SPD κ = 1e12".into(), random_spd(120, 1e12, 9)));
    cases.push(("Hilbert n = 12".into(), hilbert(12)));
    let f64_figs: Vec<Result<(f64, f64)>> = cases
        .iter()
        .map(|(_, a)| Ok(eigen_ratios(a, &symmetric_eigen(a.as_ref())?)))
        .collect();
    let f32_figs: Vec<Result<(f64, f64)>> = [5usize, 64, 150]
        .into_iter()
        .map(|n| {
            let a32: Matrix<f32> = cast(&symmetric(n, 1000 + n as u64));
            Ok(eigen_ratios(&widen(&a32), &symmetric_eigen(a32.as_ref())?))
        })
        .collect();
    let pick = |v: &[Result<(f64, f64)>], second: bool| {
        worst_of(v.iter().map(|r| match r {
            Ok((a, b)) => Ok(if second { *b } else { *a }),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        }))
    };
    let (r64, n64) = pick(&f64_figs, false);
    let (o64, _) = pick(&f64_figs, true);
    let (r32, n32) = pick(&f32_figs, false);
    let (o32, _) = pick(&f32_figs, true);
    let r = "LAPACK xSYT21 ratios; LAWN 41 §6";
    vec![
        Check::new(
            "eigen ‖AV − VΛ‖/(nε‖A‖), f64, incl. κ = 1e12 and Hilbert",
            r64,
            10.0,
            r,
            n64,
        ),
        Check::new("eigen ‖VᵀV − I‖/(nε), f64", o64, 10.0, r, n64),
        Check::new("eigen ‖AV − VΛ‖/(nε‖A‖), f32", r32, 10.0, r, n32),
        Check::new("eigen ‖VᵀV − I‖/(nε), f32", o32, 10.0, r, n32),
    ]
}

/// CG on A with d distinct eigenvalues terminates in at most d steps in exact arithmetic
/// (Hestenes & Stiefel 1952; Nocedal & Wright Thm 5.4): iterations beyond d, and the true
/// relative residual reached.
fn cg_checks() -> Vec<Check> {
    let mut extra = Vec::new();
    let mut resid = Vec::new();
    for (n, d) in [(60usize, 1usize), (60, 3), (80, 5), (120, 8)] {
        let q = random_orthogonal(n, 40 + d as u64);
        let lambda: Vec<f64> = (0..n).map(|i| 1.0 + (i % d) as f64 * 1.5).collect();
        let a = with_spectrum(&q, &lambda);
        let b: Vec<f64> = uniform(n, 1, 6).as_slice().to_vec();
        let opts = CgOptions {
            rtol: 1e-10,
            ..Default::default()
        };
        match cg(&a, &b, None, &opts) {
            Ok(res) if res.verdict == CgVerdict::Converged => {
                extra.push(Ok(res.iterations.saturating_sub(d) as f64));
                let r: f64 = (0..n)
                    .map(|i| {
                        let ax: f64 = a.row(i).iter().zip(&res.x).map(|(p, q)| p * q).sum();
                        (ax - b[i]).powi(2)
                    })
                    .sum();
                resid.push(Ok(r.sqrt() / b.iter().map(|v| v * v).sum::<f64>().sqrt()));
            }
            _ => {
                extra.push(Err(anyhow::anyhow!("did not converge")));
                resid.push(Err(anyhow::anyhow!("did not converge")));
            }
        }
    }
    let (we, ne) = worst_of(extra);
    let (wr, _) = worst_of(resid);
    vec![
        Check::new(
            "CG, d distinct eigenvalues: iterations beyond d",
            we,
            2.0,
            "finite termination in d steps: Nocedal & Wright Thm 5.4 (+2 for rounding)",
            ne,
        ),
        Check::new(
            "CG, d distinct eigenvalues: true ‖b − Ax‖/‖b‖ at rtol 1e-10",
            wr,
            1e-9,
            "the recursive residual tracks the true one to ≈ κε",
            ne,
        ),
    ]
}

/// Lanczos' extreme Ritz values against the dense eigensolver's extremes.
fn lanczos_check() -> Check {
    let figures = [(1u64, 1e2), (2, 1e4), (3, 1e6)].map(|(seed, kappa)| -> Result<f64> {
        let n = 200;
        let a = random_spd(n, kappa, seed);
        let dense = symmetric_eigenvalues(a.as_ref())?;
        let res = lanczos_extremes(&a, 300, 1e-10, seed)?;
        let (lo, hi) = (dense[0], dense[n - 1]);
        let e = ((res.min - lo) / lo).abs().max(((res.max - hi) / hi).abs());
        Ok(if res.converged { e } else { f64::INFINITY })
    });
    let (worst, n) = worst_of(figures);
    Check::new(
        "Lanczos λ_min, λ_max vs eigensolver, SPD n=200, κ up to 1e6",
        worst,
        1e-8,
        "Ritz values converge to the extremes first (Saad, Numerical Methods for Large Eigenvalue Problems §6.6)",
        n,
    )
}
