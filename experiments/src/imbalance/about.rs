//! The words of an `imbalance` report: what was run and why, and verdicts from the residuals.

use super::Summary;
use crate::report::About;

/// The question, the two fits and the formulas behind the first step's bias.
pub fn about() -> About {
    About::new(
        "Why can gradient descent ignore a small group of examples for a long time while a Newton step fits it at once? With k points of group A (target −1) against m points of group B (target +1) whose features are correlated, the first gradient steps are dominated by the m terms of B.",
    )
    .method("The model is linear in random ReLU features, the same algebra as a linearised network. GD starts at θ = 0 with step η = 1/λ_max(ΦᵀΦ/n); the per-group mean residual is recorded at every step.")
    .method("The Newton step solves the ridge problem once and fits both groups together, whatever their sizes.")
    .formula("features and model", "φ(x) = relu(Wx + c)/√p,   f(x) = φ(x)ᵀθ,   K = ΦΦᵀ")
    .formula("loss", "L(θ) = ‖Φθ − y‖² / (2n)")
    .formula("first gradient at θ = 0", "−Φᵀy/n = (Σ_A φᵢ − Σ_B φᵢ)/n")
    .formula("Newton step", "θ = Φᵀ(K + nλI)⁻¹ y")
}

/// What happened to group A under GD and under the Newton step, in words.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let c = &s.config;
    let first = if s.group_a_after_first_step > 0.0 {
        format!(
            "the first GD step moved group A's prediction to {:+.3}, toward B's target +1 rather than its own −1 ({:.0}% of the first gradient comes from B)",
            s.group_a_after_first_step,
            100.0 * s.first_gradient_share_b
        )
    } else {
        format!(
            "the first GD step moved group A's prediction to {:+.3}, toward its own target −1",
            s.group_a_after_first_step
        )
    };
    let fit = match s.gd_steps_to_fit_a {
        Some(k) => format!("GD needed {k} steps to bring group A's mean residual under 0.1"),
        None => format!(
            "in {} GD steps group A's mean residual stayed above 0.1 (it ended at {:+.3})",
            c.steps, s.gd_residual_a
        ),
    };
    vec![
        first,
        fit,
        format!(
            "one Newton step leaves mean residuals {:+.2e} (A) and {:+.2e} (B)",
            s.newton_residual_a, s.newton_residual_b
        ),
    ]
}
