//! The words of a `tickets` report: the question, the four masks, and verdicts computed from
//! the overlaps, accuracies and gaps.

use super::masks::MaskKind;
use super::{MaskStats, Summary};
use crate::report::about::{percent, points_against};
use crate::report::table::pct;
use crate::report::About;

/// The question, the masks and the formulas.
pub fn about() -> About {
    About::new(
        "Is the lottery ticket already in the tangent space at θ₀? If training is lazy, θ_T ≈ θ₀ + δ with δ the Newton step, so the mask that magnitude pruning keeps after training should be visible before any training as top-|θ₀ + δ|, and better than the magnitude at init.",
    )
    .method("For each width and seed: the dense network's Newton step δ at θ₀ (full empirical NTK, ridge matched to GD) and the dense network trained by full-batch GD on squared error.")
    .method("At each sparsity four masks with the per-layer counts of iterative magnitude pruning (hidden layers keep s, the output layer s^(ln 0.9/ln 0.8)): IMP (one-shot top-|θ_T|), tangent (top-|θ₀ + δ|), init (top-|θ₀|) and random.")
    .method("Each mask's subnetwork is (a) trained from θ₀ by the same GD and (b) solved by one Newton step in its own tangent space, with the kernel K_S of the kept columns; (c) is the gap between their test outputs.")
    .formula("Newton step of a subnetwork", "(K_S + λI)α = Y − f(X; m⊙θ₀),   δ = J_Sᵀα,   K_S = J_S J_Sᵀ")
    .formula("its prediction", "f_lin(X*) = f(X*; m⊙θ₀) + J_S(X*) δ")
    .formula("GD step and matched ridge", "η = c·n/λ_max(K_S),   λ = n/(ηT) = λ_max(K_S)/(cT)")
    .formula("overlap", "J(A, B) = |A ∩ B| / |A ∪ B|,   chance ≈ q/(2 − q) per layer, q = kept fraction")
    .formula("function gap", "‖f_trained − f_lin‖ / ‖f_trained‖ on the test inputs")
}

fn find(s: &Summary, scale: f64, keep: f64, kind: MaskKind) -> Option<&MaskStats> {
    s.stats
        .iter()
        .find(|m| m.width_scale == scale && m.keep == keep && m.kind == kind)
}

/// One verdict per width on the overlaps, then the accuracies and the gap at the widest.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let c = &s.config;
    let mut out = Vec::new();
    for &scale in &c.width_scales {
        let mut wins = 0;
        let mut parts = Vec::new();
        for &keep in &c.keep {
            let (Some(t), Some(i)) = (
                find(s, scale, keep, MaskKind::Tangent),
                find(s, scale, keep, MaskKind::Init),
            ) else {
                continue;
            };
            if t.jaccard.0 > i.jaccard.0 {
                wins += 1;
            }
            parts.push(format!(
                "{:.2} vs {:.2} (top-|θ₀|) and {:.2} by chance at {} kept",
                t.jaccard.0,
                i.jaccard.0,
                t.chance,
                percent(t.percent_remaining / 100.0)
            ));
        }
        out.push(format!(
            "width ×{scale}: the tangent mask overlaps the IMP mask {}; it beats top-|θ₀| at {wins} of {} sparsities",
            parts.join(", "),
            parts.len()
        ));
    }
    if let Some(&widest) = c.width_scales.last() {
        out.extend(accuracy_verdicts(s, widest));
    }
    out
}

/// How the tangent and init tickets train, and where the tangent picture stops describing
/// sparse training, at one width.
fn accuracy_verdicts(s: &Summary, scale: f64) -> Vec<String> {
    let c = &s.config;
    let mut out = Vec::new();
    let Some(&sparsest) = c.keep.last() else {
        return out;
    };
    let at = |kind| find(s, scale, sparsest, kind);
    if let (Some(imp), Some(t), Some(r)) = (
        at(MaskKind::Imp),
        at(MaskKind::Tangent),
        at(MaskKind::Random),
    ) {
        out.push(format!(
            "width ×{scale}, {} kept: trained from θ₀ the tangent ticket reaches {} test accuracy, {} the IMP ticket ({}) and {} random pruning ({})",
            percent(t.percent_remaining / 100.0),
            pct(t.accuracy_trained.0),
            points_against(t.accuracy_trained.0, imp.accuracy_trained.0),
            pct(imp.accuracy_trained.0),
            points_against(t.accuracy_trained.0, r.accuracy_trained.0),
            pct(r.accuracy_trained.0),
        ));
    }
    let gaps: Vec<String> = c
        .keep
        .iter()
        .filter_map(|&k| find(s, scale, k, MaskKind::Imp))
        .map(|m| format!("{:.3} at {}", m.gap.0, percent(m.percent_remaining / 100.0)))
        .collect();
    let dense: Vec<f64> = s
        .dense
        .iter()
        .filter(|d| d.width_scale == scale)
        .map(|d| d.gap)
        .collect();
    let dense_gap = dense.iter().sum::<f64>() / dense.len().max(1) as f64;
    out.push(format!(
        "width ×{scale}: the gap ‖f_trained − f_lin‖/‖f_trained‖ is {dense_gap:.3} for the dense network and, for the IMP subnetworks, {}",
        gaps.join(", ")
    ));
    out
}
