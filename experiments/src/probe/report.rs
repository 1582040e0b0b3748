//! Tables, CSV and charts of a `probe` run.

use super::kernels::KernelKind;
use super::run::{DetectorRecord, KernelStats, Point};
use super::Summary;
use crate::report::table::{fmt, pct};
use crate::report::{Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// Tables, records and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let mut tables: Vec<Table> = s.config.widths.iter().map(|&w| width_table(s, w)).collect();
    tables.push(summary_table(s));
    tables.push(detector_table(s));
    Ok(RunOutput {
        experiment: "probe".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "probe",
            "versions": crate::report::versions(),
            "seed": s.config.seed,
            "summary": s,
        }),
        tables,
        curves: vec![
            Curves::typed("kernels", &flat_kernels(s))?,
            Curves::typed("nets", &s.nets)?,
        ],
        charts: vec![accuracy_chart(s), alignment_chart(s), auc_chart(s)],
        notes: notes(s),
        files: Default::default(),
    })
}

/// Mean ± std as "92.3% ± 1.2".
fn pm(v: (f64, f64)) -> String {
    format!("{} ± {:.1}", pct(v.0), 100.0 * v.1)
}

/// The kernel stats of one (width, point, kernel).
pub(super) fn find(s: &Summary, w: usize, p: Point, k: KernelKind) -> Option<&KernelStats> {
    s.stats
        .iter()
        .find(|m| m.width == w && m.point == p && m.kernel == k)
}

/// The kernels in table order: CK, each layer, NTK.
pub(super) fn kinds(s: &Summary) -> Vec<KernelKind> {
    let mut k = vec![KernelKind::Conjugate];
    k.extend((0..=s.config.depth).map(KernelKind::Layer));
    k.push(KernelKind::Ntk);
    k
}

/// Mean over seeds of a per-network figure at width w.
pub(super) fn net_mean(s: &Summary, w: usize, f: impl Fn(&super::NetRecord) -> f64) -> f64 {
    let v: Vec<f64> = s.nets.iter().filter(|n| n.width == w).map(f).collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Mean over seeds and classes of a detector figure at (width, point).
pub(super) fn detector_mean(
    s: &Summary,
    w: usize,
    p: Point,
    f: impl Fn(&DetectorRecord) -> Vec<f64>,
) -> f64 {
    let v: Vec<f64> = s
        .detectors
        .iter()
        .filter(|d| d.width == w && d.point == p)
        .flat_map(f)
        .collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Per class, the best sampled tangent feature over all layers.
pub(super) fn best_feature(d: &DetectorRecord) -> Vec<f64> {
    (0..d.units.len())
        .map(|c| d.features.iter().map(|l| l[c].auc).fold(0.0, f64::max))
        .collect()
}

/// Per class, the best unit.
pub(super) fn best_unit(d: &DetectorRecord) -> Vec<f64> {
    d.units.iter().map(|b| b.auc).collect()
}

/// One width: every kernel at θ₀ and θ_T, tangent step, kernel alone and alignment.
fn width_table(s: &Summary, w: usize) -> Table {
    let mut t = Table::new(
        &format!(
            "width {w} ({} hidden layer(s)): trained network {}, mean ± std over {} seed(s)",
            s.config.depth,
            pct(net_mean(s, w, |n| n.accuracy_trained)),
            s.config.seeds
        ),
        &[
            "kernel",
            "θ₀: tangent step",
            "θ₀: kernel alone",
            "θ₀: alignment / centred",
            "θ_T: tangent step",
            "θ_T: kernel alone",
            "θ_T: alignment / centred",
        ],
    )
    .text_column(0);
    for k in kinds(s) {
        let (Some(a), Some(b)) = (find(s, w, Point::Init, k), find(s, w, Point::Trained, k)) else {
            continue;
        };
        t.row([
            k.name(),
            pm(a.accuracy_newton),
            pm(a.accuracy_from_zero),
            format!("{:.3} / {:.3}", a.alignment.0, a.centred_alignment.0),
            pm(b.accuracy_newton),
            pm(b.accuracy_from_zero),
            format!("{:.3} / {:.3}", b.alignment.0, b.centred_alignment.0),
        ]);
    }
    t
}

/// Across widths: the five answers side by side.
fn summary_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "across widths (means over seeds): (i) CK readout, (iii) Newton step at θ₀, (iv) after-kernel, (v) trained",
        &[
            "width",
            "(i) CK θ₀ alone",
            "(iii) NTK θ₀ step",
            "(iv) NTK θ_T alone",
            "(v) trained",
            "‖f_T − f_lin‖/‖f_T‖",
            "‖θ_T − θ₀‖/‖θ₀‖",
            "centred alignment θ₀ → θ_T",
        ],
    );
    for &w in &s.config.widths {
        let get = |p, k, f: fn(&KernelStats) -> f64| find(s, w, p, k).map_or(f64::NAN, f);
        t.row([
            w.to_string(),
            pct(get(Point::Init, KernelKind::Conjugate, |m| {
                m.accuracy_from_zero.0
            })),
            pct(get(Point::Init, KernelKind::Ntk, |m| m.accuracy_newton.0)),
            pct(get(Point::Trained, KernelKind::Ntk, |m| {
                m.accuracy_from_zero.0
            })),
            pct(net_mean(s, w, |n| n.accuracy_trained)),
            fmt(net_mean(s, w, |n| n.gap_to_newton)),
            fmt(net_mean(s, w, |n| n.relative_move)),
            format!(
                "{:.3} → {:.3}",
                get(Point::Init, KernelKind::Ntk, |m| m.centred_alignment.0),
                get(Point::Trained, KernelKind::Ntk, |m| m.centred_alignment.0)
            ),
        ]);
    }
    t
}

/// The best single detectors per width and point, mean over classes (worst class beside).
fn detector_table(s: &Summary) -> Table {
    let layers = s.config.depth + 1;
    let mut headers = vec![
        "width".to_string(),
        "at".into(),
        "best unit AUC (mean / worst class)".into(),
    ];
    headers.extend((1..=layers).map(|l| format!("best tangent feature, layer {l}")));
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(
        "best single detectors, one-vs-rest AUC on the test inputs (max(AUC, 1 − AUC)), mean over classes and seeds",
        &h,
    )
    .text_column(1);
    for &w in &s.config.widths {
        for p in [Point::Init, Point::Trained] {
            let worst = detector_mean(s, w, p, |d| {
                vec![best_unit(d).into_iter().fold(1.0, f64::min)]
            });
            let mut row = vec![
                w.to_string(),
                p.name().to_string(),
                format!("{:.3} / {:.3}", detector_mean(s, w, p, best_unit), worst),
            ];
            row.extend((0..layers).map(|l| {
                let v = detector_mean(s, w, p, |d| d.features[l].iter().map(|b| b.auc).collect());
                format!("{v:.3}")
            }));
            t.row(row);
        }
    }
    t
}

/// One CSV row per kernel record.
#[derive(serde::Serialize)]
struct FlatKernel {
    width: usize,
    seed: usize,
    point: &'static str,
    kernel: String,
    accuracy_newton: f64,
    accuracy_from_zero: f64,
    alignment: f64,
    centred_alignment: f64,
    lambda: f64,
}

fn flat_kernels(s: &Summary) -> Vec<FlatKernel> {
    s.kernels
        .iter()
        .map(|r| FlatKernel {
            width: r.width,
            seed: r.seed,
            point: if r.point == Point::Init {
                "init"
            } else {
                "trained"
            },
            kernel: r.kernel.name(),
            accuracy_newton: r.accuracy_newton,
            accuracy_from_zero: r.accuracy_from_zero,
            alignment: r.alignment,
            centred_alignment: r.centred_alignment,
            lambda: r.lambda,
        })
        .collect()
}

fn kernel_series(
    s: &Summary,
    p: Point,
    k: KernelKind,
    f: fn(&KernelStats) -> f64,
) -> Vec<(f64, f64)> {
    s.config
        .widths
        .iter()
        .filter_map(|&w| find(s, w, p, k).map(|m| (w as f64, f(m))))
        .collect()
}

/// Accuracy of (i)–(v) against width.
fn accuracy_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "accuracy",
        "Test accuracy against width",
        "hidden width",
        "test accuracy",
        true,
        false,
    );
    let trained = s
        .config
        .widths
        .iter()
        .map(|&w| (w as f64, net_mean(s, w, |n| n.accuracy_trained)))
        .collect();
    ch.add_colored("(v) trained network", trained, SeriesStyle::Line, 0);
    let newton = |m: &KernelStats| m.accuracy_newton.0;
    let alone = |m: &KernelStats| m.accuracy_from_zero.0;
    ch.add_colored(
        "(iii) NTK at θ₀, one Newton step",
        kernel_series(s, Point::Init, KernelKind::Ntk, newton),
        SeriesStyle::Line,
        1,
    );
    ch.add_colored(
        "(iv) after-kernel (NTK at θ_T) alone",
        kernel_series(s, Point::Trained, KernelKind::Ntk, alone),
        SeriesStyle::Dashed,
        1,
    );
    ch.add_colored(
        "(i) CK at θ₀ (readout of existing units)",
        kernel_series(s, Point::Init, KernelKind::Conjugate, alone),
        SeriesStyle::Line,
        2,
    );
    for l in 0..=s.config.depth {
        ch.add_colored(
            &format!("(ii) K_{} at θ₀, Newton step", l + 1),
            kernel_series(s, Point::Init, KernelKind::Layer(l), newton),
            SeriesStyle::Dashed,
            3 + l,
        );
    }
    ch.caption("Where the NTK line meets the trained network's, one Newton step at initialisation is the training; the CK line is what the units that exist at θ₀ can do with a new readout.");
    ch
}

/// Kernel–target alignment of the NTK and the CK at θ₀ and θ_T against width.
fn alignment_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "alignment",
        "Centred kernel–target alignment against width",
        "hidden width",
        "A(HKH, HYYᵀH)",
        true,
        false,
    );
    let a = |m: &KernelStats| m.centred_alignment.0;
    for (c, k) in [KernelKind::Ntk, KernelKind::Conjugate]
        .into_iter()
        .enumerate()
    {
        ch.add_colored(
            &format!("{} at θ₀", k.name()),
            kernel_series(s, Point::Init, k, a),
            SeriesStyle::Line,
            c,
        );
        ch.add_colored(
            &format!("{} at θ_T", k.name()),
            kernel_series(s, Point::Trained, k, a),
            SeriesStyle::Dashed,
            c,
        );
    }
    ch.caption("Dashed above solid: training turns the kernel toward the labels. The gap shrinking with width is the lazy regime: the kernel at θ₀ is already the one training ends with.");
    ch
}

/// Best unit and best tangent feature AUC against width.
fn auc_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "detectors",
        "Best single detectors against width",
        "hidden width",
        "one-vs-rest AUC (mean over classes)",
        true,
        false,
    );
    let at = |p: Point, f: fn(&DetectorRecord) -> Vec<f64>| {
        s.config
            .widths
            .iter()
            .map(|&w| (w as f64, detector_mean(s, w, p, f)))
            .collect::<Vec<_>>()
    };
    ch.add_colored(
        "best unit at θ₀",
        at(Point::Init, best_unit),
        SeriesStyle::Line,
        0,
    );
    ch.add_colored(
        "best unit at θ_T",
        at(Point::Trained, best_unit),
        SeriesStyle::Dashed,
        0,
    );
    ch.add_colored(
        "best tangent feature at θ₀",
        at(Point::Init, best_feature),
        SeriesStyle::Line,
        1,
    );
    ch.add_colored(
        "best tangent feature at θ_T",
        at(Point::Trained, best_feature),
        SeriesStyle::Dashed,
        1,
    );
    ch.caption("An AUC of 0.5 is chance and 1 a perfect detector. Wider networks have more units to pick from, so the best one improves with width even at random θ₀: compare θ₀ with θ_T at each width.");
    ch
}

fn notes(s: &Summary) -> Vec<String> {
    let c = &s.config;
    let ridge = match c.ridge {
        Some(r) => format!("every kernel's ridge is λ = {r:e}·λ_max(K)"),
        None => format!(
            "every kernel's ridge is matched to T = {} GD steps, λ = λ_max(K)/(c·T) with c = {}",
            c.iterations, c.lr_scale
        ),
    };
    let scored: Vec<String> = s
        .detectors
        .first()
        .map(|d| d.features_scored.iter().map(|n| n.to_string()).collect())
        .unwrap_or_default();
    vec![
        format!(
            "{ridge}; the network is trained by full-batch GD on squared error with η = {}·n/λ_max(K) for {} steps on {} (n = {}, test {})",
            c.lr_scale, c.iterations, s.data_name, c.n_train, c.n_test
        ),
        format!(
            "kernels are output-traced (n×n); tangent features scored per layer (narrowest network): {}",
            scored.join(", ")
        ),
        format!("wall time {:.1} s", s.wall_seconds),
    ]
}
