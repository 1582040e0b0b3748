//! The `tangent` binary: argument parsing (clap, derive) in `args`, and one generic runner
//! for every experiment through the [`Experiment`] trait.

pub mod args;
pub mod lottery_args;
pub mod probe_args;
pub mod sgd_noise_args;
pub mod stability_args;
pub mod supermask_args;
pub mod tickets_args;

use crate::data;
pub use crate::experiment::Experiment;
use crate::progress::{Bars, Observer, Silent};
use crate::report;
use crate::{
    bench_jacobian, bench_train, imbalance, linearize, lottery, newton_vs_gd, probe, stability,
    supermask, tickets, width_sweep,
};
use anyhow::{bail, Result};
pub use args::*;
use clap::{Parser, Subcommand};
pub use lottery_args::{BenchTrainArgs, LotteryArgs};
pub use probe_args::ProbeArgs;
pub use sgd_noise_args::SgdNoiseArgs;
pub use stability_args::StabilityArgs;
pub use supermask_args::SupermaskArgs;
pub use tickets_args::TicketsArgs;

/// Is training a neural network one Newton step in the tangent space of its initialisation?
///
/// With no subcommand, runs `linearize` with its defaults on the embedded UCI digits data
/// (about a minute on two cores).
#[derive(Parser, Debug)]
#[command(name = "tangent", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The experiment to run (default: linearize).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The experiments.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// One Newton step in the tangent space (exact empirical NTK ridge solve) against GD on the
    /// network and GD on its linearisation, on real data.
    Linearize(LinearizeArgs),
    /// `linearize` over hidden widths and seeds; log-log charts of the gaps with fitted slopes.
    WidthSweep(WidthSweepArgs),
    /// Linear least squares: GD (measured and closed form), CG and Newton by Cholesky.
    NewtonVsGd(NewtonVsGdArgs),
    /// k points with target −1 against m points with target +1: GD against one Newton step.
    Imbalance(ImbalanceArgs),
    /// Jacobian by JVP, by VJP and the structured NTK over network shapes: time and memory.
    BenchJacobian(BenchJacobianArgs),
    /// Lottery tickets by iterative magnitude pruning (Frankle & Carbin 2019): train, prune,
    /// reset to θ₀ (or rewind to θ_k), retrain, with reinit and random-pruning controls.
    Lottery(LotteryArgs),
    /// Is the lottery ticket already in the tangent space at θ₀? The IMP mask against the
    /// tangent mask top-|θ₀ + δ| (δ the Newton step), top-|θ₀| and random: overlaps, and each
    /// subnetwork trained against its own Newton step. The defaults (digits, n = 300) take
    /// 84 s on 2 cores.
    Tickets(TicketsArgs),
    /// Linear mode connectivity (Frankle et al. 2020): are the dense network and its IMP
    /// tickets stable to SGD noise from θ_k, and what does the tangent space at θ_k say there?
    /// The defaults (digits, 3 seeds) take 55 s on 2 cores.
    Stability(StabilityArgs),
    /// Masking is training: freeze θ₀, learn only which weights to keep (edge-popup), and
    /// measure how far the pruned network is from its tangent prediction at θ₀. The defaults
    /// (digits, n = 1000, 2 seeds) take 99 s on 2 cores.
    Supermask(SupermaskArgs),
    /// Pre-existing detectors, tangent features or training? Over widths: ridge solves with
    /// the conjugate kernel, each layer's tangent kernel and the NTK at θ₀ and θ_T against
    /// the trained network, the best single unit and tangent feature as class detectors
    /// (AUC), and kernel–target alignment. The defaults (digits, widths 64…2048, 2 seeds)
    /// take 95 s on 2 cores.
    Probe(ProbeArgs),
    /// Where does the randomness of a trained network come from? A grid of inits × data
    /// orders trained by minibatch SGD (network and linearised model, several batch sizes and
    /// widths): two-way ANOVA of the test predictions, the NTK-GP of Lee et al. 2019 against
    /// the across-init mean and variance, and the distance to the Newton step at θ₀.
    SgdNoise(SgdNoiseArgs),
    /// One Adam step of LeNet-300-100 (batch 60, f32), dense and 80% masked, on 1 and 2
    /// threads: median step time in the format of the PyTorch peer script.
    BenchTrain(BenchTrainArgs),
    /// Download MNIST / Fashion-MNIST into the cache (`data fetch mnist`) and list it
    /// (`data list`).
    Data(DataCommandArgs),
    /// The auditor's first command: every derivative rule against finite differences and the
    /// adjoint identity, LAPACK-style residual ratios for every solver, thread-count
    /// determinism and the closed-form GD curve, as a table of worst figures against
    /// thresholds with their references (a few seconds). Exits 1 when any check fails.
    Selfcheck(SelfcheckArgs),
}

/// The pool an experiment runs in: `threads` workers (default: one per core), the calling
/// thread being worker 0. Running on the main thread keeps the run's allocations in the main
/// malloc arena: on a spawned worker the freed data-loading buffers stayed resident (peak RSS
/// 1.34 GB against an 886 MB heap peak for the MNIST lottery run). A thread can belong to one
/// pool only, so a second run in the same process gets a pool of spawned workers.
fn thread_pool(threads: Option<u16>) -> Result<rayon::ThreadPool> {
    let builder = || {
        let b = rayon::ThreadPoolBuilder::new();
        match threads {
            Some(t) => b.num_threads(t as usize),
            None => b,
        }
    };
    builder()
        .use_current_thread()
        .build()
        .or_else(|_| builder().build())
        .map_err(|e| anyhow::anyhow!("cannot start the worker threads: {e}"))
}

fn observer(common: &CommonArgs) -> Box<dyn Observer + Send> {
    if common.json || common.quiet {
        Box::new(Silent)
    } else {
        Box::<Bars>::default()
    }
}

/// The one runner: threads, output checks, validation, run, then files and the terminal.
pub fn execute<E: Experiment>(common: &CommonArgs, cfg: &E::Config) -> Result<()> {
    let pool = thread_pool(common.threads)?;
    report::check_out_root(&common.out)?;
    crate::memory::check_budget_option(common.max_memory_mib)?;
    E::validate(cfg)?;
    let mut obs = observer(common);
    // The run happens inside its pool: parallel calls made from inside a pool are cheap
    // joins, while each one made from outside it sends the caller to sleep until a worker
    // finishes (a forward pass of MLP (b) took 0.6 ms that way, 0.4 ms inside). The report is
    // built there too, so its thread count is the pool's.
    let (s, out) = pool.install(|| -> Result<_> {
        let s = E::run(cfg, obs.as_mut())?;
        let out = E::output(&s)?;
        Ok((s, out))
    })?;
    let dir = if common.no_write {
        None
    } else {
        Some(report::write_run(
            &common.out,
            &report::run_id(E::seed(cfg)),
            &out,
        )?)
    };
    if common.json {
        say(&format!(
            "{}\n",
            serde_json::to_string_pretty(&E::json(&s, &out))?
        ))?;
    } else {
        say(&out.terminal_text())?;
        if let Some(d) = dir {
            say(&format!("results: {}\n", d.display()))?;
        }
    }
    Ok(())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let command = match cli.command {
        Some(c) => c,
        None => match Cli::try_parse_from(["tangent", "linearize"])?.command {
            Some(c) => c,
            None => bail!("internal: the default command did not parse"),
        },
    };
    match command {
        Command::Linearize(a) if a.loss == LinearizeLoss::CrossEntropy => {
            execute::<crate::linearize_ce::LinearizeCe>(&a.common, &a.ce_config())
        }
        Command::Linearize(a) => execute::<linearize::Linearize>(&a.common, &a.config()),
        Command::WidthSweep(a) => execute::<width_sweep::WidthSweep>(&a.common, &a.config()),
        Command::NewtonVsGd(a) => execute::<newton_vs_gd::NewtonVsGd>(&a.common, &a.config()),
        Command::Imbalance(a) => execute::<imbalance::Imbalance>(&a.common, &a.config()),
        Command::BenchJacobian(a) => {
            execute::<bench_jacobian::BenchJacobian>(&a.common, &a.config())
        }
        Command::Lottery(a) => execute::<lottery::Lottery>(&a.common, &a.config()),
        Command::Tickets(a) => execute::<tickets::Tickets>(&a.common, &a.config()),
        Command::Stability(a) => execute::<stability::Stability>(&a.common, &a.config()),
        Command::Supermask(a) => execute::<supermask::Supermask>(&a.common, &a.config()),
        Command::Probe(a) => execute::<probe::Probe>(&a.common, &a.config()),
        Command::SgdNoise(a) => execute::<crate::sgd_noise::SgdNoise>(&a.common, &a.config()),
        Command::BenchTrain(a) => execute::<bench_train::BenchTrain>(&a.common, &a.config()),
        Command::Data(a) => data_command(&a.action),
        Command::Selfcheck(a) => selfcheck_command(&a),
    }
}

/// `tangent selfcheck`: prints the certificate (or its JSON), then fails when a check did.
fn selfcheck_command(a: &SelfcheckArgs) -> Result<()> {
    let mut obs: Box<dyn Observer> = if a.json || a.quiet {
        Box::new(Silent)
    } else {
        Box::<Bars>::default()
    };
    let cert = crate::selfcheck::run(obs.as_mut())?;
    if a.json {
        say(&format!("{}\n", serde_json::to_string_pretty(&cert)?))?;
    } else {
        say(&cert.table().render())?;
        say(&format!("{}\n", cert.summary_line()))?;
    }
    cert.verdict()
}

/// Writes to standard output. A reader that has gone (`tangent … | head`) ends the output
/// quietly, as for other command-line tools; any other write error is an error.
fn say(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}

/// `tangent data …`: not an experiment (no results directory, no threads), so it bypasses
/// [`execute`].
fn data_command(action: &DataAction) -> Result<()> {
    match action {
        DataAction::Fetch(a) => {
            let f = data::fetch::fetch(a.set, a.dir.as_deref(), a.base_url.as_deref(), a.quiet)?;
            let name = a.set.name();
            say(&format!(
                "{name}: {} downloaded, {} already cached; files in {}\n",
                f.downloaded.len(),
                f.skipped.len(),
                f.dir.display()
            ))?;
            if a.dir.is_some() {
                // A cache root of one's own is not where `--data NAME` looks.
                say(&format!("use it with --data {name}:{}\n", f.dir.display()))?;
            } else {
                say(&format!("use it with --data {name}\n"))?;
            }
            Ok(())
        }
        DataAction::List(a) => {
            say(&data::fetch::list_text(a.dir.as_deref())?)?;
            Ok(())
        }
    }
}

/// Parses `args` (including the program name) and runs; errors are returned, not printed.
pub fn run_args<I, S>(args: I) -> Result<()>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    run(cli)
}

/// Entry point of the `tangent` binary: exit code 0 on success, 1 on a failed run, 2 on a bad
/// command line.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are "errors" that print to stdout and succeed.
            let _ = e.print();
            return if e.use_stderr() {
                std::process::ExitCode::from(2)
            } else {
                std::process::ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
        for sub in [
            "linearize",
            "width-sweep",
            "newton-vs-gd",
            "imbalance",
            "bench-jacobian",
            "tickets",
            "stability --ks 0,10 --ticket-rounds 2",
            "tickets --keep 0.5,0.1 --width-scales 1",
            "data list",
            "data fetch mnist",
            "data fetch fashion-mnist",
            "selfcheck --json",
        ] {
            let sub: Vec<&str> = sub.split(' ').collect();
            Cli::try_parse_from(std::iter::once("tangent").chain(sub)).unwrap();
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        let bad: &[&[&str]] = &[
            &["tangent", "linearize", "--widths", "0"],
            &["tangent", "linearize", "--widths", "64,,64"],
            &["tangent", "linearize", "--bogus"],
            &["tangent", "linearize", "--data", "cifar"],
            &["tangent", "linearize", "--threads", "0"],
            &["tangent", "linearize", "--dtype", "f16"],
            &["tangent", "nonsense"],
            &["tangent", "data", "fetch", "cifar"],
            &["tangent", "data", "fetch"],
        ];
        for args in bad {
            assert!(
                Cli::try_parse_from(*args).is_err(),
                "{args:?} should not parse"
            );
        }
        let a = Cli::try_parse_from([
            "tangent",
            "linearize",
            "--widths",
            "64,32",
            "--lambda",
            "0.5",
        ])
        .unwrap();
        match a.command {
            Some(Command::Linearize(l)) => {
                assert_eq!(l.widths.0, vec![64, 32]);
                assert_eq!(l.config().lambda, 0.5);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_values_are_rejected_before_running() {
        for args in [
            ["tangent", "linearize", "--lambda", "0", "--no-write"],
            ["tangent", "linearize", "--lambda", "-1", "--no-write"],
            ["tangent", "linearize", "--lambda", "NaN", "--no-write"],
            ["tangent", "linearize", "--lr", "-0.1", "--no-write"],
        ] {
            let e = run_args(args).unwrap_err().to_string();
            assert!(e.contains("--lambda") || e.contains("--lr"), "{e}");
        }
    }
}
