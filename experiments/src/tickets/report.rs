//! Tables, CSV and charts of a `tickets` run.

use super::masks::MaskKind;
use super::{MaskStats, Summary};
use crate::report::table::{fmt, pct};
use crate::report::{Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// Tables, records and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    Ok(RunOutput {
        experiment: "tickets".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "tickets",
            "versions": crate::report::versions(),
            "seed": s.config.seed,
            "summary": s,
        }),
        tables: vec![dense_table(s), overlap_table(s), accuracy_table(s)],
        curves: vec![Curves::typed("masks", &flat_records(s))?],
        charts: vec![
            overlap_chart(s),
            by_kind_chart(s, "accuracy", "test accuracy", |m| {
                (m.accuracy_trained.0, m.accuracy_newton.0)
            }),
            gap_chart(s),
        ],
        notes: notes(s),
        files: Default::default(),
    })
}

fn pm(v: (f64, f64), as_pct: bool) -> String {
    if as_pct {
        format!("{} ± {:.1}", pct(v.0), 100.0 * v.1)
    } else {
        format!("{:.3} ± {:.3}", v.0, v.1)
    }
}

fn widths_of(s: &Summary, scale: f64) -> String {
    let w = super::scaled_widths(&s.config.widths, scale);
    w.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// The dense networks: trained against the Newton step, and how far training moved θ.
fn dense_table(s: &Summary) -> Table {
    let mut t = Table::new(
        &format!(
            "tickets: dense networks on {} (n = {}, test {}), GD {} steps, mean over {} seed(s)",
            s.data_name, s.config.n_train, s.config.n_test, s.config.iterations, s.config.seeds
        ),
        &[
            "hidden widths",
            "trained acc",
            "Newton acc",
            "gap f_T vs f_lin",
            "‖θ_T − θ₀‖/‖θ₀‖",
            "‖δ − (θ_T − θ₀)‖/‖θ_T − θ₀‖",
        ],
    )
    .text_column(0);
    for &scale in &s.config.width_scales {
        let d: Vec<_> = s.dense.iter().filter(|d| d.width_scale == scale).collect();
        let mean = |f: fn(&super::DenseRecord) -> f64| {
            d.iter().map(|r| f(r)).sum::<f64>() / d.len().max(1) as f64
        };
        t.row([
            widths_of(s, scale),
            pct(mean(|r| r.accuracy_trained)),
            pct(mean(|r| r.accuracy_newton)),
            fmt(mean(|r| r.gap)),
            fmt(mean(|r| r.relative_move)),
            fmt(mean(|r| r.theta_gap)),
        ]);
    }
    t
}

/// Overlap of each mask with the IMP mask, overall and per layer, with the chance level.
fn overlap_table(s: &Summary) -> Table {
    let layers = s.stats.first().map_or(0, |m| m.jaccard_per_layer.len());
    let mut headers = vec![
        "hidden widths".to_string(),
        "% kept".into(),
        "mask".into(),
        "Jaccard with IMP".into(),
    ];
    headers.extend((1..=layers).map(|l| format!("layer {l}")));
    headers.push("chance".into());
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(
        "overlap with the IMP mask (one-shot top-|θ_T|), mean ± std over seeds",
        &h,
    )
    .text_column(0)
    .text_column(2);
    for m in s.stats.iter().filter(|m| m.kind != MaskKind::Imp) {
        let mut row = vec![
            widths_of(s, m.width_scale),
            format!("{:.2}", m.percent_remaining),
            m.kind.name().to_string(),
            pm(m.jaccard, false),
        ];
        row.extend(m.jaccard_per_layer.iter().map(|j| format!("{j:.3}")));
        row.push(format!("{:.3}", m.chance));
        t.row(row);
    }
    t
}

/// (a) trained subnetwork, (b) its Newton step, (c) the gap, per mask.
fn accuracy_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "each mask: (a) trained from θ₀, (b) Newton step in its own tangent space, (c) gap",
        &[
            "hidden widths",
            "% kept",
            "mask",
            "(a) trained acc",
            "(b) Newton acc",
            "(c) ‖f_a − f_b‖/‖f_a‖",
        ],
    )
    .text_column(0)
    .text_column(2);
    for m in &s.stats {
        t.row([
            widths_of(s, m.width_scale),
            format!("{:.2}", m.percent_remaining),
            m.kind.name().to_string(),
            pm(m.accuracy_trained, true),
            pm(m.accuracy_newton, true),
            pm(m.gap, false),
        ]);
    }
    t
}

/// One CSV row per record.
#[derive(serde::Serialize)]
struct FlatRecord {
    width_scale: f64,
    seed: usize,
    keep: f64,
    kind: &'static str,
    percent_remaining: f64,
    jaccard: f64,
    chance: f64,
    accuracy_trained: f64,
    accuracy_newton: f64,
    gap: f64,
    lambda: f64,
}

fn flat_records(s: &Summary) -> Vec<FlatRecord> {
    s.masks
        .iter()
        .map(|r| FlatRecord {
            width_scale: r.width_scale,
            seed: r.seed,
            keep: r.keep,
            kind: r.kind.name(),
            percent_remaining: r.percent_remaining,
            jaccard: r.jaccard.last().copied().unwrap_or(f64::NAN),
            chance: r.chance.last().copied().unwrap_or(f64::NAN),
            accuracy_trained: r.accuracy_trained,
            accuracy_newton: r.accuracy_newton,
            gap: r.gap,
            lambda: r.lambda,
        })
        .collect()
}

fn series(
    s: &Summary,
    scale: f64,
    kind: MaskKind,
    f: impl Fn(&MaskStats) -> f64,
) -> Vec<(f64, f64)> {
    s.stats
        .iter()
        .filter(|m| m.width_scale == scale && m.kind == kind)
        .map(|m| (m.percent_remaining, f(m)))
        .collect()
}

/// Jaccard with the IMP mask against % kept, per width, with the chance level.
fn overlap_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "overlap",
        "Overlap of each mask with the IMP mask",
        "% of weights kept",
        "Jaccard with IMP",
        true,
        false,
    );
    for (w, &scale) in s.config.width_scales.iter().enumerate() {
        for (k, kind) in [MaskKind::Tangent, MaskKind::Init].into_iter().enumerate() {
            let style = if k == 0 {
                SeriesStyle::Line
            } else {
                SeriesStyle::Dashed
            };
            let label = format!("{} ({})", kind.name(), widths_of(s, scale));
            ch.add_colored(&label, series(s, scale, kind, |m| m.jaccard.0), style, w);
        }
    }
    if let Some(&scale) = s.config.width_scales.first() {
        ch.add(
            "chance",
            series(s, scale, MaskKind::Random, |m| m.chance),
            SeriesStyle::Points,
        );
    }
    ch.caption("Higher is closer to the ticket pruning finds after training. Solid: the tangent mask top-|θ₀ + δ| (no training); dashed: top-|θ₀|; points: two random masks of the same size. One colour per width.");
    ch
}

/// A figure of every mask kind at the widest width: trained (solid) and Newton (dashed).
fn by_kind_chart(s: &Summary, name: &str, y: &str, f: impl Fn(&MaskStats) -> (f64, f64)) -> Chart {
    let scale = s.config.width_scales.last().copied().unwrap_or(1.0);
    let mut ch = Chart::new(
        name,
        &format!(
            "Trained subnetworks and their Newton steps ({})",
            widths_of(s, scale)
        ),
        "% of weights kept",
        y,
        true,
        false,
    );
    for (c, kind) in MaskKind::ALL.into_iter().enumerate() {
        let a = series(s, scale, kind, |m| f(m).0);
        let b = series(s, scale, kind, |m| f(m).1);
        ch.add_colored(&format!("{} trained", kind.name()), a, SeriesStyle::Line, c);
        ch.add_colored(
            &format!("{} Newton", kind.name()),
            b,
            SeriesStyle::Dashed,
            c,
        );
    }
    ch.caption("Solid: the subnetwork trained from θ₀ by GD; dashed: one Newton step in its own tangent space. Where a solid and a dashed line of one colour part, the tangent picture stops describing that sparse training.");
    ch
}

/// The gap (c) against % kept, per mask kind, at the widest width.
fn gap_chart(s: &Summary) -> Chart {
    let scale = s.config.width_scales.last().copied().unwrap_or(1.0);
    let mut ch = Chart::new(
        "gap",
        &format!("Trained vs tangent prediction ({})", widths_of(s, scale)),
        "% of weights kept",
        "‖f_trained − f_lin‖/‖f_trained‖",
        true,
        false,
    );
    for (c, kind) in MaskKind::ALL.into_iter().enumerate() {
        ch.add_colored(
            kind.name(),
            series(s, scale, kind, |m| m.gap.0),
            SeriesStyle::Line,
            c,
        );
    }
    ch.caption("Lower means the sparse network trained as its linearisation at θ₀ predicts.");
    ch
}

fn notes(s: &Summary) -> Vec<String> {
    let lambdas: Vec<f64> = s.dense.iter().map(|d| d.lambda).collect();
    let (lo, hi) = lambdas
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &l| (a.min(l), b.max(l)));
    let ridge = match s.config.lambda {
        Some(l) => format!("the ridge λ = {l:e} was given"),
        None => format!(
            "the ridge is matched to GD, λ = λ_max(K_S)/(c·T): {lo:.3e} to {hi:.3e} for the dense networks"
        ),
    };
    vec![
        format!(
            "{ridge}; every training is full-batch GD on squared error with η = {}·n/λ_max(K_S), from θ₀ masked",
            s.config.lr_scale
        ),
        format!("wall time {:.1} s", s.wall_seconds),
    ]
}
