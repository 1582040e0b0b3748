//! The `tangent` command-line experiments: data loading, the experiments themselves (each a
//! `Config` with serde defaults and a `run` that returns a summary), and the reporting layer.

pub mod alloc;
pub mod bench_jacobian;
pub mod cli;
pub mod config;
pub mod data;
pub mod imbalance;
pub mod linear;
pub mod linearize;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod newton_vs_gd;
pub mod progress;
pub mod report;
pub mod tangent;
pub mod train;
pub mod width_sweep;
