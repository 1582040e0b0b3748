//! Tables, CSV and charts of `sgd-noise`.

use super::{CellStats, Summary};
use crate::report::table::pct;
use crate::report::{Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;
use serde::Serialize;

/// Tables, records and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    Ok(RunOutput {
        experiment: "sgd-noise".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "sgd-noise",
            "versions": crate::report::versions(),
            "seed": s.config.seed,
            "summary": s,
        }),
        tables: vec![anova_table(s), distance_table(s), gp_table(s)],
        curves: vec![
            Curves::typed("runs", &s.runs)?,
            Curves::typed("cells", &s.cells.iter().map(CellRow::of).collect::<Vec<_>>())?,
        ],
        charts: vec![distance_chart(s), share_chart(s)],
        notes: vec![format!(
            "{} (n = {}, test {}), depth {}, widths {:?}, batch sizes {:?}, {} SGD steps, {} inits × {} orders, NTK parameterization; wall time {:.1} s",
            s.data_name, s.config.n_train, s.config.n_test, s.config.depth, s.config.widths,
            s.config.batch_sizes, s.config.steps, s.config.inits, s.config.orders, s.wall_seconds
        )],
        files: Default::default(),
    })
}

/// A cell as one flat CSV row (the decompositions' shares side by side).
#[derive(Serialize)]
struct CellRow {
    width: usize,
    batch: usize,
    net_init_share: f64,
    net_order_share: f64,
    net_interaction_share: f64,
    lin_init_share: f64,
    lin_order_share: f64,
    lin_interaction_share: f64,
    net_vs_newton: f64,
    lin_vs_newton: f64,
    net_vs_gd: f64,
    lin_vs_gd: f64,
    net_vs_lin: f64,
    gp_mean_error_net: f64,
    gp_mean_noise_floor: f64,
    gp_variance: f64,
    init_variance_net: f64,
    init_variance_lin: f64,
    gp_covariance_error_net: f64,
    gp_covariance_error_lin: f64,
    gp_covariance_noise_floor: f64,
}

impl CellRow {
    fn of(c: &CellStats) -> Self {
        CellRow {
            width: c.width,
            batch: c.batch,
            net_init_share: c.net.init_share,
            net_order_share: c.net.order_share,
            net_interaction_share: c.net.interaction_share,
            lin_init_share: c.lin.init_share,
            lin_order_share: c.lin.order_share,
            lin_interaction_share: c.lin.interaction_share,
            net_vs_newton: c.net_vs_newton,
            lin_vs_newton: c.lin_vs_newton,
            net_vs_gd: c.net_vs_gd,
            lin_vs_gd: c.lin_vs_gd,
            net_vs_lin: c.net_vs_lin,
            gp_mean_error_net: c.gp_mean_error_net,
            gp_mean_noise_floor: c.gp_mean_noise_floor,
            gp_variance: c.gp_variance,
            init_variance_net: c.init_variance_net,
            init_variance_lin: c.init_variance_lin,
            gp_covariance_error_net: c.gp_covariance_error_net,
            gp_covariance_error_lin: c.gp_covariance_error_lin,
            gp_covariance_noise_floor: c.gp_covariance_noise_floor,
        }
    }
}

fn anova_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "where the spread of the test predictions comes from (two-way ANOVA, shares of the sum of squares)",
        &[
            "width",
            "batch",
            "network: init",
            "order",
            "interaction",
            "linear model: init",
            "order",
            "interaction",
        ],
    );
    for c in &s.cells {
        t.row([
            c.width.to_string(),
            c.batch.to_string(),
            pct(c.net.init_share),
            pct(c.net.order_share),
            pct(c.net.interaction_share),
            pct(c.lin.init_share),
            pct(c.lin.order_share),
            pct(c.lin.interaction_share),
        ]);
    }
    t
}

fn acc(v: Option<f64>) -> String {
    v.map_or("—".into(), pct)
}

fn distance_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "distance of SGD to the tangent references (test inputs; means over inits × orders)",
        &[
            "width",
            "batch",
            "net: ‖f−f_N‖/‖f_N−f₀‖",
            "lin: ‖f−f_N‖/‖f_N−f₀‖",
            "net: ‖f−f_GD‖/‖f_GD−f₀‖",
            "lin: ‖f−f_GD‖/‖f_GD−f₀‖",
            "‖f_net−f_lin‖/‖f_net‖",
            "accuracy net",
            "accuracy lin",
        ],
    );
    for c in &s.cells {
        t.row([
            c.width.to_string(),
            c.batch.to_string(),
            format!("{:.4}", c.net_vs_newton),
            format!("{:.4}", c.lin_vs_newton),
            format!("{:.4}", c.net_vs_gd),
            format!("{:.4}", c.lin_vs_gd),
            format!("{:.4}", c.net_vs_lin),
            acc(c.net_accuracy),
            acc(c.lin_accuracy),
        ]);
    }
    t
}

fn gp_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "across inits against the NTK-GP after T steps (Lee et al. 2019 §2.3.1, empirical kernels)",
        &[
            "width",
            "batch",
            "‖P̄_net−μ‖/‖μ‖",
            "noise floor",
            "‖P̄_lin−μ‖/‖μ‖",
            "GP variance",
            "network variance",
            "linear variance",
            "corr. per input",
            "‖C_net−Σ‖/‖Σ‖",
            "‖C_lin−Σ‖/‖Σ‖",
            "noise floor",
        ],
    );
    for c in &s.cells {
        t.row([
            c.width.to_string(),
            c.batch.to_string(),
            format!("{:.4}", c.gp_mean_error_net),
            format!("{:.4}", c.gp_mean_noise_floor),
            format!("{:.4}", c.gp_mean_error_lin),
            format!("{:.3}", c.gp_variance),
            format!("{:.3}", c.init_variance_net),
            format!("{:.3}", c.init_variance_lin),
            c.variance_correlation_net
                .map_or("—".into(), |r| format!("{r:.3}")),
            format!("{:.3}", c.gp_covariance_error_net),
            format!("{:.3}", c.gp_covariance_error_lin),
            format!("{:.3}", c.gp_covariance_noise_floor),
        ]);
    }
    t
}

/// One series per width of `f` against batch size.
fn by_width(s: &Summary, f: impl Fn(&CellStats) -> f64) -> Vec<(usize, Vec<(f64, f64)>)> {
    s.config
        .widths
        .iter()
        .map(|&w| {
            let pts = s
                .cells
                .iter()
                .filter(|c| c.width == w)
                .map(|c| (c.batch as f64, f(c)))
                .collect();
            (w, pts)
        })
        .collect()
}

fn distance_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "distance_to_newton",
        "SGD against the Newton step at θ₀ (λ → 0)",
        "batch size",
        "‖f_SGD − f_Newton‖/‖f_Newton − f₀‖",
        true,
        true,
    );
    for (w, pts) in by_width(s, |c| c.net_vs_newton) {
        ch.add(&format!("network, width {w}"), pts, SeriesStyle::Line);
    }
    for (w, pts) in by_width(s, |c| c.lin_vs_newton) {
        ch.add(
            &format!("linear model, width {w}"),
            pts,
            SeriesStyle::Dashed,
        );
    }
    ch.caption("The linear model's distance is what T steps leave unconverged; the network's extra distance is how far it leaves its tangent space.");
    ch
}

fn share_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "order_share",
        "Share of the prediction spread due to the data order",
        "batch size",
        "order + interaction share of the sum of squares",
        true,
        false,
    );
    for (w, pts) in by_width(s, |c| c.net.order_share + c.net.interaction_share) {
        ch.add(&format!("network, width {w}"), pts, SeriesStyle::Line);
    }
    for (w, pts) in by_width(s, |c| c.lin.order_share + c.lin.interaction_share) {
        ch.add(
            &format!("linear model, width {w}"),
            pts,
            SeriesStyle::Dashed,
        );
    }
    ch.caption("Near 0: the trained function is fixed by θ₀ and the data order leaves no trace; the rest of the spread is the init's.");
    ch
}
