//! The words of a `bench-jacobian` report: what was timed and why, and verdicts from the
//! medians.

use super::Summary;
use crate::report::About;

/// The question, the three ways to the Jacobian and their costs.
pub fn about() -> About {
    About::new(
        "Which way of computing a network's Jacobian J = ∂f/∂θ is faster, forward mode (JVPs) or reverse mode (VJPs), and what does the structured NTK, which never forms J, save? The answer depends on the shape of J: (n·o) rows, one per sample and output, and p columns, one per parameter.",
    )
    .method("forward: one forward pass f(X; θ), the unit of cost.")
    .method("jvp: J column by column, J·eⱼ for every parameter j, in batches (forward-mode automatic differentiation).")
    .method("vjp: J row by row, eᵢᵀ·J for every sample and output i, in batches (reverse mode, backpropagation).")
    .method("structured NTK: K = JJᵀ assembled layer by layer from activations and backpropagated signals, without materialising J.")
    .formula("cost of J by JVPs", "≈ p forward passes")
    .formula("cost of J by VJPs", "≈ n·o backward passes (each a small multiple of a forward pass)")
    .formula("structured NTK", "K = Σ_l (G_l G_lᵀ) ⊙ (A_{l−1} A_{l−1}ᵀ)   (per layer l: backpropagated signals G_l, inputs A_{l−1})")
    .formula("crossover (Griewank & Walther 2008, ch. 3)", "reverse mode wins when p > n·o")
}

/// For each network in the first precision: which mode was faster, by how much, and whether
/// that matches the p against n·o rule.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let Some(dt) = s.config.dtypes.first().map(|d| d.to_string()) else {
        return Vec::new();
    };
    let median = |model: &str, method: &str| {
        s.cases
            .iter()
            .find(|c| c.model == model && c.dtype == dt && c.method == method)
            .map(|c| c.median_s)
    };
    s.shapes
        .iter()
        .filter_map(|sh| {
            let (j, v) = (median(&sh.model, "jvp")?, median(&sh.model, "vjp")?);
            let (winner, ratio) = if j < v {
                ("JVP", v / j)
            } else {
                ("VJP", j / v)
            };
            let rule = if (sh.num_params > sh.jacobian_rows) == (winner == "VJP") {
                "as the p against n·o rule predicts"
            } else {
                "against the p against n·o rule"
            };
            Some(format!(
                "{} ({dt}, p = {}, n·o = {}): J by {winner} is {ratio:.1}× faster, {rule}",
                sh.model, sh.num_params, sh.jacobian_rows
            ))
        })
        .collect()
}
