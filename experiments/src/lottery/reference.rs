//! The published LeNet-300-100 / MNIST figures that a `--preset frankle-carbin-2019` run is
//! drawn and tabled beside: Frankle & Carbin, "The Lottery Ticket Hypothesis", ICLR 2019
//! (§2, Figures 3 and 4), and Frankle, Dziugaite, Roy & Carbin, "Stabilizing the Lottery
//! Ticket Hypothesis", 2019 (random pruning at 10.7%).

use super::run::{Arm, ArmStats};
use super::stats::{dense, falls_below, nearest, pct2};

/// One figure read off the papers.
#[derive(Clone, Copy, Debug)]
pub struct PaperPoint {
    /// Which arm the figure is of.
    pub arm: Arm,
    /// Percent of weights remaining.
    pub percent: f64,
    /// Test accuracy in percent, where the paper gives one.
    pub accuracy: Option<f64>,
    /// Early-stopping iteration as a fraction of the dense network's, where given.
    pub early_stop_vs_dense: Option<f64>,
}

/// The points drawn on the charts.
pub const PAPER_POINTS: [PaperPoint; 4] = [
    // Dense LeNet-300-100: 98.0 ± 0.2% (the paper's Figure 3 at 100%).
    PaperPoint {
        arm: Arm::Ticket,
        percent: 100.0,
        accuracy: Some(98.0),
        early_stop_vs_dense: Some(1.0),
    },
    // "Tickets at 21% reach early stop 38% sooner than the original network."
    PaperPoint {
        arm: Arm::Ticket,
        percent: 21.1,
        accuracy: None,
        early_stop_vs_dense: Some(0.62),
    },
    // IMP at 10.7% remaining: 98.3 ± 0.1% ("Stabilizing the LTH", 2019).
    PaperPoint {
        arm: Arm::Ticket,
        percent: 10.7,
        accuracy: Some(98.3),
        early_stop_vs_dense: None,
    },
    // Random pruning at 10.7%: 97.5 ± 0.3% (same source).
    PaperPoint {
        arm: Arm::Random,
        percent: 10.7,
        accuracy: Some(97.5),
        early_stop_vs_dense: None,
    },
];

/// One row of the comparison table.
pub struct ReferenceRow {
    /// What the paper states.
    pub claim: String,
    /// The paper's figure.
    pub paper: String,
    /// This run's figure at the nearest round.
    pub measured: String,
    /// "yes", "no", or why it cannot be told.
    pub verdict: String,
}

fn acc_text(a: &ArmStats) -> String {
    format!(
        "{} ± {:.1} at {:.1}%",
        pct2(a.accuracy_early.0),
        100.0 * a.accuracy_early.1,
        a.percent_remaining
    )
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// Agreement of a mean accuracy with a published mean ± std: within two combined standard
/// deviations, and never stricter than half a point (the paper's seeds are few too).
fn close(measured: &ArmStats, paper_mean: f64, paper_std: f64) -> bool {
    let m = 100.0 * measured.accuracy_early.0;
    let sd = 100.0 * measured.accuracy_early.1;
    (m - paper_mean).abs() <= (2.0 * (sd * sd + paper_std * paper_std).sqrt()).max(0.5)
}

fn row(claim: &str, paper: &str, measured: String, verdict: String) -> ReferenceRow {
    ReferenceRow {
        claim: claim.into(),
        paper: paper.into(),
        measured,
        verdict,
    }
}

/// The five published statements against this run.
pub fn reference_rows(stats: &[ArmStats]) -> Vec<ReferenceRow> {
    let none = || "—".to_string();
    let mut rows = Vec::new();
    let Some(d) = dense(stats) else {
        return rows;
    };
    rows.push(row(
        "dense test accuracy",
        "98.0 ± 0.2%",
        acc_text(d),
        yes_no(close(d, 98.0, 0.2)),
    ));
    if let Some(t) = nearest(stats, Arm::Ticket, 21.1).filter(|t| t.round > 0) {
        let sooner = 1.0 - t.early_stop.0 / d.early_stop.0;
        rows.push(row(
            "tickets at 21% stop early sooner than dense",
            "38% sooner",
            format!(
                "{:.0}% sooner at {:.1}%",
                100.0 * sooner,
                t.percent_remaining
            ),
            yes_no((0.2..=0.56).contains(&sooner)),
        ));
    }
    for (arm, paper_at, claim) in [
        (Arm::Reinit, 21.1, "reinit falls below dense from"),
        (Arm::Ticket, 2.9, "tickets fall below dense only from"),
    ] {
        let from = falls_below(stats, arm);
        let measured = from.map_or("never, in the rounds run".into(), |p| format!("{p:.1}%"));
        // Within one pruning round of the paper's figure (a factor 0.8 either way).
        let sparsest = stats
            .iter()
            .filter(|a| a.arm == arm && a.round > 0)
            .map(|a| a.percent_remaining)
            .reduce(f64::min);
        let verdict = match (from, sparsest) {
            (Some(p), _) => yes_no((p / paper_at).ln().abs() <= 0.8f64.ln().abs() + 1e-9),
            // Never below dense, but the rounds stopped more than one round short of the
            // paper's sparsity: the run cannot tell.
            (None, Some(s)) if s > paper_at / 0.8 => "not reached".into(),
            (None, Some(_)) => "no".into(),
            (None, None) => none(),
        };
        rows.push(row(claim, &format!("{paper_at}%"), measured, verdict));
    }
    let t = nearest(stats, Arm::Ticket, 10.7).filter(|t| t.round > 0);
    let r = nearest(stats, Arm::Random, 10.7);
    if let (Some(t), Some(r)) = (t, r) {
        rows.push(row(
            "IMP vs random pruning at 10.7%",
            "98.3 ± 0.1% vs 97.5 ± 0.3%",
            format!("{} vs {}", acc_text(t), acc_text(r)),
            yes_no(close(t, 98.3, 0.1) && close(r, 97.5, 0.3)),
        ));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::super::run::TrainingRecord;
    use super::super::stats::arm_stats;
    use super::*;

    fn rec(round: usize, arm: Arm, acc: f64, early: usize) -> TrainingRecord {
        TrainingRecord {
            seed: 0,
            round,
            arm,
            percent_remaining: 100.0 * 0.8f64.powi(round as i32),
            percent_per_layer: vec![],
            early_stop_iteration: early,
            test_accuracy_early: acc,
            test_accuracy_final: acc,
            best_val_loss: 0.1,
            curve: vec![],
        }
    }

    #[test]
    fn verdicts_follow_the_numbers() {
        // Dense 98.0%; tickets stay above down to 0.8^10 = 10.7%; reinit drops below from
        // round 7 (21.0%) on; random at 10.7% is at the paper's 97.5%.
        let mut records = vec![rec(0, Arm::Ticket, 0.980, 1000)];
        for r in 1..=10 {
            records.push(rec(r, Arm::Ticket, 0.983, if r == 7 { 620 } else { 800 }));
            let reinit = if r >= 7 { 0.975 } else { 0.981 };
            records.push(rec(r, Arm::Reinit, reinit, 900));
            records.push(rec(r, Arm::Random, 0.975, 900));
        }
        let rows = reference_rows(&arm_stats(&records));
        let verdict = |claim: &str| {
            rows.iter()
                .find(|r| r.claim.starts_with(claim))
                .map(|r| r.verdict.clone())
                .unwrap()
        };
        assert_eq!(verdict("dense test accuracy"), "yes");
        assert_eq!(verdict("tickets at 21%"), "yes", "38% sooner measured");
        assert_eq!(verdict("reinit falls below"), "yes");
        assert_eq!(verdict("tickets fall below"), "not reached");
        assert_eq!(verdict("IMP vs random"), "yes");
    }
}
