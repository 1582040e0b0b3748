//! The four masks of `tickets` at one sparsity, and how much they overlap.
//!
//! Sparsity is given as the fraction s of each hidden layer's weights kept; the output layer
//! keeps s^(ln 0.9 / ln 0.8), the fraction iterative magnitude pruning leaves there after
//! the same number of rounds at the paper's rates (20% of each hidden layer and 10% of the
//! output layer per round; Frankle & Carbin 2019, §2), so every mask has IMP's per-layer
//! counts. All four masks keep exactly the same number of weights in each layer.

use anyhow::{anyhow, Result};
use autodiff::mlp::Mask;
use linalg::Real;
use serde::Serialize;

/// Which rule chose the kept weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaskKind {
    /// One-shot magnitude pruning of the trained dense network: top-|θ_T| per layer.
    Imp,
    /// Top-|θ₀ + δ| per layer, δ the dense Newton step at θ₀: no training at all.
    Tangent,
    /// Top-|θ₀| per layer: magnitude at initialisation.
    Init,
    /// Uniformly random, with the same per-layer counts.
    Random,
}

impl MaskKind {
    /// Every kind, in table order.
    pub const ALL: [MaskKind; 4] = [
        MaskKind::Imp,
        MaskKind::Tangent,
        MaskKind::Init,
        MaskKind::Random,
    ];

    /// The name used in tables, charts and files.
    pub fn name(self) -> &'static str {
        match self {
            MaskKind::Imp => "imp",
            MaskKind::Tangent => "tangent",
            MaskKind::Init => "init",
            MaskKind::Random => "random",
        }
    }

    /// The ranking in words, for table titles and the report.
    pub fn rule(self) -> &'static str {
        match self {
            MaskKind::Imp => "top-|θ_T| (trained dense network)",
            MaskKind::Tangent => "top-|θ₀ + δ| (dense Newton step, no training)",
            MaskKind::Init => "top-|θ₀| (magnitude at init)",
            MaskKind::Random => "random, same per-layer counts",
        }
    }
}

/// Fraction of the output layer kept when a fraction `keep_hidden` of each hidden layer is:
/// the same number of IMP rounds at 20% (hidden) and 10% (output) per round.
pub fn output_keep(keep_hidden: f64) -> f64 {
    keep_hidden.powf(0.9f64.ln() / 0.8f64.ln())
}

/// Per-layer pruning fractions (of the dense network) for hidden keep fraction `keep`.
pub fn prune_fractions(layers: usize, keep: f64) -> Vec<f64> {
    let mut f = vec![1.0 - keep; layers];
    if let Some(last) = f.last_mut() {
        *last = 1.0 - output_keep(keep);
    }
    f
}

/// The four masks at one sparsity, in [`MaskKind::ALL`] order.
pub struct MaskSet {
    /// (kind, mask), IMP first.
    pub masks: Vec<(MaskKind, Mask)>,
}

impl MaskSet {
    /// Builds the masks from the trained θ_T, θ₀ and the dense Newton step δ. `random_seed`
    /// draws the random mask.
    pub fn build<T: Real>(
        dense: &Mask,
        keep: f64,
        theta_trained: &[T],
        theta0: &[T],
        delta: &[T],
        random_seed: u64,
    ) -> Result<MaskSet> {
        let fractions = prune_fractions(dense.layout().num_layers(), keep);
        let by = |theta: &[T]| {
            dense
                .prune_by_magnitude(theta, &fractions)
                .map_err(|e| anyhow!("magnitude pruning: {e}"))
        };
        let moved: Vec<T> = theta0.iter().zip(delta).map(|(&a, &d)| a + d).collect();
        let imp = by(theta_trained)?;
        let random = imp.random_like(random_seed);
        let (tangent, init) = (by(&moved)?, by(theta0)?);
        Ok(MaskSet {
            masks: vec![
                (MaskKind::Imp, imp),
                (MaskKind::Tangent, tangent),
                (MaskKind::Init, init),
                (MaskKind::Random, random),
            ],
        })
    }

    /// The IMP mask.
    pub fn imp(&self) -> &Mask {
        &self.masks[0].1
    }
}

/// Jaccard overlap |A ∩ B| / |A ∪ B| of the kept weights of each layer (1 for two empty
/// sets), then over all weights together as the last entry. Biases are not counted.
pub fn jaccard(a: &Mask, b: &Mask) -> Vec<f64> {
    let layout = a.layout();
    let (ka, kb) = (a.keep(), b.keep());
    let mut per_layer = Vec::new();
    let (mut inter_all, mut union_all) = (0usize, 0usize);
    for l in 0..layout.num_layers() {
        let w = layout.weight(l);
        let range = w.offset..w.offset + w.len;
        let inter = range.clone().filter(|&i| ka[i] && kb[i]).count();
        let union = range.filter(|&i| ka[i] || kb[i]).count();
        inter_all += inter;
        union_all += union;
        per_layer.push(ratio(inter, union));
    }
    per_layer.push(ratio(inter_all, union_all));
    per_layer
}

fn ratio(inter: usize, union: usize) -> f64 {
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// The Jaccard overlap two independent uniformly random masks with `mask`'s per-layer counts
/// have in expectation, per layer and then over all weights: for k of N items,
/// E|A ∩ B| = k²/N and E|A ∪ B| = 2k − k²/N, so J ≈ q/(2 − q) with q = k/N (the ratio of the
/// expectations, exact to O(1/k)).
pub fn chance_jaccard(mask: &Mask) -> Vec<f64> {
    let layout = mask.layout();
    let (mut inter, mut union) = (0.0, 0.0);
    let mut out: Vec<f64> = mask
        .kept_per_layer()
        .iter()
        .enumerate()
        .map(|(l, &k)| {
            let (k, n) = (k as f64, layout.weight(l).len as f64);
            let i = k * k / n.max(1.0);
            inter += i;
            union += 2.0 * k - i;
            if union > 0.0 && 2.0 * k - i > 0.0 {
                i / (2.0 * k - i)
            } else {
                1.0
            }
        })
        .collect();
    out.push(if union > 0.0 { inter / union } else { 1.0 });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use autodiff::mlp::ParamLayout;

    #[test]
    fn output_keep_matches_the_imp_schedule() {
        for r in 0..12 {
            let hidden = 0.8f64.powi(r);
            assert!((output_keep(hidden) - 0.9f64.powi(r)).abs() < 1e-12);
        }
    }

    #[test]
    fn jaccard_of_a_hand_made_pair() {
        let layout = ParamLayout::new(&[2, 2, 1]).unwrap();
        let mut ka = vec![true; layout.total()];
        let mut kb = ka.clone();
        let w0 = layout.weight(0).offset;
        // Layer 0 has 4 weights: A keeps {0, 1}, B keeps {1, 2}: J = 1/3.
        for (i, (a, b)) in [(true, false), (true, true), (false, true), (false, false)]
            .into_iter()
            .enumerate()
        {
            ka[w0 + i] = a;
            kb[w0 + i] = b;
        }
        let a = Mask::from_keep(&layout, ka).unwrap();
        let b = Mask::from_keep(&layout, kb).unwrap();
        let j = jaccard(&a, &b);
        assert!((j[0] - 1.0 / 3.0).abs() < 1e-15, "{j:?}");
        assert_eq!(j[1], 1.0);
        // Overall: layer 0 gives 1 of 3, layer 1 (2 weights, both kept) 2 of 2.
        assert!((j[2] - 3.0 / 5.0).abs() < 1e-15, "{j:?}");
    }
}
