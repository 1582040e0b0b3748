//! The `tangent` command: see `experiments` for the subcommands.

/// Counts heap bytes so that `tangent bench-jacobian` can report peak memory.
#[global_allocator]
static ALLOCATOR: experiments::alloc::Counting = experiments::alloc::Counting;

fn main() -> std::process::ExitCode {
    experiments::cli::main()
}
