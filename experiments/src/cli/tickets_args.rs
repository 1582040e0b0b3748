//! The options of `tangent tickets`; every default is `tickets::Config::default()`'s.

use super::args::{widths_arg, CommonArgs, Widths};
use crate::config::{parse_activation, parse_init};
use crate::data::DataSpec;
use crate::tickets;
use autodiff::mlp::Init;
use autodiff::Activation;
use clap::Args;

fn cfg() -> tickets::Config {
    tickets::Config::default()
}

/// Options of `tickets`.
#[derive(Args, Debug, Clone)]
// A later occurrence of an option replaces an earlier one, so a command line in a script can
// be adjusted by appending options.
#[command(args_override_self = true)]
pub struct TicketsArgs {
    /// Data set (classification): digits (embedded), mnist, fashion-mnist or their
    /// `NAME:DIR` forms, idx:IMAGES,LABELS, csv:PATH or npy:X.npy,Y.npy, as for `linearize`.
    #[arg(long, value_parser = DataSpec::parse, value_name = "SPEC", default_value = "digits")]
    pub data: DataSpec,
    /// Training samples; the full kernel is (n·o)² entries, so n = 300 with 10 classes is
    /// 72 MB and n = 1000 is 800 MB.
    #[arg(long, value_name = "N", default_value_t = cfg().n_train)]
    pub n_train: usize,
    /// Test samples.
    #[arg(long, value_name = "N", default_value_t = cfg().n_test)]
    pub n_test: usize,
    /// Seed of the data subset.
    #[arg(long, value_name = "SEED", default_value_t = cfg().data_seed)]
    pub data_seed: u64,
    /// Hidden widths at scale 1, comma-separated.
    #[arg(long, value_parser = widths_arg, default_value_t = Widths(cfg().widths))]
    pub widths: Widths,
    /// Multipliers of every hidden width, comma-separated: one architecture each.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "0.25,1"
    )]
    pub width_scales: Vec<f64>,
    /// Activation (relu, tanh, …).
    #[arg(long, value_parser = parse_activation, default_value_t = cfg().activation)]
    pub activation: Activation,
    /// Initialisation: glorot-normal, kaiming-normal or sigma.
    #[arg(long, value_parser = parse_init, default_value_t = cfg().init)]
    pub init: Init,
    /// Fractions of each hidden layer's weights kept, comma-separated, each in (0, 1); the
    /// output layer keeps what IMP leaves after as many rounds (s^0.472).
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "0.5,0.2,0.05"
    )]
    pub keep: Vec<f64>,
    /// Full-batch GD steps of every training.
    #[arg(long, default_value_t = cfg().iterations)]
    pub iterations: usize,
    /// GD step η = c·n/λ_max(K_S) with c in (0, 2); 1 is half the stability limit of the
    /// linearised model.
    #[arg(long, value_name = "C", allow_negative_numbers = true, default_value_t = cfg().lr_scale)]
    pub lr_scale: f64,
    /// Ridge λ of every Newton step [default: matched to GD, λ_max(K_S)/(c·T)].
    #[arg(long = "lambda", allow_negative_numbers = true)]
    pub lambda: Option<f64>,
    /// Initialisations (seeds seed, seed + 1, …); tables show mean ± std over them.
    #[arg(long, default_value_t = cfg().seeds)]
    pub seeds: usize,
    /// First seed of θ₀.
    #[arg(long, default_value_t = cfg().seed)]
    pub seed: u64,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl TicketsArgs {
    /// The experiment configuration these options describe.
    pub fn config(&self) -> tickets::Config {
        tickets::Config {
            data: self.data.clone(),
            n_train: self.n_train,
            n_test: self.n_test,
            data_seed: self.data_seed,
            widths: self.widths.0.clone(),
            width_scales: self.width_scales.clone(),
            activation: self.activation,
            init: self.init,
            keep: self.keep.clone(),
            iterations: self.iterations,
            lr_scale: self.lr_scale,
            lambda: self.lambda,
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
        let Some(Command::Tickets(a)) =
            Cli::try_parse_from(["tangent", "tickets"]).unwrap().command
        else {
            panic!("tickets did not parse as tickets");
        };
        let (got, want) = (a.config(), super::cfg());
        assert_eq!(got.width_scales, want.width_scales);
        assert_eq!(got.keep, want.keep);
        assert_eq!(got.widths, want.widths);
    }
}
