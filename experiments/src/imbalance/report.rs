//! Tables, curves and charts of an `imbalance` run.

use super::Summary;
use crate::report::{table::fmt, Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// Tables, curves and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    Ok(RunOutput {
        experiment: "imbalance".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "imbalance",
            "versions": crate::report::versions(),
            "seed": s.config.seed,
            "summary": s,
        }),
        tables: vec![residual_table(s), gradient_table(s)],
        curves: vec![curves(s)],
        charts: vec![chart(s)],
        notes: vec![],
        files: Default::default(),
    })
}

/// Mean residual per group at the start, after GD and after the Newton step.
fn residual_table(s: &Summary) -> Table {
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
    t
}

/// How the first gradient splits between the groups, and what it does to A.
fn gradient_table(s: &Summary) -> Table {
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
    g
}

/// curves.csv: one row per recorded GD step.
fn curves(s: &Summary) -> Curves {
    Curves {
        name: "curves".into(),
        columns: ["step", "mean_residual_a", "mean_residual_b", "loss"]
            .map(String::from)
            .to_vec(),
        rows: s
            .curve
            .iter()
            .map(|r| vec![r.step as f64, r.mean_residual_a, r.mean_residual_b, r.loss])
            .collect(),
    }
}

/// Per-group mean residual under GD, with the Newton step's as flat dashed lines.
fn chart(s: &Summary) -> Chart {
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
        s.curve
            .iter()
            .map(|r| (r.step as f64, r.mean_residual_a))
            .collect(),
        SeriesStyle::Line,
    );
    ch.add(
        "GD, group B",
        s.curve
            .iter()
            .map(|r| (r.step as f64, r.mean_residual_b))
            .collect(),
        SeriesStyle::Line,
    );
    ch.caption("Compare how fast the two groups' residuals reach zero under GD: when the majority B is fitted first, A's curve lingers away from zero long after B's has flattened. The dashed lines are the Newton step, which fits both groups in one solve.");
    let last = s.curve.last().map_or(1.0, |r| r.step as f64);
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
    ch
}
