//! Losses and normalisations: mean squared error, softmax, log-softmax, softmax
//! cross-entropy. Softmax-type primitives act along the last axis; every other axis indexes
//! independent rows.
//!
//! Numerical stability: every row is shifted by its maximum before exponentiating
//! (softmax is invariant under the shift), so eˣ never overflows, the row sum lies in
//! [1, c], and log-softmax = (x − max) − ln Σ e^{x − max} is finite for finite logits —
//! logits of ±10⁴ give finite values and finite derivatives in f32 and f64. Non-finite logits,
//! targets or predictions are an [`AdError::Domain`] error rather than a NaN loss.
//!
//! | primitive    | forward                          | JVP                        | VJP                        |
//! |--------------|----------------------------------|----------------------------|----------------------------|
//! | softmax      | p = e^{x−m}/Σ e^{x−m}            | ṗ = p ⊙ (ẋ − ⟨p, ẋ⟩)       | x̄ = p ⊙ (ȳ − ⟨p, ȳ⟩)       |
//! | log-softmax  | ℓ = x − m − ln Σ e^{x−m}         | ℓ̇ = ẋ − ⟨p, ẋ⟩             | x̄ = ȳ − p·Σȳ               |
//! | cross-entropy| L = −(1/R) Σᵣ ⟨tᵣ, ℓᵣ⟩            | L̇ = −(1/R) Σᵣ ⟨ṫᵣ, ℓᵣ⟩ + ⟨tᵣ, ℓ̇ᵣ⟩ | z̄ = (L̄/R)(Tᵣ pᵣ − tᵣ), t̄ = −(L̄/R) ℓ |
//! | mse          | L = (1/N) Σ (p − t)²              | L̇ = (2/N) ⟨p − t, ṗ − ṫ⟩   | p̄ = (2L̄/N)(p − t), t̄ = −p̄ |
//!
//! (p = softmax, ℓ = log-softmax, Tᵣ = Σ_c t_rc; the softmax Jacobian diag(p) − ppᵀ is
//! symmetric, which is why its JVP and VJP have the same form.)

use super::block::{block_shape, rows};
use super::operands::{one_operand_primitive, two_operand_primitive, OneOperand};
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use linalg::Real;

/// Mean squared error L = (1/N) Σ (p − t)² of a prediction and a target, a scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mse;

/// Softmax along the last axis, yᵢ = e^{xᵢ − max x} / Σⱼ e^{xⱼ − max x}.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Softmax;

impl<T: Real> OneOperand<T> for Softmax {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        softmax_forward(x)
    }
    fn jvp(&self, _x: &Tensor<T>, y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        softmax_jvp(y, &dx)
    }
    fn vjp(&self, _x: &Tensor<T>, y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(softmax_vjp(y, dy))
    }
}

/// Log-softmax along the last axis, yᵢ = xᵢ − max x − ln Σⱼ e^{xⱼ − max x}.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogSoftmax;

impl<T: Real> OneOperand<T> for LogSoftmax {
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        log_softmax_forward(x)
    }
    fn jvp(&self, _x: &Tensor<T>, y: &Tensor<T>, dx: Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        log_softmax_jvp(y, &dx)
    }
    fn vjp(&self, _x: &Tensor<T>, y: &Tensor<T>, dy: &Tensor<T>, _k: usize) -> Result<Tensor<T>> {
        Ok(log_softmax_vjp(y, dy))
    }
}

one_operand_primitive!([] Softmax, [] LogSoftmax);

/// Softmax cross-entropy of logits z and targets t (same shape, classes on the last axis),
/// averaged over rows: L = −(1/R) Σ_r Σ_c t_rc · log_softmax(z_r)_c.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy;

two_operand_primitive!(
    Mse => mse_forward, mse_jvp, mse_vjp;
    SoftmaxCrossEntropy => cross_entropy_forward, cross_entropy_jvp, cross_entropy_vjp;
);

/// Number of classes (last extent), checking that there is a last axis with entries.
fn classes<T: Real>(x: &Tensor<T>, what: &str) -> Result<usize> {
    match x.shape().last() {
        Some(&c) if c > 0 => Ok(c),
        _ => Err(AdError::Shape {
            what: format!(
                "{what} needs a non-empty last axis, found shape {:?}",
                x.shape()
            ),
        }),
    }
}

fn check_finite<T: Real>(x: &Tensor<T>, what: &str) -> Result<()> {
    if let Some(i) = x.data().iter().position(|v| !v.is_finite()) {
        return Err(AdError::Domain {
            what: format!("{what}: non-finite entry {} at flat index {i}", x.data()[i]),
        });
    }
    Ok(())
}

/// log-softmax of one row, stably: ℓᵢ = (xᵢ − m) − ln Σⱼ e^{xⱼ − m}, m = max x.
fn log_softmax_row<T: Real>(x: &[T], out: &mut [T]) {
    let m = x.iter().copied().fold(x[0], T::max);
    let s: T = x.iter().map(|&v| (v - m).exp()).sum();
    let lse = s.ln();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - m) - lse;
    }
}

fn log_softmax_all<T: Real>(x: &Tensor<T>, c: usize) -> Tensor<T> {
    let mut y = x.clone();
    for (src, dst) in rows(x.data(), c).zip(y.data_mut().chunks_mut(c)) {
        log_softmax_row(src, dst);
    }
    y
}

/// Forward rule of softmax along the last axis.
fn softmax_forward<T: Real>(x: &Tensor<T>) -> Result<Tensor<T>> {
    let c = classes(x, "softmax")?;
    check_finite(x, "softmax")?;
    Ok(log_softmax_all(x, c).map(|v| v.exp()))
}

/// Forward rule of log-softmax along the last axis.
fn log_softmax_forward<T: Real>(x: &Tensor<T>) -> Result<Tensor<T>> {
    let c = classes(x, "log-softmax")?;
    check_finite(x, "log-softmax")?;
    Ok(log_softmax_all(x, c))
}

/// For each direction and row: out = p ⊙ (d − ⟨p, d⟩) — the softmax JVP and VJP.
fn softmax_linear<T: Real>(p: &Tensor<T>, d: &Tensor<T>) -> Tensor<T> {
    let c = *p.shape().last().expect("checked by forward");
    let mut out = d.clone();
    let n = p.len();
    for blk in out.data_mut().chunks_mut(n.max(1)) {
        for (o, pr) in blk.chunks_mut(c).zip(p.data().chunks(c)) {
            let s: T = o.iter().zip(pr).map(|(&a, &b)| a * b).sum();
            for (oi, &pi) in o.iter_mut().zip(pr) {
                *oi = pi * (*oi - s);
            }
        }
    }
    out
}

/// JVP rule of softmax: ṗ = p ⊙ (ẋ − ⟨p, ẋ⟩) row by row.
fn softmax_jvp<T: Real>(p: &Tensor<T>, dx: &Tensor<T>) -> Result<Tensor<T>> {
    Ok(softmax_linear(p, dx))
}

/// VJP rule of softmax: x̄ = p ⊙ (ȳ − ⟨p, ȳ⟩) row by row.
fn softmax_vjp<T: Real>(p: &Tensor<T>, dy: &Tensor<T>) -> Tensor<T> {
    softmax_linear(p, dy)
}

/// JVP rule of log-softmax: ℓ̇ = ẋ − ⟨p, ẋ⟩ with p = e^ℓ.
fn log_softmax_jvp<T: Real>(l: &Tensor<T>, dx: &Tensor<T>) -> Result<Tensor<T>> {
    let c = *l.shape().last().expect("checked by forward");
    let p = l.map(|v| v.exp());
    let mut out = dx.clone();
    for blk in out.data_mut().chunks_mut(l.len().max(1)) {
        for (o, pr) in blk.chunks_mut(c).zip(p.data().chunks(c)) {
            let s: T = o.iter().zip(pr).map(|(&a, &b)| a * b).sum();
            for oi in o.iter_mut() {
                *oi -= s;
            }
        }
    }
    Ok(out)
}

/// VJP rule of log-softmax: x̄ = ȳ − p · Σ ȳ with p = e^ℓ.
fn log_softmax_vjp<T: Real>(l: &Tensor<T>, dy: &Tensor<T>) -> Tensor<T> {
    let c = *l.shape().last().expect("checked by forward");
    let p = l.map(|v| v.exp());
    let mut out = dy.clone();
    for blk in out.data_mut().chunks_mut(l.len().max(1)) {
        for (o, pr) in blk.chunks_mut(c).zip(p.data().chunks(c)) {
            let s: T = o.iter().copied().sum();
            for (oi, &pi) in o.iter_mut().zip(pr) {
                *oi -= pi * s;
            }
        }
    }
    out
}

fn same_shape<T: Real>(a: &Tensor<T>, b: &Tensor<T>, what: &str) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(AdError::Shape {
            what: format!(
                "{what}: prediction {:?} and target {:?}",
                a.shape(),
                b.shape()
            ),
        });
    }
    Ok(())
}

/// Forward rule of softmax cross-entropy: L = −(1/R) Σᵣ Σ_c t_rc ℓ_rc, ℓ = log_softmax(z),
/// R = number of rows. Targets may be one-hot, probabilities or any weights.
fn cross_entropy_forward<T: Real>(z: &Tensor<T>, t: &Tensor<T>) -> Result<Tensor<T>> {
    same_shape(z, t, "softmax cross-entropy")?;
    let c = classes(z, "softmax cross-entropy")?;
    check_finite(z, "softmax cross-entropy")?;
    check_finite(t, "softmax cross-entropy targets")?;
    let l = log_softmax_all(z, c);
    let r = T::from_usize(z.len() / c);
    let dot: T = l.data().iter().zip(t.data()).map(|(&a, &b)| a * b).sum();
    Ok(Tensor::scalar(-dot / r))
}

/// JVP rule: L̇ = −(1/R) Σᵣ [⟨ṫᵣ, ℓᵣ⟩ + ⟨tᵣ, żᵣ⟩ − Tᵣ ⟨pᵣ, żᵣ⟩].
fn cross_entropy_jvp<T: Real>(
    z: &Tensor<T>,
    t: &Tensor<T>,
    dz: Option<&Tensor<T>>,
    dt: Option<&Tensor<T>>,
    k: usize,
) -> Result<Tensor<T>> {
    let c = classes(z, "softmax cross-entropy")?;
    let n = z.len();
    let l = log_softmax_all(z, c);
    let inv_r = T::one() / T::from_usize(n / c);
    let mut out = vec![T::zero(); k];
    for (r, o) in out.iter_mut().enumerate() {
        let mut acc = T::zero();
        if let Some(dt) = dt {
            acc += dt.data()[r * n..(r + 1) * n]
                .iter()
                .zip(l.data())
                .map(|(&a, &b)| a * b)
                .sum();
        }
        if let Some(dz) = dz {
            let dzr = &dz.data()[r * n..(r + 1) * n];
            for ((zr, tr), lr) in dzr
                .chunks(c)
                .zip(t.data().chunks(c))
                .zip(l.data().chunks(c))
            {
                let total: T = tr.iter().copied().sum();
                let tz: T = tr.iter().zip(zr).map(|(&a, &b)| a * b).sum();
                let pz: T = lr.iter().zip(zr).map(|(&a, &b)| a.exp() * b).sum();
                acc += tz - total * pz;
            }
        }
        *o = -acc * inv_r;
    }
    Ok(Tensor::from_parts(vec![k], out))
}

/// VJP rule: z̄ = (L̄/R)(Tᵣ pᵣ − tᵣ), t̄ = −(L̄/R) ℓ.
fn cross_entropy_vjp<T: Real>(
    z: &Tensor<T>,
    t: &Tensor<T>,
    dy: &Tensor<T>,
    needs: &[bool],
    k: usize,
) -> Result<Vec<Option<Tensor<T>>>> {
    let c = classes(z, "softmax cross-entropy")?;
    let n = z.len();
    let l = log_softmax_all(z, c);
    let inv_r = T::one() / T::from_usize(n / c);
    let shape = block_shape(z.shape(), k);
    let gz = needs[0].then(|| {
        let mut g = Vec::with_capacity(k * n);
        for &lbar in dy.data() {
            let s = lbar * inv_r;
            for (tr, lr) in t.data().chunks(c).zip(l.data().chunks(c)) {
                let total: T = tr.iter().copied().sum();
                g.extend(
                    tr.iter()
                        .zip(lr)
                        .map(|(&ti, &li)| s * (total * li.exp() - ti)),
                );
            }
        }
        Tensor::from_parts(shape.clone(), g)
    });
    let gt = needs[1].then(|| {
        let mut g = Vec::with_capacity(k * n);
        for &lbar in dy.data() {
            let s = -lbar * inv_r;
            g.extend(l.data().iter().map(|&li| s * li));
        }
        Tensor::from_parts(shape.clone(), g)
    });
    Ok(vec![gz, gt])
}

/// Forward rule of the mean squared error: L = (1/N) Σᵢ (pᵢ − tᵢ)²; N = 0 and non-finite
/// entries are errors.
fn mse_forward<T: Real>(p: &Tensor<T>, t: &Tensor<T>) -> Result<Tensor<T>> {
    same_shape(p, t, "mse")?;
    check_finite(p, "mse prediction")?;
    check_finite(t, "mse target")?;
    if p.is_empty() {
        return Err(AdError::InvalidArgument {
            what: "mse of zero entries".into(),
        });
    }
    let s: T = p
        .data()
        .iter()
        .zip(t.data())
        .map(|(&a, &b)| (a - b) * (a - b))
        .sum();
    Ok(Tensor::scalar(s / T::from_usize(p.len())))
}

/// JVP rule: L̇ = (2/N) ⟨p − t, ṗ − ṫ⟩.
fn mse_jvp<T: Real>(
    p: &Tensor<T>,
    t: &Tensor<T>,
    dp: Option<&Tensor<T>>,
    dt: Option<&Tensor<T>>,
    k: usize,
) -> Result<Tensor<T>> {
    let n = p.len();
    let two_n = T::from_f64(2.0) / T::from_usize(n);
    let diff: Vec<T> = p
        .data()
        .iter()
        .zip(t.data())
        .map(|(&a, &b)| a - b)
        .collect();
    let mut out = vec![T::zero(); k];
    for (r, o) in out.iter_mut().enumerate() {
        let mut acc = T::zero();
        if let Some(dp) = dp {
            acc += dp.data()[r * n..(r + 1) * n]
                .iter()
                .zip(&diff)
                .map(|(&a, &b)| a * b)
                .sum();
        }
        if let Some(dt) = dt {
            acc -= dt.data()[r * n..(r + 1) * n]
                .iter()
                .zip(&diff)
                .map(|(&a, &b)| a * b)
                .sum();
        }
        *o = two_n * acc;
    }
    Ok(Tensor::from_parts(vec![k], out))
}

/// VJP rule: p̄ = (2L̄/N)(p − t), t̄ = −p̄.
fn mse_vjp<T: Real>(
    p: &Tensor<T>,
    t: &Tensor<T>,
    dy: &Tensor<T>,
    needs: &[bool],
    k: usize,
) -> Result<Vec<Option<Tensor<T>>>> {
    let n = p.len();
    let two_n = T::from_f64(2.0) / T::from_usize(n);
    let mut g = Vec::with_capacity(k * n);
    for &lbar in dy.data() {
        let s = two_n * lbar;
        g.extend(p.data().iter().zip(t.data()).map(|(&a, &b)| s * (a - b)));
    }
    let shape = block_shape(p.shape(), k);
    let gp = Tensor::from_parts(shape, g);
    let gt = needs[1].then(|| gp.map(|v| -v));
    Ok(vec![needs[0].then_some(gp), gt])
}
