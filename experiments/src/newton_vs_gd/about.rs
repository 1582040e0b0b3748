//! The words of a `newton-vs-gd` report: what was run and why, and verdicts from the counts.

use super::Summary;
use crate::report::About;

/// The question, the three solvers and the iteration estimates they are held against.
pub fn about() -> About {
    About::new(
        "How many steps does gradient descent need for a problem that Newton's method solves in one? For linear least squares (the tangent-space fit of a network is one), GD needs about κ·ln(1/ε) steps to reach relative error ε, conjugate gradients about √κ·ln(1/ε), and Newton's method one linear solve.",
    )
    .method("GD: x ← x − η Aᵀ(Ax − b) with η = 1/λ_max(AᵀA), from x = 0; its error is also computed in closed form from the eigendecomposition and the two are compared.")
    .method("CG: conjugate gradients on the normal equations AᵀA x = Aᵀb, from x = 0, with the same stopping rule.")
    .method("Newton: one Cholesky solve, of the normal equations when A has more rows than columns, of AAᵀα = b with x = Aᵀα (the minimum-norm solution, the kernel form) when it has fewer: the reference solution x*.")
    .formula("objective", "L(x) = ½‖Ax − b‖²,   x* = (AᵀA)⁻¹Aᵀb  or  Aᵀ(AAᵀ)⁻¹b")
    .formula("relative error", "‖x_t − x*‖ / ‖x₀ − x*‖,   x₀ = 0")
    .formula("GD, closed form", "‖x_t − x*‖² = Σᵢ (1 − ηλᵢ)^(2t) cᵢ²,   cᵢ = ⟨vᵢ, x₀ − x*⟩")
    .formula("GD estimate", "κ·ln(1/ε),   κ = λ_max / λ_min over the non-zero spectrum of AᵀA")
    .formula("CG estimate", "½√κ·ln(2/ε)   (from ‖e_k‖_H ≤ 2((√κ − 1)/(√κ + 1))^k ‖e₀‖_H, Golub & Van Loan Thm 11.3.3)")
}

/// How the three solvers compare, in words.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let eps = s.config.eps;
    let mut v = vec![match (s.gd.iterations, s.cg.iterations) {
        (Some(g), Some(c)) => format!(
            "to relative error {eps:e}, GD needed {g} steps and CG {c} where Newton needs one solve: GD took {:.0}× as many steps as CG (κ = {:.3e})",
            g as f64 / c.max(1) as f64,
            s.kappa
        ),
        (None, Some(c)) => format!(
            "GD did not reach relative error {eps:e} within {} steps (the estimate is {:.0}); CG took {c} iterations, Newton one solve",
            s.config.max_gd_steps, s.gd.estimate
        ),
        (g, None) => format!(
            "CG did not reach relative error {eps:e}; GD {}",
            g.map_or("did not either".into(), |k| format!("took {k} steps"))
        ),
    }];
    if let Some(g) = s.gd.iterations {
        v.push(format!(
            "GD's count is {:.2}× its estimate κ·ln(1/ε) = {:.0}",
            g as f64 / s.gd.estimate.max(1.0),
            s.gd.estimate
        ));
    }
    v.push(format!(
        "measured GD errors follow the closed form to within {:.1e} of the initial error",
        s.gd_closed_form_max_deviation
    ));
    v
}
