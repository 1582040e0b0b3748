//! The empirical neural tangent kernel K(X₁, X₂) = J(X₁) J(X₂)ᵀ at θ.
//!
//! K[(i, a), (j, b)] = ⟨∂f_a(x_i)/∂θ, ∂f_b(x_j)/∂θ⟩ (Jacot et al., NeurIPS 2018), stored as an
//! (n₁·o)×(n₂·o) matrix with row i·o + a, column j·o + b. Three ways to get it:
//!
//! * [`ntk_by_contraction`]: J Jᵀ from an explicit Jacobian (one GEMM; needs J in memory).
//! * [`ntk_structured`]: never forms J. For a dense layer l with input a_{l−1} and output
//!   cotangent δ_l[i, a] = ∂f_a(x_i)/∂z_l, the layer's block of row (i, a) of J is
//!   s_l·δ_l\[i, a\] ⊗ a_{l−1}\[i\] (weights) and σ_b·δ_l[i, a] (bias), so
//!
//!   K = Σ_l (s_l²·A_{l−1}A_{l−1}ᵀ + σ_b²·11ᵀ) ⊙ Δ_lΔ_lᵀ,
//!
//!   with the n×n activation Gram expanded over the output pairs (a, b). The Δ_l are one
//!   batched backward pass over the n·o one-hot cotangents; the Grams are GEMMs, computed in
//!   sample tiles (one task per tile, only the upper triangle when X₂ = X₁). This is the
//!   "structured derivatives" idea of Novak et al., "Fast finite width neural tangent kernel",
//!   ICML 2022, for dense layers.
//! * [`super::operators::NtkOperator`]: matrix-free K·v = J(Jᵀv), one VJP and one JVP per
//!   product.
//!
//! [`ntk_traced`] gives the n₁×n₂ output-traced kernel (1/o)·Σ_a K[(i, a), (j, a)] directly:
//! Σ_a ⟨δ_l[i, a], δ_l[j, a]⟩ is the Gram of Δ_l read as an n×(o·n_l) matrix, so the traced
//! kernel costs the same GEMMs with o times fewer rows and never touches the o² output pairs.

use super::affine::Affine;
use super::jacobian::inner_par;
use super::net::{Layer, Mlp};
use super::reverse::{Cotangents, LayerTape, NodeOp, ParamSink};
use crate::error::Result;
use linalg::mem::{zeroed_large, SharedMut};
use linalg::{gemm, gemm_with, MatRef, Matrix, Real};
use rayon::prelude::*;
use std::borrow::Cow;

/// K = J Jᵀ for an explicit (n·o)×p Jacobian.
pub fn ntk_by_contraction<T: Real>(j: MatRef<'_, T>) -> Result<Matrix<T>> {
    let mut k = Matrix::zeros(j.rows(), j.rows());
    gemm(T::one(), j, j.t(), T::zero(), k.as_mut())?;
    Ok(k)
}

/// The cross kernel J(X₁) J(X₂)ᵀ from two explicit Jacobians (same θ, same p).
pub fn ntk_cross_by_contraction<T: Real>(
    j1: MatRef<'_, T>,
    j2: MatRef<'_, T>,
) -> Result<Matrix<T>> {
    let mut k = Matrix::zeros(j1.rows(), j2.rows());
    gemm(T::one(), j1, j2.t(), T::zero(), k.as_mut())?;
    Ok(k)
}

/// The per-layer factors of J for one batch: the layer inputs A_{l−1} (on the tape) and the
/// output cotangents Δ_l, (n·o)×n_l with row i·o + a = ∂f_a(x_i)/∂z_l.
pub(crate) struct Factors<'t, T: Real> {
    tape: Cow<'t, LayerTape<'t, T>>,
    /// Index l → node holding A_{l−1}.
    input_node: Vec<usize>,
    pub(crate) delta: Vec<Matrix<T>>,
}

impl<T: Real> Factors<'_, T> {
    pub(crate) fn a(&self, l: usize) -> &Matrix<T> {
        &self.tape.nodes()[self.input_node[l]].value
    }
    pub(crate) fn n(&self) -> usize {
        self.tape.batch()
    }
}

/// Writes each layer's cotangent rows of one block straight into that layer's Δ buffer, so
/// Δ is never held twice (once per block and once concatenated).
struct DeltaSink<T> {
    /// Per layer: the start of Δ_l (rows × n_l, row-major) and n_l.
    dest: Vec<(SharedMut<T>, usize)>,
    /// First row of this block.
    r0: usize,
}

impl<T: Real> ParamSink<T> for DeltaSink<T> {
    fn layer(
        &mut self,
        layer: &Layer,
        _aff: &Affine<'_, T>,
        h_bar: MatRef<'_, T>,
        _sample: &[usize],
        _owners: usize,
        _a: &Matrix<T>,
    ) -> Result<()> {
        let (ptr, w) = self.dest[layer.index];
        for t in 0..h_bar.rows() {
            // SAFETY: block rows r0..r0 + k of Δ_l belong to this block alone (blocks are
            // disjoint row ranges); each row has w = n_l entries, in bounds of rows × n_l.
            let row =
                unsafe { std::slice::from_raw_parts_mut(ptr.get().add((self.r0 + t) * w), w) };
            match h_bar.row_slice(t) {
                Some(src) => row.copy_from_slice(&src[..w]),
                None => row
                    .iter_mut()
                    .enumerate()
                    .for_each(|(j, v)| *v = h_bar.get(t, j)),
            }
        }
        Ok(())
    }
}

/// Rows of Δ handled by one backward pass.
const DELTA_BLOCK: usize = 256;

/// The factors of X at θ: records the forward pass, then [`factors_on`].
pub(crate) fn factors<'t, T: Real>(
    net: &Mlp,
    theta: &'t [T],
    x: MatRef<'_, T>,
) -> Result<Factors<'t, T>> {
    factors_on(net, Cow::Owned(net.record(theta, x)?))
}

/// The factors on a recorded forward pass: Δ_l from one batched backward pass over the n·o
/// one-hot cotangents, in blocks of [`DELTA_BLOCK`] rows.
pub(crate) fn factors_on<'t, T: Real>(
    net: &Mlp,
    tape: Cow<'t, LayerTape<'t, T>>,
) -> Result<Factors<'t, T>> {
    let (n, o) = (tape.batch(), net.output_dim());
    let num_layers = net.layers().len();
    let mut input_node = vec![0; num_layers];
    for nd in tape.nodes() {
        if let NodeOp::Affine(layer) = nd.op {
            input_node[layer.index] = nd.input;
        }
    }
    let rows = n * o;
    let blocks: Vec<usize> = (0..rows).step_by(DELTA_BLOCK).collect();
    let par = inner_par(blocks.len());
    let output = tape.nodes().len() - 1;
    let mut delta: Vec<Matrix<T>> = net
        .layers()
        .iter()
        .map(|l| zeroed_large(rows, l.n_out))
        .collect();
    let dest: Vec<(SharedMut<T>, usize)> = delta
        .iter_mut()
        .map(|d| (SharedMut(d.as_mut_slice().as_mut_ptr()), d.cols()))
        .collect();
    blocks.par_iter().try_for_each(|&r0| -> Result<()> {
        let k = DELTA_BLOCK.min(rows - r0);
        let cot = Cotangents::one_hot_rows(r0, k, o);
        let mut sink = DeltaSink {
            dest: dest.clone(),
            r0,
        };
        tape.backward(output, cot, &mut sink, par)
    })?;
    Ok(Factors {
        tape,
        input_node,
        delta,
    })
}

/// Samples per tile side: big enough for efficient GEMMs, small enough for many tasks.
///
/// The traced kernel's Grams have a long inner dimension (o·n_l), so small square tiles are
/// still efficient GEMMs, and they waste less work on the diagonal tiles of a symmetric kernel
/// (which are computed whole).
fn tile_size(n: usize, rows_per_sample: usize) -> usize {
    let target_rows = if rows_per_sample == 1 { 128 } else { 384 };
    (target_rows / rows_per_sample).clamp(8, n.max(8))
}

/// K from the per-layer factors, tile by tile. `q` = o for the full kernel, 1 for the traced.
/// `only = Some(l)` keeps layer l's term of the sum alone (its weights and bias): K_l.
fn assemble<'t, T: Real>(
    net: &Mlp,
    f1: &Factors<'t, T>,
    f2: Option<&Factors<'t, T>>,
    traced: bool,
    only: Option<usize>,
) -> Result<Matrix<T>> {
    let symmetric = f2.is_none();
    let f2 = f2.unwrap_or(f1);
    let o = net.output_dim();
    let (n1, n2) = (f1.n(), f2.n());
    let q = if traced { 1 } else { o };
    let (rows, cols) = (n1 * q, n2 * q);
    let ts = tile_size(n1.max(n2), q);
    let mut tiles = Vec::new();
    for i0 in (0..n1).step_by(ts) {
        for j0 in (0..n2).step_by(ts) {
            if !symmetric || j0 >= i0 {
                tiles.push((i0, j0));
            }
        }
    }
    let par = inner_par(tiles.len());
    let scale = if traced {
        T::one() / T::from_usize(o)
    } else {
        T::one()
    };
    // Layers whose cotangent Gram has a cheaper exact factor than Δ_l (see gram_factors).
    let (g1, g2) = (gram_factors(net, f1, traced), gram_factors(net, f2, traced));
    let mut kernel = zeroed_large::<T>(rows, cols);
    let out = SharedMut(kernel.as_mut_slice().as_mut_ptr());
    tiles.par_iter().try_for_each(|&(i0, j0)| -> Result<()> {
        let (bi, bj) = (ts.min(n1 - i0), ts.min(n2 - j0));
        let mut acc = Matrix::<T>::zeros(bi * q, bj * q);
        let mut ga = Matrix::<T>::zeros(bi, bj);
        let mut gd = Matrix::<T>::zeros(bi * q, bj * q);
        for layer in net
            .layers()
            .iter()
            .filter(|l| only.is_none_or(|o| o == l.index))
        {
            let l = layer.index;
            let (a1, a2) = (f1.a(l), f2.a(l));
            let s2 = T::from_f64(layer.w_scale * layer.w_scale);
            let b2 = T::from_f64(layer.b_scale * layer.b_scale);
            gemm_with(
                par,
                s2,
                a1.as_ref().submatrix(i0, 0, bi, layer.n_in),
                a2.as_ref().submatrix(j0, 0, bj, layer.n_in).t(),
                T::zero(),
                ga.as_mut(),
            )?;
            let d1 = match &g1[l] {
                Some(g) => g.as_ref(),
                None => delta_view(&f1.delta[l], n1, q)?,
            };
            let d2 = match &g2[l] {
                Some(g) => g.as_ref(),
                None => delta_view(&f2.delta[l], n2, q)?,
            };
            let c = d1.cols();
            gemm_with(
                par,
                T::one(),
                d1.submatrix(i0 * q, 0, bi * q, c),
                d2.submatrix(j0 * q, 0, bj * q, c).t(),
                T::zero(),
                gd.as_mut(),
            )?;
            // acc[(i, a), (j, b)] += (s²·⟨a_i, a_j⟩ + σ_b²)·GD[(i, a), (j, b)].
            for i in 0..bi * q {
                let ga_row = ga.row(i / q);
                let (acc_row, gd_row) = (acc.row_mut(i), gd.row(i));
                for ((acc_b, gd_b), &g) in acc_row
                    .chunks_exact_mut(q)
                    .zip(gd_row.chunks_exact(q))
                    .zip(ga_row)
                {
                    let g = g + b2;
                    for (acc_v, &gd_v) in acc_b.iter_mut().zip(gd_b) {
                        *acc_v += g * gd_v;
                    }
                }
            }
        }
        for i in 0..bi * q {
            for j in 0..bj * q {
                let v = scale * acc.get(i, j);
                let (r, c) = (i0 * q + i, j0 * q + j);
                // SAFETY: tile (i0, j0) writes only its own block and, when the kernel is
                // symmetric and the tile is off the diagonal, the mirrored block (j0, i0),
                // which no other tile owns (only tiles with j0 ≥ i0 exist). In-bounds by
                // construction; `kernel` outlives the loop.
                unsafe {
                    *out.get().add(r * cols + c) = v;
                    if symmetric && j0 != i0 {
                        *out.get().add(c * cols + r) = v;
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(kernel)
}

fn delta_view<T: Real>(d: &Matrix<T>, n: usize, q: usize) -> Result<MatRef<'_, T>> {
    let c = d.as_slice().len() / (n * q);
    Ok(MatRef::from_slice(d.as_slice(), n * q, c, c)?)
}

/// For the traced kernel, the layers whose cotangent Gram Σ_a ⟨δ_l[i, a], δ_l[j, a]⟩ has an
/// exact factor F (Gram = F Fᵀ) cheaper than Δ_l read as n×(o·n_l). The output layer is affine
/// with one-hot cotangents, so:
/// * output layer: δ[i, a] = e_a and Σ_a ⟨e_a, e_a⟩ = o, so F = √o·1 (n×1);
/// * last hidden layer: δ[i, a, r] = s·W_out[a, r]·φ'(z[i, r]), so the Gram is
///   Σ_r c_r φ'(z[i, r]) φ'(z[j, r]) with c_r = s²·Σ_a W_out[a, r]², and F = φ'(Z)·diag(√c)
///   is n×n_l instead of n×(o·n_l): o times fewer flops.
///
/// `None` means: use Δ_l itself (always, for the full kernel).
fn gram_factors<T: Real>(net: &Mlp, f: &Factors<'_, T>, traced: bool) -> Vec<Option<Matrix<T>>> {
    let layers = net.layers();
    let mut out: Vec<Option<Matrix<T>>> = vec![None; layers.len()];
    if !traced {
        return out;
    }
    let (n, o) = (f.n(), net.output_dim());
    let last = layers.len() - 1;
    out[last] = Some(Matrix::from_fn(n, 1, |_, _| T::from_usize(o).sqrt()));
    if last >= 1 {
        // The output layer's input is φ(z) of the last hidden layer; its node carries φ'(z).
        if let Some(slope) = f.tape.nodes()[f.input_node[last]].slope.as_ref() {
            let top = &layers[last];
            let w = &f.tape.theta()[top.w_offset..top.w_offset + top.n_out * top.n_in];
            let s2 = top.w_scale * top.w_scale;
            let root_c: Vec<T> = (0..top.n_in)
                .map(|r| {
                    let c: f64 = (0..top.n_out)
                        .map(|a| w[a * top.n_in + r].to_f64().powi(2))
                        .sum();
                    T::from_f64((s2 * c).sqrt())
                })
                .collect();
            let mut g = slope.clone();
            for row in g.as_mut_slice().chunks_exact_mut(top.n_in) {
                for (v, &c) in row.iter_mut().zip(&root_c) {
                    *v *= c;
                }
            }
            out[last - 1] = Some(g);
        }
    }
    out
}

fn check_pair<T: Real>(
    net: &Mlp,
    theta: &[T],
    x1: MatRef<'_, T>,
    x2: Option<MatRef<'_, T>>,
) -> Result<()> {
    net.check_inputs(theta, x1)?;
    if let Some(x2) = x2 {
        net.check_inputs(theta, x2)?;
    }
    Ok(())
}

/// Which kernel: the full (n·o)×(n·o) K or the output-traced n×n Θ = (1/o)·Σ_a K[(·, a), (·, a)].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NtkForm {
    /// K[(i, a), (j, b)] for every pair of outputs ([`ntk_structured`]).
    Full,
    /// Θ[i, j] = (1/o)·Σ_a K[(i, a), (j, a)] ([`ntk_traced`]).
    Traced,
}

/// The kernel of one or two sets of factors (see [`assemble`]).
pub(crate) fn kernel_from_factors<'t, T: Real>(
    net: &Mlp,
    f1: &Factors<'t, T>,
    f2: Option<&Factors<'t, T>>,
    form: NtkForm,
) -> Result<Matrix<T>> {
    assemble(net, f1, f2, form == NtkForm::Traced, None)
}

/// The full empirical NTK K(X₁, X₂), (n₁·o)×(n₂·o), by per-layer structured products, without
/// forming J. `x2 = None` means X₂ = X₁: then only one backward pass is made and only the
/// upper triangle of tiles is computed (the lower is its mirror).
pub fn ntk_structured<T: Real>(
    net: &Mlp,
    theta: &[T],
    x1: MatRef<'_, T>,
    x2: Option<MatRef<'_, T>>,
) -> Result<Matrix<T>> {
    kernel(net, theta, x1, x2, false)
}

/// The output-traced kernel, n₁×n₂: Θ[i, j] = (1/o)·Σ_a K[(i, a), (j, a)]. Same factors as
/// [`ntk_structured`], but each layer's cotangent Gram is over samples only (the o cotangents
/// of a sample side by side in one row), so it is o times smaller and cheaper.
pub fn ntk_traced<T: Real>(
    net: &Mlp,
    theta: &[T],
    x1: MatRef<'_, T>,
    x2: Option<MatRef<'_, T>>,
) -> Result<Matrix<T>> {
    kernel(net, theta, x1, x2, true)
}

/// The factors of both sides, then the full (`traced` = false) or traced kernel.
fn kernel<T: Real>(
    net: &Mlp,
    theta: &[T],
    x1: MatRef<'_, T>,
    x2: Option<MatRef<'_, T>>,
    traced: bool,
) -> Result<Matrix<T>> {
    check_pair(net, theta, x1, x2)?;
    let f1 = factors(net, theta, x1)?;
    let f2 = x2.map(|x2| factors(net, theta, x2)).transpose()?;
    assemble(net, &f1, f2.as_ref(), traced, None)
}

/// Each layer's own tangent kernel, K_l = J_l(X₁) J_l(X₂)ᵀ with J_l the columns of layer l's
/// weights and bias: the terms (s_l²·A_{l−1}A_{l−1}ᵀ + σ_b²·11ᵀ) ⊙ Δ_lΔ_lᵀ of the structured
/// sum, so Σ_l K_l = K. One backward pass per side serves every layer; `form` picks the full
/// or the output-traced kernel as in [`ntk_structured`] and [`ntk_traced`].
pub fn ntk_per_layer<T: Real>(
    net: &Mlp,
    theta: &[T],
    x1: MatRef<'_, T>,
    x2: Option<MatRef<'_, T>>,
    form: NtkForm,
) -> Result<Vec<Matrix<T>>> {
    check_pair(net, theta, x1, x2)?;
    let f1 = factors(net, theta, x1)?;
    let f2 = x2.map(|x2| factors(net, theta, x2)).transpose()?;
    (0..net.layers().len())
        .map(|l| assemble(net, &f1, f2.as_ref(), form == NtkForm::Traced, Some(l)))
        .collect()
}

/// Bytes the kernel itself needs: n₁·n₂ entries traced, n₁·n₂·o² full, plus the per-thread
/// tile scratch of [`ntk_structured`]. The per-layer factors add (n₁ + n₂)·o·Σ_l n_l entries
/// (see [`ntk_factor_bytes`]); this estimate is what a caller compares against free memory.
pub fn ntk_memory_bytes(n1: usize, n2: usize, o: usize, dtype_bytes: usize, traced: bool) -> usize {
    let q = if traced { 1 } else { o };
    let kernel = n1
        .saturating_mul(n2)
        .saturating_mul(q * q)
        .saturating_mul(dtype_bytes);
    let ts = tile_size(n1.max(n2), q) * q;
    let scratch = 3 * ts * ts * dtype_bytes * rayon::current_num_threads();
    kernel.saturating_add(scratch)
}

/// Bytes of the per-layer factors Δ_l and activations that [`ntk_structured`] and
/// [`ntk_traced`] keep for inputs of n₁ and n₂ samples: (n₁ + n₂)·(o·Σ_l n_l + Σ_l n_{l−1}).
pub fn ntk_factor_bytes(net: &Mlp, n1: usize, n2: usize, dtype_bytes: usize) -> usize {
    let o = net.output_dim();
    let per_sample: usize = net.layers().iter().map(|l| o * l.n_out + 2 * l.n_in).sum();
    (n1 + n2)
        .saturating_mul(per_sample)
        .saturating_mul(dtype_bytes)
}
