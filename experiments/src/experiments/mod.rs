//! One module per experiment: each has a `Config` (serde, defaults sized for 2 cores), a
//! `run_with(&Config, &mut dyn Observer) -> Result<Summary>` that does the math without
//! printing, and an `output(&Summary) -> RunOutput` that builds tables, curves and charts.

pub mod bench_jacobian;
pub mod imbalance;
pub mod linearize;
pub mod linearize_plan;
pub mod newton_vs_gd;
pub mod width_sweep;
