//! One-line verdicts of a lottery run, computed from its numbers.

use super::run::{Arm, ArmStats};
use super::stats::{dense, falls_below, pct2};
use crate::report::About;

/// What IMP does, the two controls, and the formulas of one round.
pub fn about() -> About {
    About::new(
        "Does a randomly initialised network contain a sparse subnetwork that, trained from the same initial weights, matches the accuracy of the whole network (a winning lottery ticket, Frankle & Carbin 2019)? And is it the structure of the mask or the initial weights that make it win?",
    )
    .method("Iterative magnitude pruning (IMP): train the network, remove the fraction of the remaining weights with the smallest magnitude (per layer, or globally), reset the survivors to their initial values θ₀ (or to θ_k after k iterations when rewinding), and repeat. Each round's subnetwork is a ticket; its accuracy and its early-stopping iteration (minimum validation loss) are recorded.")
    .method("Controls at the same per-layer sparsity: the ticket's mask with fresh random initial weights (reinit), and a random mask with the original θ₀ (random pruning). If tickets beat both, the mask and the initialisation matter together.")
    .formula("one round", "θ ← m ⊙ θ₀;  train with gradients m ⊙ ∇L to θ_T;  m ← 1 on the largest (1 − rate) share of |θ_T| where m = 1, 0 elsewhere")
    .formula("weights left after r rounds", "p_r = p₀ · (1 − rate)^r per layer   (rate 20% hidden, 10% output in the paper)")
    .formula("early-stopping iteration", "argmin_t  L_val(θ_t)")
}

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
