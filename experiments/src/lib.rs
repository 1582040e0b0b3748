//! The `tangent` command-line experiments: data loading, the train/ loop and the tangent/
//! toolkit they compose, the experiments themselves (each a folder with a `Config`, a `run`
//! that returns a typed summary, and a report), and the reporting layer. See ARCHITECTURE.md.

#![warn(missing_docs)]

pub mod alloc;
pub mod bench_jacobian;
pub mod bench_train;
pub mod cli;
pub mod config;
pub mod data;
pub mod experiment;
pub mod imbalance;
pub mod linear;
pub mod linearize;
pub mod linearize_ce;
pub mod lottery;
pub mod mask_file;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod newton_vs_gd;
pub mod probe;
pub mod progress;
pub mod report;
pub mod selfcheck;
pub mod sgd_noise;
pub mod stability;
pub mod supermask;
pub mod tangent;
pub mod tickets;
pub mod train;
pub mod width_sweep;
