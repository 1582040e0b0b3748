//! Minibatch SGD on the linearised model under squared error, from δ = 0.
//!
//! Each step δ ← δ − η·(1/b)·J_Bᵀ(f₀_B + J_B δ − Y_B) moves δ inside the row space of J, so from
//! δ = 0 every batch order converges (for a stable η and a full-rank K = JJᵀ) to the same
//! minimum-norm interpolant δ* = Jᵀ K⁻¹(Y − f₀): the Newton step at λ → 0. The randomness of
//! the data order then leaves no trace in the trained linear model, only in the path.
//! The step evaluates J on all n inputs and keeps the batch's rows (exact minibatch SGD at
//! full-batch cost: this is for the small grids that measure where randomness comes from).

use crate::train::Batches;
use anyhow::{anyhow, bail, Result};
use autodiff::mlp::Linearized;
use linalg::Matrix;

/// δ after `steps` SGD steps of batch `batch` (order seeded by `order_seed`) with step `lr`.
pub fn linearized_sgd(
    lin: &Linearized<'_, f64>,
    y: &Matrix<f64>,
    (batch, lr, steps): (usize, f64, usize),
    order_seed: u64,
) -> Result<Vec<f64>> {
    let n = lin.batch();
    if y.rows() != n || y.cols() != lin.output0().cols() {
        bail!(
            "targets are {}×{}, the model has {n}×{} outputs",
            y.rows(),
            y.cols(),
            lin.output0().cols()
        );
    }
    let mut batches = Batches::new(n, batch, order_seed, false)?;
    let mut delta = vec![0.0; lin.num_params()];
    let mut keep = vec![false; n];
    for _ in 0..steps {
        let rows = batches.next_batch();
        keep.iter_mut().for_each(|k| *k = false);
        rows.iter().for_each(|&i| keep[i] = true);
        let f = lin.eval(&delta).map_err(|e| anyhow!("{e}"))?;
        let scale = 1.0 / rows.len() as f64;
        let r = Matrix::from_fn(n, y.cols(), |i, a| {
            if keep[i] {
                (f.get(i, a) - y.get(i, a)) * scale
            } else {
                0.0
            }
        });
        let g = lin.vjp(r.as_ref()).map_err(|e| anyhow!("{e}"))?;
        for (d, gi) in delta.iter_mut().zip(&g) {
            *d -= lr * gi;
        }
        if delta.iter().any(|v| !v.is_finite()) {
            bail!("SGD on the linearised model diverged at η = {lr:e}");
        }
    }
    Ok(delta)
}
