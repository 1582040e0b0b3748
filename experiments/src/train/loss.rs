//! Training losses on the network's outputs, each with its gradient with respect to the
//! outputs, and the network's value and gradient through one VJP.
//!
//! * Softmax cross-entropy over n samples with logits f (n×C) and classes y:
//!   L = 1/n Σᵢ −log softmax(fᵢ)\[yᵢ\] = 1/n Σᵢ (logsumexp(fᵢ) − fᵢ\[yᵢ\]),
//!   ∂L/∂f = (softmax(f) − onehot(y))/n (Goodfellow, Bengio & Courville, "Deep Learning",
//!   §6.2.2.3). logsumexp is taken after subtracting the row maximum, so logits of ±1e4 give
//!   finite values and gradients.
//! * Squared error L = 1/(2n)‖f − Y‖²_F, ∂L/∂f = (f − Y)/n — the same scaling as
//!   `Mlp::mse_value_and_grad`.

use anyhow::{bail, Result};
use autodiff::mlp::Mlp;
use linalg::{MatRef, Matrix, Real};

/// Which loss to train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// 1/n Σᵢ −log softmax(fᵢ)\[yᵢ\]; needs [`Targets::Classes`].
    CrossEntropy,
    /// 1/(2n)‖f − Y‖²_F; needs [`Targets::Values`].
    SquaredError,
}

/// The targets of a whole training set, indexed by sample.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, T: Real> {
    /// One class index per sample, in 0..C.
    Classes(&'a [usize]),
    /// One row of target values per sample (n×C).
    Values(MatRef<'a, T>),
}

impl<T: Real> Targets<'_, T> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.len(),
            Targets::Values(y) => y.rows(),
        }
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Loss {
    /// The loss of outputs `f` (one row per sample) whose targets are `targets[rows[i]]`,
    /// and its gradient ∂L/∂f (same shape as f).
    ///
    /// `rows` maps each row of f to its sample in `targets`, so a minibatch is scored without
    /// copying its targets. Errors on a loss/target mismatch, a class out of range, a row
    /// index out of range or shapes that do not fit.
    pub fn value_and_output_grad<T: Real>(
        &self,
        f: MatRef<'_, T>,
        targets: &Targets<'_, T>,
        rows: &[usize],
    ) -> Result<(f64, Matrix<T>)> {
        if rows.len() != f.rows() || f.rows() == 0 {
            bail!(
                "{} outputs for {} target rows (need the same, at least one)",
                f.rows(),
                rows.len()
            );
        }
        if let Some(&r) = rows.iter().find(|&&r| r >= targets.len()) {
            bail!("target row {r} of {} samples", targets.len());
        }
        match (self, targets) {
            (Loss::CrossEntropy, Targets::Classes(c)) => cross_entropy(f, c, rows),
            (Loss::SquaredError, Targets::Values(y)) => squared_error(f, *y, rows),
            (loss, _) => bail!("the {loss:?} loss was given the other kind of targets"),
        }
    }

    /// The loss of the network on the inputs `x` (one row per entry of `rows`) and its
    /// gradient with respect to θ, ∇L = Jᵀ ∂L/∂f, by one forward and one reverse pass.
    pub fn network_value_and_grad<T: Real>(
        &self,
        mlp: &Mlp,
        theta: &[T],
        x: MatRef<'_, T>,
        targets: &Targets<'_, T>,
        rows: &[usize],
    ) -> Result<(f64, Vec<T>)> {
        mlp.loss_value_and_grad(theta, x, |f| self.value_and_output_grad(f, targets, rows))
    }
}

/// Softmax cross-entropy and (softmax − onehot)/n, row by row in f64.
fn cross_entropy<T: Real>(
    f: MatRef<'_, T>,
    classes: &[usize],
    rows: &[usize],
) -> Result<(f64, Matrix<T>)> {
    let (n, c) = (f.rows(), f.cols());
    let inv_n = 1.0 / n as f64;
    let mut grad = Matrix::zeros(n, c);
    let mut total = 0.0;
    let mut z = vec![0.0f64; c];
    for i in 0..n {
        let y = classes[rows[i]];
        if y >= c {
            bail!("class {y} of sample {} is not below {c}", rows[i]);
        }
        for (a, za) in z.iter_mut().enumerate() {
            *za = f.get(i, a).to_f64();
        }
        // Shifting by the maximum keeps every exp in (0, 1], so nothing overflows; the
        // largest term is exactly 1 and the sum cannot underflow to 0.
        if z.iter().any(|v| !v.is_finite()) {
            bail!("the logits of sample {} are not finite", rows[i]);
        }
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // exp(z − m) once per class; p = e/Σe and L = (m − z_y) + ln Σe, never through
        // logsumexp itself, which for |z| ≈ 1e4 would carry an absolute error of ~1e-12.
        for za in z.iter_mut() {
            *za = (*za - m).exp();
        }
        let sum: f64 = z.iter().sum();
        total += (m - f.get(i, y).to_f64()) + sum.ln();
        for (a, &e) in z.iter().enumerate() {
            let onehot = if a == y { 1.0 } else { 0.0 };
            grad.set(i, a, T::from_f64((e / sum - onehot) * inv_n));
        }
    }
    Ok((total * inv_n, grad))
}

/// 1/(2n)‖f − Y‖² and (f − Y)/n.
fn squared_error<T: Real>(
    f: MatRef<'_, T>,
    y: MatRef<'_, T>,
    rows: &[usize],
) -> Result<(f64, Matrix<T>)> {
    if y.cols() != f.cols() {
        bail!("targets have {} columns, outputs {}", y.cols(), f.cols());
    }
    let n = f.rows();
    let inv_n = 1.0 / n as f64;
    let mut total = 0.0;
    let grad = Matrix::from_fn(n, f.cols(), |i, a| {
        let r = f.get(i, a).to_f64() - y.get(rows[i], a).to_f64();
        total += r * r;
        T::from_f64(r * inv_n)
    });
    Ok((0.5 * total * inv_n, grad))
}
