//! Dense linear algebra for Tangent, with no third-party math: packed SIMD GEMM, blocked
//! Cholesky, triangular solves, (preconditioned) conjugate gradient, a symmetric eigensolver
//! and Lanczos. Generic over `f32` and `f64` through [`Real`].
#![warn(missing_docs)]

pub mod error;
pub mod gemm;
pub mod matrix;
pub mod real;

pub use error::{LinalgError, Result};
pub use gemm::{gemm, gemm_op, gemm_with, matmul, matvec, Op, Par};
pub use matrix::{MatMut, MatRef, Matrix};
pub use real::Real;
