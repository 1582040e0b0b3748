//! The options of `tangent supermask`; every default is `supermask::Config::default()`'s.

use super::args::{widths_arg, CommonArgs, Widths};
use crate::config::{parse_activation, parse_init};
use crate::data::DataSpec;
use crate::supermask;
use autodiff::mlp::Init;
use autodiff::Activation;
use clap::Args;

fn cfg() -> supermask::Config {
    supermask::Config::default()
}

/// Options of `supermask`.
#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct SupermaskArgs {
    /// Data set (classification), as for `linearize`.
    #[arg(long, value_parser = DataSpec::parse, value_name = "SPEC", default_value = "digits")]
    pub data: DataSpec,
    /// Training samples.
    #[arg(long, value_name = "N", default_value_t = cfg().n_train)]
    pub n_train: usize,
    /// Test samples.
    #[arg(long, value_name = "N", default_value_t = cfg().n_test)]
    pub n_test: usize,
    /// Seed of the data subset.
    #[arg(long, value_name = "SEED", default_value_t = cfg().data_seed)]
    pub data_seed: u64,
    /// Hidden widths, comma-separated.
    #[arg(long, value_parser = widths_arg, default_value_t = Widths(cfg().widths))]
    pub widths: Widths,
    /// Activation (relu, tanh, …).
    #[arg(long, value_parser = parse_activation, default_value_t = cfg().activation)]
    pub activation: Activation,
    /// Initialisation of the frozen θ₀: kaiming-normal, glorot-normal or sigma.
    #[arg(long, value_parser = parse_init, default_value_t = cfg().init)]
    pub init: Init,
    /// Fractions of every layer's weights kept, comma-separated, each in (0, 1].
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "0.5,0.3,0.1,0.05"
    )]
    pub keep: Vec<f64>,
    /// SGD steps on the scores.
    #[arg(long, default_value_t = cfg().iterations)]
    pub iterations: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = cfg().batch_size)]
    pub batch_size: usize,
    /// Step size on the scores.
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().lr)]
    pub lr: f64,
    /// Momentum in [0, 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().momentum)]
    pub momentum: f64,
    /// Initialisations (seeds seed, seed + 1, …).
    #[arg(long, default_value_t = cfg().seeds)]
    pub seeds: usize,
    /// First seed.
    #[arg(long, default_value_t = cfg().seed)]
    pub seed: u64,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl SupermaskArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> supermask::Config {
        supermask::Config {
            data: self.data.clone(),
            n_train: self.n_train,
            n_test: self.n_test,
            data_seed: self.data_seed,
            widths: self.widths.0.clone(),
            activation: self.activation,
            init: self.init,
            keep: self.keep.clone(),
            iterations: self.iterations,
            batch_size: self.batch_size,
            lr: self.lr,
            momentum: self.momentum,
            seeds: self.seeds,
            seed: self.seed,
            max_memory_mib: self.common.max_memory_mib,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn list_defaults_are_the_configs() {
        let Some(Command::Supermask(a)) = Cli::try_parse_from(["tangent", "supermask"])
            .unwrap()
            .command
        else {
            panic!("supermask did not parse as supermask");
        };
        assert_eq!(a.config().keep, super::cfg().keep);
    }
}
