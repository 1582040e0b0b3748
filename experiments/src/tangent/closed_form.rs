//! Gradient descent on the linearised model in closed form (Lee et al. 2019, eq. 8–9 in
//! discrete time).
//!
//! With L = 1/(2n)‖f − Y‖² and the kernel K = Σ λᵢvᵢvᵢᵀ, one GD step moves the training
//! residual r = f − Y by r ← (I − (η/n)K) r, so after t steps
//! r_t = Σᵢ qᵢᵗ vᵢvᵢᵀ r₀ with qᵢ = 1 − ηλᵢ/n, and the predictions anywhere are
//! f_t(x*) = f₀(x*) + K(x*, X) β_t with β_t = −Σᵢ (1 − qᵢᵗ)/λᵢ · vᵢvᵢᵀ r₀. Each column of r
//! (an output, for the traced kernel) evolves on its own with the same K.

use anyhow::Result;
use linalg::{Matrix, SymmetricEigen};

/// The closed-form GD curve of a linearised model.
pub struct ClosedFormGd {
    vectors: Matrix<f64>,
    /// Eigenvalues of K clamped at 0 (rounding can leave tiny negative ones).
    lams: Vec<f64>,
    /// c = Vᵀ r₀, one column per output.
    coeffs: Matrix<f64>,
    /// η/n.
    eta_n: f64,
    n: usize,
}

impl ClosedFormGd {
    /// The curve for step `lr` on `n` training points, from the eigendecomposition of K (its
    /// vectors are taken over) and the initial residual r₀ = f₀ − Y in kernel layout (one row
    /// per kernel index, one column per right-hand side).
    pub fn new(eig: SymmetricEigen<f64>, r0: &Matrix<f64>, lr: f64, n: usize) -> Result<Self> {
        let coeffs = linalg::matmul(eig.vectors.as_ref().t(), r0.as_ref())?;
        Ok(ClosedFormGd {
            lams: eig.values.iter().map(|l| l.max(0.0)).collect(),
            vectors: eig.vectors,
            coeffs,
            eta_n: lr / n as f64,
            n,
        })
    }

    /// Eigenvalues of K (ascending, clamped at 0).
    pub fn eigenvalues(&self) -> &[f64] {
        &self.lams
    }

    /// Training loss 1/(2n)‖r_t‖² after t steps, in O(n·o) without forming r_t.
    pub fn loss(&self, t: f64) -> f64 {
        let mut s = 0.0;
        for (i, &l) in self.lams.iter().enumerate() {
            let decay = factors(self.eta_n * l, t, self.eta_n).0;
            s += self
                .coeffs
                .row(i)
                .iter()
                .map(|c| (decay * c).powi(2))
                .sum::<f64>();
        }
        s / (2.0 * self.n as f64)
    }

    /// The training residual r_t and the coefficients β_t (kernel layout).
    pub fn state(&self, t: f64) -> Result<(Matrix<f64>, Matrix<f64>)> {
        let cols = self.coeffs.cols();
        let mut g = Matrix::zeros(self.lams.len(), cols);
        let mut h = Matrix::zeros(self.lams.len(), cols);
        for (i, &l) in self.lams.iter().enumerate() {
            let (decay, shrink) = factors(self.eta_n * l, t, self.eta_n);
            for c in 0..cols {
                g.set(i, c, decay * self.coeffs.get(i, c));
                h.set(i, c, -shrink * self.coeffs.get(i, c));
            }
        }
        Ok((
            linalg::matmul(self.vectors.as_ref(), g.as_ref())?,
            linalg::matmul(self.vectors.as_ref(), h.as_ref())?,
        ))
    }

    /// The predictions after t steps, from one evaluation of the state: on the training
    /// inputs Y + r_t (`y` flattened row-major), and at X* the kernel prediction
    /// f₀(X*) + K(X*, X)β_t given f₀(X*) and the cross kernel (kernel layout).
    pub fn predictions(
        &self,
        t: f64,
        y: &[f64],
        f0: &Matrix<f64>,
        k_cross: &Matrix<f64>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let (resid, beta) = self.state(t)?;
        let train = resid.as_slice().iter().zip(y).map(|(r, t)| r + t).collect();
        Ok((train, super::kernel_predict(f0, k_cross, &beta)?))
    }

    /// The smallest whole number of steps after which the loss is ≤ `target` (the loss
    /// decreases in t for a stable step), by doubling then bisection; None beyond 10¹⁵.
    pub fn steps_to(&self, target: f64) -> Option<f64> {
        let mut hi = 1.0f64;
        while self.loss(hi) > target && hi < 1e15 {
            hi *= 2.0;
        }
        if self.loss(hi) > target {
            return None;
        }
        let mut lo = 0.0f64;
        while hi - lo > 0.5 {
            let mid = (0.5 * (lo + hi)).floor().max(lo + 0.5);
            if self.loss(mid) <= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi.ceil())
    }
}

/// The closed-form factors along one eigen-direction with h = ηλᵢ/n: the residual decays by
/// qᵗ with q = 1 − h, and the coefficient grows by (1 − qᵗ)/λᵢ = (η/n)·(1 − qᵗ)/h. For tiny h,
/// 1 − qᵗ cancels catastrophically, so for 0 < q it is computed as −expm1(t·ln_1p(−h));
/// `eta_n` = η/n gives the h → 0 limit t·η/n exactly.
pub fn factors(h: f64, t: f64, eta_n: f64) -> (f64, f64) {
    if h <= 0.0 {
        return (1.0, t * eta_n);
    }
    if h < 1.0 {
        let log_q = (-h).ln_1p();
        let decay = (t * log_q).exp();
        let one_minus = -(t * log_q).exp_m1();
        return (decay, eta_n * one_minus / h);
    }
    // 1 ≤ h < 2: q ≤ 0 oscillates; t is a whole number of steps here.
    let decay = (1.0 - h).powf(t);
    (decay, eta_n * (1.0 - decay) / h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_steps_keep_full_relative_accuracy() {
        // (1 − q^t)/h with h = 1e-18, t = 1000: exactly t − t(t−1)h/2 + … ≈ 1000.
        let (decay, shrink) = factors(1e-18, 1000.0, 1.0);
        assert!((decay - (-1e-15f64).exp()).abs() < 1e-16, "{decay}");
        assert!((shrink - 1000.0).abs() < 1e-9, "{shrink}");
        // The naive (1 − (1 − h)^t)/h loses every digit here.
        let naive = (1.0 - (1.0f64 - 1e-18).powf(1000.0)) / 1e-18;
        assert_eq!(naive, 0.0);
    }

    #[test]
    fn factors_match_the_recurrence() {
        for &h in &[1e-6, 0.3, 1.0, 1.7] {
            let (mut r, mut b) = (1.0f64, 0.0f64);
            for _ in 0..25 {
                b += r; // β grows by η/n·r per step (η/n = 1 here)
                r *= 1.0 - h;
            }
            let (decay, shrink) = factors(h, 25.0, 1.0);
            assert!((decay - r).abs() <= 1e-12 * r.abs().max(1e-300), "h = {h}");
            assert!(
                (shrink - b).abs() <= 1e-12 * b.abs(),
                "h = {h}: {shrink} vs {b}"
            );
        }
    }
}
