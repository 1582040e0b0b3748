//! The best single detectors: one hidden unit, or one tangent feature ∂f_a/∂θ_j, scored by its
//! one-vs-rest AUC on the test inputs (`metrics::auc`, max(AUC, 1 − AUC): a detector may
//! point either way).
//!
//! * unit u of any hidden layer, for class c: the scores φ(z_u(x)) over test inputs x;
//! * tangent feature j for class a: the scores ∂f_a(x)/∂θ_j, column j of J restricted to
//!   output a (`autodiff::mlp::jacobian_columns`). J of a wide network has millions of
//!   columns, so each hidden layer contributes a sample of them, drawn without replacement.
//!   The readout needs none: its weight columns for output a are the last hidden units
//!   themselves (∂f_a/∂W[a, u] = s·φ(z_u)), so its best tangent feature is exactly the best
//!   unit of the last hidden layer (the run uses that identity; a test checks it).

use crate::metrics::auc::{auc_per_class, detector_auc};
use anyhow::{anyhow, bail, Result};
use autodiff::mlp::{jacobian_columns, Mlp, NodeOp};
use linalg::{MatRef, Matrix};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// The best detector of one class.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Best {
    /// max(AUC, 1 − AUC) of the best score.
    pub auc: f64,
    /// Its layer (0-based).
    pub layer: usize,
    /// Its index: the unit within the layer, or the parameter's index in θ.
    pub index: usize,
}

/// The hidden layers' activations φ(z_l) at θ, first hidden layer first (samples × units).
pub fn hidden_activations(
    net: &Mlp,
    theta: &[f64],
    x: MatRef<'_, f64>,
) -> Result<Vec<Matrix<f64>>> {
    let tape = net.record(theta, x).map_err(|e| anyhow!("{e}"))?;
    let nodes = tape.nodes();
    Ok(nodes
        .iter()
        .filter_map(|nd| match nd.op {
            NodeOp::Affine(l) if l.index > 0 => Some(nodes[nd.input].value.clone()),
            _ => None,
        })
        .collect())
}

/// Keeps the higher AUC; on a tie the earlier (layer, index), so the answer does not depend
/// on the order parallel tasks finish in.
fn better(a: Best, b: Best) -> Best {
    if b.auc > a.auc || (b.auc == a.auc && (b.layer, b.index) < (a.layer, a.index)) {
        b
    } else {
        a
    }
}

fn none() -> Best {
    Best {
        auc: f64::NEG_INFINITY,
        layer: usize::MAX,
        index: usize::MAX,
    }
}

/// Per class: folds one score's per-class AUCs into the running best.
fn fold(best: &mut [Best], aucs: &[Option<f64>], layer: usize, index: usize) {
    for (b, a) in best.iter_mut().zip(aucs) {
        if let Some(a) = a {
            *b = better(
                *b,
                Best {
                    auc: detector_auc(*a),
                    layer,
                    index,
                },
            );
        }
    }
}

fn check_found(best: Vec<Best>) -> Result<Vec<Best>> {
    if best.iter().any(|b| !b.auc.is_finite()) {
        bail!("a class has no test samples (or every other class is absent): its AUC is undefined; use more --n-test");
    }
    Ok(best)
}

/// The best hidden unit of any layer for each class.
pub fn best_units(acts: &[Matrix<f64>], labels: &[usize], classes: usize) -> Result<Vec<Best>> {
    let per_unit: Vec<(usize, usize, Vec<Option<f64>>)> = acts
        .iter()
        .enumerate()
        .flat_map(|(l, a)| (0..a.cols()).map(move |u| (l, u)))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(l, u)| {
            let col: Vec<f64> = (0..acts[l].rows()).map(|i| acts[l].get(i, u)).collect();
            (l, u, auc_per_class(&col, labels, classes))
        })
        .collect();
    let mut best = vec![none(); classes];
    for (l, u, aucs) in &per_unit {
        fold(&mut best, aucs, *l, *u);
    }
    check_found(best)
}

/// Up to `count` parameter indices of layer `l`, drawn without replacement (sorted).
pub fn sample_params(net: &Mlp, l: usize, count: usize, seed: u64) -> Vec<usize> {
    let range = net.layers()[l].param_range();
    let len = range.len();
    if count >= len {
        return range.collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ((l as u64) << 32));
    let mut idx: Vec<usize> = rand::seq::index::sample(&mut rng, len, count)
        .into_iter()
        .map(|i| range.start + i)
        .collect();
    idx.sort_unstable();
    idx
}

/// The best tangent feature ∂f_a/∂θ_j among `params` (all of layer `layer`) as a detector of
/// class a, for each a; columns are built `block` at a time.
pub fn best_features(
    net: &Mlp,
    theta: &[f64],
    x_test: MatRef<'_, f64>,
    labels: &[usize],
    (layer, params): (usize, &[usize]),
    block: usize,
) -> Result<Vec<Best>> {
    let o = net.output_dim();
    let m = x_test.rows();
    let mut best = vec![none(); o];
    for chunk in params.chunks(block.max(1)) {
        let cols = jacobian_columns(net, theta, x_test, chunk).map_err(|e| anyhow!("{e}"))?;
        let scored: Vec<Vec<Option<f64>>> = (0..chunk.len())
            .into_par_iter()
            .map(|q| {
                (0..o)
                    .map(|a| {
                        let s: Vec<f64> = (0..m).map(|i| cols.get(i * o + a, q)).collect();
                        auc_per_class(&s, labels, o)[a]
                    })
                    .collect()
            })
            .collect();
        for (q, aucs) in scored.iter().enumerate() {
            fold(&mut best, aucs, layer, chunk[q]);
        }
    }
    check_found(best)
}
