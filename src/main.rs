//! The `tangent` command: see `experiments` for the subcommands.

fn main() -> std::process::ExitCode {
    experiments::cli::main()
}
