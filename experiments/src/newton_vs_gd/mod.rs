//! `newton-vs-gd`: linear least squares min ½‖Ax − b‖² with a chosen spectrum, solved three
//! ways. Gradient descent with step η = 1/L (L = λ_max(AᵀA)) next to its closed form: along the
//! eigenvector vᵢ of H = AᵀA the error is multiplied by (1 − ηλᵢ) each step, so
//! ‖x_t − x*‖² = Σᵢ (1 − ηλᵢ)^{2t} cᵢ² with cᵢ = vᵢᵀ(x₀ − x*). Conjugate gradient on
//! H x = Aᵀb. Newton: one step, the Cholesky solve of the normal equations (overdetermined) or
//! of A Aᵀ α = b, x = Aᵀα (underdetermined; the minimum-norm solution, the kernel form).
//!
//! Iteration counts to reach ‖x − x*‖ ≤ ε‖x₀ − x*‖ are compared with the textbook estimates
//! GD ≈ κ·ln(1/ε) (the slowest direction contracts by 1 − 1/κ) and CG ≈ ½√κ·ln(2/ε) (from
//! ‖e_k‖_H ≤ 2((√κ − 1)/(√κ + 1))^k ‖e₀‖_H, Golub & Van Loan Thm 11.3.3), κ = λ_max/λ_min
//! over the non-zero spectrum. From x₀ = 0 on an underdetermined system GD never leaves the
//! row space of A, so it converges to the minimum-norm solution Aᵀ(AAᵀ)⁻¹b.

use crate::linear::{mul, norm, rel_diff};
use crate::memory::{mat, MemoryPlan};
use crate::progress::Observer;
use crate::report::{table::fmt, Chart, Curves, RunOutput, SeriesStyle, Table};
use crate::train::{self, gd::QuadraticGd, Stop};
use anyhow::{bail, Context, Result};
use linalg::{cg, symmetric_eigen, CgOptions, CgVerdict, Cholesky, Matrix};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How the eigenvalues of H = AᵀA are spread between λ_max = 1 and λ_min = 1/κ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Spectrum {
    /// Evenly spaced on a linear scale: CG's worst case, where its bound is nearly tight.
    Uniform,
    /// Evenly spaced on a log scale.
    Geometric,
}

/// Settings of `newton-vs-gd`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Rows of A (equations).
    pub rows: usize,
    /// Columns of A (unknowns); more columns than rows makes the system underdetermined.
    pub cols: usize,
    /// Condition number κ of H over its non-zero eigenvalues.
    pub kappa: f64,
    /// Spread of the eigenvalues.
    pub spectrum: Spectrum,
    /// Target relative error ε for the iteration counts.
    pub eps: f64,
    /// Cap on GD steps.
    pub max_gd_steps: usize,
    /// Seed of A, b.
    pub seed: u64,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
    /// Ridge λ ≥ 0: minimise ½‖Ax − b‖² + ½λ‖x‖², so H = AᵀA + λI (0 keeps plain least
    /// squares).
    pub lambda: f64,
    /// Instead of a synthetic A, use the linearised system of a network: A = J, the Jacobian
    /// of a one-hidden-layer MLP at its random init θ₀ on digits, and b = Y − f(X; θ₀), so
    /// min ½‖Jδ − (Y − f₀)‖² is the tangent-space fit (`rows`, `cols`, `kappa` and `spectrum`
    /// are then ignored).
    pub network: Option<NetworkSystem>,
}

/// The linearised system of a network, for [`Config::network`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetworkSystem {
    /// Training digits (rows of J: n_train · 10).
    pub n_train: usize,
    /// Hidden width of the 64-width-10 ReLU MLP (NTK parameterization).
    pub width: usize,
}

/// Builds A = J(θ₀) ((n·o) × p, row i·o + a) and b = vec(Y − f(X; θ₀)) for a network system.
fn network_system(net: &NetworkSystem, seed: u64) -> Result<(Matrix<f64>, Vec<f64>)> {
    let data = crate::data::load(&crate::data::DataConfig {
        n_train: net.n_train,
        n_test: 1,
        seed,
        ..Default::default()
    })?;
    let model_cfg = crate::model::ModelConfig {
        widths: vec![net.width],
        seed,
        ..Default::default()
    };
    let mlp = crate::model::build(&model_cfg, data.input_dim(), data.output_dim())?;
    let theta: Vec<f64> = mlp.init(seed);
    let f0 = mlp.forward(&theta, data.x_train.as_ref())?;
    let j = autodiff::jacobian::jacobian_by_vjp(&mlp, &theta, data.x_train.as_ref(), 64)?;
    let b: Vec<f64> = data
        .y_train
        .as_slice()
        .iter()
        .zip(f0.as_slice())
        .map(|(y, f)| y - f)
        .collect();
    Ok((j, b))
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rows: 1000,
            cols: 500,
            kappa: 1000.0,
            spectrum: Spectrum::Uniform,
            eps: 1e-6,
            max_gd_steps: 200_000,
            seed: 0,
            lambda: 0.0,
            max_memory_mib: None,
            network: None,
        }
    }
}

/// Iteration counts and figures of one solver.
#[derive(Clone, Debug, Serialize)]
pub struct SolverFigures {
    /// Iterations to reach ‖x − x*‖ ≤ ε‖x₀ − x*‖ (None: not reached within the cap).
    pub iterations: Option<usize>,
    /// Textbook estimate of that count.
    pub estimate: f64,
    /// Final ‖x − x*‖/‖x*‖.
    pub final_rel_error: f64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Everything `newton-vs-gd` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The settings.
    pub config: Config,
    /// Over- or underdetermined.
    pub system: String,
    /// Rows of A as solved.
    pub rows: usize,
    /// Columns of A as solved.
    pub cols: usize,
    /// Measured λ_max and λ_min (non-zero) of H.
    pub lambda_max: f64,
    /// Smallest non-zero eigenvalue.
    pub lambda_min: f64,
    /// Measured κ.
    pub kappa: f64,
    /// GD step η = 1/λ_max.
    pub step: f64,
    /// Gradient descent.
    pub gd: SolverFigures,
    /// Largest |measured − closed form| / initial error over the GD error curve.
    pub gd_closed_form_max_deviation: f64,
    /// Conjugate gradient.
    pub cg: SolverFigures,
    /// Newton (one Cholesky solve).
    pub newton: SolverFigures,
    /// Underdetermined only: ‖x_GD − x_min-norm‖/‖x_min-norm‖ and the share of x_GD outside the
    /// row space of A.
    pub min_norm_rel_error: Option<f64>,
    /// ‖P_null x_GD‖/‖x_GD‖.
    pub null_space_fraction: Option<f64>,
    /// Curves: (iteration, GD error, closed-form error, seconds).
    #[serde(skip)]
    pub gd_curve: Vec<(usize, f64, f64, f64, f64)>,
    /// CG curve: (iteration, error, loss, seconds).
    #[serde(skip)]
    pub cg_curve: Vec<(usize, f64, f64, f64)>,
    /// Loss at the solution (½‖Ax* − b‖² + ½λ‖x*‖²).
    pub loss_min: f64,
}

fn spectrum(cfg: &Config, r: usize) -> Vec<f64> {
    (0..r)
        .map(|i| {
            let t = if r == 1 {
                0.0
            } else {
                i as f64 / (r - 1) as f64
            };
            match cfg.spectrum {
                Spectrum::Uniform => 1.0 - t * (1.0 - 1.0 / cfg.kappa),
                Spectrum::Geometric => cfg.kappa.powf(-t),
            }
        })
        .collect()
}

/// Validates the settings.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.rows == 0 || cfg.cols == 0 {
        bail!("--rows and --cols must be at least 1");
    }
    if !(cfg.lambda.is_finite() && cfg.lambda >= 0.0) {
        bail!("--lambda must be a finite number ≥ 0, got {}", cfg.lambda);
    }
    if !(cfg.kappa.is_finite() && (1.0..=1e12).contains(&cfg.kappa)) {
        bail!(
            "--kappa must be a finite number in [1, 1e12], got {:e}",
            cfg.kappa
        );
    }
    if !(cfg.eps > 0.0 && cfg.eps < 1.0) {
        bail!("--eps must lie in (0, 1), got {:e}", cfg.eps);
    }
    if let Some(net) = &cfg.network {
        if net.n_train == 0 || net.width == 0 {
            bail!("--network-n-train and --network-width must be at least 1");
        }
        let (rows, cols) = system_shape(cfg);
        if rows.max(cols) > 4000 {
            bail!(
                "the linearised network system would be {rows}×{cols}; keep both sides ≤ 4000 \
                 (e.g. --network-n-train 40 --network-width 32)"
            );
        }
        return Ok(());
    }
    if cfg.rows.max(cfg.cols) > 4000 {
        bail!("--rows/--cols above 4000 would need a dense eigendecomposition too large for this teaching experiment");
    }
    Ok(())
}

/// The memory plan: A (m×p), H = AᵀA (p×p) and, when underdetermined, AAᵀ (m×m); the
/// eigensolver's working copies (three r×r, r = min(m, p)) and the p×r eigenvectors. For the
/// network system, J is built by reverse mode in blocks, so A itself is the largest part.
pub fn memory_plan(m: usize, p: usize) -> MemoryPlan {
    let r = m.min(p);
    let a = (format!("A ({m}×{p})"), mat(m, p, 8));
    let h = (format!("H = AᵀA ({p}×{p})"), mat(p, p, 8));
    let mut plan = MemoryPlan::default();
    plan.phase(
        "eigendecomposition",
        vec![
            a.clone(),
            h.clone(),
            (format!("eigensolver work (3 × {r}×{r})"), mat(r, r, 24)),
            (
                format!("Aᵀ·U and eigenvectors ({p}×{r} × 2)"),
                mat(p, r, 16),
            ),
        ],
    );
    plan
}

/// Rows and columns of the system a configuration solves.
fn system_shape(cfg: &Config) -> (usize, usize) {
    match &cfg.network {
        Some(net) => (
            net.n_train.saturating_mul(10),
            75usize.saturating_mul(net.width).saturating_add(10),
        ),
        None => (cfg.rows, cfg.cols),
    }
}

/// `newton-vs-gd` for the command-line runner.
pub struct NewtonVsGd;

impl crate::cli::Experiment for NewtonVsGd {
    const NAME: &'static str = "newton-vs-gd";
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
    let (m0, p0) = system_shape(cfg);
    memory_plan(m0, p0).check(
        crate::memory::budget(cfg.max_memory_mib),
        "use a smaller system (--rows/--cols, --network-n-train/--network-width)",
    )?;
    let (a, b) = match &cfg.network {
        Some(net) => network_system(net, cfg.seed)?,
        None => synthetic_system(cfg)?,
    };
    let (m, p) = (a.rows(), a.cols());
    let lambda = cfg.lambda;
    let add_ridge = |mut h: Matrix<f64>| {
        for i in 0..h.rows() {
            h.set(i, i, h.get(i, i) + lambda);
        }
        h
    };
    let atb = mul(a.as_ref().t(), &b)?;
    let h = add_ridge(linalg::matmul(a.as_ref().t(), a.as_ref())?);
    let loss = |x: &[f64]| -> Result<f64> {
        let ax = mul(a.as_ref(), x)?;
        let fit: f64 = ax.iter().zip(&b).map(|(u, v)| (u - v) * (u - v)).sum();
        Ok(0.5 * fit + 0.5 * lambda * x.iter().map(|v| v * v).sum::<f64>())
    };

    // Newton: one solve.
    let t0 = Instant::now();
    let rank_hint = |e: linalg::LinalgError| {
        anyhow::anyhow!(
            "Newton's Cholesky solve failed ({e}): A is rank-deficient (to rounding) and λ = {lambda}; add a ridge, e.g. --lambda 1e-3"
        )
    };
    let x_star = if m >= p {
        Cholesky::factor(h.as_ref())
            .map_err(rank_hint)?
            .solve_vec(&atb)?
    } else {
        let aat = add_ridge(linalg::matmul(a.as_ref(), a.as_ref().t())?);
        let alpha = Cholesky::factor(aat.as_ref())
            .map_err(rank_hint)?
            .solve_vec(&b)?;
        mul(a.as_ref().t(), &alpha)?
    };
    let newton_secs = t0.elapsed().as_secs_f64();
    let loss_min = loss(&x_star)?;

    // The non-zero spectrum of H = AᵀA for the closed form. The zero eigenvalues of an
    // underdetermined H are directions GD never moves along from x₀ = 0 (and x* has no
    // component there), so only the non-zero pairs are kept: for m < p they come from the
    // smaller A Aᵀ = U Λ Uᵀ, with vᵢ = Aᵀuᵢ/√λᵢ.
    let eig = if m >= p {
        symmetric_eigen(h.as_ref()).context("eigendecomposition of AᵀA")?
    } else {
        // The ridge shifts every eigenvalue of AAᵀ (and of AᵀA on the row space) by λ; the
        // vectors are those of AAᵀ alone.
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
        linalg::SymmetricEigen {
            values: keep.iter().map(|&i| e.values[i] + lambda).collect(),
            vectors,
        }
    };
    let r = eig.values.len();
    let lmax = eig.values.last().copied().unwrap_or(1.0);
    let nonzero: Vec<f64> = eig
        .values
        .iter()
        .copied()
        .filter(|&v| v > 1e-10 * lmax)
        .collect();
    let lmin = nonzero.first().copied().unwrap_or(lmax);
    let kappa = lmax / lmin;
    let eta = 1.0 / lmax;
    let x0 = vec![0.0; p];
    let e0: Vec<f64> = x0.iter().zip(&x_star).map(|(a, b)| a - b).collect();
    let e0_norm = norm(&e0);
    let coeff: Vec<f64> = (0..r)
        .map(|i| (0..p).map(|k| eig.vectors.get(k, i) * e0[k]).sum())
        .collect();
    let closed_form = |t: usize| -> f64 {
        let s: f64 = eig
            .values
            .iter()
            .zip(&coeff)
            .filter(|(l, _)| **l > 1e-10 * lmax)
            .map(|(l, c)| ((1.0 - eta * l).powi(2 * t.min(i32::MAX as usize / 2) as i32)) * c * c)
            .sum();
        s.sqrt()
    };

    // Gradient descent, x ← x − η(Hx − Aᵀb), on the train/ loop; the objective is the
    // relative error ‖x − x*‖/‖x₀ − x*‖ and the run stops when it reaches ε.
    obs.begin("gradient descent", cfg.max_gd_steps as u64);
    let err_of = |x: &[f64]| rel_diff(x, &x_star) * norm(&x_star) / e0_norm;
    let mut gd = QuadraticGd::new(&h, &atb, x0.clone(), eta, err_of);
    let mut gd_curve = Vec::new();
    let mut max_dev: f64 = 0.0;
    let t0 = Instant::now();
    let trajectory = train::run(
        &mut gd,
        Stop {
            max_steps: cfg.max_gd_steps,
            target: Some(cfg.eps),
            stop_at_target: true,
        },
        |_| true,
        |t, err, m| {
            let cf = closed_form(t) / e0_norm;
            max_dev = max_dev.max((err - cf).abs());
            let last = err <= cfg.eps || t == cfg.max_gd_steps;
            if t < 100 || t.is_power_of_two() || t.is_multiple_of(100) || last {
                gd_curve.push((t, err, cf, loss(&m.x)?, t0.elapsed().as_secs_f64()));
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
    let gd_iters = trajectory.reached_target;
    let x = gd.x;
    let gd_secs = t0.elapsed().as_secs_f64();
    obs.end();

    // CG on H x = Aᵀb. The iterates are deterministic, so the run truncated at k iterations
    // is the k-th iterate: the error curve comes from truncated runs.
    obs.begin("conjugate gradient", 0);
    let cg_at = |k: usize| -> Result<Vec<f64>> {
        if k == 0 {
            return Ok(x0.clone());
        }
        let opts = CgOptions {
            rtol: 1e-300_f64.max(f64::MIN_POSITIVE),
            max_iter: k,
            ..Default::default()
        };
        let res = cg(&h, &atb, Some(&x0), &opts)?;
        if let CgVerdict::Breakdown { reason } = &res.verdict {
            if res.iterations < k {
                // Converged to rounding level before k: the last iterate is the answer.
                let _ = reason;
            }
        }
        Ok(res.x)
    };
    let err_at = |x: &[f64]| rel_diff(x, &x_star) * norm(&x_star) / e0_norm;
    let t0 = Instant::now();
    let full = cg(
        &h,
        &atb,
        Some(&x0),
        &CgOptions {
            rtol: cfg.eps * 1e-3,
            max_iter: 20 * p,
            ..Default::default()
        },
    )?;
    let cg_secs = t0.elapsed().as_secs_f64();
    let cg_total = full.iterations.max(1);
    // Binary search for the first k with error ≤ ε (the 2-norm error of CG decreases
    // monotonically, Hestenes & Stiefel 1952, Thm 6:3).
    let cg_iters = if err_at(&full.x) > cfg.eps {
        None
    } else {
        let (mut lo, mut hi) = (0usize, cg_total);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if err_at(&cg_at(mid)?) <= cfg.eps {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo)
    };
    let mut cg_curve = Vec::new();
    let step = (cg_total / 60).max(1);
    let mut k = 0;
    while k <= cg_total {
        let xk = cg_at(k)?;
        cg_curve.push((
            k,
            err_at(&xk),
            loss(&xk)?,
            cg_secs * k as f64 / cg_total as f64,
        ));
        k += step;
    }
    obs.end();

    let (min_norm_rel_error, null_space_fraction) = if m < p {
        // Row-space projection of x_GD: V_r V_rᵀ x, with V_r the eigenvectors of H with
        // non-zero eigenvalue.
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
        (
            Some(rel_diff(&x, &x_star)),
            Some(norm(&null) / norm(&x).max(f64::MIN_POSITIVE)),
        )
    } else {
        (None, None)
    };

    let gd_est = kappa * (1.0 / cfg.eps).ln();
    let cg_est = 0.5 * kappa.sqrt() * (2.0 / cfg.eps).ln();
    Ok(Summary {
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
            iterations: gd_iters,
            estimate: gd_est,
            final_rel_error: rel_diff(&x, &x_star),
            seconds: gd_secs,
        },
        gd_closed_form_max_deviation: max_dev,
        cg: SolverFigures {
            iterations: cg_iters,
            estimate: cg_est,
            final_rel_error: rel_diff(&full.x, &x_star),
            seconds: cg_secs,
        },
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
        loss_min,
    })
}

/// A with the configured singular values, and b = A x_true + noise (so the overdetermined
/// problem has a non-zero optimal loss).
fn synthetic_system(cfg: &Config) -> Result<(Matrix<f64>, Vec<f64>)> {
    let (m, p) = (cfg.rows, cfg.cols);
    let lam = spectrum(cfg, m.min(p));
    let s: Vec<f64> = lam.iter().map(|l| l.sqrt()).collect();
    let a = matrix_with(cfg, m, p, &s);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(cfg.seed ^ 0xb);
    let x_true: Vec<f64> = (0..p)
        .map(|_| crate::data::synthetic::normal(&mut rng))
        .collect();
    let mut b = mul(a.as_ref(), &x_true)?;
    for v in &mut b {
        *v += 0.1 * crate::data::synthetic::normal(&mut rng);
    }
    Ok((a, b))
}

fn matrix_with(cfg: &Config, m: usize, p: usize, s: &[f64]) -> Matrix<f64> {
    crate::linear::matrix_with_singular_values(m, p, s, cfg.seed)
}

/// Tables, curves and charts of a run.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let mut t = Table::new(
        &format!(
            "newton-vs-gd: {} least squares, A {}×{}, κ = {:.4}, ε = {:e}",
            s.system, s.rows, s.cols, s.kappa, s.config.eps
        ),
        &[
            "solver",
            "iterations to ε",
            "estimate",
            "estimate formula",
            "final rel. error",
            "seconds",
        ],
    );
    let it = |v: Option<usize>| v.map_or("not reached".to_string(), |k| k.to_string());
    t.row([
        "GD, η = 1/λ_max".to_string(),
        it(s.gd.iterations),
        format!("{:.0}", s.gd.estimate),
        "κ·ln(1/ε)".into(),
        fmt(s.gd.final_rel_error),
        fmt(s.gd.seconds),
    ]);
    t.row([
        "CG".to_string(),
        it(s.cg.iterations),
        format!("{:.0}", s.cg.estimate),
        "½√κ·ln(2/ε)".into(),
        fmt(s.cg.final_rel_error),
        fmt(s.cg.seconds),
    ]);
    t.row([
        "Newton (Cholesky)".to_string(),
        "1".into(),
        "1".into(),
        "".into(),
        "0 (reference)".into(),
        fmt(s.newton.seconds),
    ]);
    let mut notes = vec![format!(
        "GD error against its closed form Σ(1 − ηλᵢ)^(2t)cᵢ²: largest deviation {} of the initial error",
        fmt(s.gd_closed_form_max_deviation)
    )];
    if let (Some(e), Some(f)) = (s.min_norm_rel_error, s.null_space_fraction) {
        notes.push(format!(
            "underdetermined: GD from 0 ends at the minimum-norm solution Aᵀ(AAᵀ)⁻¹b up to relative error {}; share of x_GD in the null space of A: {}",
            fmt(e),
            fmt(f)
        ));
    }
    let mut curves = Curves {
        name: "curves".into(),
        columns: [
            "solver",
            "iteration",
            "rel_error",
            "closed_form_rel_error",
            "loss",
            "seconds",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![],
    };
    for &(t, e, cf, l, sec) in &s.gd_curve {
        curves.rows.push(vec![0.0, t as f64, e, cf, l, sec]);
    }
    for &(k, e, l, sec) in &s.cg_curve {
        curves.rows.push(vec![1.0, k as f64, e, f64::NAN, l, sec]);
    }
    curves.columns[0] = "solver (0 = GD, 1 = CG)".into();
    let mut by_iter = Chart::new(
        "error_vs_iterations",
        "Relative error against iterations",
        "iteration",
        "‖x − x*‖/‖x₀ − x*‖",
        true,
        true,
    );
    let shift = |k: usize| (k + 1) as f64;
    by_iter.add(
        "GD (measured)",
        s.gd_curve.iter().map(|c| (shift(c.0), c.1)).collect(),
        SeriesStyle::Line,
    );
    by_iter.add(
        "GD closed form (1 − ηλᵢ)ᵗ",
        s.gd_curve.iter().map(|c| (shift(c.0), c.2)).collect(),
        SeriesStyle::Dashed,
    );
    by_iter.add(
        "CG",
        s.cg_curve.iter().map(|c| (shift(c.0), c.1)).collect(),
        SeriesStyle::Line,
    );
    by_iter.add(
        "Newton (1 step)",
        vec![(shift(1), 1e-16_f64.max(s.newton.final_rel_error))],
        SeriesStyle::Points,
    );
    let excess = |l: f64| (l - s.loss_min).max(1e-300);
    let mut by_time = Chart::new(
        "loss_vs_time",
        "Excess loss against wall time",
        "seconds",
        "L(x) − L(x*)",
        true,
        true,
    );
    by_time.add(
        "GD",
        s.gd_curve
            .iter()
            .filter(|c| c.4 > 0.0)
            .map(|c| (c.4, excess(c.3)))
            .collect(),
        SeriesStyle::Line,
    );
    by_time.add(
        "CG",
        s.cg_curve
            .iter()
            .filter(|c| c.3 > 0.0)
            .map(|c| (c.3, excess(c.2)))
            .collect(),
        SeriesStyle::Line,
    );
    by_time.add(
        "Newton",
        vec![(s.newton.seconds.max(1e-7), 1e-300_f64.max(1e-30))],
        SeriesStyle::Points,
    );
    Ok(RunOutput {
        experiment: "newton-vs-gd".into(),
        summary: serde_json::json!({
            "experiment": "newton-vs-gd",
            "versions": crate::report::versions(),
            "seed": s.config.seed,
            "summary": s,
        }),
        tables: vec![t],
        curves: vec![curves],
        charts: vec![by_iter, by_time],
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    #[test]
    fn linearised_network_system_is_solved_like_any_other() {
        // A small, wide network: J is 50×(64·32 + 32 + 320 + 10) = 50×2410, underdetermined.
        let cfg = Config {
            eps: 1e-4,
            max_gd_steps: 20_000,
            network: Some(NetworkSystem {
                n_train: 5,
                width: 32,
            }),
            ..Default::default()
        };
        let s = run_with(&cfg, &mut Silent).unwrap();
        assert_eq!((s.rows, s.cols), (50, 2410));
        assert_eq!(s.system, "linearised-network");
        assert!(
            s.gd.iterations.is_some(),
            "GD did not reach ε (κ = {})",
            s.kappa
        );
        assert!(s.gd_closed_form_max_deviation < 1e-8);
        // From δ = 0, GD stays in the row space of J: the minimum-norm (kernel) solution.
        assert!(s.min_norm_rel_error.unwrap() < 1e-3);
        assert!(s.null_space_fraction.unwrap() < 1e-8);
        let bad = Config {
            network: Some(NetworkSystem {
                n_train: 1000,
                width: 32,
            }),
            ..Default::default()
        };
        assert!(validate(&bad).is_err());
    }

    #[test]
    fn counts_match_theory_within_factor_two() {
        // CG ends in at most `cols` steps in exact arithmetic, so the dimension must exceed its
        // estimate for the estimate to be what is measured.
        for (kappa, cols) in [(100.0, 250), (400.0, 400)] {
            let cfg = Config {
                rows: cols + 100,
                cols,
                kappa,
                ..Default::default()
            };
            let s = run_with(&cfg, &mut Silent).unwrap();
            let gd = s.gd.iterations.unwrap() as f64;
            let cg = s.cg.iterations.unwrap() as f64;
            assert!(
                (0.5..=2.0).contains(&(gd / s.gd.estimate)),
                "κ {kappa}: GD {gd} vs {}",
                s.gd.estimate
            );
            assert!(
                (0.5..=2.0).contains(&(cg / s.cg.estimate)),
                "κ {kappa}: CG {cg} vs {}",
                s.cg.estimate
            );
            assert!(
                s.gd_closed_form_max_deviation < 1e-8,
                "{}",
                s.gd_closed_form_max_deviation
            );
        }
    }

    #[test]
    fn underdetermined_gd_reaches_min_norm() {
        let cfg = Config {
            rows: 40,
            cols: 90,
            kappa: 50.0,
            eps: 1e-9,
            ..Default::default()
        };
        let s = run_with(&cfg, &mut Silent).unwrap();
        assert!(
            s.min_norm_rel_error.unwrap() < 1e-8,
            "{:?}",
            s.min_norm_rel_error
        );
        assert!(
            s.null_space_fraction.unwrap() < 1e-8,
            "{:?}",
            s.null_space_fraction
        );
    }
}
