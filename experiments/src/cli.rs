//! Argument parsing and dispatch.

/// Entry point of the `tangent` binary.
pub fn main() -> std::process::ExitCode {
    eprintln!("tangent: the experiments are not built yet (see the open issues)");
    std::process::ExitCode::from(2)
}
