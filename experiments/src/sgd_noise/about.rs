//! The words of an `sgd-noise` report.

use super::{CellStats, Summary};
use crate::report::table::pct;
use crate::report::About;

/// The question, the methods and the formulas.
pub fn about() -> About {
    About::new(
        "Among the many functions that fit the training set, which one does SGD land on, and where does its randomness come from: the initialisation θ₀ or the order of the minibatches?",
    )
    .method("A grid of init seeds × order seeds, at several batch sizes and widths: the network and its linearisation at θ₀ trained by the same minibatch SGD (same batches, same step η) on squared error for T steps.")
    .method("A two-way random-effects ANOVA of the test predictions splits their spread into an init part, an order part and the interaction.")
    .method("The across-init mean and variance are set against the NTK-GP after T steps, with the traced NTK and the NNGP kernel (the readout's tangent kernel, the covariance of f₀) averaged over the inits.")
    .method("Each run's distance to its init's Newton step at λ → 0 (the minimum-norm interpolant), and to full-batch GD for T steps on the linearised model, both from one eigendecomposition of the full NTK.")
    .formula("linear SGD", "δ ← δ − η·(1/b)·J_Bᵀ(f₀_B + J_B δ − Y_B)   (stays in the row space of J)")
    .formula("ANOVA", "P_ij = μ + A_i + B_j + E_ij;  shares SS_init, SS_order, SS_inter of Σ(P_ij − μ)²")
    .formula("NTK-GP (Lee et al. 2019)", "μ_t = A_t Y,  Σ_t = K** + A_t K A_tᵀ − A_t K*ᵀ − K* A_tᵀ,  A_t = Θ*Θ⁻¹(I − (I − ηΘ/n)ᵗ)")
    .formula("distance to Newton", "‖f_SGD − f_Newton‖ / ‖f_Newton − f₀‖ on the test inputs")
}

fn extreme(cells: &[CellStats], f: impl Fn(&CellStats) -> f64) -> Option<(&CellStats, f64)> {
    cells
        .iter()
        .map(|c| (c, f(c)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Where the spread comes from, per model, the GP agreement and the trend in width.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    let order_net = |c: &CellStats| c.net.order_share + c.net.interaction_share;
    let order_lin = |c: &CellStats| c.lin.order_share + c.lin.interaction_share;
    if let (Some((cn, vn)), Some((cl, vl))) =
        (extreme(&s.cells, order_net), extreme(&s.cells, order_lin))
    {
        let min_init = s
            .cells
            .iter()
            .map(|c| c.net.init_share)
            .fold(f64::INFINITY, f64::min);
        out.push(format!(
            "the randomness of the trained network comes {} from θ₀: the init explains at least {} of the spread of its test predictions in every cell; the data order (with its interaction) at most {} (width {}, batch {})",
            if min_init > 0.5 { "mostly" } else { "NOT mostly" },
            pct(min_init), pct(vn), cn.width, cn.batch
        ));
        out.push(format!(
            "in the linear model the order's part is at most {} (width {}, batch {}): SGD in the tangent space from θ₀ lands {} wherever the batches fall",
            pct(vl), cl.width, cl.batch,
            if vl < 0.01 { "on the same function" } else { "near, not on, one function" }
        ));
    }
    if let Some((c, worst)) = extreme(&s.cells, |c| {
        c.gp_mean_error_net / c.gp_mean_noise_floor.max(1e-300)
    }) {
        out.push(format!(
            "the networks' across-init mean is {} the NTK-GP mean: its error is at most {:.1}× the sampling noise of {} inits (width {}, batch {}: {:.3} against {:.3})",
            if worst < 3.0 { "consistent with" } else { "NOT consistent with" },
            worst, s.config.inits, c.width, c.batch, c.gp_mean_error_net, c.gp_mean_noise_floor
        ));
    }
    if let Some((c, worst)) = extreme(&s.cells, |c| {
        c.gp_covariance_error_net / c.gp_covariance_noise_floor.max(1e-300)
    }) {
        let floor = c.gp_covariance_noise_floor;
        out.push(if floor > 0.5 {
            format!(
                "the full across-init covariance cannot be tested with {} inits: a sample of that size drawn from the GP itself would be {:.2} off (relative Frobenius); the networks' is {:.2} off at width {}, batch {} — use the variances and their correlation, or more --inits",
                s.config.inits, floor, c.gp_covariance_error_net, c.width, c.batch
            )
        } else {
            format!(
                "their across-init covariance over the test inputs is {} the NTK-GP's: its error is at most {:.1}× what {} draws from the GP itself would show (width {}, batch {}: {:.3} against {:.3})",
                if worst < 2.0 { "consistent with" } else { "NOT consistent with" },
                worst, s.config.inits, c.width, c.batch, c.gp_covariance_error_net, floor
            )
        });
    }
    for c in s
        .cells
        .iter()
        .filter(|c| c.batch == s.cells.iter().map(|c| c.batch).min().unwrap_or(0))
    {
        out.push(format!(
            "width {}, batch {}: network across-init variance {:.3} against the GP's {:.3} (ratio {:.2}); distance to the Newton step {:.3} (network) and {:.3} (linear model)",
            c.width, c.batch, c.init_variance_net, c.gp_variance,
            c.init_variance_net / c.gp_variance.max(1e-300), c.net_vs_newton, c.lin_vs_newton
        ));
    }
    out
}
