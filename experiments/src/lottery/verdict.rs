//! One-line verdicts of a lottery run, computed from its numbers.

use super::run::{Arm, ArmStats};
use super::stats::{dense, falls_below, pct2};

/// The verdict lines: the dense network, how far the tickets stay at its accuracy, their
/// early stopping, and the gaps to the controls at the sparsest round.
pub fn verdicts(stats: &[ArmStats]) -> Vec<String> {
    let Some(d) = dense(stats) else {
        return vec![];
    };
    let dense_acc = d.accuracy_early.0;
    let mut out = vec![format!(
        "dense network: {} test accuracy at early stopping (iteration {:.0})",
        pct2(dense_acc),
        d.early_stop.0
    )];
    let tickets: Vec<&ArmStats> = stats
        .iter()
        .filter(|a| a.arm == Arm::Ticket && a.round > 0)
        .collect();
    if let Some(best) = tickets
        .iter()
        .max_by(|a, b| a.accuracy_early.0.total_cmp(&b.accuracy_early.0))
    {
        out.push(format!(
            "best ticket: {} at {:.1}% of the weights ({:+.2} points against dense), early stop at iteration {:.0} ({:.0}% {} than dense)",
            pct2(best.accuracy_early.0),
            best.percent_remaining,
            100.0 * (best.accuracy_early.0 - dense_acc),
            best.early_stop.0,
            100.0 * (1.0 - best.early_stop.0 / d.early_stop.0).abs(),
            if best.early_stop.0 <= d.early_stop.0 { "sooner" } else { "later" }
        ));
    }
    for arm in [Arm::Ticket, Arm::Reinit, Arm::Random] {
        if stats.iter().any(|a| a.arm == arm && a.round > 0) {
            out.push(match falls_below(stats, arm) {
                Some(p) => format!(
                    "{} stays below the dense accuracy from {p:.1}% of the weights on",
                    arm.name()
                ),
                None => format!(
                    "{} never stays below the dense accuracy in the rounds run",
                    arm.name()
                ),
            });
        }
    }
    if let Some(last) = tickets.last() {
        let at = |arm: Arm| {
            stats
                .iter()
                .find(|a| a.arm == arm && a.round == last.round)
                .map(|a| a.accuracy_early.0)
        };
        if let (Some(re), Some(ra)) = (at(Arm::Reinit), at(Arm::Random)) {
            out.push(format!(
                "at {:.1}% of the weights the ticket leads reinit by {:+.2} and random pruning by {:+.2} points",
                last.percent_remaining,
                100.0 * (last.accuracy_early.0 - re),
                100.0 * (last.accuracy_early.0 - ra)
            ));
        }
    }
    out
}
