//! The command-line options of each experiment (clap, derive). Every default is read from the
//! experiment's `Config::default()`, so it lives in one place and `--help` shows it.

use crate::config::{parse_activation, parse_parameterization, Dtype};
use crate::data::{DataConfig, DataSpec};
use crate::model::{parse_widths, ModelConfig};
use crate::tangent::KernelChoice;
use crate::{bench_jacobian, imbalance, linearize, newton_vs_gd, width_sweep};
use anyhow::Result;
use autodiff::mlp::Parameterization;
use autodiff::Activation;
use clap::Args;
use std::path::PathBuf;

/// Comma-separated widths as one argument value.
#[derive(Clone, Debug, PartialEq)]
pub struct Widths(pub Vec<usize>);

impl std::fmt::Display for Widths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|w| w.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

pub(crate) fn widths_arg(s: &str) -> Result<Widths> {
    parse_widths(s).map(Widths)
}

fn lin() -> linearize::Config {
    linearize::Config::default()
}
fn sweep() -> width_sweep::Config {
    width_sweep::Config::default()
}
fn nvg() -> newton_vs_gd::Config {
    newton_vs_gd::Config::default()
}
fn imb() -> imbalance::Config {
    imbalance::Config::default()
}
fn model() -> ModelConfig {
    ModelConfig::default()
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
    /// to the traced kernel); at most the machine's total memory [default: 70% of the
    /// available memory].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_memory_mib: Option<u64>,
}

/// Data selection.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data set: digits (embedded UCI 8×8 digits), mnist[:DIR], fashion-mnist[:DIR] (without
    /// DIR: the cache filled by `tangent data fetch`), idx:IMAGES,LABELS, csv:PATH (last column the target), npy:X.npy,Y.npy (X an (n, d)
    /// float32/float64 array; Y (n,) integer class labels or (n, o) float targets), teacher,
    /// spirals or sine.
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
    #[arg(long, default_value_t = model().activation, value_parser = parse_activation)]
    pub activation: Activation,
    /// Parameterization: ntk (h = σ_w/√n_in·W a + σ_b·b, W ~ N(0,1)) or standard.
    #[arg(long, default_value_t = model().parameterization, value_parser = parse_parameterization)]
    pub parameterization: Parameterization,
    /// σ_w.
    #[arg(long, default_value_t = model().sigma_w, allow_negative_numbers = true)]
    pub sigma_w: f64,
    /// σ_b.
    #[arg(long, default_value_t = model().sigma_b, allow_negative_numbers = true)]
    pub sigma_b: f64,
}

impl ModelArgs {
    fn config(&self, widths: Vec<usize>, seed: u64) -> ModelConfig {
        ModelConfig {
            widths,
            activation: self.activation,
            parameterization: self.parameterization,
            sigma_w: self.sigma_w,
            sigma_b: self.sigma_b,
            seed,
        }
    }
}

/// Options of `linearize`.
#[derive(Args, Debug, Clone)]
pub struct LinearizeArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// Hidden widths, comma-separated (e.g. 512,512).
    #[arg(long, default_value_t = Widths(lin().model.widths), value_parser = widths_arg)]
    pub widths: Widths,
    /// Ridge λ of the Newton step, in (0, 1e6].
    #[arg(long = "lambda", default_value_t = lin().lambda, allow_negative_numbers = true)]
    pub lambda: f64,
    /// GD steps T (1 to 10⁷).
    #[arg(long, default_value_t = lin().steps)]
    pub steps: usize,
    /// GD step size (default 1/λ_max(K/n), from Lanczos).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Seed of θ₀.
    #[arg(long, default_value_t = lin().model.seed)]
    pub seed: u64,
    /// Precision of the network and its derivatives (the kernel algebra is f64).
    #[arg(long, value_enum, default_value_t = lin().dtype)]
    pub dtype: Dtype,
    /// Kernel: auto (full when it fits in memory, else output-traced), full or traced.
    #[arg(long, value_enum, default_value_t = lin().kernel)]
    pub kernel: KernelChoice,
    /// Skip recomputing the kernel at θ_T (the relative kernel change).
    #[arg(long)]
    pub no_kernel_change: bool,
    /// Write the audit bundle (.npy files and model.json) into DIR (new or empty).
    #[arg(long, value_name = "DIR")]
    pub dump: Option<PathBuf>,
    /// Loss: squared-error (one Newton step, the default) or cross-entropy (Newton's method
    /// on the convex tangent problem, in function and parameter space, against GD and Adam).
    #[arg(long, value_enum, default_value_t = LinearizeLoss::SquaredError)]
    pub loss: LinearizeLoss,
    /// Adam's step for `--loss cross-entropy`.
    #[arg(long, allow_negative_numbers = true, default_value_t = crate::linearize_ce::Config::default().adam_lr)]
    pub adam_lr: f64,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// The loss of `linearize`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinearizeLoss {
    /// ½‖f − y‖²: the tangent problem is one linear system.
    SquaredError,
    /// Softmax cross-entropy: convex, solved by Newton's method.
    CrossEntropy,
}

impl LinearizeArgs {
    /// The cross-entropy configuration these options describe (`--loss cross-entropy`).
    pub fn ce_config(&self) -> crate::linearize_ce::Config {
        crate::linearize_ce::Config {
            data: self.data.config(&lin().data),
            model: self.model.config(self.widths.0.clone(), self.seed),
            lambda: self.lambda,
            steps: self.steps,
            lr: self.lr,
            adam_lr: self.adam_lr,
            max_memory_mib: self.common.max_memory_mib,
            ..Default::default()
        }
    }

    /// The experiment configuration these options describe.
    pub fn config(&self) -> linearize::Config {
        linearize::Config {
            data: self.data.config(&lin().data),
            model: self.model.config(self.widths.0.clone(), self.seed),
            lambda: self.lambda,
            steps: self.steps,
            lr: self.lr,
            dtype: self.dtype,
            kernel: self.kernel,
            max_memory_mib: self.common.max_memory_mib,
            kernel_change: !self.no_kernel_change,
            dump: self.dump.clone(),
            ..lin()
        }
    }
}

/// Options of `width-sweep`.
#[derive(Args, Debug, Clone)]
pub struct WidthSweepArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// Hidden widths to sweep (each network has --depth hidden layers of that width).
    #[arg(long, default_value_t = Widths(sweep().widths), value_parser = widths_arg)]
    pub widths: Widths,
    /// Hidden layers per network.
    #[arg(long, default_value_t = sweep().depth as u32, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub depth: u32,
    /// Seeds per width.
    #[arg(long, default_value_t = sweep().seeds as u32, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub seeds: u32,
    /// Ridge λ.
    #[arg(long = "lambda", default_value_t = sweep().lambda, allow_negative_numbers = true)]
    pub lambda: f64,
    /// GD steps per run.
    #[arg(long, default_value_t = sweep().steps)]
    pub steps: usize,
    /// GD step size (default 1/λ_max(K/n) per run).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Precision.
    #[arg(long, value_enum, default_value_t = sweep().dtype)]
    pub dtype: Dtype,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl WidthSweepArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> width_sweep::Config {
        width_sweep::Config {
            data: self.data.config(&sweep().data),
            model: self.model.config(vec![], 0),
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

/// Options of `newton-vs-gd`.
#[derive(Args, Debug, Clone)]
pub struct NewtonVsGdArgs {
    /// Rows of A (equations).
    #[arg(long, default_value_t = nvg().rows)]
    pub rows: usize,
    /// Columns of A (unknowns); cols > rows makes the system underdetermined.
    #[arg(long, default_value_t = nvg().cols)]
    pub cols: usize,
    /// Condition number κ of AᵀA over its non-zero eigenvalues, in [1, 1e12].
    #[arg(long, default_value_t = nvg().kappa, allow_negative_numbers = true)]
    pub kappa: f64,
    /// Eigenvalue spread.
    #[arg(long, value_enum, default_value_t = nvg().spectrum)]
    pub spectrum: newton_vs_gd::Spectrum,
    /// Relative error ε at which iterations are counted.
    #[arg(long, default_value_t = nvg().eps, allow_negative_numbers = true)]
    pub eps: f64,
    /// Seed.
    #[arg(long, default_value_t = nvg().seed)]
    pub seed: u64,
    /// Ridge λ ≥ 0: minimise ½‖Ax − b‖² + ½λ‖x‖² (0: plain least squares).
    #[arg(long = "lambda", default_value_t = nvg().lambda, allow_negative_numbers = true)]
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
    pub(crate) common: CommonArgs,
}

impl NewtonVsGdArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> newton_vs_gd::Config {
        newton_vs_gd::Config {
            rows: self.rows,
            cols: self.cols,
            kappa: self.kappa,
            spectrum: self.spectrum,
            eps: self.eps,
            seed: self.seed,
            lambda: self.lambda,
            max_memory_mib: self.common.max_memory_mib,
            network: self.network.then_some(newton_vs_gd::NetworkSystem {
                n_train: self.network_n_train,
                width: self.network_width,
            }),
            ..nvg()
        }
    }
}

/// Options of `imbalance`.
#[derive(Args, Debug, Clone)]
pub struct ImbalanceArgs {
    /// Points in group A (target −1).
    #[arg(long, default_value_t = imb().k)]
    pub k: usize,
    /// Points in group B (target +1).
    #[arg(long, default_value_t = imb().m)]
    pub m: usize,
    /// Random ReLU features.
    #[arg(long, default_value_t = imb().features)]
    pub features: usize,
    /// GD steps (1 to 10⁷).
    #[arg(long, default_value_t = imb().steps)]
    pub steps: usize,
    /// Ridge λ of the Newton step, in (0, 1e6].
    #[arg(long = "lambda", default_value_t = imb().lambda, allow_negative_numbers = true)]
    pub lambda: f64,
    /// Seed.
    #[arg(long, default_value_t = imb().seed)]
    pub seed: u64,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl ImbalanceArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> imbalance::Config {
        imbalance::Config {
            k: self.k,
            m: self.m,
            features: self.features,
            steps: self.steps,
            lambda: self.lambda,
            seed: self.seed,
            max_memory_mib: self.common.max_memory_mib,
            ..imb()
        }
    }
}

/// Options of `bench-jacobian`.
#[derive(Args, Debug, Clone)]
pub struct BenchJacobianArgs {
    /// Precision(s) to time, comma-separated.
    #[arg(long, default_value = "f32", value_delimiter = ',', value_enum)]
    pub dtype: Vec<Dtype>,
    /// Repetitions per case (the median is reported).
    #[arg(long, default_value_t = bench_jacobian::Config::default().reps as u32, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub reps: u32,
    /// Only the three reference MLPs (a), (b), (c); skip the shape sweep.
    #[arg(long, conflicts_with = "no_reference")]
    pub reference_only: bool,
    /// Skip the three reference MLPs.
    #[arg(long)]
    pub no_reference: bool,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl BenchJacobianArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> bench_jacobian::Config {
        bench_jacobian::Config {
            dtypes: self.dtype.clone(),
            reps: self.reps as usize,
            reference: !self.no_reference,
            sweep: !self.reference_only,
            max_memory_mib: self.common.max_memory_mib,
            ..Default::default()
        }
    }
}

/// Options of `tangent data`.
#[derive(Args, Debug, Clone)]
pub struct DataCommandArgs {
    /// What to do with the data cache.
    #[command(subcommand)]
    pub action: DataAction,
}

/// The `tangent data` actions.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum DataAction {
    /// Download a data set's four IDX files into the cache, each checked against the SHA-256
    /// and size of its decompressed content pinned in the source; files already cached and
    /// verified are kept.
    ///
    /// The cache is $TANGENT_DATA, else $XDG_CACHE_HOME/tangent, else ~/.cache/tangent, with one
    /// folder per data set. Default mirrors: MNIST from
    /// https://ossci-datasets.s3.amazonaws.com/mnist/ (torchvision's), Fashion-MNIST from
    /// http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ (Zalando's).
    Fetch(FetchArgs),
    /// Show what the cache holds: per data set, each file's size and whether it verifies.
    List(ListArgs),
}

/// Options of `tangent data fetch`.
#[derive(Args, Debug, Clone)]
pub struct FetchArgs {
    /// The data set.
    #[arg(value_enum, value_name = "DATASET")]
    pub set: crate::data::cache::KnownSet,
    /// Cache root to use instead of the default; the files go to DIR/<dataset>/.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Directory URL the four `*-ubyte.gz` files are downloaded from (http or https)
    /// [default: the data set's mirror, see above].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Options of `tangent data list`.
#[derive(Args, Debug, Clone)]
pub struct ListArgs {
    /// Cache root to list instead of the default.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Options of `tangent selfcheck`.
#[derive(Args, Debug, Clone)]
pub struct SelfcheckArgs {
    /// Print the certificate as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}
