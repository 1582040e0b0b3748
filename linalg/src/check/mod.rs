//! Accuracy certificates for the solvers, shared by the test suite and `tangent selfcheck`.
//!
//! Two halves, both in plain f64 arithmetic that does not go through the code under test:
//!
//! * [`matrices`]: seeded test matrices with a known spectrum (random orthogonal Q,
//!   Q diag(λ) Qᵀ with log-spaced λ for a chosen κ, the Hilbert matrix);
//! * [`ratios`]: LAPACK-style residual ratios, ‖residual‖ / (n·ε·‖A‖·‖x‖), which are O(1)
//!   for a backward-stable routine whatever the conditioning (LAPACK Working Note 41,
//!   "Installation Guide for LAPACK", §6: a ratio under 30 passes), and Higham's entrywise
//!   GEMM bound.

pub mod matrices;
pub mod ratios;

pub use matrices::{
    hilbert, log_spaced, random_lower, random_orthogonal, random_spd, symmetrize, with_spectrum,
};
pub use ratios::{
    cholesky_ratio, diff_fro, eigen_ratios, gemm_ratio, reference_matmul, solve_ratio, widen,
};
