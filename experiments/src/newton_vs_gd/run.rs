//! The three solves of one least-squares system: Newton (one Cholesky solve), GD on the train/
//! loop beside its closed form, and CG whose whole error curve comes from one observed run.

use super::{CgRow, Config, GdRow, SolverFigures, Summary};
use crate::linear::mul;
use crate::metrics::{norm, rel_diff};
use crate::progress::Observer;
use crate::train::{self, gd::QuadraticGd, Stop};
use anyhow::{Context, Result};
use linalg::{cg_observed, symmetric_eigen, CgOptions, Cholesky, Matrix, SymmetricEigen};
use std::ops::ControlFlow;
use std::time::Instant;

/// The system and what every solver is measured against.
struct Problem<'a> {
    a: &'a Matrix<f64>,
    b: &'a [f64],
    lambda: f64,
    /// H = AᵀA + λI and c = Aᵀb.
    h: Matrix<f64>,
    c: Vec<f64>,
    x_star: Vec<f64>,
    /// ‖x₀ − x*‖ with x₀ = 0.
    e0_norm: f64,
}

impl Problem<'_> {
    /// ½‖Ax − b‖² + ½λ‖x‖².
    fn loss(&self, x: &[f64]) -> Result<f64> {
        let ax = mul(self.a.as_ref(), x)?;
        let fit: f64 = ax.iter().zip(self.b).map(|(u, v)| (u - v) * (u - v)).sum();
        Ok(0.5 * fit + 0.5 * self.lambda * x.iter().map(|v| v * v).sum::<f64>())
    }
    /// ‖x − x*‖/‖x₀ − x*‖.
    fn error(&self, x: &[f64]) -> f64 {
        rel_diff(x, &self.x_star) * norm(&self.x_star) / self.e0_norm
    }
}

fn with_ridge(mut h: Matrix<f64>, lambda: f64) -> Matrix<f64> {
    for i in 0..h.rows() {
        h.set(i, i, h.get(i, i) + lambda);
    }
    h
}

/// Newton, GD and CG on min ½‖Ax − b‖² + ½λ‖x‖².
pub(super) fn solve_three_ways(
    cfg: &Config,
    a: &Matrix<f64>,
    b: &[f64],
    obs: &mut dyn Observer,
) -> Result<Summary> {
    let (m, p) = (a.rows(), a.cols());
    let t0 = Instant::now();
    let h = with_ridge(linalg::matmul(a.as_ref().t(), a.as_ref())?, cfg.lambda);
    let c = mul(a.as_ref().t(), b)?;
    let x_star = newton(a, b, &h, &c, cfg.lambda)?;
    let newton_secs = t0.elapsed().as_secs_f64();
    let e0_norm = norm(&x_star);
    let pb = Problem {
        a,
        b,
        lambda: cfg.lambda,
        h,
        c,
        x_star,
        e0_norm,
    };
    let eig = row_space_spectrum(a, &pb.h, cfg.lambda)?;
    let lmax = eig.values.last().copied().unwrap_or(1.0);
    let lmin = eig
        .values
        .iter()
        .copied()
        .find(|&v| v > 1e-10 * lmax)
        .unwrap_or(lmax);
    let kappa = lmax / lmin;
    let eta = 1.0 / lmax;
    let (gd, gd_curve, max_dev, x_gd) = gradient_descent(cfg, &pb, &eig, eta, obs)?;
    let (cg, cg_curve) = conjugate_gradient(cfg, &pb, kappa, obs)?;
    let (min_norm_rel_error, null_space_fraction) = if m < p {
        let null = null_space_fraction(&eig, &x_gd, lmax);
        (Some(rel_diff(&x_gd, &pb.x_star)), Some(null))
    } else {
        (None, None)
    };
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        rows: m,
        cols: p,
        system: if cfg.network.is_some() {
            "linearised-network".into()
        } else if m >= p {
            "overdetermined".into()
        } else {
            "underdetermined".into()
        },
        lambda_max: lmax,
        lambda_min: lmin,
        kappa,
        step: eta,
        gd: SolverFigures {
            estimate: kappa * (1.0 / cfg.eps).ln(),
            ..gd
        },
        gd_closed_form_max_deviation: max_dev,
        cg,
        newton: SolverFigures {
            iterations: Some(1),
            estimate: 1.0,
            final_rel_error: 0.0,
            seconds: newton_secs,
        },
        min_norm_rel_error,
        null_space_fraction,
        gd_curve,
        cg_curve,
        loss_min: pb.loss(&pb.x_star)?,
    })
}

/// x* by one Cholesky solve: of the normal equations H x = Aᵀb when overdetermined, of
/// (AAᵀ + λI)α = b with x = Aᵀα (the minimum-norm solution, the kernel form) otherwise.
fn newton(a: &Matrix<f64>, b: &[f64], h: &Matrix<f64>, c: &[f64], lambda: f64) -> Result<Vec<f64>> {
    let rank_hint = |e: linalg::LinalgError| {
        anyhow::anyhow!(
            "Newton's Cholesky solve failed ({e}): A is rank-deficient (to rounding) and λ = {lambda}; add a ridge, e.g. --lambda 1e-3"
        )
    };
    if a.rows() >= a.cols() {
        return Ok(Cholesky::factor(h.as_ref())
            .map_err(rank_hint)?
            .solve_vec(c)?);
    }
    let aat = with_ridge(linalg::matmul(a.as_ref(), a.as_ref().t())?, lambda);
    let alpha = Cholesky::factor(aat.as_ref())
        .map_err(rank_hint)?
        .solve_vec(b)?;
    mul(a.as_ref().t(), &alpha)
}

/// The non-zero spectrum of H for the closed form. The zero eigenvalues of an underdetermined
/// H are directions GD never moves along from x₀ = 0 (and x* has no component there), so only
/// the non-zero pairs are kept: for m < p they come from the smaller AAᵀ = UΛUᵀ with
/// vᵢ = Aᵀuᵢ/√λᵢ, and the ridge shifts each by λ.
fn row_space_spectrum(
    a: &Matrix<f64>,
    h: &Matrix<f64>,
    lambda: f64,
) -> Result<SymmetricEigen<f64>> {
    let (m, p) = (a.rows(), a.cols());
    if m >= p {
        return symmetric_eigen(h.as_ref()).context("eigendecomposition of AᵀA");
    }
    let aat = linalg::matmul(a.as_ref(), a.as_ref().t())?;
    let e = symmetric_eigen(aat.as_ref()).context("eigendecomposition of AAᵀ")?;
    let atu = linalg::matmul(a.as_ref().t(), e.vectors.as_ref())?;
    // Pairs with a zero eigenvalue of AAᵀ have no row-space vector; drop them before the
    // shift would make them look non-zero.
    let top = e.values.last().copied().unwrap_or(0.0);
    let keep: Vec<usize> = (0..m).filter(|&i| e.values[i] > 1e-10 * top).collect();
    let vectors = Matrix::from_fn(p, keep.len(), |k, c| {
        atu.get(k, keep[c]) / e.values[keep[c]].sqrt()
    });
    Ok(SymmetricEigen {
        values: keep.iter().map(|&i| e.values[i] + lambda).collect(),
        vectors,
    })
}

/// GD x ← x − η(Hx − Aᵀb) from 0 on the train/ loop until the error reaches ε, with the
/// closed form ‖x_t − x*‖² = Σ (1 − ηλᵢ)^{2t} cᵢ², cᵢ = vᵢᵀ(x₀ − x*), beside it.
fn gradient_descent(
    cfg: &Config,
    pb: &Problem<'_>,
    eig: &SymmetricEigen<f64>,
    eta: f64,
    obs: &mut dyn Observer,
) -> Result<(SolverFigures, Vec<GdRow>, f64, Vec<f64>)> {
    let p = pb.x_star.len();
    let lmax = eig.values.last().copied().unwrap_or(1.0);
    let e0: Vec<f64> = pb.x_star.iter().map(|v| -v).collect();
    let coeff: Vec<f64> = (0..eig.values.len())
        .map(|i| (0..p).map(|k| eig.vectors.get(k, i) * e0[k]).sum())
        .collect();
    let closed_form = |t: usize| -> f64 {
        let power = 2 * t.min(i32::MAX as usize / 2) as i32;
        let s: f64 = eig
            .values
            .iter()
            .zip(&coeff)
            .filter(|(l, _)| **l > 1e-10 * lmax)
            .map(|(l, c)| (1.0 - eta * l).powi(power) * c * c)
            .sum();
        s.sqrt() / pb.e0_norm
    };
    obs.begin("gradient descent", cfg.max_gd_steps as u64);
    let mut gd = QuadraticGd::new(&pb.h, &pb.c, vec![0.0; p], eta, |x: &[f64]| pb.error(x));
    let (mut curve, mut max_dev) = (Vec::new(), 0.0f64);
    let t0 = Instant::now();
    let stop = Stop {
        max_steps: cfg.max_gd_steps,
        target: Some(cfg.eps),
        stop_at_target: true,
    };
    let tr = train::run(
        &mut gd,
        stop,
        |_| true,
        |t, err, m| {
            let cf = closed_form(t);
            max_dev = max_dev.max((err - cf).abs());
            let last = err <= cfg.eps || t == cfg.max_gd_steps;
            if t < 100 || t.is_power_of_two() || t.is_multiple_of(100) || last {
                curve.push(GdRow {
                    iteration: t,
                    error: err,
                    closed_form_error: cf,
                    loss: pb.loss(&m.x)?,
                    seconds: t0.elapsed().as_secs_f64(),
                });
            }
            Ok(())
        },
        obs,
    )
    .map_err(|e| {
        e.context(format!(
            "gradient descent with step {eta:e}; the largest stable step is 2/λ_max = {:e}",
            2.0 / lmax
        ))
    })?;
    obs.end();
    let figures = SolverFigures {
        iterations: tr.reached_target,
        estimate: f64::NAN,
        final_rel_error: rel_diff(&gd.x, &pb.x_star),
        seconds: t0.elapsed().as_secs_f64(),
    };
    Ok((figures, curve, max_dev, gd.x))
}

/// CG on H x = Aᵀb from 0 to a residual well below ε, observed: every iterate's error and
/// loss come from this one run (the 2-norm error of CG decreases monotonically, Hestenes &
/// Stiefel 1952, Thm 6:3, so the first iterate below ε is the count).
fn conjugate_gradient(
    cfg: &Config,
    pb: &Problem<'_>,
    kappa: f64,
    obs: &mut dyn Observer,
) -> Result<(SolverFigures, Vec<CgRow>)> {
    obs.begin("conjugate gradient", 0);
    let opts = CgOptions {
        rtol: cfg.eps * 1e-3,
        max_iter: 20 * pb.x_star.len(),
        ..Default::default()
    };
    let t0 = Instant::now();
    let mut rows = Vec::new();
    let mut failure = None;
    let res = cg_observed(&pb.h, &pb.c, None, &opts, &mut |it| {
        match pb.loss(it.x) {
            Ok(loss) => rows.push(CgRow {
                iteration: it.iteration,
                error: pb.error(it.x),
                loss,
                seconds: t0.elapsed().as_secs_f64(),
            }),
            Err(e) => failure = Some(e),
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    obs.end();
    let iterations = rows
        .iter()
        .find(|r| r.error <= cfg.eps)
        .map(|r| r.iteration);
    // About 60 points of the curve, the last iterate always among them.
    let step = (rows.len() / 60).max(1);
    let last = rows.len().saturating_sub(1);
    let curve = rows
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
        .map(|(_, r)| r)
        .collect();
    let figures = SolverFigures {
        iterations,
        estimate: 0.5 * kappa.sqrt() * (2.0 / cfg.eps).ln(),
        final_rel_error: rel_diff(&res.x, &pb.x_star),
        seconds: t0.elapsed().as_secs_f64(),
    };
    Ok((figures, curve))
}

/// ‖P_null x‖/‖x‖, with the row-space projection V_r V_rᵀ x over the eigenvectors of H with
/// non-zero eigenvalue.
fn null_space_fraction(eig: &SymmetricEigen<f64>, x: &[f64], lmax: f64) -> f64 {
    let p = x.len();
    let mut proj = vec![0.0; p];
    for (i, l) in eig.values.iter().enumerate() {
        if *l > 1e-10 * lmax {
            let c: f64 = (0..p).map(|k| eig.vectors.get(k, i) * x[k]).sum();
            for (k, pk) in proj.iter_mut().enumerate() {
                *pk += c * eig.vectors.get(k, i);
            }
        }
    }
    let null: Vec<f64> = x.iter().zip(&proj).map(|(a, b)| a - b).collect();
    norm(&null) / norm(x).max(f64::MIN_POSITIVE)
}
