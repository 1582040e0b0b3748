//! The options of `tangent stability`: a `lottery` preset for the trainings, each option
//! given overriding it, and the stability settings.

use super::args::{widths_arg, CommonArgs, Widths};
use crate::data::DataSpec;
use crate::lottery::Preset;
use crate::stability;
use clap::Args;

fn cfg() -> stability::Config {
    stability::Config::default()
}

/// Options of `stability`.
#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct StabilityArgs {
    /// The trainings' settings, as `lottery --preset` (quick, default: LeNet-300-100 on the
    /// embedded digits, Adam 1.2e-3, batch 60, 1600 iterations; 3 seeds here). The default run
    /// takes about 2 minutes on 2 cores; with frankle-carbin-2019 every training is the
    /// paper's 50,000 iterations on MNIST (about a minute each, 43 per seed).
    #[arg(long, value_enum, default_value_t = Preset::Quick)]
    pub preset: Preset,
    /// Data set (classification) [default: the preset's].
    #[arg(long, value_parser = DataSpec::parse, value_name = "SPEC")]
    pub data: Option<DataSpec>,
    /// Training samples [default: the preset's].
    #[arg(long, value_name = "N")]
    pub n_train: Option<usize>,
    /// Validation samples [default: the preset's].
    #[arg(long, value_name = "N")]
    pub n_val: Option<usize>,
    /// Test samples [default: the preset's].
    #[arg(long, value_name = "N")]
    pub n_test: Option<usize>,
    /// Hidden widths, comma-separated [default: 300,100].
    #[arg(long, value_parser = widths_arg)]
    pub widths: Option<Widths>,
    /// Step size [default: the preset's].
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Minibatch size [default: the preset's].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Iterations of every training, counted from θ₀ [default: the preset's].
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Initialisations (seeds seed, seed + 1, …).
    #[arg(long, default_value_t = cfg().train.seeds)]
    pub seeds: usize,
    /// First seed of θ₀.
    #[arg(long, default_value_t = cfg().train.seed)]
    pub seed: u64,
    /// Rewinding iterations k, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "0,50,200"
    )]
    pub ks: Vec<usize>,
    /// IMP rounds whose tickets are tested, comma-separated (0.8^r of the hidden weights
    /// remain: 3 → 51%, 7 → 21%); empty for the dense network only.
    #[arg(
        long,
        value_delimiter = ',',
        allow_negative_numbers = true,
        default_value = "3,7"
    )]
    pub ticket_rounds: Vec<usize>,
    /// Points along each path, ends included.
    #[arg(long, default_value_t = cfg().alphas)]
    pub alphas: usize,
    /// Training samples of the kernels and Newton steps (the full kernel is (n·o)²).
    #[arg(long, default_value_t = cfg().kernel_samples)]
    pub kernel_samples: usize,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

impl StabilityArgs {
    /// The experiment configuration: the preset, overridden by every option given.
    pub fn config(&self) -> stability::Config {
        let p = self.preset.config();
        let train = crate::lottery::Config {
            data: self.data.clone().unwrap_or(p.data.clone()),
            n_train: self.n_train.unwrap_or(p.n_train),
            n_val: self.n_val.unwrap_or(p.n_val),
            n_test: self.n_test.unwrap_or(p.n_test),
            widths: self
                .widths
                .as_ref()
                .map_or(p.widths.clone(), |w| w.0.clone()),
            lr: self.lr.unwrap_or(p.lr),
            batch_size: self.batch_size.unwrap_or(p.batch_size),
            iterations: self.iterations.unwrap_or(p.iterations),
            seeds: self.seeds,
            seed: self.seed,
            controls: false,
            save_tickets: false,
            max_memory_mib: self.common.max_memory_mib,
            ..p
        };
        stability::Config {
            train,
            ks: self.ks.clone(),
            ticket_rounds: self.ticket_rounds.clone(),
            alphas: self.alphas,
            kernel_samples: self.kernel_samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn list_defaults_are_the_configs() {
        let Some(Command::Stability(a)) = Cli::try_parse_from(["tangent", "stability"])
            .unwrap()
            .command
        else {
            panic!("stability did not parse as stability");
        };
        let (got, want) = (a.config(), super::cfg());
        assert_eq!(got.ks, want.ks);
        assert_eq!(got.ticket_rounds, want.ticket_rounds);
        assert_eq!(
            serde_json::to_string(&got.train).unwrap(),
            serde_json::to_string(&want.train).unwrap()
        );
    }
}
