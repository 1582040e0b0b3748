//! Tables, CSV and charts of `linearize --loss cross-entropy`.

use super::Summary;
use crate::report::table::pct;
use crate::report::{Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// Tables, records and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    Ok(RunOutput {
        experiment: "linearize-ce".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "linearize-ce",
            "versions": crate::report::versions(),
            "seed": s.config.model.seed,
            "summary": s,
        }),
        tables: vec![fits_table(s), path_table(s)],
        curves: vec![Curves::typed("gap_over_time", &s.curve)?],
        charts: vec![gap_chart(s), margin_chart(s)],
        notes: vec![format!(
            "{} (n = {}, test {}), widths {:?}, λ = {:e}, GD η = {:.3e} and Adam {:e} for {} full-batch steps; wall time {:.1} s",
            s.data_name, s.config.data.n_train, s.config.data.n_test, s.config.model.widths,
            s.config.lambda, s.lr, s.config.adam_lr, s.config.steps, s.wall_seconds
        )],
        files: Default::default(),
    })
}

fn fits_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "cross-entropy: the tangent problem's solution against the trained networks (test inputs)",
        &["predictor", "accuracy", "mean CE", "mean margin"],
    )
    .text_column(0);
    let rows = [
        (
            format!(
                "Newton in the tangent space ({} iterations)",
                s.newton_iterations
            ),
            &s.newton,
        ),
        ("network, full-batch GD".to_string(), &s.gd),
        ("network, Adam".to_string(), &s.adam),
    ];
    for (name, f) in rows {
        t.row([
            name,
            pct(f.accuracy),
            format!("{:.4}", f.loss),
            format!("{:.3}", f.margin),
        ]);
    }
    t
}

fn path_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "the ridge path toward λ = 0 (cross-entropy Newton from α = 0 at each λ)",
        &["λ", "Newton iterations", "‖Kα‖", "smallest training margin"],
    );
    for r in &s.lambda_path.steps {
        t.row([
            format!("{:.0e}", r.lambda),
            r.iterations.to_string(),
            format!("{:.3}", r.norm_u),
            format!("{:.3}", r.min_margin),
        ]);
    }
    t
}

fn gap_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "gap_over_time",
        "Network against its linearisation, cross-entropy",
        "GD step",
        "‖f_net − f_lin‖/‖f_net‖ (test logits)",
        false,
        false,
    );
    ch.add(
        "gap",
        s.curve.iter().map(|c| (c.step as f64, c.gap)).collect(),
        SeriesStyle::Line,
    );
    ch.caption("Rising at late times means the network leaves its tangent space as the logits grow toward a max-margin direction; flat means it trains as its linearisation.");
    ch
}

fn margin_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "margin_over_time",
        "The network's training margin and test-logit norm, cross-entropy",
        "GD step",
        "mean training margin; ‖f_net‖/√(m·o) on the test inputs",
        false,
        false,
    );
    let rms = (s.config.data.n_test * s.num_outputs) as f64;
    ch.add(
        "mean training margin z_y − max_{a≠y} z_a",
        s.curve
            .iter()
            .map(|c| (c.step as f64, c.network_train_margin))
            .collect(),
        SeriesStyle::Line,
    );
    ch.add(
        "test-logit RMS",
        s.curve
            .iter()
            .map(|c| (c.step as f64, c.network_logit_norm / rms.sqrt()))
            .collect(),
        SeriesStyle::Dashed,
    );
    ch.caption("Both keep growing under cross-entropy on separable data (Soudry et al. 2018): the logits head toward a max-margin direction instead of settling, which is what moves the network away from its linearisation.");
    ch
}
