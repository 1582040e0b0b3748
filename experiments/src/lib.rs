//! The `tangent` command-line experiments.

pub mod cli;
