//! The primitives of the reference engine, one file per family. Each primitive keeps its
//! forward, JVP and VJP rules side by side: a one-operand primitive in one [`OneOperand`]
//! impl, a two-operand one as three rule functions named in one `two_operand_primitive!`
//! line (or, for [`Binary`] and [`Concat`], one [`Primitive`] impl); elementwise functions
//! are one [`crate::unary::Unary`] impl, turned into a primitive by [`Elementwise`].
//!
//! | file | primitives |
//! |---|---|
//! | `matmul.rs` | [`MatMul`], [`BatchMatMul`] |
//! | `binary.rs` | [`Binary`]`(`[`Add`] / [`Sub`] / [`Mul`] / [`Div`]`)`, with suffix broadcasting |
//! | `elementwise.rs` | [`Elementwise`]`(g)` for any `Unary` g, [`Scale`], [`Neg`] |
//! | `reduce.rs` | [`Sum`], [`Mean`], [`SumAxis`], [`MeanAxis`] |
//! | `shape.rs` | [`Reshape`], [`Permute`], [`Concat`], [`Slice`] |
//! | `loss.rs` | [`Mse`], [`Softmax`], [`LogSoftmax`], [`SoftmaxCrossEntropy`] |
//!
//! `primitive.rs` holds the trait and the checked entry points the graphs call; `operands.rs`
//! the glue from one- and two-operand rules to [`Primitive`]; `block.rs` the helpers for
//! blocks of k directions.

pub mod binary;
pub(crate) mod block;
pub mod elementwise;
pub mod loss;
pub mod matmul;
pub mod operands;
pub mod primitive;
pub mod reduce;
pub mod shape;

pub use binary::{Add, Binary, BinaryRule, Div, Mul, Sub};
pub use elementwise::{Elementwise, Neg, Scale};
pub use loss::{LogSoftmax, Mse, Softmax, SoftmaxCrossEntropy};
pub use matmul::{BatchMatMul, MatMul};
pub use operands::OneOperand;
pub use primitive::{prim, Prim, Primitive};
pub use reduce::{Mean, MeanAxis, Sum, SumAxis};
pub use shape::{Concat, Permute, Reshape, Slice};
