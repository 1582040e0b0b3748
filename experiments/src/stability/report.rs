//! Tables, CSV and charts of a `stability` run.

use super::Summary;
use crate::report::table::pct;
use crate::report::{Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// Tables, records and charts.
pub fn output(s: &Summary) -> Result<RunOutput> {
    Ok(RunOutput {
        experiment: "stability".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "stability",
            "versions": crate::report::versions(),
            "seed": s.config.train.seed,
            "summary": s,
        }),
        tables: vec![stability_table(s), tangent_table(s)],
        curves: vec![paths_csv(s)],
        charts: vec![path_chart(s), instability_chart(s)],
        notes: vec![
            format!(
                "trainings: {} on {} (n = {}), {} seed(s)",
                describe(&s.config.train),
                s.data_name,
                s.config.train.n_train,
                s.config.train.seeds
            ),
            format!("wall time {:.1} s", s.wall_seconds),
        ],
        files: Default::default(),
    })
}

fn network_name(round: usize, percent: f64) -> String {
    if round == 0 {
        "dense".into()
    } else {
        format!("IMP round {round} ({percent:.1}%)")
    }
}

/// Instability and endpoint error per (k, network).
fn stability_table(s: &Summary) -> Table {
    let mut t = Table::new(
        &format!(
            "linear mode connectivity: test error along the path between two copies ({} points), mean ± std over seeds",
            s.config.alphas
        ),
        &["network", "k", "instability (points)", "endpoint error", "stable (< 2 points)"],
    )
    .text_column(0)
    .text_column(4);
    for m in &s.stats {
        t.row([
            network_name(m.round, m.percent_remaining),
            m.k.to_string(),
            format!(
                "{:.2} ± {:.2}",
                100.0 * m.instability.0,
                100.0 * m.instability.1
            ),
            format!(
                "{} ± {:.1}",
                pct(m.endpoint_error.0),
                100.0 * m.endpoint_error.1
            ),
            if m.stable { "yes" } else { "no" }.to_string(),
        ]);
    }
    t
}

/// The tangent view per k: θ_k's own accuracy, its Newton step's and the kernel distance.
fn tangent_table(s: &Summary) -> Table {
    let mut t = Table::new(
        &format!(
            "the tangent view at θ_k ({} kernel samples), mean over seeds",
            s.config.kernel_samples
        ),
        &[
            "k",
            "θ_k test acc",
            "Newton step from θ_k",
            "1 − cos(K_k, K_T)",
        ],
    );
    for &k in &s.config.ks {
        let g: Vec<_> = s.tangent.iter().filter(|r| r.k == k).collect();
        let mean = |f: fn(&super::TangentRecord) -> f64| {
            g.iter().map(|r| f(r)).sum::<f64>() / g.len().max(1) as f64
        };
        t.row([
            k.to_string(),
            pct(mean(|r| r.accuracy_at_k)),
            pct(mean(|r| r.newton_accuracy)),
            format!("{:.4}", mean(|r| r.kernel_distance)),
        ]);
    }
    t
}

/// paths.csv: one row per (seed, k, round, α).
fn paths_csv(s: &Summary) -> Curves {
    let al = super::path::alphas(s.config.alphas);
    Curves {
        name: "paths".into(),
        columns: [
            "seed",
            "k",
            "round",
            "percent_remaining",
            "alpha",
            "test_error",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .paths
            .iter()
            .flat_map(|p| {
                p.errors.iter().zip(&al).map(|(&e, &a)| {
                    vec![
                        p.seed as f64,
                        p.k as f64,
                        p.round as f64,
                        p.percent_remaining,
                        a,
                        e,
                    ]
                })
            })
            .collect(),
    }
}

/// The mean error path of each network at the first and last k.
fn path_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "paths",
        "Test error between two copies",
        "α",
        "test error",
        false,
        false,
    );
    let al = super::path::alphas(s.config.alphas);
    let ks = [s.config.ks.first().copied(), s.config.ks.last().copied()];
    for (c, m) in s.stats.iter().enumerate() {
        if !ks.contains(&Some(m.k)) {
            continue;
        }
        let g: Vec<_> = s
            .paths
            .iter()
            .filter(|p| p.k == m.k && p.round == m.round)
            .collect();
        let pts = al
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                (
                    a,
                    g.iter().map(|p| p.errors[i]).sum::<f64>() / g.len().max(1) as f64,
                )
            })
            .collect();
        let style = if Some(m.k) == ks[0] {
            SeriesStyle::Line
        } else {
            SeriesStyle::Dashed
        };
        let label = format!(
            "{}, k = {}",
            network_name(m.round, m.percent_remaining),
            m.k
        );
        ch.add_colored(&label, pts, style, c % 8);
    }
    ch.caption("A bump in the middle is an error barrier: the copies ended in different basins. Flat curves mean the two runs from θ_k are linearly connected (stable to SGD noise). Solid: the first k; dashed: the last.");
    ch
}

/// Instability against k, one line per network.
fn instability_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "instability",
        "Instability against the rewinding iteration",
        "k",
        "instability (points)",
        false,
        false,
    );
    let mut rounds: Vec<usize> = s.stats.iter().map(|m| m.round).collect();
    rounds.sort_unstable();
    rounds.dedup();
    for (c, round) in rounds.into_iter().enumerate() {
        let of: Vec<_> = s.stats.iter().filter(|m| m.round == round).collect();
        let label = of
            .first()
            .map_or(String::new(), |m| network_name(round, m.percent_remaining));
        let pts = of
            .iter()
            .map(|m| (m.k as f64, 100.0 * m.instability.0))
            .collect();
        ch.add_colored(&label, pts, SeriesStyle::Line, c);
    }
    let kmax = s.config.ks.iter().copied().max().unwrap_or(1) as f64;
    ch.add(
        "2-point threshold",
        vec![(0.0, 2.0), (kmax, 2.0)],
        SeriesStyle::Dashed,
    );
    ch.caption("Below the dashed line a network is stable to SGD noise from that k on (Frankle et al. 2020).");
    ch
}

/// The lottery settings the trainings use, for the report.
fn describe(cfg: &crate::lottery::Config) -> String {
    format!(
        "{:?} lr {}, batch {}, {} iterations",
        cfg.optimizer, cfg.lr, cfg.batch_size, cfg.iterations
    )
}
