//! The shared glue between the graphs' slice-based [`Primitive`] interface and rules
//! written for a fixed number of operands.
//!
//! * [`OneOperand`]: the rules of a primitive of one operand x; [`one_operand_primitive!`]
//!   writes its [`Primitive`] impl (arity, the tangent block, the one-entry cotangent list);
//! * [`TwoOperand`]: the rules of a primitive of two operands a, b;
//!   [`two_operand_primitive!`] writes its [`Primitive`] impl.
//!
//! (Macros rather than blanket impls: a blanket `impl<P: OneOperand<T>> Primitive<T> for P`
//! would overlap every other impl under Rust's coherence rules.)
//!
//! [`Primitive`]: super::Primitive

use crate::error::Result;
use crate::tensor::Tensor;
use linalg::Real;
use std::fmt::Debug;

/// A primitive of one operand x, its three rules written with x directly.
pub trait OneOperand<T: Real>: Debug + Send + Sync {
    /// Forward rule: y = f(x).
    fn forward(&self, x: &Tensor<T>) -> Result<Tensor<T>>;
    /// JVP rule: the block ẏ [k, shape(y)…] from the tangent block `dx` [k, shape(x)…].
    fn jvp(&self, x: &Tensor<T>, y: &Tensor<T>, dx: Tensor<T>, k: usize) -> Result<Tensor<T>>;
    /// VJP rule: the block x̄ [k, shape(x)…] from the cotangent block `dy` [k, shape(y)…].
    fn vjp(&self, x: &Tensor<T>, y: &Tensor<T>, dy: &Tensor<T>, k: usize) -> Result<Tensor<T>>;
}

/// Implements [`Primitive`](super::Primitive) for [`OneOperand`] types:
/// `one_operand_primitive!([] Sum)`, or with the type's own generic parameters,
/// `one_operand_primitive!([U: Unary] Elementwise<U>)`.
/// The glue supplies the arity, the tangent block (zeros for a constant operand: the JVP is
/// only called with at least one tangent) and the one-entry cotangent list.
macro_rules! one_operand_primitive {
    ($([$($gen:tt)*] $ty:ty),+ $(,)?) => {$(
        impl<T: linalg::Real, $($gen)*> $crate::graph::prims::primitive::Primitive<T> for $ty {
            fn arity(&self) -> Option<usize> {
                Some(1)
            }
            fn forward(&self, x: &[&Tensor<T>]) -> Result<Tensor<T>> {
                $crate::graph::prims::operands::OneOperand::forward(self, x[0])
            }
            fn jvp(
                &self,
                x: &[&Tensor<T>],
                y: &Tensor<T>,
                dx: &[Option<&Tensor<T>>],
                k: usize,
            ) -> Result<Tensor<T>> {
                let dx = $crate::graph::prims::block::tangent_or_zeros(dx[0], x[0], k);
                $crate::graph::prims::operands::OneOperand::jvp(self, x[0], y, dx, k)
            }
            fn vjp(
                &self,
                x: &[&Tensor<T>],
                y: &Tensor<T>,
                dy: &Tensor<T>,
                _needs: &[bool],
                k: usize,
            ) -> Result<Vec<Option<Tensor<T>>>> {
                $crate::graph::prims::block::single(
                    $crate::graph::prims::operands::OneOperand::vjp(self, x[0], y, dy, k)?,
                )
            }
        }
    )+};
}
pub(crate) use one_operand_primitive;

/// A primitive of two operands a, b, its three rules written with the operands directly.
pub trait TwoOperand<T: Real>: Debug + Send + Sync {
    /// Forward rule: y = f(a, b).
    fn forward(&self, a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<T>>;
    /// JVP rule: ẏ from the tangent blocks `da`, `db` (`None` = a constant operand; at least
    /// one is present).
    #[allow(clippy::too_many_arguments)]
    fn jvp(
        &self,
        a: &Tensor<T>,
        b: &Tensor<T>,
        y: &Tensor<T>,
        da: Option<&Tensor<T>>,
        db: Option<&Tensor<T>>,
        k: usize,
    ) -> Result<Tensor<T>>;
    /// VJP rule: [ā, b̄] from the cotangent block `dy`, each `None` where `needs` says so.
    #[allow(clippy::too_many_arguments)]
    fn vjp(
        &self,
        a: &Tensor<T>,
        b: &Tensor<T>,
        y: &Tensor<T>,
        dy: &Tensor<T>,
        needs: &[bool],
        k: usize,
    ) -> Result<Vec<Option<Tensor<T>>>>;
}

/// Implements [`Primitive`](super::Primitive) for [`TwoOperand`] types:
/// `two_operand_primitive!([] MatMul)`, or with the type's own generic parameters,
/// `two_operand_primitive!([B: BinaryRule] Binary<B>)`.
macro_rules! two_operand_primitive {
    ($([$($gen:tt)*] $ty:ty),+ $(,)?) => {$(
        impl<T: linalg::Real, $($gen)*> $crate::graph::prims::primitive::Primitive<T> for $ty {
            fn arity(&self) -> Option<usize> {
                Some(2)
            }
            fn forward(&self, x: &[&Tensor<T>]) -> Result<Tensor<T>> {
                $crate::graph::prims::operands::TwoOperand::forward(self, x[0], x[1])
            }
            fn jvp(
                &self,
                x: &[&Tensor<T>],
                y: &Tensor<T>,
                dx: &[Option<&Tensor<T>>],
                k: usize,
            ) -> Result<Tensor<T>> {
                $crate::graph::prims::operands::TwoOperand::jvp(
                    self, x[0], x[1], y, dx[0], dx[1], k,
                )
            }
            fn vjp(
                &self,
                x: &[&Tensor<T>],
                y: &Tensor<T>,
                dy: &Tensor<T>,
                needs: &[bool],
                k: usize,
            ) -> Result<Vec<Option<Tensor<T>>>> {
                $crate::graph::prims::operands::TwoOperand::vjp(
                    self, x[0], x[1], y, dy, needs, k,
                )
            }
        }
    )+};
}
pub(crate) use two_operand_primitive;
