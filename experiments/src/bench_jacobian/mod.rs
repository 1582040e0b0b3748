//! `bench-jacobian`: the Jacobian J = ∂f/∂θ ((n·o)×p) by forward mode (p JVPs, batched), by
//! reverse mode (n·o VJPs, batched), and the structured NTK (per-layer products, never forming
//! J), timed over network shapes from many outputs and few parameters to few outputs and many
//! parameters. Forward mode costs about p forward passes, reverse mode about n·o: the crossover
//! sits near p ≈ n·o (Griewank & Walther 2008, ch. 3). Peak heap bytes come from the counting
//! allocator of the `tangent` binary.
//!
//! The three reference networks of the JAX measurements in `shared/peers` are included:
//! (a) 64-256-256-10 batch 128, (b) 784-300-100-10 batch 64, (c) 784-512-512-1 batch 256, tanh,
//! standard parameterization.

use crate::alloc;
use crate::config::Dtype;
use crate::progress::Observer;
use crate::report::{self, table::fmt, Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;
use autodiff::nn::{Mlp, Parameterization};
use autodiff::Activation;
use linalg::{Matrix, Real};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Settings of `bench-jacobian`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Precisions.
    pub dtypes: Vec<Dtype>,
    /// Repetitions per case (median reported).
    pub reps: usize,
    /// Include the reference networks (a), (b), (c).
    pub reference: bool,
    /// Include the shape sweep.
    pub sweep: bool,
    /// Forward mode on more columns than this is timed on this many evenly spaced columns and
    /// scaled by p/columns (forward mode's cost is linear in the number of columns).
    pub jvp_max_columns: usize,
    /// One-hot tangents or cotangents per batched pass.
    pub chunk: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dtypes: vec![Dtype::F32],
            reps: 3,
            reference: true,
            sweep: true,
            jvp_max_columns: 2048,
            chunk: 64,
        }
    }
}

/// One timed case, in the format shared with the JAX measurements.
#[derive(Clone, Debug, Serialize)]
pub struct Case {
    /// Network name: `a`, `b`, `c`, or `sweep-<o>x<width>`.
    pub model: String,
    /// `f32` or `f64`.
    pub dtype: String,
    /// Rayon threads.
    pub threads: usize,
    /// `jvp`, `vjp`, `structured` or `forward`.
    pub method: String,
    /// Median wall time in seconds.
    pub median_s: f64,
    /// Peak heap bytes during the call above the bytes live before it (None without the
    /// counting allocator).
    pub peak_bytes: Option<usize>,
}

/// Shape of a benchmarked network.
#[derive(Clone, Debug, Serialize)]
pub struct Shape {
    /// Name.
    pub model: String,
    /// Widths including input and output.
    pub widths: Vec<usize>,
    /// Batch n.
    pub batch: usize,
    /// p.
    pub num_params: usize,
    /// n·o.
    pub jacobian_rows: usize,
    /// Columns actually computed by forward mode (< p when extrapolated).
    pub jvp_columns: usize,
}

/// What `bench-jacobian` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Settings.
    pub config: Config,
    /// Every case.
    pub cases: Vec<Case>,
    /// The networks.
    pub shapes: Vec<Shape>,
}

fn networks(cfg: &Config) -> Vec<(String, Vec<usize>, usize, Activation)> {
    let mut v = Vec::new();
    if cfg.reference {
        v.push((
            "a".to_string(),
            vec![64, 256, 256, 10],
            128,
            Activation::Tanh,
        ));
        v.push((
            "b".to_string(),
            vec![784, 300, 100, 10],
            64,
            Activation::Tanh,
        ));
        v.push((
            "c".to_string(),
            vec![784, 512, 512, 1],
            256,
            Activation::Tanh,
        ));
    }
    if cfg.sweep {
        // From many outputs and few parameters (p/(n·o) ≈ 0.3) to few outputs and many
        // parameters (≈ 640); 8 inputs, one hidden layer, batch 32.
        for (o, w) in [(256, 8), (128, 16), (32, 64), (8, 256), (1, 2048)] {
            v.push((
                format!("sweep-{o}x{w}"),
                vec![8, w, o],
                32,
                Activation::Tanh,
            ));
        }
    }
    v
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time<F: FnMut() -> Result<()>>(reps: usize, mut f: F) -> Result<(f64, Option<usize>)> {
    let counting = alloc::installed();
    let mut times = Vec::with_capacity(reps);
    let mut peak = 0usize;
    for _ in 0..reps {
        let base = alloc::reset_peak();
        let t0 = Instant::now();
        f()?;
        times.push(t0.elapsed().as_secs_f64());
        peak = peak.max(alloc::peak().saturating_sub(base));
    }
    Ok((median(times), counting.then_some(peak)))
}

fn run_typed<T: Real>(
    cfg: &Config,
    dtype: Dtype,
    obs: &mut dyn Observer,
    cases: &mut Vec<Case>,
    shapes: &mut Vec<Shape>,
) -> Result<()> {
    let threads = rayon::current_num_threads();
    for (name, widths, batch, act) in networks(cfg) {
        let (d, o) = (widths[0], *widths.last().unwrap_or(&1));
        let hidden = &widths[1..widths.len() - 1];
        let mlp = Mlp::new(d, hidden, o, act, Parameterization::Standard, 1.0, 0.1)?;
        let theta: Vec<T> = mlp.init(0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let x = Matrix::from_fn(batch, d, |_, _| {
            T::from_f64(crate::data::synthetic::normal(&mut rng))
        });
        let p = mlp.num_params();
        let cols: Vec<usize> = if p > cfg.jvp_max_columns {
            (0..cfg.jvp_max_columns)
                .map(|k| k * p / cfg.jvp_max_columns)
                .collect()
        } else {
            (0..p).collect()
        };
        shapes.push(Shape {
            model: name.clone(),
            widths: widths.clone(),
            batch,
            num_params: p,
            jacobian_rows: batch * o,
            jvp_columns: cols.len(),
        });
        obs.begin(&format!("{name} {dtype}"), 4);
        let mut push = |method: &str, (t, peak): (f64, Option<usize>)| {
            cases.push(Case {
                model: name.clone(),
                dtype: dtype.to_string(),
                threads,
                method: method.into(),
                median_s: t,
                peak_bytes: peak,
            });
        };
        push(
            "forward",
            time(cfg.reps, || {
                mlp.forward(&theta, x.as_ref())
                    .map(drop)
                    .map_err(anyhow::Error::from)
            })?,
        );
        obs.advance(1);
        let (t, peak) = time(cfg.reps, || {
            autodiff::jacobian::jacobian_columns_by_jvp(&mlp, &theta, x.as_ref(), &cols, cfg.chunk)
                .map(drop)
                .map_err(anyhow::Error::from)
        })?;
        // Forward mode's time and its output J grow linearly with the number of columns; its
        // working memory (one chunk of tangents) does not.
        let scale = p as f64 / cols.len() as f64;
        let j_bytes = |c: usize| batch * o * c * std::mem::size_of::<T>();
        push(
            "jvp",
            (
                t * scale,
                peak.map(|b| b.saturating_sub(j_bytes(cols.len())) + j_bytes(p)),
            ),
        );
        obs.advance(2);
        push(
            "vjp",
            time(cfg.reps, || {
                autodiff::jacobian::jacobian_by_vjp(&mlp, &theta, x.as_ref(), cfg.chunk)
                    .map(drop)
                    .map_err(anyhow::Error::from)
            })?,
        );
        obs.advance(3);
        push(
            "structured",
            time(cfg.reps, || {
                autodiff::ntk::ntk_structured(&mlp, &theta, x.as_ref(), None)
                    .map(drop)
                    .map_err(anyhow::Error::from)
            })?,
        );
        obs.end();
    }
    Ok(())
}

/// Runs every case.
pub fn run_with(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    validate(cfg)?;
    run_checked(cfg, obs)
}

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if cfg.dtypes.is_empty() || cfg.reps == 0 {
        anyhow::bail!("--dtype needs at least one precision and --reps at least 1");
    }
    if !cfg.reference && !cfg.sweep {
        anyhow::bail!("nothing to measure: --reference-only and --no-reference exclude each other");
    }
    Ok(())
}

/// `bench-jacobian` for the command-line runner; `--json` prints the shared format
/// {"cases": [{"model", "dtype", "threads", "method", "median_s", "peak_bytes"}, …]}.
pub struct BenchJacobian;

impl crate::cli::Experiment for BenchJacobian {
    const NAME: &'static str = "bench-jacobian";
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
    fn json(s: &Summary, _: &RunOutput) -> serde_json::Value {
        json(s)
    }
}

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    if cfg.reps == 0 || cfg.chunk == 0 || cfg.jvp_max_columns == 0 {
        anyhow::bail!("--reps, the chunk and the column cap must be at least 1");
    }
    let mut cases = Vec::new();
    let mut shapes = Vec::new();
    for &dt in &cfg.dtypes {
        shapes.clear();
        match dt {
            Dtype::F32 => run_typed::<f32>(cfg, dt, obs, &mut cases, &mut shapes)?,
            Dtype::F64 => run_typed::<f64>(cfg, dt, obs, &mut cases, &mut shapes)?,
        }
    }
    Ok(Summary {
        config: cfg.clone(),
        cases,
        shapes,
    })
}

/// The `--json` document: `{"cases": [...]}` in the shared format, plus the shapes.
pub fn json(s: &Summary) -> serde_json::Value {
    serde_json::json!({ "cases": s.cases, "shapes": s.shapes })
}

/// Tables, curves and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let mut t = Table::new(
        "bench-jacobian: median seconds (peak MiB); J is (n·o)×p",
        &[
            "model",
            "dtype",
            "n·o",
            "p",
            "forward",
            "jvp",
            "vjp",
            "structured NTK",
            "faster J",
        ],
    );
    let mib =
        |b: Option<usize>| b.map_or(String::new(), |b| format!(" ({:.0})", b as f64 / 1048576.0));
    let mut sweep_points: Vec<(f64, f64, f64)> = Vec::new();
    for sh in &s.shapes {
        for dt in &s.config.dtypes {
            let dts = dt.to_string();
            let get = |m: &str| {
                s.cases
                    .iter()
                    .find(|c| c.model == sh.model && c.dtype == dts && c.method == m)
            };
            let cell = |m: &str| {
                get(m).map_or("—".into(), |c| {
                    format!("{}{}", fmt(c.median_s), mib(c.peak_bytes))
                })
            };
            let jvp = get("jvp").map_or(f64::NAN, |c| c.median_s);
            let vjp = get("vjp").map_or(f64::NAN, |c| c.median_s);
            let extrap = if sh.jvp_columns < sh.num_params {
                "*"
            } else {
                ""
            };
            t.row([
                sh.model.clone(),
                dts.clone(),
                sh.jacobian_rows.to_string(),
                sh.num_params.to_string(),
                cell("forward"),
                format!("{}{extrap}", cell("jvp")),
                cell("vjp"),
                cell("structured"),
                if jvp < vjp {
                    "jvp".into()
                } else {
                    "vjp".into()
                },
            ]);
            if sh.model.starts_with("sweep") && dt == &s.config.dtypes[0] {
                sweep_points.push((sh.num_params as f64 / sh.jacobian_rows as f64, jvp, vjp));
            }
        }
    }
    let mut notes = vec![
        "forward mode costs about p forward passes and reverse mode about n·o: reverse wins when p > n·o (the usual case for networks), forward when there are many more outputs than parameters".to_string(),
    ];
    if s.shapes.iter().any(|sh| sh.jvp_columns < sh.num_params) {
        notes.push(format!(
            "* forward mode timed on {} evenly spaced columns of J and scaled by p/columns (its cost is linear in the columns)",
            s.config.jvp_max_columns
        ));
    }
    let curves = Curves {
        name: "cases".into(),
        columns: [
            "model_index",
            "dtype_bits",
            "method (0 fwd, 1 jvp, 2 vjp, 3 structured)",
            "median_s",
            "peak_bytes",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .cases
            .iter()
            .map(|c| {
                let mi = s
                    .shapes
                    .iter()
                    .position(|sh| sh.model == c.model)
                    .unwrap_or(0) as f64;
                let m = ["forward", "jvp", "vjp", "structured"]
                    .iter()
                    .position(|x| *x == c.method)
                    .unwrap_or(0) as f64;
                vec![
                    mi,
                    if c.dtype == "f32" { 32.0 } else { 64.0 },
                    m,
                    c.median_s,
                    c.peak_bytes.map_or(f64::NAN, |b| b as f64),
                ]
            })
            .collect(),
    };
    let mut charts = Vec::new();
    if !sweep_points.is_empty() {
        let mut ch = Chart::new(
            "crossover",
            "Jacobian time against p/(n·o)",
            "p / (n·o)",
            "median seconds",
            true,
            true,
        );
        ch.add(
            "forward mode (JVP)",
            sweep_points.iter().map(|p| (p.0, p.1)).collect(),
            SeriesStyle::Line,
        );
        ch.add(
            "reverse mode (VJP)",
            sweep_points.iter().map(|p| (p.0, p.2)).collect(),
            SeriesStyle::Line,
        );
        charts.push(ch);
    }
    Ok(RunOutput {
        experiment: "bench-jacobian".into(),
        summary: serde_json::json!({
            "experiment": "bench-jacobian",
            "versions": report::versions(),
            "seed": 0,
            "threads": rayon::current_num_threads(),
            "cases": s.cases,
            "shapes": s.shapes,
            "config": s.config,
        }),
        tables: vec![t],
        curves: vec![curves],
        charts,
        notes,
    })
}
