//! Reverse- and forward-mode automatic differentiation for Tangent.

pub mod ops;
