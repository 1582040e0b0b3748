//! The words of a `stability` report: the question, the two views, and verdicts computed
//! from the instabilities, Newton accuracies and kernel distances.

use super::path::STABLE_BELOW;
use super::Summary;
use crate::report::about::percent;
use crate::report::table::pct;
use crate::report::About;

/// The question, the methods and the formulas.
pub fn about() -> About {
    About::new(
        "Are the network and its lottery tickets stable to SGD noise (Frankle et al. 2020), and is the network at that point already described by its tangent space? Two copies trained from the same θ_k with different data orders end in one linearly connected basin when the test error does not rise along the straight path between them.",
    )
    .method("θ_k is the dense network after k iterations from θ₀. Two copies are trained from θ_k for the rest of the iterations with different data orders (the optimiser's state restarts at θ_k); the test error is measured at evenly spaced α on the path between them.")
    .method("IMP tickets are found with rewinding to θ_k (prune the trained network, reset the survivors to θ_k, retrain) and tested the same way at the chosen rounds.")
    .method("The tangent view at the same θ_k: one Newton step of squared error in the tangent space at θ_k (full empirical NTK on the kernel samples, λ = λ_max/1000), and how far the kernel at θ_k is from the kernel at the end of training.")
    .formula("path", "θ(α) = (1 − α)θ_A + αθ_B,   α ∈ [0, 1]")
    .formula("instability", "max_α err(θ(α)) − (err(θ_A) + err(θ_B))/2;   stable below 2 points")
    .formula("kernel distance", "1 − ⟨K_k, K_T⟩ / (‖K_k‖ ‖K_T‖)")
}

/// Which networks are stable from which k, and what the tangent view says there.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    let mut rounds: Vec<usize> = s.stats.iter().map(|m| m.round).collect();
    rounds.sort_unstable();
    rounds.dedup();
    for round in rounds {
        let of: Vec<_> = s.stats.iter().filter(|m| m.round == round).collect();
        let Some(first) = of.first() else { continue };
        let name = if round == 0 {
            "the dense network".to_string()
        } else {
            format!(
                "the IMP ticket at {} of the weights",
                percent(first.percent_remaining / 100.0)
            )
        };
        let parts: Vec<String> = of
            .iter()
            .map(|m| format!("{:.1} points at k = {}", 100.0 * m.instability.0, m.k))
            .collect();
        let stable_from = of.iter().find(|m| m.stable).map(|m| m.k);
        let verdict = match stable_from {
            Some(0) => "stable from initialisation".to_string(),
            Some(k) => format!("stable from k = {k}"),
            None => format!(
                "not stable at any k tested (threshold {:.0} points)",
                100.0 * STABLE_BELOW
            ),
        };
        out.push(format!(
            "{name} is {verdict}: instability {}",
            parts.join(", ")
        ));
    }
    let parts: Vec<String> = s
        .config
        .ks
        .iter()
        .map(|&k| {
            let g: Vec<_> = s.tangent.iter().filter(|t| t.k == k).collect();
            let n = g.len().max(1) as f64;
            let acc = g.iter().map(|t| t.newton_accuracy).sum::<f64>() / n;
            let dist = g.iter().map(|t| t.kernel_distance).sum::<f64>() / n;
            format!("k = {k}: Newton {} and kernel distance {dist:.3}", pct(acc))
        })
        .collect();
    out.push(format!("the tangent view from θ_k: {}", parts.join("; ")));
    out
}
