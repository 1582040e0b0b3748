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

use super::block::{rows, rows_mut, zeros_block};
use super::primitive::Primitive;
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use linalg::Real;
use std::fmt::Debug;

/// A binary operation given by its value and its two partial derivatives, which serve both
/// modes (see the table in the module documentation). [`Binary`] turns it into a primitive.
pub trait BinaryRule: Copy + Debug + Send + Sync {
    /// y = a ∘ b.
    fn value<T: Real>(&self, a: T, b: T) -> T;
    /// (∂y/∂a, ∂y/∂b) at (a, b), given y.
    fn partials<T: Real>(&self, a: T, b: T, y: T) -> (T, T);
    /// Checks the right operand before anything is computed (division: no zero or NaN).
    fn check_right<T: Real>(&self, _b: &Tensor<T>) -> Result<()> {
        Ok(())
    }
}

/// a + b.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Add;
impl BinaryRule for Add {
    #[inline(always)]
    fn value<T: Real>(&self, a: T, b: T) -> T {
        a + b
    }
    #[inline(always)]
    fn partials<T: Real>(&self, _a: T, _b: T, _y: T) -> (T, T) {
        (T::one(), T::one())
    }
}

/// a − b.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sub;
impl BinaryRule for Sub {
    #[inline(always)]
    fn value<T: Real>(&self, a: T, b: T) -> T {
        a - b
    }
    #[inline(always)]
    fn partials<T: Real>(&self, _a: T, _b: T, _y: T) -> (T, T) {
        (T::one(), -T::one())
    }
}

/// a·b.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mul;
impl BinaryRule for Mul {
    #[inline(always)]
    fn value<T: Real>(&self, a: T, b: T) -> T {
        a * b
    }
    #[inline(always)]
    fn partials<T: Real>(&self, a: T, b: T, _y: T) -> (T, T) {
        (b, a)
    }
}

/// a / b; a divisor with a zero or NaN entry is a domain error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Div;
impl BinaryRule for Div {
    #[inline(always)]
    fn value<T: Real>(&self, a: T, b: T) -> T {
        a / b
    }
    #[inline(always)]
    fn partials<T: Real>(&self, _a: T, b: T, y: T) -> (T, T) {
        (T::one() / b, -y / b)
    }
    fn check_right<T: Real>(&self, b: &Tensor<T>) -> Result<()> {
        if let Some(j) = b.data().iter().position(|&v| v == T::zero() || v.is_nan()) {
            return Err(AdError::Domain {
                what: format!(
                    "division by {} at flat index {j} of the divisor",
                    b.data()[j]
                ),
            });
        }
        Ok(())
    }
}

/// The primitive y = a ∘ b of a [`BinaryRule`], with b broadcast over a when its shape is a
/// suffix of a's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binary<B>(pub B);

impl<T: Real, B: BinaryRule> Primitive<T> for Binary<B> {
    fn arity(&self) -> Option<usize> {
        Some(2)
    }
    fn forward(&self, x: &[&Tensor<T>]) -> Result<Tensor<T>> {
        forward(self.0, x[0], x[1])
    }
    fn jvp(
        &self,
        x: &[&Tensor<T>],
        y: &Tensor<T>,
        dx: &[Option<&Tensor<T>>],
        k: usize,
    ) -> Result<Tensor<T>> {
        jvp(self.0, x[0], x[1], y, dx[0], dx[1], k)
    }
    fn vjp(
        &self,
        x: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: &Tensor<T>,
        needs: &[bool],
        k: usize,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        vjp(self.0, x[0], x[1], y, dy, needs, k)
    }
}

fn check_shapes<T: Real, B: BinaryRule>(op: B, a: &Tensor<T>, b: &Tensor<T>) -> Result<()> {
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
fn forward<T: Real, B: BinaryRule>(op: B, a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<T>> {
    check_shapes(op, a, b)?;
    op.check_right(b)?;
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
fn jvp<T: Real, B: BinaryRule>(
    op: B,
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
fn vjp<T: Real, B: BinaryRule>(
    op: B,
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
