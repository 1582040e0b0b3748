//! `imbalance`: k points of group A with target −1 against m points of group B with target +1
//! (default 1 against 100), fitted by a linear model in random ReLU features
//! f(x) = φ(x)ᵀθ, φ(x) = relu(Wx + c)/√p — the same algebra as a linearised network, with
//! kernel K = ΦΦᵀ.
//!
//! The loss is L(θ) = 1/(2n)‖Φθ − y‖². Its gradient at θ = 0 is −Φᵀy/n = (1/n)(Σ_A φᵢ − Σ_B φᵢ):
//! when the groups' features are correlated, the m terms of B outweigh the k of A, so the first
//! step moves A's prediction toward B's target. One Newton step, θ = Φᵀ(K + nλI)⁻¹y, fits both
//! groups at once. The run records the per-group mean residual under GD (η = 1/λ_max(ΦᵀΦ/n))
//! and after the Newton step.

use crate::data::synthetic::normal;
use crate::linear::mul;
use crate::memory::{mat, MemoryPlan};
use crate::metrics::{dot, norm};
use crate::progress::Observer;
use crate::report::{table::fmt, Chart, Curves, RunOutput, SeriesStyle, Table};
use crate::train::{self, gd::LeastSquaresGd, Stop};
use anyhow::{bail, Result};
use linalg::{lanczos_extremes, Cholesky, Matrix};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Settings of `imbalance`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Points in group A (target −1).
    pub k: usize,
    /// Points in group B (target +1).
    pub m: usize,
    /// Number of random features p.
    pub features: usize,
    /// Distance between the group centres in the input plane.
    pub separation: f64,
    /// Spread of the points around their centre.
    pub spread: f64,
    /// GD steps.
    pub steps: usize,
    /// Ridge λ of the Newton step (relative to the loss scaling 1/(2n)).
    pub lambda: f64,
    /// Seed.
    pub seed: u64,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            k: 1,
            m: 100,
            features: 512,
            separation: 1.0,
            spread: 0.3,
            steps: 2000,
            lambda: 1e-6,
            seed: 0,
            max_memory_mib: None,
        }
    }
}

/// What `imbalance` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The settings.
    pub config: Config,
    /// Mean cosine similarity of features between groups A and B.
    pub feature_cosine_ab: f64,
    /// Share of the first gradient that comes from group B: ‖g_B‖/(‖g_A‖ + ‖g_B‖).
    pub first_gradient_share_b: f64,
    /// cos∠(g, g_B) for the first gradient g = g_A + g_B.
    pub first_gradient_cos_b: f64,
    /// Mean prediction of group A after the first GD step (the target is −1; it starts at 0).
    pub group_a_after_first_step: f64,
    /// Mean residual f − y of group A and of group B after T GD steps.
    pub gd_residual_a: f64,
    /// Group B.
    pub gd_residual_b: f64,
    /// After the Newton step.
    pub newton_residual_a: f64,
    /// Group B.
    pub newton_residual_b: f64,
    /// GD steps until |mean residual of A| < 0.1 (None if not reached).
    pub gd_steps_to_fit_a: Option<usize>,
    /// Step size used.
    pub step: f64,
    /// Condition number estimate of K/n + λI (Lanczos).
    pub kappa: f64,
    /// How λ_max was found: "lanczos" (converged) or "dense" (Lanczos did not converge within
    /// its step cap, so the eigenvalues were computed directly).
    pub lambda_max_method: String,
    /// (step, mean residual A, mean residual B, loss).
    #[serde(skip)]
    pub curve: Vec<(usize, f64, f64, f64)>,
}

/// The memory plan: Φ (n×p), K = ΦΦᵀ and K/n + λI (n×n each) and the Cholesky factor.
pub fn memory_plan(n: usize, p: usize) -> MemoryPlan {
    let mut plan = MemoryPlan::default();
    plan.phase(
        "features, kernel and Newton step",
        vec![
            (format!("features Φ ({n}×{p})"), mat(n, p, 8)),
            (
                format!("kernels K, K/n + λI, L ({n}×{n} × 3)"),
                mat(n, n, 24),
            ),
        ],
    );
    plan
}

/// Most points per group.
pub const MAX_GROUP: usize = 100_000;

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if !(1..=MAX_GROUP).contains(&cfg.k) || !(1..=MAX_GROUP).contains(&cfg.m) {
        bail!(
            "--k and --m must each lie in 1..={MAX_GROUP}, got --k {} and --m {}",
            cfg.k,
            cfg.m
        );
    }
    if cfg.features == 0 {
        bail!("--features must be at least 1");
    }
    crate::linearize::check_training(cfg.lambda, None, cfg.steps)
}

/// `imbalance` for the command-line runner.
pub struct Imbalance;

impl crate::cli::Experiment for Imbalance {
    const NAME: &'static str = "imbalance";
    type Config = Config;
    type Summary = Summary;
    fn validate(cfg: &Config) -> Result<()> {
        validate(cfg)
    }
    fn run(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
        run_checked(cfg, obs)
    }
    fn output(s: &Summary) -> Result<RunOutput> {
        output(s)
    }
    fn seed(cfg: &Config) -> u64 {
        cfg.seed
    }
}

/// Validates and runs the experiment.
pub fn run_with(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    validate(cfg)?;
    run_checked(cfg, obs)
}

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let n = cfg.k.saturating_add(cfg.m);
    let p = cfg.features;
    memory_plan(n, p).check(
        crate::memory::budget(cfg.max_memory_mib),
        "use fewer points (--k/--m) or fewer features",
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let centre_a = [-cfg.separation / 2.0, 0.0];
    let centre_b = [cfg.separation / 2.0, 0.0];
    let xs: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let c = if i < cfg.k { centre_a } else { centre_b };
            [
                c[0] + cfg.spread * normal(&mut rng),
                c[1] + cfg.spread * normal(&mut rng),
            ]
        })
        .collect();
    let y: Vec<f64> = (0..n).map(|i| if i < cfg.k { -1.0 } else { 1.0 }).collect();
    let w: Vec<[f64; 3]> = (0..p)
        .map(|_| [normal(&mut rng), normal(&mut rng), normal(&mut rng)])
        .collect();
    let scale = 1.0 / (p as f64).sqrt();
    let phi = Matrix::from_fn(n, p, |i, j| {
        let z = w[j][0] * xs[i][0] + w[j][1] * xs[i][1] + w[j][2];
        z.max(0.0) * scale * 2f64.sqrt()
    });
    let nf = n as f64;

    let cos = |i: usize, j: usize| {
        let (a, b) = (phi.row(i), phi.row(j));
        dot(a, b) / (norm(a) * norm(b)).max(f64::MIN_POSITIVE)
    };
    let mut c_ab = 0.0;
    for i in 0..cfg.k {
        for j in cfg.k..n {
            c_ab += cos(i, j);
        }
    }
    c_ab /= (cfg.k * cfg.m) as f64;

    // First gradient at θ = 0: g = Φᵀ(f − y)/n = −Φᵀy/n, split by group.
    let mut ga = vec![0.0; p];
    let mut gb = vec![0.0; p];
    for (i, yi) in y.iter().enumerate() {
        let g = if i < cfg.k { &mut ga } else { &mut gb };
        for (gj, pj) in g.iter_mut().zip(phi.row(i)) {
            *gj -= yi * pj / nf;
        }
    }
    let g: Vec<f64> = ga.iter().zip(&gb).map(|(a, b)| a + b).collect();
    let share_b = norm(&gb) / (norm(&ga) + norm(&gb));
    let cos_b = dot(&g, &gb) / (norm(&g) * norm(&gb));

    // Step size from λ_max(ΦᵀΦ/n) = λ_max(ΦΦᵀ/n): the kernel is the smaller matrix here.
    let kmat = linalg::matmul(phi.as_ref(), phi.as_ref().t())?;
    let kn = Matrix::from_fn(n, n, |i, j| {
        kmat.get(i, j) / nf + if i == j { cfg.lambda } else { 0.0 }
    });
    let lz = lanczos_extremes(&kn, n.min(200), 1e-10, cfg.seed)?;
    // An unconverged Lanczos λ_max is only a lower bound: a step 1/λ_max built on it could
    // diverge, so the spectrum is then computed densely.
    let (lmin, lmax, lambda_max_method) = if lz.converged {
        (lz.min, lz.max, "lanczos")
    } else {
        let ev = linalg::symmetric_eigenvalues(kn.as_ref())?;
        let (lo, hi) = (ev.first().copied(), ev.last().copied());
        (lo.unwrap_or(cfg.lambda), hi.unwrap_or(cfg.lambda), "dense")
    };
    let eta = 1.0 / lmax;

    let group_means = |f: &[f64]| {
        let ra = (0..cfg.k).map(|i| f[i] - y[i]).sum::<f64>() / cfg.k as f64;
        let rb = (cfg.k..n).map(|i| f[i] - y[i]).sum::<f64>() / cfg.m as f64;
        (ra, rb)
    };
    obs.begin("gradient descent", cfg.steps as u64);
    let mut gd = LeastSquaresGd::new(&phi, &y, vec![0.0; p], eta);
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
            let (ra, rb) = group_means(&m.ax);
            if t == 1 {
                a_after_first = ra + y[0];
            }
            if fit_a.is_none() && ra.abs() < 0.1 {
                fit_a = Some(t);
            }
            if t < 50 || t % 10 == 0 || t == cfg.steps {
                curve.push((t, ra, rb, loss));
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
    let (gd_a, gd_b) = group_means(&gd.ax);

    // Newton: θ = Φᵀ(K + nλI)⁻¹y, i.e. f = K(K + nλI)⁻¹y.
    let chol = Cholesky::factor(kn.as_ref())?;
    let alpha: Vec<f64> = chol.solve_vec(&y)?.iter().map(|v| v / nf).collect();
    let theta_newton = mul(phi.as_ref().t(), &alpha)?;
    let f_newton = mul(phi.as_ref(), &theta_newton)?;
    let (nw_a, nw_b) = group_means(&f_newton);

    Ok(Summary {
        config: cfg.clone(),
        feature_cosine_ab: c_ab,
        first_gradient_share_b: share_b,
        first_gradient_cos_b: cos_b,
        group_a_after_first_step: a_after_first,
        gd_residual_a: gd_a,
        gd_residual_b: gd_b,
        newton_residual_a: nw_a,
        newton_residual_b: nw_b,
        gd_steps_to_fit_a: fit_a,
        step: eta,
        kappa: lmax / lmin,
        lambda_max_method: lambda_max_method.into(),
        curve,
    })
}

/// Tables, curves and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let c = &s.config;
    let mut t = Table::new(
        &format!(
            "imbalance: {} point(s) A (target −1) vs {} points B (target +1), {} ReLU features",
            c.k, c.m, c.features
        ),
        &["method", "mean residual A", "mean residual B"],
    );
    t.row(["start (f = 0)".to_string(), fmt(1.0), fmt(-1.0)]);
    t.row([
        format!("GD, {} steps", c.steps),
        fmt(s.gd_residual_a),
        fmt(s.gd_residual_b),
    ]);
    t.row([
        "Newton, one step".to_string(),
        fmt(s.newton_residual_a),
        fmt(s.newton_residual_b),
    ]);
    let mut g = Table::new("the first gradient", &["figure", "value"]);
    g.row([
        "feature cosine between A and B".to_string(),
        fmt(s.feature_cosine_ab),
    ]);
    g.row([
        "share of ‖g‖ from B: ‖g_B‖/(‖g_A‖+‖g_B‖)".to_string(),
        fmt(s.first_gradient_share_b),
    ]);
    g.row(["cos∠(g, g_B)".to_string(), fmt(s.first_gradient_cos_b)]);
    g.row([
        "A's prediction after step 1 (target −1)".to_string(),
        fmt(s.group_a_after_first_step),
    ]);
    g.row([
        "GD steps until |residual A| < 0.1".to_string(),
        s.gd_steps_to_fit_a
            .map_or("not reached".into(), |k| k.to_string()),
    ]);
    g.row(["κ(K/n + λI)".to_string(), fmt(s.kappa)]);
    let curves = Curves {
        name: "curves".into(),
        columns: ["step", "mean_residual_a", "mean_residual_b", "loss"]
            .map(String::from)
            .to_vec(),
        rows: s
            .curve
            .iter()
            .map(|&(t, a, b, l)| vec![t as f64, a, b, l])
            .collect(),
    };
    let mut ch = Chart::new(
        "group_residuals",
        "Per-group mean residual f − y",
        "GD step",
        "mean residual",
        false,
        false,
    );
    ch.add(
        "GD, group A",
        s.curve.iter().map(|c| (c.0 as f64, c.1)).collect(),
        SeriesStyle::Line,
    );
    ch.add(
        "GD, group B",
        s.curve.iter().map(|c| (c.0 as f64, c.2)).collect(),
        SeriesStyle::Line,
    );
    let last = s.curve.last().map_or(1.0, |c| c.0 as f64);
    ch.add(
        "Newton, group A",
        vec![(0.0, s.newton_residual_a), (last, s.newton_residual_a)],
        SeriesStyle::Dashed,
    );
    ch.add(
        "Newton, group B",
        vec![(0.0, s.newton_residual_b), (last, s.newton_residual_b)],
        SeriesStyle::Dashed,
    );
    Ok(RunOutput {
        experiment: "imbalance".into(),
        summary: serde_json::json!({
            "experiment": "imbalance",
            "versions": crate::report::versions(),
            "seed": c.seed,
            "summary": s,
        }),
        tables: vec![t, g],
        curves: vec![curves],
        charts: vec![ch],
        notes: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    #[test]
    fn first_step_favours_b_and_newton_fits_both() {
        let s = run_with(
            &Config {
                steps: 200,
                ..Default::default()
            },
            &mut Silent,
        )
        .unwrap();
        assert!(
            s.first_gradient_share_b > 0.9,
            "{}",
            s.first_gradient_share_b
        );
        // A starts at 0 with target −1: the first step pushes it up, toward B's target.
        assert!(
            s.group_a_after_first_step > 0.0,
            "{}",
            s.group_a_after_first_step
        );
        assert!(s.newton_residual_a.abs() < 1e-2 && s.newton_residual_b.abs() < 1e-2);
        assert!(s.gd_residual_a.abs() > 10.0 * s.newton_residual_a.abs());
    }
}
