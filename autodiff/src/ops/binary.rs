//! Binary elementwise primitives y = a ∘ b, with b broadcast when its shape is a suffix of a's.
//!
//! Broadcasting: if b has shape S and a has shape [L…, S…], then yᵢ = aᵢ ∘ b_{i mod |S|}; the
//! common case is a bias row, `[n, d] ∘ [d]`; a scalar b (shape `[]`) is the suffix of anything.
//! Each op is given by its two partial derivatives, which serve both modes:
//!
//! | op  | y      | ∂y/∂a | ∂y/∂b  |
//! |-----|--------|-------|--------|
//! | add | a + b  | 1     | 1      |
//! | sub | a − b  | 1     | −1     |
//! | mul | a·b    | b     | a      |
//! | div | a / b  | 1/b   | −y/b   |
//!
//! JVP: ẏᵢ = ∂ₐ·ȧᵢ + ∂_b·ḃ_{i mod |S|}. VJP: āᵢ = ∂ₐ·ȳᵢ and b̄ⱼ = Σ_{i ≡ j} ∂_b·ȳᵢ (the
//! adjoint of repeating b is summing over the repeats).
//!
//! Division rule: a divisor with any entry equal to zero (or NaN) is an [`AdError::Domain`]
//! error, so neither ±∞ nor NaN can come out of a division or its derivatives.

use super::{rows, rows_mut, zeros_block};
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use linalg::Real;

/// Which binary operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// a + b.
    Add,
    /// a − b.
    Sub,
    /// a·b.
    Mul,
    /// a / b.
    Div,
}

impl BinaryOp {
    /// y = a ∘ b.
    #[inline(always)]
    pub fn value<T: Real>(self, a: T, b: T) -> T {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
        }
    }

    /// (∂y/∂a, ∂y/∂b) at (a, b), given y.
    #[inline(always)]
    pub fn partials<T: Real>(self, a: T, b: T, y: T) -> (T, T) {
        match self {
            BinaryOp::Add => (T::one(), T::one()),
            BinaryOp::Sub => (T::one(), -T::one()),
            BinaryOp::Mul => (b, a),
            BinaryOp::Div => (T::one() / b, -y / b),
        }
    }
}

fn check_shapes<T: Real>(op: BinaryOp, a: &Tensor<T>, b: &Tensor<T>) -> Result<()> {
    let (sa, sb) = (a.shape(), b.shape());
    if sb.len() > sa.len() || sa[sa.len() - sb.len()..] != *sb {
        return Err(AdError::Shape {
            what: format!(
                "{op:?}: right operand {sb:?} must equal the left {sa:?} or a suffix of it"
            ),
        });
    }
    Ok(())
}

/// Forward rule: yᵢ = aᵢ ∘ b_{i mod |b|}.
pub fn forward<T: Real>(op: BinaryOp, a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<T>> {
    check_shapes(op, a, b)?;
    if op == BinaryOp::Div {
        if let Some(j) = b.data().iter().position(|&v| v == T::zero() || v.is_nan()) {
            return Err(AdError::Domain {
                what: format!(
                    "division by {} at flat index {j} of the divisor",
                    b.data()[j]
                ),
            });
        }
    }
    let m = b.len();
    let mut y = a.clone();
    for row in rows_mut(y.data_mut(), m) {
        for (v, &bv) in row.iter_mut().zip(b.data()) {
            *v = op.value(*v, bv);
        }
    }
    Ok(y)
}

/// JVP rule for k tangents: ẏ = ∂ₐ ⊙ ȧ + ∂_b ⊙ repeat(ḃ).
pub fn jvp<T: Real>(
    op: BinaryOp,
    a: &Tensor<T>,
    b: &Tensor<T>,
    y: &Tensor<T>,
    da: Option<&Tensor<T>>,
    db: Option<&Tensor<T>>,
    k: usize,
) -> Result<Tensor<T>> {
    let (n, m) = (a.len(), b.len());
    let mut out = zeros_block::<T>(y.shape(), k);
    for r in 0..k {
        let o = &mut out.data_mut()[r * n..(r + 1) * n];
        for (i, oi) in o.iter_mut().enumerate() {
            let j = i % m.max(1);
            let (pa, pb) = op.partials(a.data()[i], b.data()[j], y.data()[i]);
            let mut t = T::zero();
            if let Some(da) = da {
                t += pa * da.data()[r * n + i];
            }
            if let Some(db) = db {
                t += pb * db.data()[r * m + j];
            }
            *oi = t;
        }
    }
    Ok(out)
}

/// VJP rule for k cotangents: ā = ∂ₐ ⊙ ȳ, b̄ = Σ_repeats ∂_b ⊙ ȳ.
pub fn vjp<T: Real>(
    op: BinaryOp,
    a: &Tensor<T>,
    b: &Tensor<T>,
    y: &Tensor<T>,
    dy: &Tensor<T>,
    needs: &[bool],
    k: usize,
) -> Result<Vec<Option<Tensor<T>>>> {
    let (n, m) = (a.len(), b.len());
    let mut ga = needs[0].then(|| zeros_block::<T>(a.shape(), k));
    let mut gb = needs[1].then(|| zeros_block::<T>(b.shape(), k));
    for (r, dyr) in rows(dy.data(), n).enumerate() {
        for (i, &g) in dyr.iter().enumerate() {
            let j = i % m.max(1);
            let (pa, pb) = op.partials(a.data()[i], b.data()[j], y.data()[i]);
            if let Some(ga) = ga.as_mut() {
                ga.data_mut()[r * n + i] = pa * g;
            }
            if let Some(gb) = gb.as_mut() {
                gb.data_mut()[r * m + j] += pb * g;
            }
        }
    }
    Ok(vec![ga, gb])
}
