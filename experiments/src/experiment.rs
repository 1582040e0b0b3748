//! What every experiment offers the command-line runner: the [`Experiment`] trait, and the
//! `experiment!` macro that implements it (and `run_with`) for an experiment module.

use crate::progress::Observer;
use crate::report::RunOutput;
use anyhow::Result;

/// What the runner needs of an experiment: its name, settings, a check of the settings that
/// needs no data, the run (math only, progress through the observer) and its rendering.
pub trait Experiment {
    /// The first directory level of its results.
    const NAME: &'static str;
    /// Settings (shared with the worker thread the run starts on).
    type Config: Sync;
    /// Every figure it measured (sent back from that thread).
    type Summary: Send;
    /// Rejects impossible settings before anything runs.
    fn validate(cfg: &Self::Config) -> Result<()>;
    /// Runs (validation is done by the runner, once).
    fn run(cfg: &Self::Config, obs: &mut dyn Observer) -> Result<Self::Summary>;
    /// Tables, curves, charts.
    fn output(s: &Self::Summary) -> Result<RunOutput>;
    /// The seed that names the run directory.
    fn seed(cfg: &Self::Config) -> u64;
    /// What `--json` prints: the whole summary unless the experiment has a format of its own.
    fn json(_s: &Self::Summary, out: &RunOutput) -> serde_json::Value {
        out.summary.clone()
    }
}

/// Implements [`Experiment`] for the unit struct `$ty` of an experiment module and adds the
/// module's `run_with` (validate, then run). The module provides `Config`, `Summary`,
/// `validate`, `run_checked` (the run, settings already valid) and `output`; `$seed` maps the
/// settings to the seed that names the run directory; an optional `json = f` replaces what
/// `--json` prints.
macro_rules! experiment {
    ($ty:ident, $name:literal, $seed:expr $(, json = $json:path)?) => {
        #[doc = concat!("`", $name, "` for the command-line runner.")]
        pub struct $ty;

        impl $crate::experiment::Experiment for $ty {
            const NAME: &'static str = $name;
            type Config = Config;
            type Summary = Summary;
            fn validate(cfg: &Config) -> anyhow::Result<()> {
                validate(cfg)
            }
            fn run(cfg: &Config, obs: &mut dyn $crate::progress::Observer) -> anyhow::Result<Summary> {
                run_checked(cfg, obs)
            }
            fn output(s: &Summary) -> anyhow::Result<$crate::report::RunOutput> {
                output(s)
            }
            fn seed(cfg: &Config) -> u64 {
                let seed_of: fn(&Config) -> u64 = $seed;
                seed_of(cfg)
            }
            $(fn json(s: &Summary, _: &$crate::report::RunOutput) -> serde_json::Value {
                $json(s)
            })?
        }

        /// Validates the settings, then runs.
        pub fn run_with(cfg: &Config, obs: &mut dyn $crate::progress::Observer) -> anyhow::Result<Summary> {
            validate(cfg)?;
            run_checked(cfg, obs)
        }
    };
}
pub(crate) use experiment;
