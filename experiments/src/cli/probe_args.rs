//! The options of `tangent probe`; every default is `probe::Config::default()`'s.

use super::args::{widths_arg, CommonArgs, Widths};
use crate::config::{parse_activation, parse_parameterization};
use crate::data::DataSpec;
use crate::probe;
use autodiff::mlp::Parameterization;
use autodiff::Activation;
use clap::Args;

fn cfg() -> probe::Config {
    probe::Config::default()
}

/// Options of `probe`.
#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct ProbeArgs {
    /// Data set (classification), as for `linearize`.
    #[arg(long, value_parser = DataSpec::parse, value_name = "SPEC", default_value = "digits")]
    pub data: DataSpec,
    /// Training samples; each kernel is n² entries (n = 300: 0.7 MB, n = 5000: 200 MB).
    #[arg(long, value_name = "N", default_value_t = cfg().n_train)]
    pub n_train: usize,
    /// Test samples.
    #[arg(long, value_name = "N", default_value_t = cfg().n_test)]
    pub n_test: usize,
    /// Seed of the data subset.
    #[arg(long, value_name = "SEED", default_value_t = cfg().data_seed)]
    pub data_seed: u64,
    /// Hidden widths swept, comma-separated (every hidden layer of a network has the width).
    #[arg(long, value_parser = widths_arg, default_value_t = Widths(cfg().widths))]
    pub widths: Widths,
    /// Hidden layers.
    #[arg(long, default_value_t = cfg().depth)]
    pub depth: usize,
    /// Activation (relu, tanh, …).
    #[arg(long, value_parser = parse_activation, default_value_t = cfg().activation)]
    pub activation: Activation,
    /// ntk or standard.
    #[arg(long, value_parser = parse_parameterization, default_value_t = cfg().parameterization)]
    pub parameterization: Parameterization,
    /// σ_w.
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().sigma_w)]
    pub sigma_w: f64,
    /// σ_b.
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().sigma_b)]
    pub sigma_b: f64,
    /// Full-batch GD steps T of the training.
    #[arg(long, default_value_t = cfg().iterations)]
    pub iterations: usize,
    /// GD step η = lr_scale · n / λ_max(K), in (0, 2).
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().lr_scale)]
    pub lr_scale: f64,
    /// Ridge of every kernel solve as a fraction of its λ_max (default: 1/(lr_scale·T),
    /// matched to the training).
    #[arg(long, allow_negative_numbers = true)]
    pub ridge: Option<f64>,
    /// Tangent features ∂f_a/∂θ_j scored per layer (a sample; all when a layer has fewer).
    #[arg(long, default_value_t = cfg().features_per_layer)]
    pub features_per_layer: usize,
    /// Initialisations (seeds seed, seed + 1, …).
    #[arg(long, default_value_t = cfg().seeds)]
    pub seeds: usize,
    /// First seed.
    #[arg(long, default_value_t = cfg().seed)]
    pub seed: u64,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl ProbeArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> probe::Config {
        probe::Config {
            data: self.data.clone(),
            n_train: self.n_train,
            n_test: self.n_test,
            data_seed: self.data_seed,
            widths: self.widths.0.clone(),
            depth: self.depth,
            activation: self.activation,
            parameterization: self.parameterization,
            sigma_w: self.sigma_w,
            sigma_b: self.sigma_b,
            iterations: self.iterations,
            lr_scale: self.lr_scale,
            ridge: self.ridge,
            features_per_layer: self.features_per_layer,
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
    fn defaults_are_the_configs() {
        let Some(Command::Probe(a)) = Cli::try_parse_from(["tangent", "probe"]).unwrap().command
        else {
            panic!("probe did not parse as probe");
        };
        let (got, want) = (a.config(), super::cfg());
        assert_eq!(got.widths, want.widths);
        assert_eq!(got.ridge, want.ridge);
        assert_eq!(got.features_per_layer, want.features_per_layer);
    }
}
