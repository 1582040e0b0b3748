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

use crate::linear::mul;
use crate::memory::{mat, MemoryPlan};
mod about;
mod report;
mod run;

pub use report::output;

use crate::progress::Observer;
use anyhow::{bail, Result};
use linalg::Matrix;
use serde::{Deserialize, Serialize};

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
    let j = autodiff::mlp::jacobian::jacobian_by_vjp(&mlp, &theta, data.x_train.as_ref(), 64)?;
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

/// One recorded GD iterate.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct GdRow {
    /// Step t.
    pub iteration: usize,
    /// ‖x_t − x*‖/‖x₀ − x*‖, measured.
    pub error: f64,
    /// The same from the closed form (Σ(1 − ηλᵢ)^(2t)cᵢ²)^½/‖x₀ − x*‖.
    pub closed_form_error: f64,
    /// The objective ½‖Ax_t − b‖² + ½λ‖x_t‖².
    pub loss: f64,
    /// Seconds since GD started.
    pub seconds: f64,
}

/// One recorded CG iterate.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CgRow {
    /// Iteration k.
    pub iteration: usize,
    /// ‖x_k − x*‖/‖x₀ − x*‖.
    pub error: f64,
    /// The objective at x_k.
    pub loss: f64,
    /// Seconds since CG started.
    pub seconds: f64,
}

/// Everything `newton-vs-gd` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Estimated peak heap bytes of the run (the memory plan), made before allocating.
    pub memory_estimate_bytes: u128,
    /// Measured peak heap bytes of the run (None where the counting allocator is absent).
    pub memory_peak_bytes: Option<u128>,
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
    /// The GD error curve with its closed form.
    #[serde(skip)]
    pub gd_curve: Vec<GdRow>,
    /// The CG error curve.
    #[serde(skip)]
    pub cg_curve: Vec<CgRow>,
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

/// The memory plan, at the eigendecomposition (the peak): A (m×p) and H = AᵀA + λI (p×p)
/// throughout; overdetermined, the eigensolver's three p×p working matrices; underdetermined,
/// AAᵀ and its eigenvectors (m×m each) with AᵀU and the row-space vectors (p×m each) and the
/// GEMM's packing room (one more p×m). For the network system, J is built by reverse mode in
/// blocks, so A itself is the largest part of the inputs.
pub fn memory_plan(m: usize, p: usize) -> MemoryPlan {
    let a = (format!("A ({m}×{p})"), mat(m, p, 8));
    let h = (format!("H = AᵀA + λI ({p}×{p})"), mat(p, p, 8));
    let work = if m >= p {
        vec![(format!("eigensolver work (3 × {p}×{p})"), mat(p, p, 24))]
    } else {
        vec![
            (
                format!("AAᵀ and its eigenvectors (2 × {m}×{m})"),
                mat(m, m, 16),
            ),
            (
                format!("AᵀU, row-space vectors, packing (3 × {p}×{m})"),
                mat(p, m, 24),
            ),
        ]
    };
    let mut plan = MemoryPlan::default();
    plan.phase("eigendecomposition", [vec![a, h], work].concat());
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

crate::experiment::experiment!(NewtonVsGd, "newton-vs-gd", |c| c.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let (m, p) = system_shape(cfg);
    let window = crate::memory::PeakWindow::start();
    let plan = memory_plan(m, p);
    plan.check(
        crate::memory::budget(cfg.max_memory_mib),
        "use a smaller system (--rows/--cols, --network-n-train/--network-width)",
    )?;
    let (a, b) = match &cfg.network {
        Some(net) => network_system(net, cfg.seed)?,
        None => synthetic_system(cfg)?,
    };
    let s = run::solve_three_ways(cfg, &a, &b, obs)?;
    Ok(Summary {
        memory_estimate_bytes: plan.peak(),
        memory_peak_bytes: window.measured(),
        ..s
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
