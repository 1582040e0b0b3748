//! Pruning masks over θ: which parameters a subnetwork keeps (Frankle & Carbin, "The Lottery
//! Ticket Hypothesis", ICLR 2019).
//!
//! A [`Mask`] holds one flag per entry of θ, laid out by [`ParamLayout`]. Only weight
//! matrices are pruned; biases are always kept (as in the paper and in open_lth, whose
//! pruning strategies only ever see weight tensors). Pruning returns a new mask, so a round
//! of iterative magnitude pruning is `mask = mask.prune_by_magnitude(&θ_trained, …)?` and the
//! masks of earlier rounds stay available for the controls.
//!
//! Counts follow one rule everywhere: of the `kept` weights of a group, `round(fraction ×
//! kept)` are removed (round half away from zero), so twenty-percent rounds on a layer of 300
//! leave 240, 192, 154, … — the product 0.8^r up to one rounding per round. (open_lth's
//! `sparse_global` differs: it takes ceil(fraction × remaining) over the whole mask, output
//! layer included, and prunes every weight with |w| ≤ the value at that sorted position, so
//! one more, plus ties; counts here are exact instead.)

use super::layout::{ParamKind, ParamLayout};
use crate::error::{AdError, Result};
use linalg::Real;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Which entries of θ a subnetwork keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    layout: ParamLayout,
    keep: Vec<bool>,
}

impl Mask {
    /// The dense network: every parameter kept.
    pub fn dense(layout: &ParamLayout) -> Mask {
        Mask {
            layout: layout.clone(),
            keep: vec![true; layout.total()],
        }
    }

    /// A mask from one flag per entry of θ (true = kept).
    ///
    /// Errors when the length is not `layout.total()` or a bias entry is pruned (biases are
    /// never pruned; a mask that prunes one comes from another layout or is corrupt).
    pub fn from_keep(layout: &ParamLayout, keep: Vec<bool>) -> Result<Mask> {
        if keep.len() != layout.total() {
            return Err(AdError::Shape {
                what: format!(
                    "the mask has {} entries, the layout {}",
                    keep.len(),
                    layout.total()
                ),
            });
        }
        for e in layout
            .entries()
            .iter()
            .filter(|e| e.kind == ParamKind::Bias)
        {
            if let Some(i) = keep[e.offset..e.offset + e.len].iter().position(|&k| !k) {
                return Err(AdError::InvalidArgument {
                    what: format!(
                        "the mask prunes bias {}[{i}]; biases are never pruned",
                        e.name
                    ),
                });
            }
        }
        Ok(Mask {
            layout: layout.clone(),
            keep,
        })
    }

    /// The layout the mask is laid out by.
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    /// One flag per entry of θ (true = kept).
    pub fn keep(&self) -> &[bool] {
        &self.keep
    }

    /// Kept entries of the weight matrix of `layer` (biases are not counted).
    pub fn kept(&self, layer: usize) -> Result<usize> {
        self.check_layer(layer)?;
        let w = self.layout.weight(layer);
        Ok(self.keep[w.offset..w.offset + w.len]
            .iter()
            .filter(|&&k| k)
            .count())
    }

    /// Kept weights of every layer, in layer order.
    pub fn kept_per_layer(&self) -> Vec<usize> {
        (0..self.layout.num_layers())
            .map(|l| self.kept(l).unwrap_or(0))
            .collect()
    }

    /// Fraction of weights kept, Σ_l kept(l) / Σ_l |W_l| — the paper's "percent of weights
    /// remaining" (biases, never pruned, are left out of both sums).
    pub fn fraction_kept(&self) -> f64 {
        let total: usize = (0..self.layout.num_layers())
            .map(|l| self.layout.weight(l).len)
            .sum();
        let kept: usize = self.kept_per_layer().iter().sum();
        kept as f64 / total as f64
    }

    /// Sets the pruned entries of θ to exactly 0.
    pub fn apply<T: Real>(&self, theta: &mut [T]) -> Result<()> {
        self.check_len("θ", theta.len())?;
        // A select, not a branch: with most weights pruned at random a branch mispredicts
        // on every other entry, and this runs twice per training step. Each entry is set by
        // one task, so the split cannot change the result.
        use rayon::prelude::*;
        const GRAIN: usize = 1 << 15;
        let select = |t: &mut [T], keep: &[bool]| {
            for (t, &k) in t.iter_mut().zip(keep) {
                *t = if k { *t } else { T::zero() };
            }
        };
        if theta.len() > GRAIN && rayon::current_num_threads() > 1 {
            theta
                .par_chunks_mut(GRAIN)
                .zip(self.keep.par_chunks(GRAIN))
                .for_each(|(t, k)| select(t, k));
        } else {
            select(theta, &self.keep);
        }
        Ok(())
    }

    /// Sets the pruned entries of a gradient (or any vector laid out like θ) to exactly 0, so
    /// that an update built from it never moves a pruned weight.
    pub fn apply_to_gradient<T: Real>(&self, grad: &mut [T]) -> Result<()> {
        // The same operation as `apply`; a second name keeps call sites saying what they mask.
        self.apply(grad)
    }

    /// Layer-wise magnitude pruning: from the kept weights of each layer l, removes the
    /// `round(fractions[l] × kept(l))` of smallest |θ| (the paper's per-layer rates, e.g.
    /// 0.2 for hidden layers and 0.1 for the output layer).
    ///
    /// Ties in |θ| go to the lower index (pruned first), so the result does not depend on
    /// sorting details. Errors on a θ of the wrong length, a NaN among the kept weights, or
    /// a fraction outside [0, 1] or a count of fractions other than the number of layers.
    pub fn prune_by_magnitude<T: Real>(&self, theta: &[T], fractions: &[f64]) -> Result<Mask> {
        self.check_len("θ", theta.len())?;
        if fractions.len() != self.layout.num_layers() {
            return Err(AdError::Shape {
                what: format!(
                    "{} pruning fractions for {} layers",
                    fractions.len(),
                    self.layout.num_layers()
                ),
            });
        }
        let mut keep = self.keep.clone();
        for (layer, &fraction) in fractions.iter().enumerate() {
            let group = self.kept_indices(&[layer]);
            let count = prune_count(fraction, group.len())?;
            for i in smallest(theta, group, count)? {
                keep[i] = false;
            }
        }
        Ok(Mask {
            layout: self.layout.clone(),
            keep,
        })
    }

    /// Global magnitude pruning (open_lth's `sparse_global` with the output layer ignored):
    /// the kept weights of all layers but the output layer are ranked together, and the
    /// `round(fraction × kept)` of smallest |θ| are removed; the output layer is never
    /// pruned. Ties as in [`Mask::prune_by_magnitude`].
    pub fn prune_global<T: Real>(&self, theta: &[T], fraction: f64) -> Result<Mask> {
        self.check_len("θ", theta.len())?;
        let hidden: Vec<usize> = (0..self.layout.num_layers() - 1).collect();
        let group = self.kept_indices(&hidden);
        let count = prune_count(fraction, group.len())?;
        let mut keep = self.keep.clone();
        for i in smallest(theta, group, count)? {
            keep[i] = false;
        }
        Ok(Mask {
            layout: self.layout.clone(),
            keep,
        })
    }

    /// The random-pruning control: a mask keeping, in every layer, as many weights as this
    /// one, chosen uniformly at random (ChaCha8 seeded with `seed`; the same seed gives the
    /// same mask on any machine). Biases are kept.
    pub fn random_like(&self, seed: u64) -> Mask {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut keep = vec![true; self.layout.total()];
        for layer in 0..self.layout.num_layers() {
            let w = self.layout.weight(layer);
            let kept = self.kept(layer).unwrap_or(w.len);
            keep[w.offset..w.offset + w.len].fill(false);
            // Sorted so the sequence of writes, not only the set, is fixed by the seed.
            let mut chosen = rand::seq::index::sample(&mut rng, w.len, kept).into_vec();
            chosen.sort_unstable();
            for c in chosen {
                keep[w.offset + c] = true;
            }
        }
        Mask {
            layout: self.layout.clone(),
            keep,
        }
    }

    /// Indices into θ of the kept weights of `layers`, in increasing order.
    fn kept_indices(&self, layers: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        for &l in layers {
            let w = self.layout.weight(l);
            out.extend((w.offset..w.offset + w.len).filter(|&i| self.keep[i]));
        }
        out
    }

    fn check_len(&self, what: &str, got: usize) -> Result<()> {
        if got != self.keep.len() {
            return Err(AdError::Shape {
                what: format!("{what} has {got} entries, the mask {}", self.keep.len()),
            });
        }
        Ok(())
    }

    fn check_layer(&self, layer: usize) -> Result<()> {
        if layer >= self.layout.num_layers() {
            return Err(AdError::InvalidArgument {
                what: format!(
                    "layer {layer} of a network with {} layers",
                    self.layout.num_layers()
                ),
            });
        }
        Ok(())
    }
}

/// `round(fraction × kept)`, the number of weights one pruning step removes from a group.
pub fn prune_count(fraction: f64, kept: usize) -> Result<usize> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(AdError::InvalidArgument {
            what: format!("pruning fraction {fraction} is outside [0, 1]"),
        });
    }
    // f64::round rounds half away from zero (numpy's round goes half to even); the two only
    // differ when fraction × kept is exactly k + ½.
    Ok(((fraction * kept as f64).round() as usize).min(kept))
}

/// The `count` indices of `group` with the smallest |θ|, ties to the lower index.
fn smallest<T: Real>(theta: &[T], mut group: Vec<usize>, count: usize) -> Result<Vec<usize>> {
    if let Some(&i) = group.iter().find(|&&i| theta[i].to_f64().is_nan()) {
        return Err(AdError::Domain {
            what: format!("θ[{i}] is NaN; magnitude pruning needs finite weights"),
        });
    }
    // A total order on (|θ|, index) makes the pruned set unique whatever the sort does.
    group.sort_unstable_by(|&a, &b| {
        let (x, y) = (theta[a].to_f64().abs(), theta[b].to_f64().abs());
        x.total_cmp(&y).then(a.cmp(&b))
    });
    group.truncate(count);
    Ok(group)
}
