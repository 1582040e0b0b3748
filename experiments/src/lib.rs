//! The `tangent` command-line experiments: data loading, the experiments themselves (each a
//! `Config` with serde defaults and a `run` that returns a summary), and the reporting layer.

pub mod alloc;
pub mod cli;
pub mod data;
pub mod experiments;
pub mod kernel_ridge;
pub mod linear;
pub mod memory;
pub mod model;
pub mod progress;
pub mod report;
pub mod stats;
