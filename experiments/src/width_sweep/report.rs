//! Tables, curves and charts of a `width-sweep` run.

use super::{bands, means, values, Figure, Point, Slope, Summary};
use crate::metrics::mean_std;
use crate::report::{self, table::fmt, table::pct, Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// Tables, curves and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let tables = vec![mean_table(s), slope_table(s), local_slope_table(s)];
    Ok(RunOutput {
        experiment: "width-sweep".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
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
        notes: notes(s),
        files: Default::default(),
    })
}

/// The failed runs, and a warning when there are too few seeds for the intervals.
fn notes(s: &Summary) -> Vec<String> {
    let c = &s.config;
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
    notes
}

/// One row per width: parameters, finished runs, and mean ± std (or mean) of each figure.
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
    let ms = |w: usize, f: Figure| {
        mean_std(&values(&s.points, w, f))
            .map_or("—".into(), |(m, sd)| format!("{} ± {}", fmt(m), fmt(sd)))
    };
    let mean_pct = |w: usize, f: Figure| {
        mean_std(&values(&s.points, w, f)).map_or("—".into(), |(m, _)| pct(m))
    };
    for &w in &c.widths {
        let runs: Vec<&Point> = s.points.iter().filter(|p| p.width == w).collect();
        t.row([
            w.to_string(),
            runs.first()
                .map_or("—".into(), |p| p.num_params.to_string()),
            format!("{}/{}", runs.len(), c.seeds),
            ms(w, Figure::FunctionGap),
            ms(w, Figure::ParameterChange),
            ms(w, Figure::KernelChange),
            mean_pct(w, Figure::TestAccuracyGd),
            mean_pct(w, Figure::TestAccuracyLinearized),
            mean_pct(w, Figure::TestAccuracyNewton),
        ]);
    }
    t
}

/// The fitted slope of each figure, its interval, and what theory predicts.
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

/// The slope between each pair of consecutive widths, one column per figure.
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

/// points.csv: one row per finished run, with every [`Figure`].
fn points_csv(s: &Summary) -> Curves {
    let mut columns: Vec<String> = ["width", "seed", "num_params"].map(String::from).to_vec();
    columns.extend(Figure::ALL.iter().map(|f| f.name().to_string()));
    Curves {
        name: "points".into(),
        columns,
        rows: s.points.iter().map(point_row).collect(),
    }
}

fn point_row(p: &Point) -> Vec<f64> {
    let mut row = vec![p.width as f64, p.seed as f64, p.num_params as f64];
    row.extend(Figure::ALL.iter().map(|f| f.value(p)));
    row
}

/// One chart per fitted figure: the runs, the mean over seeds ± std and the fitted power law.
fn charts(s: &Summary) -> Vec<Chart> {
    s.slopes
        .iter()
        .zip(Figure::FITTED)
        .map(|(slope, figure)| chart(s, slope, figure))
        .collect()
}

fn chart(s: &Summary, slope: &Slope, figure: Figure) -> Chart {
    let c = &s.config;
    let label = figure.label();
    let mut ch = Chart::new(
        figure.name(),
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
            .map(|p| (p.width as f64, figure.value(p)))
            .collect(),
        SeriesStyle::Points,
    );
    ch.add(
        "mean over seeds",
        means(&s.points, &c.widths, figure),
        SeriesStyle::Line,
    );
    let band = bands(&s.points, &c.widths, figure);
    ch.add(
        "mean − std",
        band.iter().map(|b| (b.width, b.low)).collect(),
        SeriesStyle::Dashed,
    );
    ch.add(
        "mean + std",
        band.iter().map(|b| (b.width, b.high)).collect(),
        SeriesStyle::Dashed,
    );
    ch.caption("Both axes are logarithmic, so a power law is a straight line: compare the slope of the mean (solid) and of the fit with the prediction in the title; dots are single seeds, dashed lines the mean ± one standard deviation.");
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
    ch
}
