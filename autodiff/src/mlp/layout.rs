//! Where each parameter of a dense network lives in the flat vector θ.
//!
//! Layer by layer, in order; inside a layer the weight matrix W (shape [out, in], row-major)
//! comes first and the bias b (length out) right after it. So for widths n₀, n₁, …, n_L the
//! layer-l block starts at Σ_{m<l} n_{m+1}(n_m + 1), W_l[r, c] sits at
//! `offset(W_l) + r·n_l_in + c` and b_l\[r\] at `offset(b_l) + r`.

use crate::error::{AdError, Result};

/// Whether a parameter block is a weight matrix or a bias vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// The [out, in] weight matrix W of a layer.
    Weight,
    /// The bias vector b of a layer.
    Bias,
}

/// One named block of θ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamEntry {
    /// "W1", "b1", "W2", … — numbered from 1 as in the papers (W1 belongs to `layer` 0).
    pub name: String,
    /// Index of the layer, counted from 0 (the layer fed by the input).
    pub layer: usize,
    /// Weight or bias.
    pub kind: ParamKind,
    /// `[out, in]` for a weight, `[out]` for a bias.
    pub shape: Vec<usize>,
    /// First index of the block in θ.
    pub offset: usize,
    /// Number of entries (product of `shape`).
    pub len: usize,
}

/// The map between the flat parameter vector θ and the network's (layer, W or b, row, col).
///
/// Pruning masks, the parameter audit dump and the Jacobian's column order all use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamLayout {
    entries: Vec<ParamEntry>,
    total: usize,
}

impl ParamLayout {
    /// The layout of a dense network with the given widths `[n₀ (input), n₁, …, n_L (output)]`.
    pub fn new(widths: &[usize]) -> Result<Self> {
        if widths.len() < 2 {
            return Err(AdError::InvalidArgument {
                what: format!("a network needs at least two widths, got {widths:?}"),
            });
        }
        if let Some(i) = widths.iter().position(|&w| w == 0) {
            return Err(AdError::InvalidArgument {
                what: format!("width {i} of {widths:?} is zero"),
            });
        }
        let mut entries = Vec::with_capacity(2 * (widths.len() - 1));
        let mut offset = 0usize;
        for (layer, pair) in widths.windows(2).enumerate() {
            let (n_in, n_out) = (pair[0], pair[1]);
            let w_len = n_out.checked_mul(n_in).ok_or_else(|| AdError::TooLarge {
                what: format!("layer {layer} has {n_out}×{n_in} weights"),
            })?;
            entries.push(ParamEntry {
                name: format!("W{}", layer + 1),
                layer,
                kind: ParamKind::Weight,
                shape: vec![n_out, n_in],
                offset,
                len: w_len,
            });
            offset += w_len;
            entries.push(ParamEntry {
                name: format!("b{}", layer + 1),
                layer,
                kind: ParamKind::Bias,
                shape: vec![n_out],
                offset,
                len: n_out,
            });
            offset += n_out;
        }
        Ok(ParamLayout {
            entries,
            total: offset,
        })
    }

    /// All blocks, in θ order: W1, b1, W2, b2, ….
    pub fn entries(&self) -> &[ParamEntry] {
        &self.entries
    }

    /// Total number of parameters p = Σ_l n_l(n_{l−1} + 1).
    pub fn total(&self) -> usize {
        self.total
    }

    /// The weight block of `layer`.
    pub fn weight(&self, layer: usize) -> &ParamEntry {
        &self.entries[2 * layer]
    }

    /// The bias block of `layer`.
    pub fn bias(&self, layer: usize) -> &ParamEntry {
        &self.entries[2 * layer + 1]
    }

    /// Number of layers L.
    pub fn num_layers(&self) -> usize {
        self.entries.len() / 2
    }

    /// The range of θ owned by `layer` (its W then its b).
    pub fn layer_range(&self, layer: usize) -> std::ops::Range<usize> {
        let w = self.weight(layer);
        let b = self.bias(layer);
        w.offset..b.offset + b.len
    }

    /// `(layer, kind, row, col)` of θ\[index\]; for a bias, col is 0.
    ///
    /// # Panics
    /// When `index ≥ total()`; use [`ParamLayout::try_locate`] for a checked version.
    pub fn locate(&self, index: usize) -> (usize, ParamKind, usize, usize) {
        self.try_locate(index).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Checked [`ParamLayout::locate`].
    pub fn try_locate(&self, index: usize) -> Result<(usize, ParamKind, usize, usize)> {
        if index >= self.total {
            return Err(AdError::InvalidArgument {
                what: format!("parameter index {index} ≥ p = {}", self.total),
            });
        }
        // Entries are sorted by offset: find the last one starting at or before `index`.
        let k = self.entries.partition_point(|e| e.offset <= index) - 1;
        let e = &self.entries[k];
        let local = index - e.offset;
        Ok(match e.kind {
            ParamKind::Weight => (e.layer, e.kind, local / e.shape[1], local % e.shape[1]),
            ParamKind::Bias => (e.layer, e.kind, local, 0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_orders_w_then_b_layer_by_layer() {
        let l = ParamLayout::new(&[3, 4, 2]).unwrap();
        assert_eq!(l.total(), 4 * 3 + 4 + 2 * 4 + 2);
        let names: Vec<_> = l.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["W1", "b1", "W2", "b2"]);
        assert_eq!(l.locate(0), (0, ParamKind::Weight, 0, 0));
        assert_eq!(l.locate(5), (0, ParamKind::Weight, 1, 2));
        assert_eq!(l.locate(12), (0, ParamKind::Bias, 0, 0));
        assert_eq!(l.locate(16), (1, ParamKind::Weight, 0, 0));
        assert_eq!(l.locate(25), (1, ParamKind::Bias, 1, 0));
        assert!(l.try_locate(26).is_err());
        // Every index maps back to itself.
        for i in 0..l.total() {
            let (layer, kind, r, c) = l.locate(i);
            let back = match kind {
                ParamKind::Weight => l.weight(layer).offset + r * l.weight(layer).shape[1] + c,
                ParamKind::Bias => l.bias(layer).offset + r,
            };
            assert_eq!(back, i);
        }
    }

    #[test]
    fn rejects_zero_width() {
        assert!(ParamLayout::new(&[3, 0, 2]).is_err());
        assert!(ParamLayout::new(&[3]).is_err());
    }
}
