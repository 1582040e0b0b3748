//! Tables, CSV and charts of a `supermask` run.

use super::{Summary, Weights};
use crate::report::table::pct;
use crate::report::{Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// Tables, records and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    Ok(RunOutput {
        experiment: "supermask".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "supermask",
            "versions": crate::report::versions(),
            "seed": s.config.seed,
            "summary": s,
        }),
        tables: vec![table(s)],
        curves: vec![Curves::typed("records", &s.records)?],
        charts: vec![accuracy_chart(s), gap_chart(s)],
        notes: vec![format!(
            "scores trained by SGD (lr {}, momentum {}) for {} steps of batch {} on {} (n = {}); wall time {:.1} s",
            s.config.lr, s.config.momentum, s.config.iterations, s.config.batch_size, s.data_name,
            s.config.n_train, s.wall_seconds
        )],
        files: Default::default(),
    })
}

fn pm(v: (f64, f64)) -> String {
    format!("{} ± {:.1}", pct(v.0), 100.0 * v.1)
}

/// One row per (weights, keep).
fn table(s: &Summary) -> Table {
    let mut t = Table::new(
        &format!(
            "masks learned on frozen θ₀, widths {:?}, mean ± std over {} seed(s)",
            s.config.widths, s.config.seeds
        ),
        &[
            "weights",
            "% kept",
            "learned mask",
            "random mask",
            "tangent prediction",
            "gap to tangent",
            "Jaccard with top-|θ₀|",
        ],
    )
    .text_column(0);
    for m in &s.stats {
        t.row([
            m.weights.name().to_string(),
            format!("{:.1}", 100.0 * m.keep),
            pm(m.accuracy_learned),
            pm(m.accuracy_random),
            pm(m.accuracy_tangent),
            format!("{:.3} ± {:.3}", m.tangent_gap.0, m.tangent_gap.1),
            format!("{:.3}", m.overlap_with_magnitude.0),
        ]);
    }
    t
}

fn series(s: &Summary, w: Weights, f: impl Fn(&super::Stats) -> f64) -> Vec<(f64, f64)> {
    s.stats
        .iter()
        .filter(|m| m.weights == w)
        .map(|m| (100.0 * m.keep, f(m)))
        .collect()
}

/// Accuracy of learned and random masks against % kept.
fn accuracy_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "accuracy",
        "Masks learned on frozen weights",
        "% of weights kept",
        "test accuracy",
        true,
        false,
    );
    for (c, w) in [Weights::Gaussian, Weights::SignedConstant]
        .into_iter()
        .enumerate()
    {
        ch.add_colored(
            &format!("learned, {}", w.name()),
            series(s, w, |m| m.accuracy_learned.0),
            SeriesStyle::Line,
            c,
        );
        ch.add_colored(
            &format!("random, {}", w.name()),
            series(s, w, |m| m.accuracy_random.0),
            SeriesStyle::Dashed,
            c,
        );
    }
    ch.caption("Solid above dashed: choosing which weights to keep, with none of them trained, is itself learning.");
    ch
}

/// The gap to the tangent prediction against % kept.
fn gap_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "tangent_gap",
        "Pruned network against its tangent prediction",
        "% of weights kept",
        "‖f(m⊙θ₀) − f_tan‖/‖f(m⊙θ₀)‖",
        true,
        false,
    );
    for (c, w) in [Weights::Gaussian, Weights::SignedConstant]
        .into_iter()
        .enumerate()
    {
        ch.add_colored(
            w.name(),
            series(s, w, |m| m.tangent_gap.0),
            SeriesStyle::Line,
            c,
        );
    }
    ch.caption("0 means the tangent space at θ₀ predicts the pruned network; values near 1 mean pruning moved the function out of it.");
    ch
}
