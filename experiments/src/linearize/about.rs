//! The words of a `linearize` report: what was run and why, and verdicts from the numbers.

use super::Summary;
use crate::model::KernelForm;
use crate::report::about::{percent, points_against};
use crate::report::About;

/// The question, the three methods and the formulas they evaluate.
pub fn about(s: &Summary) -> About {
    let kernel = match s.kernel_form {
        KernelForm::Full => "the full empirical NTK K = JJᵀ (one row and column per sample and output)",
        KernelForm::Traced => "the output-traced NTK K̄ = (1/o)Σₐ K[(i,a),(j,a)] (one row and column per sample; the full kernel did not fit the memory budget)",
    };
    About::new(
        "Is training a neural network the same as one Newton step in the tangent space of its random initialisation θ₀? If it is, the network trained by gradient descent and the linear model f_lin that one solve gives make the same predictions.",
    )
    .method(&format!(
        "Newton step: the network is replaced by its first-order Taylor expansion f_lin at θ₀. Fitting the training data with it under squared error is a ridge-regularised linear least-squares problem, solved exactly in one step; in function space it is kernel regression with {kernel}."
    ))
    .method(&format!(
        "GD on the network: {} steps of full-batch gradient descent on the real network from θ₀, with step η = {:.4} (half the largest stable step 2n/λ_max unless set).",
        s.config.steps, s.lr
    ))
    .method("GD on the linearisation: the same steps on f_lin, computed in closed form from the eigendecomposition of K. Where training is lazy this curve and the network's coincide, and both approach the Newton step; the gap between them measures how non-linear training was.")
    .formula("linearised network", "f_lin(x; θ) = f(x; θ₀) + J(x)(θ − θ₀),   J(x) = ∂f(x; θ₀)/∂θ")
    .formula("loss", "L(θ) = ‖f(X; θ) − Y‖² / (2n)")
    .formula("empirical NTK", "K = J(X) J(X)ᵀ,   K(x, X) = J(x) J(X)ᵀ")
    .formula("Newton step (ridge λ)", "δ = J(X)ᵀ (K + λI)⁻¹ (Y − f₀),   f_Newton(x) = f₀(x) + K(x, X)(K + λI)⁻¹(Y − f₀)")
    .formula("GD on f_lin, closed form", "f_t(X) − Y = (I − ηK/n)ᵗ (f₀(X) − Y) = Σᵢ (1 − ηλᵢ/n)ᵗ ⟨vᵢ, f₀ − Y⟩ vᵢ")
    .formula("GD steps to accuracy ε", "≈ κ·ln(1/ε),   κ = λ_max(K + λI) / λ_min(K + λI)")
}

/// Verdicts in plain words, each computed from the run's numbers.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let mut v = Vec::new();
    if let (Some(n), Some(g)) = (s.newton.test_accuracy, s.gd.test_accuracy) {
        v.push(format!(
            "the one-step answer is {} the trained network on test accuracy ({} vs {})",
            points_against(n, g),
            percent(n),
            percent(g)
        ));
    } else {
        v.push(format!(
            "test loss: Newton step {:.4}, trained network {:.4}",
            s.newton.test_loss, s.gd.test_loss
        ));
    }
    v.push(laziness(s));
    v.push(match s.steps_to_newton_loss_gd {
        Some(k) => format!(
            "GD on the network reached the Newton step's training loss (within 1%) after {k} steps; the estimate κ·ln(1/ε) is {:.0}",
            s.steps_estimate
        ),
        None => format!(
            "{} GD steps did not reach the Newton step's training loss (within 1%); the closed form needs {}, the estimate κ·ln(1/ε) is {:.0}",
            s.config.steps,
            s.steps_to_newton_loss_linearized
                .map_or("more than 1e15".into(), |k| format!("{k:.0}")),
            s.steps_estimate
        ),
    });
    v
}

/// "lazy" when the kernel moved by under 10% (the linear model's kernel is frozen at K₀),
/// "not lazy" beyond 50%, "partly lazy" between.
fn laziness(s: &Summary) -> String {
    let params = percent(s.relative_parameter_change);
    let gap = percent(s.function_gap_test);
    match s.relative_kernel_change {
        Some(k) => {
            let word = if k < 0.1 {
                "lazy"
            } else if k < 0.5 {
                "partly lazy"
            } else {
                "not lazy"
            };
            format!(
                "training moved the parameters by {params} and the kernel by {}: {word}; the trained network's test predictions differ from the linearised model's by {gap}",
                percent(k)
            )
        }
        None => format!(
            "training moved the parameters by {params} (kernel change not computed); the trained network's test predictions differ from the linearised model's by {gap}"
        ),
    }
}
