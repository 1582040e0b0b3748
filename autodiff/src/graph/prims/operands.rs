//! The shared glue between the graphs' slice-based [`Primitive`] interface and rules
//! written for a fixed number of operands.
//!
//! * [`OneOperand`]: the rules of a primitive of one operand x; `one_operand_primitive!`
//!   writes its [`Primitive`] impl (arity, the tangent block, the one-entry cotangent list);
//! * `two_operand_primitive!`: the [`Primitive`] impl of a primitive of two operands a, b
//!   from its three rule functions (forward, JVP, VJP) named side by side.
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

/// Implements [`Primitive`](super::Primitive) for a primitive of two operands a, b whose
/// rules are three functions of the operands alone:
/// `two_operand_primitive!(MatMul => matmul_forward, matmul_jvp, matmul_vjp)` with
/// `forward(a, b)`, `jvp(a, b, da, db, k)` (`None` = a constant operand) and
/// `vjp(a, b, dy, needs, k)`.
macro_rules! two_operand_primitive {
    ($($ty:ty => $forward:ident, $jvp:ident, $vjp:ident);+ $(;)?) => {$(
        impl<T: linalg::Real> $crate::graph::prims::primitive::Primitive<T> for $ty {
            fn arity(&self) -> Option<usize> {
                Some(2)
            }
            fn forward(&self, x: &[&Tensor<T>]) -> Result<Tensor<T>> {
                $forward(x[0], x[1])
            }
            fn jvp(
                &self,
                x: &[&Tensor<T>],
                _y: &Tensor<T>,
                dx: &[Option<&Tensor<T>>],
                k: usize,
            ) -> Result<Tensor<T>> {
                $jvp(x[0], x[1], dx[0], dx[1], k)
            }
            fn vjp(
                &self,
                x: &[&Tensor<T>],
                _y: &Tensor<T>,
                dy: &Tensor<T>,
                needs: &[bool],
                k: usize,
            ) -> Result<Vec<Option<Tensor<T>>>> {
                $vjp(x[0], x[1], dy, needs, k)
            }
        }
    )+};
}
pub(crate) use two_operand_primitive;
