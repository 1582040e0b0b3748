//! The network restricted to a mask: the subnetwork g(θ) = f(X; m ⊙ θ) of a [`Mask`] m and
//! the parameter support S = {j : m_j = 1} it trains.
//!
//! With J = ∂f/∂θ ((n·o)×p, row i·o + a) the restricted Jacobian is J_S = J·diag(m): the JVP
//! is J (m ⊙ v), the VJP m ⊙ (Jᵀu), and the faces of the linearised model become
//!
//! * the masked kernel K_S = J_S J_Sᵀ = Σ_{j∈S} J[:, j] J[:, j]ᵀ, full or output-traced
//!   ([`ntk_masked`], and [`super::Linearized::ntk`] on a masked model);
//! * K_S + λI matrix-free, v ↦ J(m ⊙ Jᵀv) + λv ([`MaskedNtkOperator`]);
//! * the Gauss–Newton matrix J_SᵀJ_S + λI, v ↦ m ⊙ Jᵀ J (m ⊙ v) + λv
//!   ([`MaskedGaussNewtonOperator`]; a pruned coordinate only sees λ).
//!
//! The free functions here ([`Mlp::forward_masked`], [`Mlp::jvp_masked`], [`Mlp::vjp_masked`],
//! the kept-column Jacobians and [`ntk_masked`]) evaluate the subnetwork at m ⊙ θ, so they
//! describe the pruned network whatever the pruned entries of θ hold; on a θ already masked
//! ([`Mask::apply`]) that is θ itself.
//!
//! **The masked kernel.** The structured NTK's per-layer factorisation (s²·AAᵀ + σ_b²) ⊙ ΔΔᵀ
//! needs every weight of a layer, so with a mask the weight term is split by output unit r:
//! with C_r = {c : m_l[r, c] = 1},
//!
//!   K_S[(i, a), (j, b)] = Σ_l Σ_r (s_l²·Σ_{c∈C_r} a_i\[c\] a_j\[c\] + σ_b²)·δ_{i,a}\[r\] δ_{j,b}\[r\],
//!
//! from the same factors as the structured kernel (activations A_{l−1}, cotangents Δ_l; biases
//! are never pruned). Per layer and row r, the masked Gram G_r = A[:, C_r] A[:, C_r]ᵀ is one
//! GEMM on the gathered kept columns, so over a layer the Grams cost n₁n₂·|S_l| flops
//! (instead of the structured kernel's n₁n₂·n_{l−1}), and the cotangent products cost
//! n₁n₂·o·q·n_l (q = o full, 1 traced), as for the structured kernel. It is computed in tiles
//! of samples (one task per row tile) and needs the factors (see
//! [`super::ntk::ntk_factor_bytes`]), the kernel, and per task one tile of scratch; J_S is
//! never formed (J_S J_Sᵀ by GEMM would cost (n₁o)(n₂o)|S|, o² times more for the weights).

use super::api::check_len;
use super::jacobian::{inner_par, jacobian_by_vjp, jacobian_columns_by_jvp};
use super::layout::ParamLayout;
use super::mask::Mask;
use super::net::{Layer, Mlp};
use super::ntk::{factors, factors_on, Factors, NtkForm};
use super::operators::{GaussNewtonOperator, NtkOperator, Ridge};
use super::reverse::LayerTape;
use crate::error::{AdError, Result};
use linalg::mem::zeroed_large;
use linalg::{gemm, gemm_with, LinearOperator, MatRef, Matrix, Par, Real};
use rayon::prelude::*;
use std::borrow::Cow;

/// Errors ([`AdError::Shape`], naming both layouts) unless `mask` is laid out like `net`'s θ.
pub fn check_mask(net: &Mlp, mask: &Mask) -> Result<()> {
    if mask.layout() != net.layout() {
        return Err(AdError::Shape {
            what: format!(
                "the mask is laid out for {}, the network for {}",
                describe(mask.layout()),
                describe(net.layout())
            ),
        });
    }
    Ok(())
}

/// "p = 26 (W1 4×3, b1 4, W2 2×4, b2 2)".
fn describe(layout: &ParamLayout) -> String {
    let blocks: Vec<String> = layout
        .entries()
        .iter()
        .map(|e| {
            let dims: Vec<String> = e.shape.iter().map(|d| d.to_string()).collect();
            format!("{} {}", e.name, dims.join("×"))
        })
        .collect();
    format!("p = {} ({})", layout.total(), blocks.join(", "))
}

/// S: the indices into θ of the kept entries, increasing (the column order of J_S).
pub fn kept_columns(mask: &Mask) -> Vec<usize> {
    let keep = mask.keep();
    (0..keep.len()).filter(|&j| keep[j]).collect()
}

/// v ← m ⊙ v.
pub(crate) fn zero_pruned<T: Real>(keep: &[bool], v: &mut [T]) {
    for (x, &k) in v.iter_mut().zip(keep) {
        if !k {
            *x = T::zero();
        }
    }
}

/// m ⊙ θ, after checking the mask against the network and θ's length.
fn masked_theta<T: Real>(net: &Mlp, theta: &[T], mask: &Mask) -> Result<Vec<T>> {
    check_mask(net, mask)?;
    check_len("θ", theta.len(), net.num_params())?;
    let mut t = theta.to_vec();
    zero_pruned(mask.keep(), &mut t);
    Ok(t)
}

impl Mlp {
    /// f(X; m ⊙ θ): the subnetwork's n×o outputs.
    pub fn forward_masked<T: Real>(
        &self,
        theta: &[T],
        x: MatRef<'_, T>,
        mask: &Mask,
    ) -> Result<Matrix<T>> {
        self.forward(&masked_theta(self, theta, mask)?, x)
    }

    /// (f(X; m ⊙ θ), J_S v) with J_S v = J(m ⊙ θ)·(m ⊙ v), both n×o: the directional
    /// derivative of the subnetwork along v, whose pruned entries are ignored.
    pub fn jvp_masked<T: Real>(
        &self,
        theta: &[T],
        x: MatRef<'_, T>,
        mask: &Mask,
        v: &[T],
    ) -> Result<(Matrix<T>, Matrix<T>)> {
        let theta = masked_theta(self, theta, mask)?;
        check_len("v", v.len(), self.num_params())?;
        let mut v = v.to_vec();
        zero_pruned(mask.keep(), &mut v);
        self.jvp(&theta, x, &v)
    }

    /// (f(X; m ⊙ θ), J_Sᵀu) with J_Sᵀu = m ⊙ (J(m ⊙ θ)ᵀu) ∈ Rᵖ for a cotangent u (n×o):
    /// the subnetwork's gradient, exactly zero on pruned entries.
    pub fn vjp_masked<T: Real>(
        &self,
        theta: &[T],
        x: MatRef<'_, T>,
        mask: &Mask,
        u: MatRef<'_, T>,
    ) -> Result<(Matrix<T>, Vec<T>)> {
        let (f, mut g) = self.vjp(&masked_theta(self, theta, mask)?, x, u)?;
        zero_pruned(mask.keep(), &mut g);
        Ok((f, g))
    }
}

/// The subnetwork's Jacobian with only its kept columns: `matrix` is (n·o)×|S| and its column
/// q is column `columns[q]` of J(m ⊙ θ) (the columns in θ order, [`kept_columns`]).
#[derive(Clone, Debug)]
pub struct KeptJacobian<T: Real> {
    /// J_S without its zero columns, (n·o)×|S|, row i·o + a.
    pub matrix: Matrix<T>,
    /// S: the θ index of each column.
    pub columns: Vec<usize>,
}

/// The kept-column Jacobian by forward mode, |S| directions `chunk` at a time: the cost grows
/// with the kept entries, so this is the one for sparse masks.
pub fn jacobian_masked_by_jvp<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: MatRef<'_, T>,
    mask: &Mask,
    chunk: usize,
) -> Result<KeptJacobian<T>> {
    let theta = masked_theta(net, theta, mask)?;
    let columns = kept_columns(mask);
    let matrix = jacobian_columns_by_jvp(net, &theta, x, &columns, chunk)?;
    Ok(KeptJacobian { matrix, columns })
}

/// The kept-column Jacobian by reverse mode: the whole (n·o)×p J by n·o one-hot VJPs, then
/// its kept columns gathered (peak memory (n·o)·(p + |S|) entries).
pub fn jacobian_masked_by_vjp<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: MatRef<'_, T>,
    mask: &Mask,
    chunk: usize,
) -> Result<KeptJacobian<T>> {
    let theta = masked_theta(net, theta, mask)?;
    let columns = kept_columns(mask);
    let j = jacobian_by_vjp(net, &theta, x, chunk)?;
    let matrix = Matrix::from_fn(j.rows(), columns.len(), |r, q| j.get(r, columns[q]));
    Ok(KeptJacobian { matrix, columns })
}

/// The masked kernel K_S(X₁, X₂) = J_S(X₁) J_S(X₂)ᵀ of the subnetwork at m ⊙ θ, full
/// ((n₁·o)×(n₂·o)) or traced (n₁×n₂, (1/o)·Σ_a K_S[(i, a), (j, a)]), without forming J (see
/// the module documentation for the route and its cost). `x2 = None` means X₂ = X₁; the
/// kernel is then exactly symmetric.
pub fn ntk_masked<T: Real>(
    net: &Mlp,
    theta: &[T],
    x1: MatRef<'_, T>,
    x2: Option<MatRef<'_, T>>,
    mask: &Mask,
    form: NtkForm,
) -> Result<Matrix<T>> {
    let theta = masked_theta(net, theta, mask)?;
    net.check_inputs(&theta, x1)?;
    if let Some(x2) = x2 {
        net.check_inputs(&theta, x2)?;
    }
    let f1 = factors(net, &theta, x1)?;
    let f2 = x2.map(|x2| factors(net, &theta, x2)).transpose()?;
    kernel_masked(net, &f1, f2.as_ref(), mask.keep(), form)
}

/// K_S from the factors of one or two batches; `keep` is one flag per entry of θ.
pub(crate) fn kernel_masked<'t, T: Real>(
    net: &Mlp,
    f1: &Factors<'t, T>,
    f2: Option<&Factors<'t, T>>,
    keep: &[bool],
    form: NtkForm,
) -> Result<Matrix<T>> {
    check_len("mask", keep.len(), net.num_params())?;
    let symmetric = f2.is_none();
    let f2 = f2.unwrap_or(f1);
    let o = net.output_dim();
    let q = if form == NtkForm::Traced { 1 } else { o };
    let (n1, n2) = (f1.n(), f2.n());
    let cols = n2 * q;
    // Tiles of ts samples per side keep one tile of the kernel (ts·q)² in cache while every
    // layer and output unit adds to it.
    let ts = (256 / q).clamp(8, 128);
    let par = inner_par(n1.div_ceil(ts));
    let mut k = zeroed_large::<T>(n1 * q, cols);
    k.as_mut_slice()
        .par_chunks_mut(ts * q * cols)
        .enumerate()
        .try_for_each(|(t, block)| -> Result<()> {
            let i0 = t * ts;
            let bi = block.len() / (q * cols);
            // With X₂ = X₁ only tiles on or right of the diagonal; the rest is mirrored below.
            let j_start = if symmetric { i0 } else { 0 };
            for j0 in (j_start..n2).step_by(ts) {
                let tile = Tile {
                    i0,
                    bi,
                    j0,
                    bj: ts.min(n2 - j0),
                    q,
                    o,
                };
                let mut acc = Matrix::<T>::zeros(bi * q, tile.bj * q);
                for layer in net.layers() {
                    tile.add_layer(layer, f1, f2, keep, par, &mut acc)?;
                }
                for (r, src) in (0..bi * q).map(|r| (r, acc.row(r))) {
                    block[r * cols + j0 * q..][..src.len()].copy_from_slice(src);
                }
            }
            Ok(())
        })?;
    if form == NtkForm::Traced {
        let scale = T::one() / T::from_usize(o);
        k.as_mut_slice().iter_mut().for_each(|v| *v *= scale);
    }
    if symmetric {
        mirror_upper(&mut k);
    }
    Ok(k)
}

/// K[r, c] ← K[c, r] for c < r, in square blocks so both reads and writes stay in cache.
fn mirror_upper<T: Real>(k: &mut Matrix<T>) {
    const B: usize = 64;
    let m = k.rows();
    for r0 in (0..m).step_by(B) {
        for c0 in (0..=r0).step_by(B) {
            for r in r0..(r0 + B).min(m) {
                for c in c0..(c0 + B).min(r) {
                    let v = k.get(c, r);
                    k.set(r, c, v);
                }
            }
        }
    }
}

/// One tile of the masked kernel: samples i0..i0 + bi of X₁ against j0..j0 + bj of X₂.
struct Tile {
    i0: usize,
    bi: usize,
    j0: usize,
    bj: usize,
    /// o for the full kernel, 1 for the traced.
    q: usize,
    o: usize,
}

impl Tile {
    /// acc += layer l's term: Σ_r G_r ⊙ (δ[r] δ[r]ᵀ), G_r = s²·A[:, C_r]A[:, C_r]ᵀ + σ_b².
    fn add_layer<T: Real>(
        &self,
        layer: &Layer,
        f1: &Factors<'_, T>,
        f2: &Factors<'_, T>,
        keep: &[bool],
        par: Par,
        acc: &mut Matrix<T>,
    ) -> Result<()> {
        let (l, n_in, o) = (layer.index, layer.n_in, self.o);
        let (s2, b2) = (
            T::from_f64(layer.w_scale * layer.w_scale),
            T::from_f64(layer.b_scale * layer.b_scale),
        );
        let (a1, a2) = (f1.a(l), f2.a(l));
        let (d1, d2) = (&f1.delta[l], &f2.delta[l]);
        let mut g = Matrix::<T>::zeros(self.bi, self.bj);
        let mut kept = Vec::with_capacity(n_in);
        for r in 0..layer.n_out {
            let m_r = &keep[layer.w_offset + r * n_in..][..n_in];
            kept.clear();
            kept.extend((0..n_in).filter(|&c| m_r[c]));
            if kept.is_empty() {
                g.as_mut_slice().fill(b2);
            } else {
                // Gathering the kept columns makes the Gram's cost follow |C_r|, not n_in.
                let kc = kept.len();
                let g1 = Matrix::from_fn(self.bi, kc, |i, c| a1.get(self.i0 + i, kept[c]));
                let g2 = Matrix::from_fn(self.bj, kc, |j, c| a2.get(self.j0 + j, kept[c]));
                gemm_with(par, s2, g1.as_ref(), g2.as_ref().t(), T::zero(), g.as_mut())?;
                g.as_mut_slice().iter_mut().for_each(|v| *v += b2);
            }
            // Column r of Δ_l for the tile's rows i·o + a, on both sides.
            let c1: Vec<T> = (0..self.bi * o)
                .map(|t| d1.get(self.i0 * o + t, r))
                .collect();
            let c2: Vec<T> = (0..self.bj * o)
                .map(|t| d2.get(self.j0 * o + t, r))
                .collect();
            self.accumulate(&g, &c1, &c2, acc);
        }
        Ok(())
    }

    /// acc[(i, a), (j, b)] += G[i, j]·c1[i, a]·c2[j, b] (full), or
    /// acc[i, j] += G[i, j]·Σ_a c1[i, a]·c2[j, a] (traced).
    fn accumulate<T: Real>(&self, g: &Matrix<T>, c1: &[T], c2: &[T], acc: &mut Matrix<T>) {
        let o = self.o;
        for i in 0..self.bi {
            let g_row = g.row(i);
            let d_i = &c1[i * o..(i + 1) * o];
            if self.q == 1 {
                let row = acc.row_mut(i);
                for ((v, &gij), d_j) in row.iter_mut().zip(g_row).zip(c2.chunks_exact(o)) {
                    let dd: T = d_i.iter().zip(d_j).map(|(&x, &y)| x * y).sum();
                    *v += gij * dd;
                }
                continue;
            }
            for (a, &da) in d_i.iter().enumerate() {
                let row = acc.row_mut(i * o + a);
                for ((out, &gij), d_j) in row.chunks_exact_mut(o).zip(g_row).zip(c2.chunks_exact(o))
                {
                    let w = gij * da;
                    for (v, &db) in out.iter_mut().zip(d_j) {
                        *v += w * db;
                    }
                }
            }
        }
    }
}

/// Matrix-free v ↦ (K_S + λI)v = J(m ⊙ Jᵀv) + λv on Rⁿᵒ, for CG on the masked kernel system.
///
/// Obtained from [`super::Linearized::ntk_operator`]; without a mask that prunes something it
/// is exactly [`NtkOperator`]. Each product is one VJP and one JVP replaying the recorded
/// forward pass.
pub struct MaskedNtkOperator<'a, T: Real> {
    dense: NtkOperator<'a, T>,
    net: &'a Mlp,
    tape: &'a LayerTape<'a, T>,
    keep: Option<&'a [bool]>,
    ridge: T,
}

impl<'a, T: Real> MaskedNtkOperator<'a, T> {
    /// The operator on a recorded tape; `keep = None` when nothing is pruned.
    pub(crate) fn on_tape(
        net: &'a Mlp,
        tape: &'a LayerTape<'a, T>,
        keep: Option<&'a [bool]>,
        ridge: Ridge,
    ) -> Self {
        MaskedNtkOperator {
            dense: NtkOperator::on_tape(net, Cow::Borrowed(tape), ridge),
            net,
            tape,
            keep,
            ridge: T::from_f64(ridge.value()),
        }
    }

    /// n·o.
    pub fn dim(&self) -> usize {
        self.dense.dim()
    }

    /// y ← (K_S + λI)·x, or an error on a length mismatch.
    pub fn try_apply(&self, x: &[T], y: &mut [T]) -> Result<()> {
        let Some(keep) = self.keep else {
            return self.dense.try_apply(x, y);
        };
        let (n, o) = (self.tape.batch(), self.net.output_dim());
        check_len("v", x.len(), n * o)?;
        check_len("K·v", y.len(), n * o)?;
        let u = MatRef::from_slice(x, n, o, o)?;
        let mut g = self.net.vjp_on_tape(self.tape, u, Par::Rayon)?;
        zero_pruned(keep, &mut g);
        let kv = self.net.jvp_on_tape(self.tape, &g, Par::Rayon)?;
        for ((yi, &ki), &xi) in y.iter_mut().zip(kv.as_slice()).zip(x) {
            *yi = ki + self.ridge * xi;
        }
        Ok(())
    }

    /// diag(K_S) + λ: K_S[(i, a), (i, a)] = Σ_l Σ_r δ_l[i, a, r]²·(s_l²·B_l[i, r] + σ_b²) with
    /// B_l = (A_{l−1} ⊙ A_{l−1})·M_lᵀ (one GEMM per layer, M_l the 0/1 mask of W_l).
    pub fn try_diagonal(&self) -> Result<Vec<T>> {
        let Some(keep) = self.keep else {
            return self.dense.try_diagonal();
        };
        let f = factors_on(self.net, Cow::Borrowed(self.tape))?;
        let (n, o) = (f.n(), self.net.output_dim());
        let mut diag = vec![self.ridge; n * o];
        for layer in self.net.layers() {
            let a = f.a(layer.index);
            let a2 = Matrix::from_fn(n, layer.n_in, |i, c| a.get(i, c) * a.get(i, c));
            let w = &keep[layer.w_offset..][..layer.n_out * layer.n_in];
            let m = Matrix::from_fn(layer.n_out, layer.n_in, |r, c| {
                if w[r * layer.n_in + c] {
                    T::one()
                } else {
                    T::zero()
                }
            });
            let mut b = Matrix::zeros(n, layer.n_out);
            gemm(T::one(), a2.as_ref(), m.as_ref().t(), T::zero(), b.as_mut())?;
            let s2 = T::from_f64(layer.w_scale * layer.w_scale);
            let b2 = T::from_f64(layer.b_scale * layer.b_scale);
            for (row, d) in diag.iter_mut().enumerate() {
                let delta = f.delta[layer.index].row(row);
                let br = b.row(row / o);
                *d += delta
                    .iter()
                    .zip(br)
                    .map(|(&dr, &bv)| dr * dr * (s2 * bv + b2))
                    .sum::<T>();
            }
        }
        Ok(diag)
    }
}

/// Matrix-free v ↦ (J_SᵀJ_S + λI)v = m ⊙ Jᵀ J (m ⊙ v) + λv on Rᵖ, for the primal ridge system
/// of the masked model (a pruned coordinate j only sees λ·v_j, so CG from a start in the
/// support stays there).
///
/// Obtained from [`super::Linearized::gauss_newton`]; without a mask that prunes something it
/// is exactly [`GaussNewtonOperator`].
pub struct MaskedGaussNewtonOperator<'a, T: Real> {
    dense: GaussNewtonOperator<'a, T>,
    keep: Option<&'a [bool]>,
    ridge: T,
}

impl<'a, T: Real> MaskedGaussNewtonOperator<'a, T> {
    /// The operator on a recorded tape; `keep = None` when nothing is pruned.
    pub(crate) fn on_tape(
        net: &'a Mlp,
        tape: &'a LayerTape<'a, T>,
        keep: Option<&'a [bool]>,
        ridge: Ridge,
    ) -> Self {
        MaskedGaussNewtonOperator {
            dense: GaussNewtonOperator::on_tape(net, Cow::Borrowed(tape), ridge),
            keep,
            ridge: T::from_f64(ridge.value()),
        }
    }

    /// p.
    pub fn dim(&self) -> usize {
        self.dense.dim()
    }

    /// y ← (J_SᵀJ_S + λI)·x, or an error on a length mismatch.
    pub fn try_apply(&self, x: &[T], y: &mut [T]) -> Result<()> {
        let Some(keep) = self.keep else {
            return self.dense.try_apply(x, y);
        };
        check_len("v", x.len(), self.dim())?;
        let mut xs = x.to_vec();
        zero_pruned(keep, &mut xs);
        // Kept j: (JᵀJ(m ⊙ x))_j + λx_j, as wanted; pruned j is overwritten with λx_j.
        self.dense.try_apply(&xs, y)?;
        for ((yj, &xj), &k) in y.iter_mut().zip(x).zip(keep) {
            if !k {
                *yj = self.ridge * xj;
            }
        }
        Ok(())
    }

    /// diag(J_SᵀJ_S) + λ = m ⊙ diag(JᵀJ) + λ.
    pub fn try_diagonal(&self) -> Result<Vec<T>> {
        let mut d = self.dense.try_diagonal()?;
        if let Some(keep) = self.keep {
            for (dj, &k) in d.iter_mut().zip(keep) {
                if !k {
                    *dj = self.ridge;
                }
            }
        }
        Ok(d)
    }
}

impl<T: Real> LinearOperator<T> for MaskedNtkOperator<'_, T> {
    fn dim(&self) -> usize {
        MaskedNtkOperator::dim(self)
    }
    /// y ← (K_S + λI)·x. Lengths were fixed at construction; a mismatch is a caller bug.
    fn apply(&self, x: &[T], y: &mut [T]) {
        if let Err(e) = self.try_apply(x, y) {
            panic!("MaskedNtkOperator::apply: {e}");
        }
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        self.try_diagonal().ok()
    }
}

impl<T: Real> LinearOperator<T> for MaskedGaussNewtonOperator<'_, T> {
    fn dim(&self) -> usize {
        MaskedGaussNewtonOperator::dim(self)
    }
    /// y ← (J_SᵀJ_S + λI)·x. Lengths were fixed at construction; a mismatch is a caller bug.
    fn apply(&self, x: &[T], y: &mut [T]) {
        if let Err(e) = self.try_apply(x, y) {
            panic!("MaskedGaussNewtonOperator::apply: {e}");
        }
    }
    fn diagonal(&self) -> Option<Vec<T>> {
        self.try_diagonal().ok()
    }
}
