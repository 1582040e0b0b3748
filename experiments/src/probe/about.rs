//! The words of a `probe` report: the question, the five answers, and verdicts computed from
//! the accuracies, AUCs and alignments.

use super::kernels::KernelKind;
use super::report::{best_feature, best_unit, detector_mean, find, net_mean};
use super::run::Point;
use super::Summary;
use crate::report::about::points_against;
use crate::report::table::pct;
use crate::report::About;

/// The question, the methods and the formulas.
pub fn about() -> About {
    About::new(
        "Are the lottery tickets detectors that already exist at initialisation, functions of the tangent space at θ₀, or something only training makes? Each answer predicts a different ranking of five solves and of the best single detectors.",
    )
    .method("For each width and seed a network is trained by full-batch GD on squared error; at θ₀ and at the trained θ_T every kernel below is used for two ridge solves: the tangent step from the network at that point, and the kernel alone from zero.")
    .method("Kernels: (i) the conjugate kernel of the last hidden layer, a new readout of the units that exist (random features at θ₀); (ii) each layer's own tangent kernel K_l; (iii) the whole NTK, whose step at θ₀ is the one Newton step; (iv) the NTK at θ_T, the after-kernel. (v) is the trained network itself.")
    .method("Detectors: the best single hidden unit for each class, and the best single tangent feature ∂f_a/∂θ_j (a column of J, sampled per layer) as a detector of class a, by one-vs-rest AUC on the test inputs.")
    .formula("tangent step at θ", "f(X*; θ) + K*(K + λI)⁻¹(Y − f(X; θ))")
    .formula("kernel alone", "K*(K + λI)⁻¹ Y,   λ = λ_max(K)/(c·T)")
    .formula("layer kernels", "K = Σ_l K_l,   K_l = (s_l² A_{l−1}A_{l−1}ᵀ + σ_b²) ⊙ Δ_lΔ_lᵀ (traced over outputs)")
    .formula("conjugate kernel", "K_CK = s_L² Φ Φᵀ,   Φ = φ(z_{L−1}) the last hidden layer")
    .formula("alignment", "A(K, YYᵀ) = ⟨K, YYᵀ⟩ / (‖K‖ ‖YYᵀ‖);   centred: A(HKH, HYYᵀH),   H = I − 11ᵀ/n")
    .formula("AUC", "(Σ_{positives} rank − n₊(n₊+1)/2) / (n₊ n₋),   detector score max(AUC, 1 − AUC)")
}

/// The widest and the narrowest widths: accuracies, detectors, alignment.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let (Some(&lo), Some(&hi)) = (s.config.widths.first(), s.config.widths.last()) else {
        return vec![];
    };
    let acc = |w, p, k, newton: bool| {
        find(s, w, p, k).map_or(f64::NAN, |m| {
            if newton {
                m.accuracy_newton.0
            } else {
                m.accuracy_from_zero.0
            }
        })
    };
    let mut out = Vec::new();
    for w in [lo, hi] {
        let trained = net_mean(s, w, |n| n.accuracy_trained);
        let newton = acc(w, Point::Init, KernelKind::Ntk, true);
        let ck = acc(w, Point::Init, KernelKind::Conjugate, false);
        out.push(format!(
            "width {w}: one Newton step with the NTK at θ₀ reaches {} ({} the trained network's {}, function gap {:.3}); a new readout of the units at θ₀ (CK) reaches {}",
            pct(newton),
            points_against(newton, trained),
            pct(trained),
            net_mean(s, w, |n| n.gap_to_newton),
            pct(ck)
        ));
    }
    let unit = |p| detector_mean(s, hi, p, best_unit);
    let feat = |p| detector_mean(s, hi, p, best_feature);
    out.push(format!(
        "width {hi}: the best single hidden unit detects its class with AUC {:.3} at θ₀ and {:.3} after training; the best single tangent feature {:.3} and {:.3}",
        unit(Point::Init),
        unit(Point::Trained),
        feat(Point::Init),
        feat(Point::Trained)
    ));
    let align = |w, p| find(s, w, p, KernelKind::Ntk).map_or(f64::NAN, |m| m.centred_alignment.0);
    out.push(format!(
        "the NTK's centred alignment with the labels goes from {:.3} at θ₀ to {:.3} at θ_T at width {lo}, and from {:.3} to {:.3} at width {hi}; the after-kernel alone reaches {} at width {hi} against {} for the θ₀ NTK alone",
        align(lo, Point::Init),
        align(lo, Point::Trained),
        align(hi, Point::Init),
        align(hi, Point::Trained),
        pct(acc(hi, Point::Trained, KernelKind::Ntk, false)),
        pct(acc(hi, Point::Init, KernelKind::Ntk, false))
    ));
    out
}
