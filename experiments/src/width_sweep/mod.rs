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
use crate::data::{self, DataConfig};
use crate::linearize;
use crate::metrics::{bootstrap_slope, local_slopes, loglog_slope, mean_std};
use crate::model::ModelConfig;
use crate::progress::Observer;
use crate::report::{self, table::fmt, table::pct, Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Settings of `width-sweep`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Data.
    pub data: DataConfig,
    /// Network template (its widths are replaced by each swept width, `depth` times).
    pub model: ModelConfig,
    /// Widths swept.
    pub widths: Vec<usize>,
    /// Hidden layers.
    pub depth: usize,
    /// Seeds per width (0, 1, …).
    pub seeds: usize,
    /// Ridge λ.
    pub lambda: f64,
    /// GD steps.
    pub steps: usize,
    /// Step size (None: 1/λ_max(K/n) per run).
    pub lr: Option<f64>,
    /// Precision.
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
    /// Seed.
    pub seed: u64,
    /// Parameters.
    pub num_params: usize,
    /// ‖f_GD − f_lin‖/‖f_GD‖ on test inputs.
    pub function_gap: f64,
    /// ‖θ_T − θ₀‖/‖θ₀‖.
    pub parameter_change: f64,
    /// ‖K_T − K₀‖_F/‖K₀‖_F.
    pub kernel_change: f64,
    /// Test accuracy (or NaN for regression) of GD, linearised GD, Newton.
    pub test_accuracy_gd: f64,
    /// Linearised GD.
    pub test_accuracy_linearized: f64,
    /// Newton.
    pub test_accuracy_newton: f64,
    /// Test losses.
    pub test_loss_gd: f64,
    /// Linearised GD.
    pub test_loss_linearized: f64,
}

/// A fitted power law with its uncertainty and what theory predicts.
#[derive(Clone, Debug, Serialize)]
pub struct Slope {
    /// Which figure.
    pub figure: String,
    /// Exponent of the least-squares fit of log10(mean over seeds) on log10(width).
    pub slope: Option<f64>,
    /// log10 intercept.
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
    /// Hidden width.
    pub width: usize,
    /// Seed.
    pub seed: u64,
    /// The error, in full.
    pub reason: String,
}

/// What `width-sweep` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Settings.
    pub config: Config,
    /// Every run that finished.
    pub points: Vec<Point>,
    /// Runs that failed; the sweep goes on without them.
    pub failures: Vec<Failure>,
    /// Fitted slopes of the three gaps.
    pub slopes: Vec<Slope>,
}

/// The predicted exponent of a figure and its source (see the module docs).
fn prediction(figure: &str, depth: usize) -> (f64, &'static str) {
    match figure {
        "parameter_change" if depth == 1 => (
            -0.5,
            "‖θ_T − θ₀‖ = O(1) (Lee et al. 2019, Thm 2.1) over ‖θ₀‖ ∝ √p, p ∝ width",
        ),
        "parameter_change" => (
            -1.0,
            "‖θ_T − θ₀‖ = O(1) (Lee et al. 2019, Thm 2.1) over ‖θ₀‖ ∝ √p, p ∝ width²",
        ),
        _ => (
            -1.0,
            "dΘ/dt = O(1/width) (Dyer & Gur-Ari 2020; Huang & Yau 2020)",
        ),
    }
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

/// `width-sweep` for the command-line runner.
pub struct WidthSweep;

impl crate::cli::Experiment for WidthSweep {
    const NAME: &'static str = "width-sweep";
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
    fn seed(_: &Config) -> u64 {
        0
    }
}

/// Validates and runs the sweep.
pub fn run_with(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    validate(cfg)?;
    run_checked(cfg, obs)
}

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
            let lcfg = linearize::Config {
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
            };
            let run = linearize::run_on(&lcfg, &ds, &mut quiet);
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
    let slopes = FIGURES
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

/// The three figures whose width dependence the sweep fits.
const FIGURES: [&str; 3] = ["function_gap", "parameter_change", "kernel_change"];

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
fn slope(points: &[Point], widths: &[usize], figure: &str, depth: usize) -> Slope {
    let mean_pts = means(points, widths, figure);
    let fit = loglog_slope(&mean_pts);
    let groups: Vec<(f64, Vec<f64>)> = widths
        .iter()
        .map(|&w| (w as f64, values(points, w, figure)))
        .collect();
    let (predicted, source) = prediction(figure, depth);
    Slope {
        figure: figure.into(),
        slope: fit.map(|x| x.0),
        intercept: fit.map(|x| x.1),
        ci95: bootstrap_slope(&groups, 2000, 0.95, 0x5eed),
        local: local_slopes(&mean_pts),
        predicted,
        source: source.into(),
    }
}

fn values(points: &[Point], width: usize, figure: &str) -> Vec<f64> {
    points
        .iter()
        .filter(|p| p.width == width)
        .map(|p| get(p, figure))
        .collect()
}

fn get(p: &Point, figure: &str) -> f64 {
    match figure {
        "function_gap" => p.function_gap,
        "parameter_change" => p.parameter_change,
        "kernel_change" => p.kernel_change,
        "test_accuracy_gd" => p.test_accuracy_gd,
        "test_accuracy_linearized" => p.test_accuracy_linearized,
        "test_accuracy_newton" => p.test_accuracy_newton,
        _ => f64::NAN,
    }
}

/// (width, mean over seeds of `figure`), for the widths with at least one finished run.
fn means(points: &[Point], widths: &[usize], figure: &str) -> Vec<(f64, f64)> {
    widths
        .iter()
        .filter_map(|&w| mean_std(&values(points, w, figure)).map(|(m, _)| (w as f64, m)))
        .collect()
}

/// (width, mean − std, mean + std) over seeds.
fn bands(points: &[Point], widths: &[usize], figure: &str) -> Vec<(f64, f64, f64)> {
    widths
        .iter()
        .filter_map(|&w| {
            mean_std(&values(points, w, figure)).map(|(m, s)| (w as f64, m - s, m + s))
        })
        .collect()
}

/// Tables, curves and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let c = &s.config;
    let tables = vec![mean_table(s), slope_table(s), local_slope_table(s)];
    let mut notes: Vec<String> = s
        .failures
        .iter()
        .map(|f| format!("width {}, seed {} failed: {}", f.width, f.seed, f.reason))
        .collect();
    if c.seeds < 3 {
        notes.push(format!(
            "{} seed(s) per width: the bootstrap interval needs several seeds to mean much",
            c.seeds
        ));
    }
    Ok(RunOutput {
        experiment: "width-sweep".into(),
        summary: serde_json::json!({
            "experiment": "width-sweep",
            "versions": report::versions(),
            "seed": 0,
            "threads": rayon::current_num_threads(),
            "summary": s,
        }),
        tables,
        curves: vec![points_csv(s)],
        charts: charts(s),
        notes,
    })
}

fn mean_table(s: &Summary) -> Table {
    let c = &s.config;
    let mut t = Table::new(
        &format!(
            "width-sweep: {} (n = {}), depth {}, {} {}, {} seeds, T = {}, λ = {:e} (mean ± std over seeds)",
            c.data.spec.name(),
            c.data.n_train,
            c.depth,
            c.model.activation,
            c.model.parameterization,
            c.seeds,
            c.steps,
            c.lambda
        ),
        &["width", "p", "runs", "function gap", "param change", "kernel change", "test acc GD", "test acc lin", "test acc Newton"],
    );
    let ms = |w: usize, f: &str| {
        mean_std(&values(&s.points, w, f))
            .map_or("—".into(), |(m, sd)| format!("{} ± {}", fmt(m), fmt(sd)))
    };
    let mean_pct = |w: usize, f: &str| {
        mean_std(&values(&s.points, w, f)).map_or("—".into(), |(m, _)| pct(m))
    };
    for &w in &c.widths {
        let runs: Vec<&Point> = s.points.iter().filter(|p| p.width == w).collect();
        t.row([
            w.to_string(),
            runs.first()
                .map_or("—".into(), |p| p.num_params.to_string()),
            format!("{}/{}", runs.len(), c.seeds),
            ms(w, "function_gap"),
            ms(w, "parameter_change"),
            ms(w, "kernel_change"),
            mean_pct(w, "test_accuracy_gd"),
            mean_pct(w, "test_accuracy_linearized"),
            mean_pct(w, "test_accuracy_newton"),
        ]);
    }
    t
}

fn slope_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "log-log slopes against width (fit of the means; 95% bootstrap interval over seeds)",
        &[
            "figure",
            "slope",
            "95% interval",
            "predicted",
            "source of the prediction",
        ],
    );
    for x in &s.slopes {
        t.row([
            x.figure.clone(),
            x.slope.map_or("—".into(), |v| format!("{v:.3}")),
            x.ci95
                .map_or("—".into(), |(lo, hi)| format!("[{lo:.3}, {hi:.3}]")),
            format!("{:.1}", x.predicted),
            x.source.clone(),
        ]);
    }
    t
}

fn local_slope_table(s: &Summary) -> Table {
    let Some(first) = s.slopes.first() else {
        return Table::new("local slopes", &["widths"]);
    };
    let mut head = vec!["widths (geometric mean)".to_string()];
    head.extend(s.slopes.iter().map(|x| x.figure.clone()));
    let head_ref: Vec<&str> = head.iter().map(String::as_str).collect();
    let mut t = Table::new(
        "local slopes between consecutive widths (they approach the asymptotic exponent as width grows)",
        &head_ref,
    );
    for (k, (w, _)) in first.local.iter().enumerate() {
        let mut row = vec![format!("{w:.0}")];
        for x in &s.slopes {
            row.push(
                x.local
                    .get(k)
                    .and_then(|l| l.1)
                    .map_or("—".into(), |v| format!("{v:.3}")),
            );
        }
        t.row(row);
    }
    t
}

fn points_csv(s: &Summary) -> Curves {
    Curves {
        name: "points".into(),
        columns: [
            "width",
            "seed",
            "num_params",
            "function_gap",
            "parameter_change",
            "kernel_change",
            "test_accuracy_gd",
            "test_accuracy_linearized",
            "test_accuracy_newton",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .points
            .iter()
            .map(|p| {
                vec![
                    p.width as f64,
                    p.seed as f64,
                    p.num_params as f64,
                    p.function_gap,
                    p.parameter_change,
                    p.kernel_change,
                    p.test_accuracy_gd,
                    p.test_accuracy_linearized,
                    p.test_accuracy_newton,
                ]
            })
            .collect(),
    }
}

fn charts(s: &Summary) -> Vec<Chart> {
    let c = &s.config;
    let labels = [
        "‖f_GD − f_lin‖/‖f_GD‖ (test)",
        "‖θ_T − θ₀‖/‖θ₀‖",
        "‖K_T − K₀‖_F/‖K₀‖_F",
    ];
    let mut charts = Vec::new();
    for (slope, label) in s.slopes.iter().zip(labels) {
        let fig = slope.figure.as_str();
        let mut ch = Chart::new(
            fig,
            &format!(
                "{label} against width: slope {} {} (predicted {:.1})",
                slope.slope.map_or("—".into(), |v| format!("{v:.2}")),
                slope
                    .ci95
                    .map_or(String::new(), |(lo, hi)| format!("[{lo:.2}, {hi:.2}]")),
                slope.predicted
            ),
            "hidden width",
            label,
            true,
            true,
        );
        ch.add(
            "runs",
            s.points
                .iter()
                .map(|p| (p.width as f64, get(p, fig)))
                .collect(),
            SeriesStyle::Points,
        );
        ch.add(
            "mean over seeds",
            means(&s.points, &c.widths, fig),
            SeriesStyle::Line,
        );
        let band = bands(&s.points, &c.widths, fig);
        ch.add(
            "mean − std",
            band.iter().map(|b| (b.0, b.1)).collect(),
            SeriesStyle::Dashed,
        );
        ch.add(
            "mean + std",
            band.iter().map(|b| (b.0, b.2)).collect(),
            SeriesStyle::Dashed,
        );
        if let (Some(a), Some(b)) = (slope.slope, slope.intercept) {
            ch.add(
                &format!("fit: slope {a:.2}"),
                c.widths
                    .iter()
                    .map(|&w| (w as f64, 10f64.powf(b + a * (w as f64).log10())))
                    .collect(),
                SeriesStyle::Dashed,
            );
        }
        charts.push(ch);
    }
    charts
}
