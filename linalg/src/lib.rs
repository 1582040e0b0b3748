//! Dense linear algebra for Tangent, with no third-party math: packed SIMD GEMM, blocked
//! Cholesky, triangular solves, (preconditioned) conjugate gradient, a symmetric eigensolver
//! and Lanczos. Generic over `f32` and `f64` through [`Real`].
#![warn(missing_docs)]

pub mod cg;
pub mod cholesky;
pub mod eigen;
pub mod error;
pub mod gemm;
pub mod lanczos;
pub mod matrix;
pub mod real;
pub mod triangular;

pub use cg::{cg, CgOptions, CgResult, CgVerdict, LinearOperator, Preconditioner};
pub use cholesky::{cholesky_in_place, Cholesky};
pub use eigen::{symmetric_eigen, symmetric_eigenvalues, tridiagonal_eigen, SymmetricEigen};
pub use error::{LinalgError, Result};
pub use gemm::{gemm, gemm_op, gemm_with, matmul, matvec, Op, Par};
pub use lanczos::{lanczos_extremes, LanczosResult};
pub use matrix::{MatMut, MatRef, Matrix};
pub use real::Real;
