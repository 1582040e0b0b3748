//! The run of `imbalance`: the two groups and their random features, the first gradient split
//! by group, the spectrum of K/n + λI for the step size, GD on the train/ loop and the Newton
//! step.

use super::{Config, CurveRow, Summary};
use crate::data::synthetic::normal;
use crate::linear::mul;
use crate::metrics::{dot, norm};
use crate::progress::Observer;
use crate::train::{self, gd::LeastSquaresGd, Stop};
use anyhow::Result;
use linalg::{lanczos_extremes, Cholesky, Matrix};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The targets, with group A in rows 0..k and group B in rows k..n.
struct Groups<'a> {
    k: usize,
    m: usize,
    /// −1 for A, +1 for B.
    y: &'a [f64],
}

impl Groups<'_> {
    /// Mean residual f − y over group A and over group B.
    fn mean_residuals(&self, f: &[f64]) -> (f64, f64) {
        let (k, n, y) = (self.k, self.y.len(), self.y);
        let ra = (0..k).map(|i| f[i] - y[i]).sum::<f64>() / k as f64;
        let rb = (k..n).map(|i| f[i] - y[i]).sum::<f64>() / self.m as f64;
        (ra, rb)
    }
}

/// The first gradient g = g_A + g_B at θ = 0.
struct FirstGradient {
    /// ‖g_B‖/(‖g_A‖ + ‖g_B‖).
    share_b: f64,
    /// cos∠(g, g_B).
    cos_b: f64,
}

/// K/n + λI and its extreme eigenvalues.
struct Spectrum {
    kn: Matrix<f64>,
    lambda_min: f64,
    lambda_max: f64,
    /// "lanczos" or "dense".
    method: &'static str,
}

/// What GD on the features recorded.
struct GdOutcome {
    curve: Vec<CurveRow>,
    /// Mean prediction of A after step 1.
    a_after_first: f64,
    /// First step with |mean residual of A| < 0.1.
    fit_a: Option<usize>,
    /// Mean residuals of A and B after the last step.
    residuals: (f64, f64),
}

pub(super) fn run(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let n = cfg.k.saturating_add(cfg.m);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let xs = points(cfg, n, &mut rng);
    let y: Vec<f64> = (0..n).map(|i| if i < cfg.k { -1.0 } else { 1.0 }).collect();
    let phi = features(&xs, cfg.features, &mut rng);
    let groups = Groups {
        k: cfg.k,
        m: cfg.m,
        y: &y,
    };
    let feature_cosine_ab = feature_cosine(&phi, cfg.k, cfg.m);
    let first = first_gradient(&phi, &y, cfg.k);
    let sp = spectrum(&phi, cfg)?;
    let eta = 1.0 / sp.lambda_max;
    let gd = gradient_descent(cfg, &phi, &groups, eta, sp.lambda_max, obs)?;
    let (newton_a, newton_b) = groups.mean_residuals(&newton_predictions(&phi, &sp.kn, &y)?);
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        feature_cosine_ab,
        first_gradient_share_b: first.share_b,
        first_gradient_cos_b: first.cos_b,
        group_a_after_first_step: gd.a_after_first,
        gd_residual_a: gd.residuals.0,
        gd_residual_b: gd.residuals.1,
        newton_residual_a: newton_a,
        newton_residual_b: newton_b,
        gd_steps_to_fit_a: gd.fit_a,
        step: eta,
        kappa: sp.lambda_max / sp.lambda_min,
        lambda_max_method: sp.method.into(),
        curve: gd.curve,
    })
}

/// n points in the plane: the first k around A's centre, the rest around B's.
fn points(cfg: &Config, n: usize, rng: &mut ChaCha8Rng) -> Vec<[f64; 2]> {
    let centre_a = [-cfg.separation / 2.0, 0.0];
    let centre_b = [cfg.separation / 2.0, 0.0];
    (0..n)
        .map(|i| {
            let c = if i < cfg.k { centre_a } else { centre_b };
            [
                c[0] + cfg.spread * normal(rng),
                c[1] + cfg.spread * normal(rng),
            ]
        })
        .collect()
}

/// Φ (n×p): φ(x)ⱼ = √2·relu(wⱼ·(x, 1))/√p with standard-normal wⱼ.
fn features(xs: &[[f64; 2]], p: usize, rng: &mut ChaCha8Rng) -> Matrix<f64> {
    let w: Vec<[f64; 3]> = (0..p)
        .map(|_| [normal(rng), normal(rng), normal(rng)])
        .collect();
    let scale = 1.0 / (p as f64).sqrt();
    Matrix::from_fn(xs.len(), p, |i, j| {
        let z = w[j][0] * xs[i][0] + w[j][1] * xs[i][1] + w[j][2];
        z.max(0.0) * scale * 2f64.sqrt()
    })
}

/// Mean cosine similarity of the features over all pairs (a in A, b in B).
fn feature_cosine(phi: &Matrix<f64>, k: usize, m: usize) -> f64 {
    let n = phi.rows();
    let cos = |i: usize, j: usize| {
        let (a, b) = (phi.row(i), phi.row(j));
        dot(a, b) / (norm(a) * norm(b)).max(f64::MIN_POSITIVE)
    };
    let mut c_ab = 0.0;
    for i in 0..k {
        for j in k..n {
            c_ab += cos(i, j);
        }
    }
    c_ab / (k * m) as f64
}

/// The first gradient at θ = 0, g = Φᵀ(f − y)/n = −Φᵀy/n, split by group.
fn first_gradient(phi: &Matrix<f64>, y: &[f64], k: usize) -> FirstGradient {
    let (n, p) = (phi.rows(), phi.cols());
    let nf = n as f64;
    let mut ga = vec![0.0; p];
    let mut gb = vec![0.0; p];
    for (i, yi) in y.iter().enumerate() {
        let g = if i < k { &mut ga } else { &mut gb };
        for (gj, pj) in g.iter_mut().zip(phi.row(i)) {
            *gj -= yi * pj / nf;
        }
    }
    let g: Vec<f64> = ga.iter().zip(&gb).map(|(a, b)| a + b).collect();
    FirstGradient {
        share_b: norm(&gb) / (norm(&ga) + norm(&gb)),
        cos_b: dot(&g, &gb) / (norm(&g) * norm(&gb)),
    }
}

/// K/n + λI and its extreme eigenvalues; λ_max(ΦᵀΦ/n) = λ_max(ΦΦᵀ/n), and the kernel is the
/// smaller matrix here.
fn spectrum(phi: &Matrix<f64>, cfg: &Config) -> Result<Spectrum> {
    let n = phi.rows();
    let nf = n as f64;
    let kmat = linalg::matmul(phi.as_ref(), phi.as_ref().t())?;
    let kn = Matrix::from_fn(n, n, |i, j| {
        kmat.get(i, j) / nf + if i == j { cfg.lambda } else { 0.0 }
    });
    let lz = lanczos_extremes(&kn, n.min(200), 1e-10, cfg.seed)?;
    // An unconverged Lanczos λ_max is only a lower bound: a step 1/λ_max built on it could
    // diverge, so the spectrum is then computed densely.
    let (lambda_min, lambda_max, method) = if lz.converged {
        (lz.min, lz.max, "lanczos")
    } else {
        let ev = linalg::symmetric_eigenvalues(kn.as_ref())?;
        let (lo, hi) = (ev.first().copied(), ev.last().copied());
        (lo.unwrap_or(cfg.lambda), hi.unwrap_or(cfg.lambda), "dense")
    };
    Ok(Spectrum {
        kn,
        lambda_min,
        lambda_max,
        method,
    })
}

/// GD from θ = 0 with step η for `cfg.steps` steps, recording the per-group residuals.
fn gradient_descent(
    cfg: &Config,
    phi: &Matrix<f64>,
    groups: &Groups,
    eta: f64,
    lmax: f64,
    obs: &mut dyn Observer,
) -> Result<GdOutcome> {
    let y = groups.y;
    obs.begin("gradient descent", cfg.steps as u64);
    let mut gd = LeastSquaresGd::new(phi, y, vec![0.0; phi.cols()], eta);
    let mut curve = Vec::new();
    let mut a_after_first = f64::NAN;
    let mut fit_a = None;
    train::run(
        &mut gd,
        Stop {
            max_steps: cfg.steps,
            target: None,
            stop_at_target: false,
        },
        |_| true,
        |t, loss, m| {
            let (ra, rb) = groups.mean_residuals(&m.ax);
            if t == 1 {
                a_after_first = ra + y[0];
            }
            if fit_a.is_none() && ra.abs() < 0.1 {
                fit_a = Some(t);
            }
            if t < 50 || t % 10 == 0 || t == cfg.steps {
                curve.push(CurveRow {
                    step: t,
                    mean_residual_a: ra,
                    mean_residual_b: rb,
                    loss,
                });
            }
            Ok(())
        },
        obs,
    )
    .map_err(|e| {
        e.context(format!(
            "gradient descent with step size {eta:e}; λ_max(K/n + λI) = {lmax:e}"
        ))
    })?;
    obs.end();
    Ok(GdOutcome {
        curve,
        a_after_first,
        fit_a,
        residuals: groups.mean_residuals(&gd.ax),
    })
}

/// Newton: θ = Φᵀ(K + nλI)⁻¹y, i.e. f = K(K + nλI)⁻¹y, with `kn` = K/n + λI.
fn newton_predictions(phi: &Matrix<f64>, kn: &Matrix<f64>, y: &[f64]) -> Result<Vec<f64>> {
    let nf = phi.rows() as f64;
    let chol = Cholesky::factor(kn.as_ref())?;
    let alpha: Vec<f64> = chol.solve_vec(y)?.iter().map(|v| v / nf).collect();
    let theta_newton = mul(phi.as_ref().t(), &alpha)?;
    mul(phi.as_ref(), &theta_newton)
}
