//! Argument parsing (clap, derive) and dispatch for the `tangent` binary.

use crate::data::{DataConfig, DataSpec};
use crate::model::{parse_widths, ModelConfig};
use crate::{bench_jacobian, imbalance, linearize, newton_vs_gd, width_sweep};

/// Comma-separated widths as one argument value.
#[derive(Clone, Debug, PartialEq)]
pub struct Widths(pub Vec<usize>);

fn widths_arg(s: &str) -> Result<Widths> {
    parse_widths(s).map(Widths)
}
use crate::progress::{Bars, Observer, Silent};
use crate::report::{self, RunOutput};
use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

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
}

/// Options every experiment takes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Root directory of the results (`<out>/<experiment>/<run-id>/`).
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    /// Print the summary as JSON on stdout instead of the table (no progress bars).
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not write any files.
    #[arg(long)]
    pub no_write: bool,
    /// Memory budget in MiB: the run's peak is estimated before anything large is allocated
    /// and a run over the budget is refused (or, for linearize's `--kernel auto`, falls back
    /// to the traced kernel) [default: 70% of the available memory].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_memory_mib: Option<u64>,
}

/// Data selection.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data set: digits (embedded UCI 8×8 digits), mnist:DIR, fashion-mnist:DIR,
    /// idx:IMAGES,LABELS, csv:PATH (last column the target), teacher, spirals or sine.
    #[arg(long, default_value = "digits", value_parser = DataSpec::parse, value_name = "SPEC")]
    pub data: DataSpec,
    /// Training samples, a seeded subset [default: 200 for linearize, 100 for width-sweep].
    #[arg(long, value_name = "N")]
    pub n_train: Option<usize>,
    /// Test samples [default: 500 for linearize, 300 for width-sweep].
    #[arg(long, value_name = "N")]
    pub n_test: Option<usize>,
    /// Seed of the train/test split and of synthetic data.
    #[arg(long, default_value_t = 0, value_name = "SEED")]
    pub data_seed: u64,
}

impl DataArgs {
    fn config(&self, default: &DataConfig) -> DataConfig {
        DataConfig {
            spec: self.data.clone(),
            n_train: self.n_train.unwrap_or(default.n_train),
            n_test: self.n_test.unwrap_or(default.n_test),
            seed: self.data_seed,
        }
    }
}

/// Network options.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Activation: relu, tanh, erf, gelu, softplus, sigmoid, leaky-relu, identity.
    #[arg(long, default_value = "relu")]
    pub activation: String,
    /// Parameterization: ntk (h = σ_w/√n_in·W a + σ_b·b, W ~ N(0,1)) or standard.
    #[arg(long, default_value = "ntk", value_parser = ["ntk", "standard"])]
    pub parameterization: String,
    /// σ_w.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub sigma_w: f64,
    /// σ_b.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub sigma_b: f64,
}

/// Options of `linearize`.
#[derive(Args, Debug, Clone)]
pub struct LinearizeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Hidden widths, comma-separated (e.g. 512,512).
    #[arg(long, default_value = "512", value_parser = widths_arg)]
    pub widths: Widths,
    /// Ridge λ of the Newton step, > 0.
    #[arg(long = "lambda", default_value_t = 1e-3, allow_negative_numbers = true)]
    pub lambda: f64,
    /// GD steps T.
    #[arg(long, default_value_t = 1000)]
    pub steps: usize,
    /// GD step size (default 1/λ_max(K/n), from Lanczos).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Seed of θ₀.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Precision of the network and its derivatives (the kernel algebra is f64).
    #[arg(long, value_enum, default_value_t = linearize::Dtype::F64)]
    pub dtype: linearize::Dtype,
    /// Kernel: auto (full when it fits in memory, else output-traced), full or traced.
    #[arg(long, value_enum, default_value_t = linearize::KernelChoice::Auto)]
    pub kernel: linearize::KernelChoice,
    /// Skip recomputing the kernel at θ_T (the relative kernel change).
    #[arg(long)]
    pub no_kernel_change: bool,
    /// Write the audit bundle (.npy files and model.json) into DIR.
    #[arg(long, value_name = "DIR")]
    pub dump: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl WidthSweepArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> width_sweep::Config {
        width_sweep::Config {
            data: self.data.config(&width_sweep::Config::default().data),
            model: ModelConfig {
                widths: vec![],
                activation: self.model.activation.clone(),
                parameterization: self.model.parameterization.clone(),
                sigma_w: self.model.sigma_w,
                sigma_b: self.model.sigma_b,
                seed: 0,
            },
            widths: self.widths.0.clone(),
            depth: self.depth as usize,
            seeds: self.seeds as usize,
            lambda: self.lambda,
            steps: self.steps,
            lr: self.lr,
            dtype: self.dtype,
            max_memory_mib: self.common.max_memory_mib,
        }
    }
}

impl LinearizeArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> linearize::Config {
        linearize::Config {
            data: self.data.config(&linearize::Config::default().data),
            model: ModelConfig {
                widths: self.widths.0.clone(),
                activation: self.model.activation.clone(),
                parameterization: self.model.parameterization.clone(),
                sigma_w: self.model.sigma_w,
                sigma_b: self.model.sigma_b,
                seed: self.seed,
            },
            lambda: self.lambda,
            steps: self.steps,
            lr: self.lr,
            dtype: self.dtype,
            kernel: self.kernel,
            max_memory_mib: self.common.max_memory_mib,
            kernel_change: !self.no_kernel_change,
            dump: self.dump.clone(),
            ..Default::default()
        }
    }
}

/// Options of `width-sweep`.
#[derive(Args, Debug, Clone)]
pub struct WidthSweepArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Hidden widths to sweep (each network has --depth hidden layers of that width).
    #[arg(long, default_value = "32,64,128,256,512,1024,2048", value_parser = widths_arg)]
    pub widths: Widths,
    /// Hidden layers per network.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub depth: u32,
    /// Seeds per width.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub seeds: u32,
    /// Ridge λ.
    #[arg(long = "lambda", default_value_t = 1e-3, allow_negative_numbers = true)]
    pub lambda: f64,
    /// GD steps per run.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// GD step size (default 1/λ_max(K/n) per run).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Precision.
    #[arg(long, value_enum, default_value_t = linearize::Dtype::F64)]
    pub dtype: linearize::Dtype,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of `newton-vs-gd`.
#[derive(Args, Debug, Clone)]
pub struct NewtonVsGdArgs {
    /// Rows of A (equations).
    #[arg(long, default_value_t = 1000)]
    pub rows: usize,
    /// Columns of A (unknowns); cols > rows makes the system underdetermined.
    #[arg(long, default_value_t = 500)]
    pub cols: usize,
    /// Condition number κ of AᵀA over its non-zero eigenvalues.
    #[arg(long, default_value_t = 1000.0, allow_negative_numbers = true)]
    pub kappa: f64,
    /// Eigenvalue spread.
    #[arg(long, value_enum, default_value_t = newton_vs_gd::Spectrum::Uniform)]
    pub spectrum: newton_vs_gd::Spectrum,
    /// Relative error ε at which iterations are counted.
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true)]
    pub eps: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Ridge λ ≥ 0: minimise ½‖Ax − b‖² + ½λ‖x‖² (0: plain least squares).
    #[arg(long = "lambda", default_value_t = 0.0, allow_negative_numbers = true)]
    pub lambda: f64,
    /// Solve the linearised system of a network instead of a synthetic one: A = J(θ₀) of a
    /// 64-width-10 ReLU MLP on digits, b = Y − f(X; θ₀) (ignores --rows, --cols, --kappa).
    #[arg(long)]
    pub network: bool,
    /// With --network: training digits (A has 10× as many rows).
    #[arg(long, default_value_t = 40, requires = "network")]
    pub network_n_train: usize,
    /// With --network: hidden width of the MLP.
    #[arg(long, default_value_t = 32, requires = "network")]
    pub network_width: usize,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of `imbalance`.
#[derive(Args, Debug, Clone)]
pub struct ImbalanceArgs {
    /// Points in group A (target −1).
    #[arg(long, default_value_t = 1)]
    pub k: usize,
    /// Points in group B (target +1).
    #[arg(long, default_value_t = 100)]
    pub m: usize,
    /// Random ReLU features.
    #[arg(long, default_value_t = 512)]
    pub features: usize,
    /// GD steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Ridge λ of the Newton step.
    #[arg(long = "lambda", default_value_t = 1e-6, allow_negative_numbers = true)]
    pub lambda: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of `bench-jacobian`.
#[derive(Args, Debug, Clone)]
pub struct BenchJacobianArgs {
    /// Precision(s) to time, comma-separated.
    #[arg(long, default_value = "f32", value_delimiter = ',', value_enum)]
    pub dtype: Vec<linearize::Dtype>,
    /// Repetitions per case (the median is reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub reps: u32,
    /// Only the three reference MLPs (a), (b), (c); skip the shape sweep.
    #[arg(long)]
    pub reference_only: bool,
    /// Skip the three reference MLPs.
    #[arg(long)]
    pub no_reference: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

fn setup_threads(threads: Option<u16>) -> Result<()> {
    if let Some(t) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t as usize)
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot set up {t} threads: {e}"))?;
    }
    Ok(())
}

fn observer(common: &CommonArgs) -> Box<dyn Observer> {
    if common.json || common.quiet {
        Box::new(Silent)
    } else {
        Box::<Bars>::default()
    }
}

fn finish(common: &CommonArgs, seed: u64, out: RunOutput) -> Result<()> {
    let dir = if common.no_write {
        None
    } else {
        Some(report::write_run(&common.out, &report::run_id(seed), &out)?)
    };
    if common.json {
        println!("{}", serde_json::to_string_pretty(&out.summary)?);
    } else {
        print!("{}", out.terminal_text());
        if let Some(d) = dir {
            println!("results: {}", d.display());
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
        Command::Linearize(a) => {
            setup_threads(a.common.threads)?;
            report::check_out_root(&a.common.out)?;
            let cfg = a.config();
            linearize::validate(&cfg)?;
            let mut obs = observer(&a.common);
            let s = linearize::run_with(&cfg, obs.as_mut())?;
            finish(&a.common, cfg.model.seed, linearize::output(&s)?)
        }
        Command::NewtonVsGd(a) => {
            setup_threads(a.common.threads)?;
            report::check_out_root(&a.common.out)?;
            let cfg = newton_vs_gd::Config {
                rows: a.rows,
                cols: a.cols,
                kappa: a.kappa,
                spectrum: a.spectrum,
                eps: a.eps,
                seed: a.seed,
                lambda: a.lambda,
                max_memory_mib: a.common.max_memory_mib,
                network: a.network.then_some(newton_vs_gd::NetworkSystem {
                    n_train: a.network_n_train,
                    width: a.network_width,
                }),
                ..Default::default()
            };
            let mut obs = observer(&a.common);
            let s = newton_vs_gd::run_with(&cfg, obs.as_mut())?;
            finish(&a.common, a.seed, newton_vs_gd::output(&s)?)
        }
        Command::Imbalance(a) => {
            setup_threads(a.common.threads)?;
            report::check_out_root(&a.common.out)?;
            let cfg = imbalance::Config {
                k: a.k,
                m: a.m,
                features: a.features,
                steps: a.steps,
                lambda: a.lambda,
                seed: a.seed,
                max_memory_mib: a.common.max_memory_mib,
                ..Default::default()
            };
            let mut obs = observer(&a.common);
            let s = imbalance::run_with(&cfg, obs.as_mut())?;
            finish(&a.common, a.seed, imbalance::output(&s)?)
        }
        Command::WidthSweep(a) => {
            setup_threads(a.common.threads)?;
            report::check_out_root(&a.common.out)?;
            let cfg = a.config();
            linearize::validate(&linearize::Config {
                lambda: cfg.lambda,
                lr: cfg.lr,
                ..Default::default()
            })?;
            let mut obs = observer(&a.common);
            let s = width_sweep::run_with(&cfg, obs.as_mut())?;
            finish(&a.common, 0, width_sweep::output(&s)?)
        }
        Command::BenchJacobian(a) => {
            setup_threads(a.common.threads)?;
            report::check_out_root(&a.common.out)?;
            let cfg = bench_jacobian::Config {
                dtypes: a.dtype.clone(),
                reps: a.reps as usize,
                reference: !a.no_reference,
                sweep: !a.reference_only,
                ..Default::default()
            };
            let mut obs = observer(&a.common);
            let s = bench_jacobian::run_with(&cfg, obs.as_mut())?;
            let out = bench_jacobian::output(&s)?;
            if a.common.json {
                // The shared format: {"cases": [{"model", "dtype", "threads", "method",
                // "median_s", "peak_bytes"}, …]}.
                let common = CommonArgs {
                    json: false,
                    ..a.common.clone()
                };
                if !common.no_write {
                    report::write_run(&common.out, &report::run_id(0), &out)?;
                }
                println!(
                    "{}",
                    serde_json::to_string_pretty(&bench_jacobian::json(&s))?
                );
                return Ok(());
            }
            finish(&a.common, 0, out)
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
        ] {
            Cli::try_parse_from(["tangent", sub]).unwrap();
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
