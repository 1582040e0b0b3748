//! The words of a `supermask` report.

use super::{Summary, Weights};
use crate::report::about::points_against;
use crate::report::table::pct;
use crate::report::About;

/// The question, the method and the formulas.
pub fn about() -> About {
    About::new(
        "Is pruning itself training? With θ₀ frozen, only the choice of which weights to keep is learned; if that alone reaches a good accuracy, a mask does optimisation of its own, and the size of the move (m − 1) ⊙ θ₀ says whether the tangent space at θ₀ can describe it.",
    )
    .method("Scores s (one per weight, drawn uniformly) choose the top-k of every layer; they are trained by momentum SGD on softmax cross-entropy with the straight-through gradient of edge-popup (Ramanujan et al. 2020).")
    .method("The learned mask is compared with a random mask of the same per-layer counts, with the magnitude mask top-|θ₀|, and with the tangent prediction of the pruned network. The control freezes the signed constant σ_l·sign(θ₀) instead of θ₀.")
    .formula("masked network", "f(m ⊙ θ₀),   m = top-k(s) per layer")
    .formula("straight-through gradient", "∂L/∂s_j = θ₀_j · ∂L/∂w_j,   w = m ⊙ θ₀")
    .formula("tangent prediction", "f_tan = f(θ₀) + J(θ₀)((m − 1) ⊙ θ₀)")
    .formula("gap", "‖f(m ⊙ θ₀) − f_tan‖ / ‖f(m ⊙ θ₀)‖ on the test inputs")
}

/// Learned against random masks and the tangent gap, at every sparsity, for θ₀ as drawn;
/// then the control.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    for w in [Weights::Gaussian, Weights::SignedConstant] {
        let rows: Vec<_> = s.stats.iter().filter(|m| m.weights == w).collect();
        let parts: Vec<String> = rows
            .iter()
            .map(|m| {
                format!(
                    "{} at {} kept ({} random masks; tangent gap {:.2})",
                    pct(m.accuracy_learned.0),
                    pct(m.keep),
                    points_against(m.accuracy_learned.0, m.accuracy_random.0),
                    m.tangent_gap.0
                )
            })
            .collect();
        let dense: Vec<f64> = s
            .dense_accuracy
            .iter()
            .filter(|d| d.1 == w)
            .map(|d| d.2)
            .collect();
        let d = dense.iter().sum::<f64>() / dense.len().max(1) as f64;
        out.push(format!(
            "{} weights (untrained dense network {}): learned masks reach {}",
            w.name(),
            pct(d),
            parts.join(", ")
        ));
    }
    out
}
