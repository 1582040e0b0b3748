//! Tables, curves and charts of a `bench-jacobian` run.

use super::{Case, Shape, Summary};
use crate::config::Dtype;
use crate::report::{self, table::fmt, Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// The methods in the order of the `method` column of cases.csv (0, 1, 2, 3).
const METHODS: [&str; 4] = ["forward", "jvp", "vjp", "structured"];

/// One sweep network's point on the crossover chart (first precision only).
struct SweepPoint {
    /// p/(n·o).
    params_per_row: f64,
    /// Median seconds of J by forward mode (NaN if not measured).
    jvp_s: f64,
    /// Median seconds of J by reverse mode (NaN if not measured).
    vjp_s: f64,
}

/// Tables, curves and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    Ok(RunOutput {
        experiment: "bench-jacobian".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "bench-jacobian",
            "versions": report::versions(),
            "seed": 0,
            "threads": rayon::current_num_threads(),
            "cases": s.cases,
            "shapes": s.shapes,
            "config": s.config,
        }),
        tables: vec![table(s)],
        curves: vec![curves(s)],
        charts: charts(s),
        notes: notes(s),
        files: Default::default(),
    })
}

/// The first case of a network, precision and method.
fn find<'a>(s: &'a Summary, sh: &Shape, dtype: &str, method: &str) -> Option<&'a Case> {
    s.cases
        .iter()
        .find(|c| c.model == sh.model && c.dtype == dtype && c.method == method)
}

/// Median seconds of a case, NaN when it is missing.
fn median_s(s: &Summary, sh: &Shape, dtype: &str, method: &str) -> f64 {
    find(s, sh, dtype, method).map_or(f64::NAN, |c| c.median_s)
}

/// One row per network and precision: median seconds (peak MiB) of each method.
fn table(s: &Summary) -> Table {
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
    for sh in &s.shapes {
        for dt in &s.config.dtypes {
            t.row(table_row(s, sh, *dt));
        }
    }
    t
}

fn table_row(s: &Summary, sh: &Shape, dt: Dtype) -> [String; 9] {
    let dts = dt.to_string();
    let mib =
        |b: Option<usize>| b.map_or(String::new(), |b| format!(" ({:.0})", b as f64 / 1048576.0));
    let cell = |m: &str| {
        find(s, sh, &dts, m).map_or("—".into(), |c| {
            format!("{}{}", fmt(c.median_s), mib(c.peak_bytes))
        })
    };
    let jvp = median_s(s, sh, &dts, "jvp");
    let vjp = median_s(s, sh, &dts, "vjp");
    let extrap = if sh.jvp_columns < sh.num_params {
        "*"
    } else {
        ""
    };
    [
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
    ]
}

/// What the table shows and, when forward mode was extrapolated, how.
fn notes(s: &Summary) -> Vec<String> {
    let mut notes = vec![
        "forward mode costs about p forward passes and reverse mode about n·o: reverse wins when p > n·o (the usual case for networks), forward when there are many more outputs than parameters".to_string(),
    ];
    if s.shapes.iter().any(|sh| sh.jvp_columns < sh.num_params) {
        notes.push(format!(
            "* forward mode timed on {} evenly spaced columns of J and scaled by p/columns (its cost is linear in the columns)",
            s.config.jvp_max_columns
        ));
    }
    notes
}

/// cases.csv: every case with its network, precision and method as numbers.
fn curves(s: &Summary) -> Curves {
    Curves {
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
        rows: s.cases.iter().map(|c| case_row(s, c)).collect(),
    }
}

fn case_row(s: &Summary, c: &Case) -> Vec<f64> {
    let model_index = s
        .shapes
        .iter()
        .position(|sh| sh.model == c.model)
        .unwrap_or(0) as f64;
    let method = METHODS.iter().position(|x| *x == c.method).unwrap_or(0) as f64;
    vec![
        model_index,
        if c.dtype == "f32" { 32.0 } else { 64.0 },
        method,
        c.median_s,
        c.peak_bytes.map_or(f64::NAN, |b| b as f64),
    ]
}

/// The sweep networks in the first precision, in the order of the table.
fn sweep_points(s: &Summary) -> Vec<SweepPoint> {
    let mut points = Vec::new();
    for sh in &s.shapes {
        for dt in &s.config.dtypes {
            if sh.model.starts_with("sweep") && dt == &s.config.dtypes[0] {
                let dts = dt.to_string();
                points.push(SweepPoint {
                    params_per_row: sh.num_params as f64 / sh.jacobian_rows as f64,
                    jvp_s: median_s(s, sh, &dts, "jvp"),
                    vjp_s: median_s(s, sh, &dts, "vjp"),
                });
            }
        }
    }
    points
}

/// The crossover of forward and reverse mode over the sweep (none without the sweep).
fn charts(s: &Summary) -> Vec<Chart> {
    let points = sweep_points(s);
    if points.is_empty() {
        return Vec::new();
    }
    let mut ch = Chart::new(
        "crossover",
        "Jacobian time against p/(n·o)",
        "p / (n·o)",
        "median seconds",
        true,
        true,
    );
    ch.caption("Both axes logarithmic. Left of p/(n·o) = 1 there are more outputs than parameters and forward mode should be cheaper; right of it reverse mode should be; look for where the two lines cross.");
    ch.add(
        "forward mode (JVP)",
        points.iter().map(|p| (p.params_per_row, p.jvp_s)).collect(),
        SeriesStyle::Line,
    );
    ch.add(
        "reverse mode (VJP)",
        points.iter().map(|p| (p.params_per_row, p.vjp_s)).collect(),
        SeriesStyle::Line,
    );
    vec![ch]
}
