//! The options of `tangent lottery`. A preset fills every setting; each option given on the
//! command line overrides its preset's value.

use super::args::{widths_arg, CommonArgs, Widths};
use crate::config::{parse_activation, parse_init, Dtype};
use crate::data::DataSpec;
use crate::lottery::{self, OptimizerKind, Preset, Pruning};
use autodiff::mlp::Init;
use autodiff::Activation;
use clap::Args;

/// Options of `lottery`.
#[derive(Args, Debug, Clone)]
// A later occurrence of an option replaces an earlier one, so a preset command line in a
// script can be adjusted by appending options.
#[command(args_override_self = true)]
pub struct LotteryArgs {
    /// Starting settings. quick (default; 57 s measured on 2 cores): LeNet-300-100 on the
    /// embedded digits, 3 seeds, 14 rounds to 4.8% of the weights. frankle-carbin-2019: the
    /// paper's MNIST setup (Adam 1.2e-3, batch 60, 50,000 iterations, layer-wise 20%/10%, 18
    /// rounds, 5 seeds; one training measured at 69 s on 2 cores, so about 1 hour per seed and
    /// 5 hours in all; needs `tangent data fetch mnist`). open-lth: open_lth's
    /// mnist_lenet_300_100 (SGD 0.1, batch 128, 40 epochs, global 20%, Kaiming normal; one
    /// training 34 s, about 30 minutes per seed).
    #[arg(long, value_enum, default_value_t = Preset::Quick)]
    pub preset: Preset,
    /// Data set (classification), as for the other experiments [default: the preset's].
    #[arg(long, value_parser = DataSpec::parse, value_name = "SPEC")]
    pub data: Option<DataSpec>,
    /// Training samples [default: the preset's].
    #[arg(long, value_name = "N")]
    pub n_train: Option<usize>,
    /// Validation samples, split off the training pool by the data seed [default: the preset's].
    #[arg(long, value_name = "N")]
    pub n_val: Option<usize>,
    /// Test samples [default: the preset's].
    #[arg(long, value_name = "N")]
    pub n_test: Option<usize>,
    /// Seed of the data split.
    #[arg(long, value_name = "SEED")]
    pub data_seed: Option<u64>,
    /// Hidden widths, comma-separated [default: 300,100].
    #[arg(long, value_parser = widths_arg)]
    pub widths: Option<Widths>,
    /// Activation (relu, tanh, …) [default: relu].
    #[arg(long, value_parser = parse_activation)]
    pub activation: Option<Activation>,
    /// Initialisation: glorot-normal, kaiming-normal or sigma (W ~ N(0, 1/n_in), b = 0).
    #[arg(long, value_parser = parse_init)]
    pub init: Option<Init>,
    /// Optimiser.
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Step size.
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// SGD momentum in [0, 1).
    #[arg(long, allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// L2 weight decay ≥ 0.
    #[arg(long, allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// Minibatch size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Iterations per training (1 to 10⁷).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Validation every this many iterations (the early-stopping resolution).
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Pruning: layer-wise (each layer its own rate) or global (hidden layers ranked
    /// together, output layer unpruned).
    #[arg(long, value_enum)]
    pub pruning: Option<Pruning>,
    /// Fraction of the remaining hidden-layer weights pruned per round, in [0, 1).
    #[arg(long, allow_negative_numbers = true)]
    pub prune_hidden: Option<f64>,
    /// Fraction of the remaining output-layer weights pruned per round (layer-wise).
    #[arg(long, allow_negative_numbers = true)]
    pub prune_output: Option<f64>,
    /// Pruning rounds after the dense training (0.8^r of the hidden weights remain).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Rewind survivors to θ_k of the dense training instead of θ₀ (0: reset to θ₀).
    #[arg(long, value_name = "K")]
    pub rewind_iter: Option<usize>,
    /// Initialisations (seeds seed, seed + 1, …); tables show mean ± std over them.
    #[arg(long)]
    pub seeds: Option<usize>,
    /// First seed of θ₀.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Skip the reinit and random-pruning controls.
    #[arg(long)]
    pub no_controls: bool,
    /// Precision of training.
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
    /// Do not save θ₀, θ_k, masks and trained tickets as .npy.
    #[arg(long)]
    pub no_save_tickets: bool,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl LotteryArgs {
    /// The experiment configuration: the preset, overridden by every option given.
    pub fn config(&self) -> lottery::Config {
        let p = self.preset.config();
        lottery::Config {
            preset: self.preset,
            data: self.data.clone().unwrap_or(p.data),
            n_train: self.n_train.unwrap_or(p.n_train),
            n_val: self.n_val.unwrap_or(p.n_val),
            n_test: self.n_test.unwrap_or(p.n_test),
            data_seed: self.data_seed.unwrap_or(p.data_seed),
            widths: self.widths.clone().map_or(p.widths, |w| w.0),
            activation: self.activation.unwrap_or(p.activation),
            init: self.init.unwrap_or(p.init),
            optimizer: self.optimizer.unwrap_or(p.optimizer),
            lr: self.lr.unwrap_or(p.lr),
            momentum: self.momentum.unwrap_or(p.momentum),
            weight_decay: self.weight_decay.unwrap_or(p.weight_decay),
            batch_size: self.batch_size.unwrap_or(p.batch_size),
            iterations: self.iterations.unwrap_or(p.iterations),
            eval_every: self.eval_every.unwrap_or(p.eval_every),
            pruning: self.pruning.unwrap_or(p.pruning),
            prune_hidden: self.prune_hidden.unwrap_or(p.prune_hidden),
            prune_output: self.prune_output.unwrap_or(p.prune_output),
            rounds: self.rounds.unwrap_or(p.rounds),
            rewind_iter: self.rewind_iter.unwrap_or(p.rewind_iter),
            seeds: self.seeds.unwrap_or(p.seeds),
            seed: self.seed.unwrap_or(p.seed),
            controls: p.controls && !self.no_controls,
            dtype: self.dtype.unwrap_or(p.dtype),
            save_tickets: p.save_tickets && !self.no_save_tickets,
            max_memory_mib: self.common.max_memory_mib,
        }
    }
}

fn bench() -> crate::bench_train::Config {
    crate::bench_train::Config::default()
}

/// Options of `bench-train`.
#[derive(Args, Debug, Clone)]
pub struct BenchTrainArgs {
    /// Thread counts to time, comma-separated (each in a pool of its own).
    #[arg(long = "thread-counts", value_delimiter = ',', default_value = "1,2")]
    pub thread_counts: Vec<usize>,
    /// Minibatch size.
    #[arg(long, default_value_t = bench().batch)]
    pub batch: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = bench().warmup)]
    pub warmup: usize,
    /// Timed blocks (the median block is reported).
    #[arg(long, default_value_t = bench().blocks)]
    pub blocks: usize,
    /// Steps per timed block.
    #[arg(long, default_value_t = bench().steps_per_block)]
    pub steps_per_block: usize,
    /// Samples the minibatches are drawn from.
    #[arg(long, default_value_t = bench().n)]
    pub n: usize,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl BenchTrainArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> crate::bench_train::Config {
        crate::bench_train::Config {
            threads: self.thread_counts.clone(),
            batch: self.batch,
            warmup: self.warmup,
            blocks: self.blocks,
            steps_per_block: self.steps_per_block,
            n: self.n,
            max_memory_mib: self.common.max_memory_mib,
            ..bench()
        }
    }
}
