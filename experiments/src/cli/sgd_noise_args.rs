//! The options of `tangent sgd-noise`; every default is `sgd_noise::Config::default()`'s.

use super::args::{widths_arg, CommonArgs, Widths};
use crate::config::parse_activation;
use crate::data::DataSpec;
use crate::sgd_noise;
use autodiff::Activation;
use clap::Args;

fn cfg() -> sgd_noise::Config {
    sgd_noise::Config::default()
}

/// Options of `sgd-noise`.
#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct SgdNoiseArgs {
    /// Data set, as for `linearize` (classification or regression).
    #[arg(long, value_parser = DataSpec::parse, value_name = "SPEC", default_value = "digits")]
    pub data: DataSpec,
    /// Training samples; the full NTK of each init is (n·o)² entries (n = 100, o = 10: 8 MB).
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
    /// σ_w (NTK parameterization).
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().sigma_w)]
    pub sigma_w: f64,
    /// σ_b.
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().sigma_b)]
    pub sigma_b: f64,
    /// Minibatch sizes, comma-separated (a size ≥ n is full-batch GD).
    #[arg(long, value_delimiter = ',', default_value = "5,25,100")]
    pub batch_sizes: Vec<usize>,
    /// SGD steps T of every run, whatever the batch size.
    #[arg(long, default_value_t = cfg().steps)]
    pub steps: usize,
    /// η = lr_scale · n / λ_max(K) (K the full NTK of the first init), in (0, 2).
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().lr_scale)]
    pub lr_scale: f64,
    /// Ridge of the λ → 0 Newton step as a fraction of λ_max(K).
    #[arg(long, allow_negative_numbers = true, default_value_t = cfg().newton_ridge)]
    pub newton_ridge: f64,
    /// Initialisations (seeds seed, seed + 1, …).
    #[arg(long, default_value_t = cfg().inits)]
    pub inits: usize,
    /// Data orders (seeds order-seed, order-seed + 1, …).
    #[arg(long, default_value_t = cfg().orders)]
    pub orders: usize,
    /// First seed of θ₀.
    #[arg(long, default_value_t = cfg().seed)]
    pub seed: u64,
    /// First seed of the batch order.
    #[arg(long, default_value_t = cfg().order_seed)]
    pub order_seed: u64,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl SgdNoiseArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> sgd_noise::Config {
        sgd_noise::Config {
            data: self.data.clone(),
            n_train: self.n_train,
            n_test: self.n_test,
            data_seed: self.data_seed,
            widths: self.widths.0.clone(),
            depth: self.depth,
            activation: self.activation,
            sigma_w: self.sigma_w,
            sigma_b: self.sigma_b,
            batch_sizes: self.batch_sizes.clone(),
            steps: self.steps,
            lr_scale: self.lr_scale,
            newton_ridge: self.newton_ridge,
            inits: self.inits,
            orders: self.orders,
            seed: self.seed,
            order_seed: self.order_seed,
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
        let Some(Command::SgdNoise(a)) = Cli::try_parse_from(["tangent", "sgd-noise"])
            .unwrap()
            .command
        else {
            panic!("sgd-noise did not parse as sgd-noise");
        };
        let (got, want) = (a.config(), super::cfg());
        assert_eq!(got.widths, want.widths);
        assert_eq!(got.batch_sizes, want.batch_sizes);
        assert_eq!(
            (got.inits, got.orders, got.steps),
            (want.inits, want.orders, want.steps)
        );
        assert_eq!(got.newton_ridge, want.newton_ridge);
    }
}
