//! The primitive registry: one trait, [`Primitive`], implemented once per primitive with its
//! forward rule, its JVP rule and its VJP rule side by side, so a reader checks all three
//! against one formula and adding a primitive touches one file.
//!
//! * [`Primitive::forward`]: y = f(x₁, …, x_m);
//! * [`Primitive::jvp`]: ẏ = Σᵢ ∂f/∂xᵢ · ẋᵢ for a *block* of k tangents at once;
//! * [`Primitive::vjp`]: x̄ᵢ = (∂f/∂xᵢ)ᵀ ȳ for a block of k cotangents at once
//!
//! (a block of k directions of a value with shape S is one tensor [k, S…]). The graphs hold primitives as [`Prim`] (a shared trait
//! object) and call them through [`forward`], [`jvp`] and [`vjp`], which check operand
//! counts and block shapes once for every primitive, so the rules may assume them.

use super::block::{block_count, check_block};
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use linalg::Real;
use std::fmt::Debug;
use std::sync::Arc;

/// A differentiable function of tensors with its three rules.
///
/// Parameters that are not tensors (an axis, a constant) live in the implementing value;
/// tensor operands are passed to the rules. A primitive is implemented for every precision
/// at once (`impl<T: Real> Primitive<T> for …`), so the same value serves f32 and f64.
pub trait Primitive<T: Real>: Debug + Send + Sync {
    /// Number of tensor operands, or `None` for one or more (concat).
    fn arity(&self) -> Option<usize>;

    /// Forward rule: y = f(x₁, …, x_m). Checks operand shapes and domains.
    fn forward(&self, x: &[&Tensor<T>]) -> Result<Tensor<T>>;

    /// JVP rule for a block of k tangents: `x` are the operands, `y` the forward result,
    /// `dx[i]` the tangent block [k, shape(xᵢ)…] of operand i (`None` = zero, a constant; at
    /// least one is present). Returns the block [k, shape(y)…] of ẏ = Σᵢ ∂f/∂xᵢ · ẋᵢ.
    fn jvp(
        &self,
        x: &[&Tensor<T>],
        y: &Tensor<T>,
        dx: &[Option<&Tensor<T>>],
        k: usize,
    ) -> Result<Tensor<T>>;

    /// VJP rule for a block of k cotangents: `dy` is the block [k, shape(y)…]; returns, for
    /// each operand i with `needs[i]`, the block [k, shape(xᵢ)…] of x̄ᵢ = (∂f/∂xᵢ)ᵀ ȳ
    /// (`None` where not needed, so constant operands cost nothing).
    fn vjp(
        &self,
        x: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: &Tensor<T>,
        needs: &[bool],
        k: usize,
    ) -> Result<Vec<Option<Tensor<T>>>>;

    /// A short name for error messages (the `Debug` form by default).
    fn name(&self) -> String {
        format!("{self:?}")
    }
}

/// A primitive as the graphs record it: shared, so a tape entry and its caller hold the same
/// rules without copying their parameters.
pub type Prim<T> = Arc<dyn Primitive<T>>;

/// Wraps a primitive value as a [`Prim`].
pub fn prim<T: Real, P: Primitive<T> + 'static>(p: P) -> Prim<T> {
    Arc::new(p)
}

fn check_arity<T: Real>(p: &dyn Primitive<T>, m: usize) -> Result<()> {
    let ok = match p.arity() {
        Some(a) => a == m,
        None => m >= 1,
    };
    if ok {
        Ok(())
    } else {
        Err(AdError::InvalidArgument {
            what: format!("{} called with {m} operands", p.name()),
        })
    }
}

/// [`Primitive::forward`] after checking the operand count.
pub fn forward<T: Real>(p: &dyn Primitive<T>, x: &[&Tensor<T>]) -> Result<Tensor<T>> {
    check_arity(p, x.len())?;
    p.forward(x)
}

/// [`Primitive::jvp`] after checking the operand count and every tangent block's shape.
pub fn jvp<T: Real>(
    p: &dyn Primitive<T>,
    x: &[&Tensor<T>],
    y: &Tensor<T>,
    dx: &[Option<&Tensor<T>>],
    k: usize,
) -> Result<Tensor<T>> {
    check_arity(p, x.len())?;
    if dx.len() != x.len() {
        return Err(AdError::InvalidArgument {
            what: format!(
                "{}: {} tangents for {} operands",
                p.name(),
                dx.len(),
                x.len()
            ),
        });
    }
    for (xi, di) in x.iter().zip(dx) {
        if let Some(d) = di {
            check_block(d, xi.shape(), k, "tangent")?;
        }
    }
    p.jvp(x, y, dx, k)
}

/// [`Primitive::vjp`] after checking the operand count and the cotangent block's shape.
pub fn vjp<T: Real>(
    p: &dyn Primitive<T>,
    x: &[&Tensor<T>],
    y: &Tensor<T>,
    dy: &Tensor<T>,
    needs: &[bool],
) -> Result<Vec<Option<Tensor<T>>>> {
    check_arity(p, x.len())?;
    if needs.len() != x.len() {
        return Err(AdError::InvalidArgument {
            what: format!(
                "{}: {} flags for {} operands",
                p.name(),
                needs.len(),
                x.len()
            ),
        });
    }
    let k = block_count(dy, y.shape())?;
    p.vjp(x, y, dy, needs, k)
}
