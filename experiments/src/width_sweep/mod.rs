//! `width-sweep`: `linearize` over hidden widths and seeds, with the log-log slope of each
//! figure against width, a percentile-bootstrap 95% interval over seeds, and the local slope
//! between consecutive widths.
//!
//! What theory predicts, under the NTK parameterization:
//! * function gap ‖f_GD − f_lin‖/‖f_GD‖ and kernel change ‖K_T − K₀‖/‖K₀‖: width⁻¹
//!   asymptotically — the kernel's time derivative is O(1/width) (Dyer & Gur-Ari 2020,
//!   "Asymptotics of wide networks from Feynman diagrams"; Huang & Yau 2020, "Dynamics of deep
//!   neural networks and neural tangent hierarchy"); the width^(−1/2) of Lee et al. 2019 is an
//!   upper bound.
//! * relative parameter change ‖θ_T − θ₀‖/‖θ₀‖: the step ‖θ_T − θ₀‖ stays O(1) (Lee et al.
//!   2019, Thm 2.1) while ‖θ₀‖ ∝ √p, so width^(−1/2) with one hidden layer (p ∝ width) and
//!   width⁻¹ with two or more (p ∝ width²).

mod about;
mod report;

pub use report::output;

use crate::data::{self, DataConfig};
use crate::linearize;
use crate::metrics::{bootstrap_slope, local_slopes, loglog_slope, mean_std};
use crate::model::ModelConfig;
use crate::progress::Observer;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Settings of `width-sweep`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The data set and its train/test sizes, the same for every run.
    pub data: DataConfig,
    /// Network template (its widths are replaced by each swept width, `depth` times).
    pub model: ModelConfig,
    /// Hidden widths swept, in this order.
    pub widths: Vec<usize>,
    /// Hidden layers, each of the swept width.
    pub depth: usize,
    /// Runs per width, with network seeds 0, 1, ….
    pub seeds: usize,
    /// Ridge λ of each run's Newton step.
    pub lambda: f64,
    /// GD steps T of each run.
    pub steps: usize,
    /// Step size (None: 1/λ_max(K/n) per run).
    pub lr: Option<f64>,
    /// Precision of each run's network arithmetic.
    pub dtype: linearize::Dtype,
    /// Memory budget per run in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: DataConfig {
                n_train: 100,
                n_test: 300,
                ..Default::default()
            },
            model: ModelConfig::default(),
            widths: vec![32, 64, 128, 256, 512, 1024, 2048],
            depth: 1,
            seeds: 5,
            lambda: 1e-3,
            steps: 300,
            lr: None,
            dtype: linearize::Dtype::F64,
            max_memory_mib: None,
        }
    }
}

/// One (width, seed) run.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// Hidden width.
    pub width: usize,
    /// Seed of the network's initialisation.
    pub seed: u64,
    /// Parameter count p of the network.
    pub num_params: usize,
    /// ‖f_GD − f_lin‖/‖f_GD‖ on test inputs after T steps.
    pub function_gap: f64,
    /// ‖θ_T − θ₀‖/‖θ₀‖.
    pub parameter_change: f64,
    /// ‖K_T − K₀‖_F/‖K₀‖_F (NaN when the run did not compute it).
    pub kernel_change: f64,
    /// Arg-max test accuracy of GD on the network after T steps (NaN for regression).
    pub test_accuracy_gd: f64,
    /// Arg-max test accuracy of linearised GD after T steps (NaN for regression).
    pub test_accuracy_linearized: f64,
    /// Arg-max test accuracy of the Newton step (NaN for regression).
    pub test_accuracy_newton: f64,
    /// Test loss 1/(2m)‖f − Y‖² of GD on the network after T steps.
    pub test_loss_gd: f64,
    /// Test loss of linearised GD after T steps.
    pub test_loss_linearized: f64,
}

/// A per-run figure of [`Point`] that the sweep tabulates, fits or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// [`Point::function_gap`].
    FunctionGap,
    /// [`Point::parameter_change`].
    ParameterChange,
    /// [`Point::kernel_change`].
    KernelChange,
    /// [`Point::test_accuracy_gd`].
    TestAccuracyGd,
    /// [`Point::test_accuracy_linearized`].
    TestAccuracyLinearized,
    /// [`Point::test_accuracy_newton`].
    TestAccuracyNewton,
}

impl Figure {
    /// The three figures whose width dependence the sweep fits, in the order of
    /// [`Summary::slopes`].
    pub const FITTED: [Figure; 3] = [
        Figure::FunctionGap,
        Figure::ParameterChange,
        Figure::KernelChange,
    ];

    /// Every figure, in the order of the columns of points.csv.
    pub const ALL: [Figure; 6] = [
        Figure::FunctionGap,
        Figure::ParameterChange,
        Figure::KernelChange,
        Figure::TestAccuracyGd,
        Figure::TestAccuracyLinearized,
        Figure::TestAccuracyNewton,
    ];

    /// The figure's name in the CSV, the JSON and the tables (the [`Point`] field's name).
    pub fn name(self) -> &'static str {
        match self {
            Figure::FunctionGap => "function_gap",
            Figure::ParameterChange => "parameter_change",
            Figure::KernelChange => "kernel_change",
            Figure::TestAccuracyGd => "test_accuracy_gd",
            Figure::TestAccuracyLinearized => "test_accuracy_linearized",
            Figure::TestAccuracyNewton => "test_accuracy_newton",
        }
    }

    /// The figure's value in one run.
    pub fn value(self, p: &Point) -> f64 {
        match self {
            Figure::FunctionGap => p.function_gap,
            Figure::ParameterChange => p.parameter_change,
            Figure::KernelChange => p.kernel_change,
            Figure::TestAccuracyGd => p.test_accuracy_gd,
            Figure::TestAccuracyLinearized => p.test_accuracy_linearized,
            Figure::TestAccuracyNewton => p.test_accuracy_newton,
        }
    }

    /// The formula, as an axis label of the charts.
    pub fn label(self) -> &'static str {
        match self {
            Figure::FunctionGap => "‖f_GD − f_lin‖/‖f_GD‖ (test)",
            Figure::ParameterChange => "‖θ_T − θ₀‖/‖θ₀‖",
            Figure::KernelChange => "‖K_T − K₀‖_F/‖K₀‖_F",
            Figure::TestAccuracyGd => "test accuracy, GD",
            Figure::TestAccuracyLinearized => "test accuracy, linearised GD",
            Figure::TestAccuracyNewton => "test accuracy, Newton",
        }
    }

    /// The predicted asymptotic exponent against width and its source (see the module docs).
    fn prediction(self, depth: usize) -> (f64, &'static str) {
        match self {
            Figure::ParameterChange if depth == 1 => (
                -0.5,
                "‖θ_T − θ₀‖ = O(1) (Lee et al. 2019, Thm 2.1) over ‖θ₀‖ ∝ √p, p ∝ width",
            ),
            Figure::ParameterChange => (
                -1.0,
                "‖θ_T − θ₀‖ = O(1) (Lee et al. 2019, Thm 2.1) over ‖θ₀‖ ∝ √p, p ∝ width²",
            ),
            _ => (
                -1.0,
                "dΘ/dt = O(1/width) (Dyer & Gur-Ari 2020; Huang & Yau 2020)",
            ),
        }
    }
}

/// A fitted power law with its uncertainty and what theory predicts.
#[derive(Clone, Debug, Serialize)]
pub struct Slope {
    /// The fitted figure's [`Figure::name`].
    pub figure: String,
    /// Exponent of the least-squares fit of log10(mean over seeds) on log10(width).
    pub slope: Option<f64>,
    /// Intercept of that fit: log10 of the fitted figure at width 1.
    pub intercept: Option<f64>,
    /// 95% percentile-bootstrap interval of the slope, resampling seeds within each width.
    pub ci95: Option<(f64, f64)>,
    /// (geometric-mean width, slope) between consecutive widths.
    pub local: Vec<(f64, Option<f64>)>,
    /// The asymptotic exponent theory predicts.
    pub predicted: f64,
    /// Where the prediction comes from.
    pub source: String,
}

/// A (width, seed) run that did not finish, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// Hidden width of the failed run.
    pub width: usize,
    /// Network seed of the failed run.
    pub seed: u64,
    /// The error, in full.
    pub reason: String,
}

/// What `width-sweep` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The settings.
    pub config: Config,
    /// Every run that finished, width by width, seed by seed.
    pub points: Vec<Point>,
    /// Runs that failed; the sweep goes on without them.
    pub failures: Vec<Failure>,
    /// Fitted slopes of the three figures of [`Figure::FITTED`], in that order.
    pub slopes: Vec<Slope>,
}

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.widths.is_empty() || cfg.widths.contains(&0) {
        bail!("--widths needs at least one width, each ≥ 1");
    }
    if cfg.seeds == 0 || cfg.depth == 0 {
        bail!("--seeds and --depth must be at least 1");
    }
    linearize::check_training(cfg.lambda, cfg.lr, cfg.steps)?;
    crate::model::validate(&ModelConfig {
        widths: vec![cfg.widths[0]; cfg.depth],
        ..cfg.model.clone()
    })
}

crate::experiment::experiment!(WidthSweep, "width-sweep", |_| 0);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let ds = data::load(&cfg.data)?;
    let mut points = Vec::new();
    let mut failures = Vec::new();
    let total = cfg.widths.len() * cfg.seeds;
    let mut quiet = crate::progress::Silent;
    for (wi, &w) in cfg.widths.iter().enumerate() {
        for seed in 0..cfg.seeds as u64 {
            obs.begin(
                &format!(
                    "width {w}, seed {seed} ({}/{total})",
                    wi * cfg.seeds + seed as usize + 1
                ),
                0,
            );
            let run = linearize::run_on(&run_config(cfg, w, seed), &ds, &mut quiet);
            obs.end();
            match run {
                Ok(s) => points.push(point(w, seed, &s)),
                Err(e) => {
                    let reason = format!("{e:#}");
                    obs.message(&format!("width {w}, seed {seed} failed: {reason}"));
                    failures.push(Failure {
                        width: w,
                        seed,
                        reason,
                    });
                }
            }
        }
    }
    if points.is_empty() {
        bail!(
            "every run of the sweep failed; the first: width {}, seed {}: {}",
            failures[0].width,
            failures[0].seed,
            failures[0].reason
        );
    }
    let slopes = Figure::FITTED
        .iter()
        .map(|&f| slope(&points, &cfg.widths, f, cfg.depth))
        .collect();
    Ok(Summary {
        config: cfg.clone(),
        points,
        failures,
        slopes,
    })
}

/// The `linearize` settings of the run at width `w` with network seed `seed`.
fn run_config(cfg: &Config, w: usize, seed: u64) -> linearize::Config {
    linearize::Config {
        data: cfg.data.clone(),
        model: ModelConfig {
            widths: vec![w; cfg.depth],
            seed,
            ..cfg.model.clone()
        },
        lambda: cfg.lambda,
        steps: cfg.steps,
        lr: cfg.lr,
        dtype: cfg.dtype,
        kernel: linearize::KernelChoice::Auto,
        max_memory_mib: cfg.max_memory_mib,
        ..Default::default()
    }
}

fn point(width: usize, seed: u64, s: &linearize::Summary) -> Point {
    Point {
        width,
        seed,
        num_params: s.num_params,
        function_gap: s.function_gap_test,
        parameter_change: s.relative_parameter_change,
        kernel_change: s.relative_kernel_change.unwrap_or(f64::NAN),
        test_accuracy_gd: s.gd.test_accuracy.unwrap_or(f64::NAN),
        test_accuracy_linearized: s.linearized_gd.test_accuracy.unwrap_or(f64::NAN),
        test_accuracy_newton: s.newton.test_accuracy.unwrap_or(f64::NAN),
        test_loss_gd: s.gd.test_loss,
        test_loss_linearized: s.linearized_gd.test_loss,
    }
}

/// The fit, its bootstrap interval (2000 replicates, fixed seed) and the local slopes.
fn slope(points: &[Point], widths: &[usize], figure: Figure, depth: usize) -> Slope {
    let mean_pts = means(points, widths, figure);
    let fit = loglog_slope(&mean_pts);
    let groups: Vec<(f64, Vec<f64>)> = widths
        .iter()
        .map(|&w| (w as f64, values(points, w, figure)))
        .collect();
    let (predicted, source) = figure.prediction(depth);
    Slope {
        figure: figure.name().into(),
        slope: fit.map(|x| x.0),
        intercept: fit.map(|x| x.1),
        ci95: bootstrap_slope(&groups, 2000, 0.95, 0x5eed),
        local: local_slopes(&mean_pts),
        predicted,
        source: source.into(),
    }
}

/// The values of `figure` over the seeds that finished at `width`.
fn values(points: &[Point], width: usize, figure: Figure) -> Vec<f64> {
    points
        .iter()
        .filter(|p| p.width == width)
        .map(|p| figure.value(p))
        .collect()
}

/// (width, mean over seeds of `figure`), for the widths with at least one finished run.
fn means(points: &[Point], widths: &[usize], figure: Figure) -> Vec<(f64, f64)> {
    widths
        .iter()
        .filter_map(|&w| mean_std(&values(points, w, figure)).map(|(m, _)| (w as f64, m)))
        .collect()
}

/// The spread of a figure over the seeds of one width.
struct Band {
    width: f64,
    /// Mean − std.
    low: f64,
    /// Mean + std.
    high: f64,
}

/// Mean ± std over seeds, for the widths with at least one finished run.
fn bands(points: &[Point], widths: &[usize], figure: Figure) -> Vec<Band> {
    widths
        .iter()
        .filter_map(|&w| {
            mean_std(&values(points, w, figure)).map(|(m, s)| Band {
                width: w as f64,
                low: m - s,
                high: m + s,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Figure;

    #[test]
    fn figure_names_are_their_serde_names() {
        for f in Figure::ALL {
            assert_eq!(serde_json::to_value(f).unwrap(), f.name());
        }
    }
}
