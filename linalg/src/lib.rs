//! Dense linear algebra for Tangent, with no third-party math: packed SIMD GEMM, blocked
//! Cholesky, triangular solves, (preconditioned) conjugate gradient, a symmetric eigensolver
//! and Lanczos, plus the level-1 vector operations ([`vec`](mod@vec)), the seeded generator
//! ([`random`]) and the memory helpers ([`mem`]) the rest of the workspace shares. Generic over
//! `f32` and `f64` through [`Real`].
//!
//! Every routine that parallelises takes a [`Par`] in its `_with` form (faer's convention);
//! the plain form uses `Par::default()` (the current rayon pool). No result depends on that
//! choice or on the thread count.
#![warn(missing_docs)]

pub mod cg;
pub mod check;
pub mod cholesky;
pub mod eigen;
pub mod elementary;
pub mod error;
pub mod gemm;
pub mod lanczos;
pub mod matrix;
pub mod mem;
pub mod random;
pub mod real;
pub mod triangular;
pub mod vec;

pub use cg::{
    cg, cg_observed, CgIterate, CgOptions, CgResult, CgVerdict, DenseOperator, LinearOperator,
    Preconditioner,
};
pub use cholesky::{cholesky_in_place, cholesky_in_place_with, Cholesky};
pub use eigen::{
    symmetric_eigen, symmetric_eigen_with, symmetric_eigenvalues, symmetric_eigenvalues_with,
    tridiagonal_eigen, tridiagonal_eigen_with, SymmetricEigen,
};
pub use error::{Dims, LinalgError, Result};
pub use gemm::{
    gemm, gemm_op, gemm_op_with, gemm_then, gemm_with, matmul, matmul_with, matvec, matvec_with,
    Op, Par,
};
pub use lanczos::{lanczos_extremes, LanczosResult};
pub use matrix::{MatMut, MatRef, Matrix};
pub use real::Real;
