//! The words of a `linearize --loss cross-entropy` report.

use super::Summary;
use crate::report::table::pct;
use crate::report::About;
use crate::tangent::pointwise_newton::{Limit, Verdict};

/// The question, the methods and the formulas.
pub fn about() -> About {
    About::new(
        "For squared error the tangent problem at θ₀ is one linear system; for cross-entropy it is convex but not quadratic. How many Newton iterations does it take, do the function-space and parameter-space solves agree, and does the network trained on cross-entropy stay near its linearisation?",
    )
    .method("Function space: δ = Jᵀα, damped Newton on α with the SPD system B = λI + SKS (S = W^{1/2}, W the block-diagonal softmax Hessians) and Armijo backtracking.")
    .method("Parameter space: Newton-CG with the Gauss–Newton operator JᵀWJ + λI, one JVP and one VJP per product, no kernel formed.")
    .method("The ridge path λ₀, λ₀/10, … tells a finite λ → 0 limit from separable data. The network is trained by full-batch GD and by Adam on the same cross-entropy; GD on the linearised model runs beside it.")
    .formula("tangent objective", "F(δ) = (1/n)[Σᵢ CE(f₀ᵢ + (Jδ)ᵢ, yᵢ) + (λ/2)‖δ‖²]")
    .formula("Newton in function space", "α⁺ = (b − S B⁻¹ S K b)/λ,   b = W Kα − g,   B = λI + S K S")
    .formula("Newton-CG", "(JᵀWJ + λI) d = −(Jᵀg + λδ)")
    .formula("gap", "‖f_net − f_lin‖ / ‖f_net‖ on the test logits")
}

/// Iterations, agreement, the λ → 0 verdict, accuracies and the gap's trend.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    let conv = match s.newton_verdict {
        Verdict::Converged => "converged",
        Verdict::MaxIterations => "did NOT converge within the iteration cap",
        Verdict::LineSearchFailed => "stopped: no step gave sufficient decrease",
    };
    out.push(format!(
        "Newton on the tangent problem {conv} in {} iterations (not 1, as for squared error); Newton-CG in parameter space took {} iterations and {} Gauss–Newton products and lands {:.1e} from Jᵀα",
        s.newton_iterations, s.newton_cg_iterations, s.cg_products, s.newton_cg_vs_newton
    ));
    out.push(match &s.lambda_path.limit {
        Limit::Finite { lambda } => format!("as λ → 0 the tangent solution settles (by λ = {lambda:.0e}): a finite minimiser exists"),
        Limit::NoFiniteMinimiser { lambda, min_margin } => format!(
            "the training set is separable in the tangent space: every margin is positive (smallest {min_margin:.2} at λ = {lambda:.0e}) and ‖Kα‖ keeps growing per decade of λ, so at λ = 0 there is no finite minimiser"
        ),
        Limit::Undecided { lambda } => format!("the ridge path down to λ = {lambda:.0e} neither settled nor showed separation"),
    });
    out.push(format!(
        "test accuracy: Newton step {}, GD on the network {}, Adam {}; test-logit gap to the Newton solution {:.3} (GD) and {:.3} (Adam)",
        pct(s.newton.accuracy),
        pct(s.gd.accuracy),
        pct(s.adam.accuracy),
        s.gap_gd_vs_newton,
        s.gap_adam_vs_newton
    ));
    if let (Some(a), Some(b)) = (s.curve.first(), s.curve.last()) {
        out.push(format!(
            "over GD time the network's gap to its linearisation goes {:.3} → {:.3} (steps {} → {}) while its mean training margin goes {:.2} → {:.2} and its test-logit norm {:.1} → {:.1}",
            a.gap, b.gap, a.step, b.step, a.network_train_margin, b.network_train_margin, a.network_logit_norm, b.network_logit_norm
        ));
    }
    out
}
