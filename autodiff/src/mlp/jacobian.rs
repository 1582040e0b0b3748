//! The Jacobian of all network outputs on a batch with respect to all of θ.
//!
//! J is (n·o)×p: row i·o + a is ∂f_a(x_i)/∂θ, column j is ∂f(X)/∂θ_j, with θ laid out by
//! [`super::layout::ParamLayout`]. Two ways, from the same model code ([`mlp`]):
//!
//! * [`jacobian_by_jvp`]: p forward-mode passes, `chunk` coordinate directions at a time. A
//!   coordinate direction θ_j = W_l[r, c] enters the network at layer l as the single column
//!   s·a_{l−1}[:, c] of the pre-activation tangent (a scatter, not a dense tangent), stays a
//!   single column through φ, and becomes dense only after the next layer; from there on the
//!   block of tangents goes through GEMMs. Blocks never straddle layers, so every block is in
//!   that cheap form.
//! * [`jacobian_by_vjp`]: n·o reverse-mode passes, `chunk` cotangents at a time. Output row i
//!   depends on input row i only (batch independence), so the one-hot cotangent at (i, a)
//!   needs only sample i's backward pass: per layer the cotangent δ_l[i, a] is a single row,
//!   and the layer's block of J's row is the outer product s·δ_l\[i, a\] ⊗ a_{l−1}\[i\] (weights)
//!   and σ_b·δ_l[i, a] (bias), written in place.
//!
//! Both are parallel over blocks with rayon; each block of J is written by exactly one task,
//! so the result does not depend on the number of threads.

use super::affine::Affine;
use super::forward::{Forward, Seeds, Tangent};
use super::net::{Layer, Mlp};
use super::ops::mlp;
use super::reverse::{Cotangents, LayerTape, ParamSink};
use crate::error::{AdError, Result};
use linalg::mem::{zeroed_large, SharedMut};
use linalg::{MatRef, Matrix, Par, Real};
use rayon::prelude::*;

pub(crate) fn check_chunk(chunk: usize) -> Result<()> {
    if chunk == 0 {
        return Err(AdError::InvalidArgument {
            what: "chunk size must be at least 1".into(),
        });
    }
    Ok(())
}

/// Inner GEMMs run sequentially when there are enough blocks to keep every thread busy.
pub(crate) fn inner_par(blocks: usize) -> Par {
    if blocks >= 2 * rayon::current_num_threads() {
        Par::Seq
    } else {
        Par::Rayon
    }
}

/// Tangent-block entries (k·n·width) that keep a block in a core's L2 cache.
const BLOCK_ENTRIES: usize = 1 << 19;

/// J by forward mode: `chunk` coordinate directions per pass (memory ∝ chunk·n·width).
pub fn jacobian_by_jvp<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: MatRef<'_, T>,
    chunk: usize,
) -> Result<Matrix<T>> {
    let all: Vec<usize> = (0..net.num_params()).collect();
    jacobian_columns_by_jvp(net, theta, x, &all, chunk)
}

/// Selected columns of J by forward mode: column q of the result is column `columns[q]` of J.
/// Used to time the forward-mode Jacobian of large networks on a subset of directions.
pub fn jacobian_columns_by_jvp<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: MatRef<'_, T>,
    columns: &[usize],
    chunk: usize,
) -> Result<Matrix<T>> {
    check_chunk(chunk)?;
    let tape = net.record(theta, x)?;
    let p = net.num_params();
    if let Some(&j) = columns.iter().find(|&&j| j >= p) {
        return Err(AdError::InvalidArgument {
            what: format!("column {j} ≥ p = {p}"),
        });
    }
    let (n, o) = (tape.batch(), net.output_dim());
    let width = columns.len();
    // A block of k tangents occupies k·n·width entries per layer and every op streams through
    // it, so blocks are also capped to stay cache-sized: on 784-512-512-1 with n = 256, blocks
    // of 4 tangents run 3–4× faster than blocks of 16. `chunk` remains the upper bound.
    let widest = net.widths()[1..].iter().copied().max().unwrap_or(1);
    let chunk = chunk.min((BLOCK_ENTRIES / (n * widest)).max(1));
    // Blocks of at most `chunk` consecutive requested columns that lie in one layer.
    let layer_of = |j: usize| {
        net.layers()
            .iter()
            .position(|l| l.param_range().contains(&j))
    };
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < width {
        let layer = layer_of(columns[start]);
        let mut end = start + 1;
        while end < width && end - start < chunk && layer_of(columns[end]) == layer {
            end += 1;
        }
        blocks.push((start, end));
        start = end;
    }
    let mut jac = zeroed_large::<T>(n * o, width);
    let out = SharedMut(jac.as_mut_slice().as_mut_ptr());
    let par = inner_par(blocks.len());
    blocks.par_iter().try_for_each(|&(q0, q1)| -> Result<()> {
        let idx = &columns[q0..q1];
        let tangent = jvp_block(net, &tape, Seeds::OneHot(idx), par)?;
        let k = q1 - q0;
        // Tangent t of the block is column q0 + t of J. Both forms below are written in tiles
        // of TILE rows of J, so the k columns of a row are written together and the reads
        // stay within a few pages (a plain transpose thrashes the TLB for large blocks).
        const TILE: usize = 64;
        // SAFETY (both arms): this task writes only columns q0..q1 of `jac` (n·o rows × width,
        // row-major); blocks are disjoint column ranges, all indices are in bounds, and `jac`
        // outlives the parallel loop.
        match tangent {
            Tangent::Zero => {}
            Tangent::Columns { col, val } => {
                for i0 in (0..n).step_by(TILE) {
                    for (t, &a) in col.iter().enumerate() {
                        for i in i0..(i0 + TILE).min(n) {
                            unsafe { *out.get().add((i * o + a) * width + q0 + t) = val.get(t, i) };
                        }
                    }
                }
            }
            Tangent::Dense(d) => {
                // d is k×(n·o) read row-major: entry (t, r) with r = i·o + a is J[r, q0 + t].
                let d = d.as_slice();
                let m = n * o;
                for r0 in (0..m).step_by(TILE) {
                    let r1 = (r0 + TILE).min(m);
                    for t in 0..k {
                        let src = &d[t * m + r0..t * m + r1];
                        for (r, &v) in (r0..r1).zip(src) {
                            unsafe { *out.get().add(r * width + q0 + t) = v };
                        }
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(jac)
}

/// The output tangents of one block of directions, replaying the tape's primal values.
fn jvp_block<T: Real>(
    net: &Mlp,
    tape: &LayerTape<'_, T>,
    seeds: Seeds<'_, T>,
    par: Par,
) -> Result<Tangent<T>> {
    let mut fw = Forward::replaying(tape, seeds, par);
    let input = fw.input(&tape.nodes()[0].value);
    Ok(mlp(&mut fw, net, input)?.tangent)
}

/// J by reverse mode: `chunk` one-hot cotangents (rows of J) per pass.
pub fn jacobian_by_vjp<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: MatRef<'_, T>,
    chunk: usize,
) -> Result<Matrix<T>> {
    check_chunk(chunk)?;
    let tape = net.record(theta, x)?;
    let (n, o, p) = (tape.batch(), net.output_dim(), net.num_params());
    let mut jac = zeroed_large::<T>(n * o, p);
    let blocks = (n * o).div_ceil(chunk);
    let par = inner_par(blocks);
    let output = tape.nodes().len() - 1;
    jac.as_mut_slice()
        .par_chunks_mut(chunk * p)
        .enumerate()
        .try_for_each(|(b, rows)| -> Result<()> {
            let r0 = b * chunk;
            let k = rows.len() / p;
            let cot = Cotangents::one_hot_rows(r0, k, o);
            let mut sink = JacobianRows { rows, p };
            tape.backward(output, cot, &mut sink, par)
        })?;
    Ok(jac)
}

/// Writes each single-row cotangent's parameter cotangent as one row of J.
struct JacobianRows<'r, T> {
    rows: &'r mut [T],
    p: usize,
}

impl<T: Real> ParamSink<T> for JacobianRows<'_, T> {
    fn layer(
        &mut self,
        layer: &Layer,
        aff: &Affine<'_, T>,
        h_bar: MatRef<'_, T>,
        sample: &[usize],
        _owners: usize,
        a: &Matrix<T>,
    ) -> Result<()> {
        for (t, row) in self.rows.chunks_exact_mut(self.p).enumerate() {
            let delta = h_bar.row_slice(t).expect("contiguous cotangent rows");
            let (w_bar, rest) = row[layer.w_offset..].split_at_mut(layer.n_out * layer.n_in);
            aff.vjp_params_outer(delta, a.row(sample[t]), w_bar, &mut rest[..layer.n_out]);
        }
        Ok(())
    }
}
