//! The affine (dense) layer: h = s·a Wᵀ + σ_b·1 bᵀ, batched over the rows of a.
//!
//! `a` is n×n_in (one sample per row), W is n_out×n_in (row-major, as θ stores it), b has
//! n_out entries, and the two scales come from the parameterization: s = σ_w/√n_in and
//! σ_b = σ_b for the NTK parameterization, s = σ_b = 1 for the standard one (Jacot et al.,
//! "Neural Tangent Kernel", NeurIPS 2018; Lee et al., "Wide neural networks of any depth
//! evolve as linear models under gradient descent", NeurIPS 2019).
//!
//! The three rules, side by side (a bar is a cotangent, a dot a tangent):
//!
//! | rule    | formula                                                     |
//! |---------|-------------------------------------------------------------|
//! | forward | h = s·a Wᵀ + σ_b·1 bᵀ                                        |
//! | JVP     | ḣ = s·(ȧ Wᵀ + a Ẇᵀ) + σ_b·1 ḃᵀ                                |
//! | VJP     | ā = s·h̄ W,  W̄ = s·h̄ᵀ a,  b̄ = σ_b·Σ_rows h̄                    |
//!
//! and, for Hessian-vector products (forward over reverse), the tangents of the VJP:
//! (ā)˙ = s·(h̄̇ W + h̄ Ẇ), (W̄)˙ = s·(h̄̇ᵀ a + h̄ᵀ ȧ), (b̄)˙ = σ_b·Σ_rows h̄̇.
//!
//! Every rule works on a whole block of rows, so a block of k tangents (or cotangents)
//! stacked as a (k·n)×width matrix goes through one GEMM instead of k matrix-vector products.

use crate::error::{AdError, Result};
use linalg::{gemm_then, gemm_with, MatMut, MatRef, Par, Real};

/// One dense layer's parameters and scales, borrowed from θ.
#[derive(Clone, Copy)]
pub struct Affine<'a, T> {
    /// W, n_out × n_in.
    pub w: MatRef<'a, T>,
    /// b, n_out entries.
    pub b: &'a [T],
    /// s: the factor in front of W (σ_w/√n_in for the NTK parameterization, else 1).
    pub w_scale: T,
    /// σ_b: the factor in front of b (σ_b for the NTK parameterization, else 1).
    pub b_scale: T,
}

fn shape_err(what: String) -> AdError {
    AdError::Shape { what }
}

impl<'a, T: Real> Affine<'a, T> {
    /// The layer whose W and b sit in `theta` at the given offsets.
    pub fn from_theta(
        theta: &'a [T],
        w_offset: usize,
        b_offset: usize,
        n_in: usize,
        n_out: usize,
        w_scale: T,
        b_scale: T,
    ) -> Result<Self> {
        if w_offset + n_out * n_in > theta.len() || b_offset + n_out > theta.len() {
            return Err(shape_err(format!(
                "θ has {} entries, the layer needs [{w_offset}, {}) and [{b_offset}, {})",
                theta.len(),
                w_offset + n_out * n_in,
                b_offset + n_out
            )));
        }
        Ok(Affine {
            w: MatRef::from_slice(&theta[w_offset..w_offset + n_out * n_in], n_out, n_in, n_in)?,
            b: &theta[b_offset..b_offset + n_out],
            w_scale,
            b_scale,
        })
    }

    /// Input width n_in.
    pub fn n_in(&self) -> usize {
        self.w.cols()
    }

    /// Output width n_out.
    pub fn n_out(&self) -> usize {
        self.w.rows()
    }

    /// Forward: h ← s·a Wᵀ + σ_b·1 bᵀ.
    pub fn forward(&self, a: MatRef<'_, T>, mut h: MatMut<'_, T>, par: Par) -> Result<()> {
        gemm_with(par, self.w_scale, a, self.w.t(), T::zero(), h.rb())?;
        add_scaled_row(h, self.b_scale, self.b)
    }

    /// Forward with an elementwise map: h ← post(s·a Wᵀ + σ_b·1 bᵀ). The bias and
    /// `post(i, j0, row)` (row i of h from column j0) run as the GEMM's epilogue on each
    /// finished row segment, while it is in cache, instead of as passes over h of their own;
    /// the bits are those of [`Self::forward`] followed by `post`.
    pub fn forward_mapped(
        &self,
        a: MatRef<'_, T>,
        h: MatMut<'_, T>,
        par: Par,
        post: &(dyn Fn(usize, usize, &mut [T]) + Sync),
    ) -> Result<()> {
        if self.b.len() != h.cols() {
            return Err(shape_err(format!(
                "row of {} entries added to {} columns",
                self.b.len(),
                h.cols()
            )));
        }
        let (c, b) = (self.b_scale, self.b);
        let epilogue = |i: usize, j0: usize, row: &mut [T]| {
            if c != T::zero() {
                for (v, &bj) in row.iter_mut().zip(&b[j0..]) {
                    *v += c * bj;
                }
            }
            post(i, j0, row);
        };
        gemm_then(par, self.w_scale, a, self.w.t(), T::zero(), h, &epilogue)?;
        Ok(())
    }

    /// JVP, input part: ḣ ← s·ȧ Wᵀ + β·ḣ. The rows of ȧ may stack any number of tangents.
    pub fn jvp_input(
        &self,
        a_dot: MatRef<'_, T>,
        beta: T,
        h_dot: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        gemm_with(par, self.w_scale, a_dot, self.w.t(), beta, h_dot)?;
        Ok(())
    }

    /// JVP, parameter part for one tangent (Ẇ, ḃ): ḣ ← ḣ + s·a Ẇᵀ + σ_b·1 ḃᵀ.
    pub fn jvp_params(
        &self,
        a: MatRef<'_, T>,
        w_dot: MatRef<'_, T>,
        b_dot: &[T],
        mut h_dot: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        gemm_with(par, self.w_scale, a, w_dot.t(), T::one(), h_dot.rb())?;
        add_scaled_row(h_dot, self.b_scale, b_dot)
    }

    /// JVP of the one-hot direction θ = W[r, c]: the tangent of h is s·a[:, c] in column r and
    /// zero elsewhere — a scatter of one activation column, not a product. Writes that column.
    pub fn jvp_seed_weight(&self, a: MatRef<'_, T>, c: usize, out: &mut [T]) {
        for (i, o) in out.iter_mut().enumerate() {
            // SAFETY: i < a.rows() (out has one entry per sample), c < n_in checked by caller.
            *o = self.w_scale * unsafe { a.get_unchecked(i, c) };
        }
    }

    /// JVP of the one-hot direction θ = b\[r\]: column r of ḣ is σ_b for every sample.
    pub fn jvp_seed_bias(&self, out: &mut [T]) {
        out.fill(self.b_scale);
    }

    /// JVP of a tangent that is nonzero in input column `col` only, with values `v` (one per
    /// sample): ḣ\[i, :\] = s·v\[i\]·W\[:, col\] — a rank-one update, no GEMM needed.
    pub fn jvp_input_column(&self, col: usize, v: &[T], mut h_dot: MatMut<'_, T>) {
        let w_col: Vec<T> = (0..self.n_out())
            .map(|j| self.w_scale * self.w.get(j, col))
            .collect();
        for (i, &vi) in v.iter().enumerate() {
            for (j, &wj) in w_col.iter().enumerate() {
                // SAFETY: i < rows (one v per row), j < n_out = cols.
                unsafe { *h_dot.get_mut_unchecked(i, j) = vi * wj };
            }
        }
    }

    /// VJP, input part: ā ← s·h̄ W + β·ā.
    pub fn vjp_input(
        &self,
        h_bar: MatRef<'_, T>,
        beta: T,
        a_bar: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        gemm_with(par, self.w_scale, h_bar, self.w, beta, a_bar)?;
        Ok(())
    }

    /// VJP, weight part: W̄ ← s·h̄ᵀ a + β·W̄ (summed over the rows, i.e. the samples).
    pub fn vjp_weight(
        &self,
        h_bar: MatRef<'_, T>,
        a: MatRef<'_, T>,
        beta: T,
        w_bar: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        gemm_with(par, self.w_scale, h_bar.t(), a, beta, w_bar)?;
        Ok(())
    }

    /// VJP, bias part: b̄ ← b̄ + σ_b·Σ_rows h̄.
    pub fn vjp_bias(&self, h_bar: MatRef<'_, T>, b_bar: &mut [T]) -> Result<()> {
        if b_bar.len() != h_bar.cols() {
            return Err(shape_err(format!(
                "bias cotangent of {} entries for {} columns",
                b_bar.len(),
                h_bar.cols()
            )));
        }
        for i in 0..h_bar.rows() {
            for (j, bj) in b_bar.iter_mut().enumerate() {
                // SAFETY: in bounds by the loop ranges.
                *bj += self.b_scale * unsafe { h_bar.get_unchecked(i, j) };
            }
        }
        Ok(())
    }

    /// VJP of a single-sample cotangent δ (one row) against that sample's input row a: the
    /// weight cotangent is the outer product s·δ ⊗ a (written row-major into `w_bar`, n_out·n_in
    /// entries) and the bias cotangent is σ_b·δ. This is one row of the Jacobian, written
    /// directly.
    pub fn vjp_params_outer(&self, delta: &[T], a: &[T], w_bar: &mut [T], b_bar: &mut [T]) {
        let n_in = a.len();
        for ((row, &d), bb) in w_bar
            .chunks_exact_mut(n_in)
            .zip(delta)
            .zip(b_bar.iter_mut())
        {
            let sd = self.w_scale * d;
            for (o, &ac) in row.iter_mut().zip(a) {
                *o = sd * ac;
            }
            *bb = self.b_scale * d;
        }
    }

    /// Tangent of the input VJP (forward over reverse): (ā)˙ ← s·(h̄̇ W + h̄ Ẇ).
    pub fn vjp_input_tangent(
        &self,
        h_bar: MatRef<'_, T>,
        h_bar_dot: MatRef<'_, T>,
        w_dot: MatRef<'_, T>,
        mut a_bar_dot: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        gemm_with(
            par,
            self.w_scale,
            h_bar_dot,
            self.w,
            T::zero(),
            a_bar_dot.rb(),
        )?;
        gemm_with(par, self.w_scale, h_bar, w_dot, T::one(), a_bar_dot)?;
        Ok(())
    }

    /// Tangent of the weight VJP: (W̄)˙ ← s·(h̄̇ᵀ a + h̄ᵀ ȧ) + β·(W̄)˙; pass `a_dot = None` when the
    /// layer's input does not depend on θ (the first layer).
    #[allow(clippy::too_many_arguments)]
    pub fn vjp_weight_tangent(
        &self,
        h_bar: MatRef<'_, T>,
        h_bar_dot: MatRef<'_, T>,
        a: MatRef<'_, T>,
        a_dot: Option<MatRef<'_, T>>,
        beta: T,
        mut w_bar_dot: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        gemm_with(par, self.w_scale, h_bar_dot.t(), a, beta, w_bar_dot.rb())?;
        if let Some(a_dot) = a_dot {
            gemm_with(par, self.w_scale, h_bar.t(), a_dot, T::one(), w_bar_dot)?;
        }
        Ok(())
    }
}

/// h[i, :] += c·v for every row i.
fn add_scaled_row<T: Real>(mut h: MatMut<'_, T>, c: T, v: &[T]) -> Result<()> {
    if v.len() != h.cols() {
        return Err(shape_err(format!(
            "row of {} entries added to {} columns",
            v.len(),
            h.cols()
        )));
    }
    if c == T::zero() {
        return Ok(());
    }
    for i in 0..h.rows() {
        for (j, &vj) in v.iter().enumerate() {
            // SAFETY: in bounds by the loop ranges.
            unsafe { *h.get_mut_unchecked(i, j) += c * vj };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use linalg::Matrix;

    fn sample(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Matrix::from_fn(rows, cols, |_, _| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
    }

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// JVP against central differences and VJP against JVP (⟨h̄, ḣ⟩ = ⟨ā, ȧ⟩ + ⟨W̄, Ẇ⟩ + ⟨b̄, ḃ⟩).
    #[test]
    fn rules_agree_with_each_other_and_with_differences() {
        let (n, n_in, n_out) = (5, 4, 3);
        let a = sample(n, n_in, 1);
        let w = sample(n_out, n_in, 2);
        let b = sample(1, n_out, 3).into_vec();
        let a_dot = sample(n, n_in, 4);
        let w_dot = sample(n_out, n_in, 5);
        let b_dot = sample(1, n_out, 6).into_vec();
        let h_bar = sample(n, n_out, 7);
        let layer = |w: &Matrix<f64>, b: &'_ [f64]| -> Matrix<f64> {
            let aff = Affine {
                w: w.as_ref(),
                b,
                w_scale: 0.7,
                b_scale: 0.3,
            };
            let mut h = Matrix::zeros(n, n_out);
            aff.forward(a.as_ref(), h.as_mut(), Par::Seq).unwrap();
            h
        };
        let aff = Affine {
            w: w.as_ref(),
            b: &b,
            w_scale: 0.7,
            b_scale: 0.3,
        };
        let mut h_dot = Matrix::zeros(n, n_out);
        aff.jvp_input(a_dot.as_ref(), 0.0, h_dot.as_mut(), Par::Seq)
            .unwrap();
        aff.jvp_params(a.as_ref(), w_dot.as_ref(), &b_dot, h_dot.as_mut(), Par::Seq)
            .unwrap();
        // Central difference along (ȧ, Ẇ, ḃ).
        let eps = 1e-6;
        let shift = |m: &Matrix<f64>, d: &Matrix<f64>, t: f64| {
            Matrix::from_fn(m.rows(), m.cols(), |i, j| m.get(i, j) + t * d.get(i, j))
        };
        let run = |t: f64| {
            let a2 = shift(&a, &a_dot, t);
            let w2 = shift(&w, &w_dot, t);
            let b2: Vec<f64> = b.iter().zip(&b_dot).map(|(x, d)| x + t * d).collect();
            let aff2 = Affine {
                w: w2.as_ref(),
                b: &b2,
                w_scale: 0.7,
                b_scale: 0.3,
            };
            let mut h = Matrix::zeros(n, n_out);
            aff2.forward(a2.as_ref(), h.as_mut(), Par::Seq).unwrap();
            h
        };
        let (hp, hm) = (run(eps), run(-eps));
        for i in 0..n {
            for j in 0..n_out {
                let fd = (hp.get(i, j) - hm.get(i, j)) / (2.0 * eps);
                assert!((fd - h_dot.get(i, j)).abs() < 1e-8);
            }
        }
        let _ = layer;
        let mut a_bar = Matrix::zeros(n, n_in);
        let mut w_bar = Matrix::zeros(n_out, n_in);
        let mut b_bar = vec![0.0; n_out];
        aff.vjp_input(h_bar.as_ref(), 0.0, a_bar.as_mut(), Par::Seq)
            .unwrap();
        aff.vjp_weight(h_bar.as_ref(), a.as_ref(), 0.0, w_bar.as_mut(), Par::Seq)
            .unwrap();
        aff.vjp_bias(h_bar.as_ref(), &mut b_bar).unwrap();
        let lhs = dot(h_bar.as_slice(), h_dot.as_slice());
        let rhs = dot(a_bar.as_slice(), a_dot.as_slice())
            + dot(w_bar.as_slice(), w_dot.as_slice())
            + dot(&b_bar, &b_dot);
        assert!(
            (lhs - rhs).abs() <= 1e-12 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );

        // The one-row outer product equals the batched weight VJP on a single row.
        let mut wo = vec![0.0; n_out * n_in];
        let mut bo = vec![0.0; n_out];
        aff.vjp_params_outer(h_bar.row(2), a.row(2), &mut wo, &mut bo);
        let mut w1 = Matrix::zeros(n_out, n_in);
        aff.vjp_weight(
            h_bar.as_ref().submatrix(2, 0, 1, n_out),
            a.as_ref().submatrix(2, 0, 1, n_in),
            0.0,
            w1.as_mut(),
            Par::Seq,
        )
        .unwrap();
        for (x, y) in wo.iter().zip(w1.as_slice()) {
            assert!((x - y).abs() < 1e-15);
        }
    }
}
