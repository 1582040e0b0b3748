//! `width-sweep`: `linearize` over hidden widths and seeds. The lazy-training picture (Lee et
//! al. 2019; Chizat, Oyallon & Bach 2019) predicts that under the NTK parameterization the
//! function-space gap ‖f_GD − f_lin‖/‖f_GD‖, the relative parameter change and the relative
//! kernel change all shrink like width^(−1/2). The slopes are fitted by least squares on
//! log10(width) against log10(mean over seeds).

use super::linearize;
use crate::data::{self, DataConfig};
use crate::model::ModelConfig;
use crate::progress::Observer;
use crate::report::{
    self, plot::loglog_slope, table::fmt, table::pct, Chart, Curves, RunOutput, SeriesStyle, Table,
};
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
            seeds: 2,
            lambda: 1e-3,
            steps: 300,
            lr: None,
            dtype: linearize::Dtype::F64,
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

/// A fitted power law.
#[derive(Clone, Debug, Serialize)]
pub struct Slope {
    /// Which figure.
    pub figure: String,
    /// Exponent.
    pub slope: Option<f64>,
    /// log10 intercept.
    pub intercept: Option<f64>,
}

/// What `width-sweep` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Settings.
    pub config: Config,
    /// Every run.
    pub points: Vec<Point>,
    /// Fitted slopes of the three gaps.
    pub slopes: Vec<Slope>,
}

/// Runs the sweep.
pub fn run_with(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    if cfg.widths.is_empty() || cfg.widths.contains(&0) {
        bail!("--widths needs at least one width, each ≥ 1");
    }
    if cfg.seeds == 0 || cfg.depth == 0 {
        bail!("--seeds and --depth must be at least 1");
    }
    let ds = data::load(&cfg.data)?;
    let mut points = Vec::new();
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
                ..Default::default()
            };
            let s = linearize::run_on(&lcfg, &ds, &mut quiet)?;
            obs.end();
            points.push(Point {
                width: w,
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
            });
        }
    }
    let slopes = ["function_gap", "parameter_change", "kernel_change"]
        .iter()
        .map(|&f| {
            let fit = loglog_slope(&means(&points, &cfg.widths, f));
            Slope {
                figure: f.into(),
                slope: fit.map(|x| x.0),
                intercept: fit.map(|x| x.1),
            }
        })
        .collect();
    Ok(Summary {
        config: cfg.clone(),
        points,
        slopes,
    })
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

/// (width, mean over seeds of `figure`).
fn means(points: &[Point], widths: &[usize], figure: &str) -> Vec<(f64, f64)> {
    widths
        .iter()
        .map(|&w| {
            let v: Vec<f64> = points
                .iter()
                .filter(|p| p.width == w)
                .map(|p| get(p, figure))
                .collect();
            (w as f64, v.iter().sum::<f64>() / v.len().max(1) as f64)
        })
        .collect()
}

/// Tables, curves and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let c = &s.config;
    let mut t = Table::new(
        &format!(
            "width-sweep: {} (n = {}), depth {}, {} {}, {} seeds, T = {}, λ = {:e} (means over seeds)",
            c.data.spec.name(),
            c.data.n_train,
            c.depth,
            c.model.activation,
            c.model.parameterization,
            c.seeds,
            c.steps,
            c.lambda
        ),
        &["width", "p", "function gap", "param change", "kernel change", "test acc GD", "test acc lin", "test acc Newton"],
    );
    let figs = [
        "function_gap",
        "parameter_change",
        "kernel_change",
        "test_accuracy_gd",
        "test_accuracy_linearized",
        "test_accuracy_newton",
    ];
    let cols: Vec<Vec<(f64, f64)>> = figs
        .iter()
        .map(|f| means(&s.points, &c.widths, f))
        .collect();
    for (i, &w) in c.widths.iter().enumerate() {
        let p = s
            .points
            .iter()
            .find(|p| p.width == w)
            .map_or(0, |p| p.num_params);
        t.row([
            w.to_string(),
            p.to_string(),
            fmt(cols[0][i].1),
            fmt(cols[1][i].1),
            fmt(cols[2][i].1),
            pct(cols[3][i].1),
            pct(cols[4][i].1),
            pct(cols[5][i].1),
        ]);
    }
    let mut sl = Table::new(
        "fitted log-log slopes (lazy training predicts about −1/2 for ntk)",
        &["figure", "slope"],
    );
    for x in &s.slopes {
        sl.row([
            x.figure.clone(),
            x.slope.map_or("—".into(), |v| format!("{v:.3}")),
        ]);
    }
    let curves = Curves {
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
    };
    let mut charts = Vec::new();
    for (k, (fig, label)) in [
        ("function_gap", "‖f_GD − f_lin‖/‖f_GD‖ (test)"),
        ("parameter_change", "‖θ_T − θ₀‖/‖θ₀‖"),
        ("kernel_change", "‖K_T − K₀‖_F/‖K₀‖_F"),
    ]
    .iter()
    .enumerate()
    {
        let slope = &s.slopes[k];
        let mut ch = Chart::new(
            fig,
            &format!(
                "{label} against width, slope {}",
                slope.slope.map_or("—".into(), |v| format!("{v:.2}"))
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
        ch.add("mean over seeds", cols[k].clone(), SeriesStyle::Line);
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
    Ok(RunOutput {
        experiment: "width-sweep".into(),
        summary: serde_json::json!({
            "experiment": "width-sweep",
            "versions": report::versions(),
            "seed": 0,
            "threads": rayon::current_num_threads(),
            "summary": s,
        }),
        tables: vec![t, sl],
        curves: vec![curves],
        charts,
        notes: vec![],
    })
}
