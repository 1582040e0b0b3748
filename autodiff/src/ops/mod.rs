//! Primitives, one file per family. Each primitive states its forward rule, its JVP rule and
//! its VJP rule side by side, so a reader checks all three against one formula.

pub mod elementwise;
