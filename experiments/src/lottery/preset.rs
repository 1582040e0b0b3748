//! Named settings of `lottery`: the two published setups and a quick one on the embedded data.

use super::{Config, OptimizerKind, Pruning};
use crate::config::Dtype;
use crate::data::DataSpec;
use autodiff::mlp::Init;
use autodiff::Activation;
use serde::{Deserialize, Serialize};

/// A starting point for the settings; any option given on the command line overrides it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// LeNet-300-100 on the embedded 8×8 digits (1000 train / 297 validation / 500 test),
    /// Adam 1.2e-3, batch 60, 1600 iterations, validation every 50, 14 layer-wise rounds (to
    /// 4.8% of the weights), 3 seeds, both controls.
    #[default]
    Quick,
    /// Frankle & Carbin (ICLR 2019), LeNet-300-100 on MNIST: 55k/5k/10k, Glorot normal,
    /// Adam 1.2e-3, batch 60, 50,000 iterations, validation every 100, layer-wise 20% of
    /// hidden and 10% of output weights per round, 18 rounds (1.9% remaining), 5 seeds.
    #[value(name = "frankle-carbin-2019")]
    #[serde(rename = "frankle-carbin-2019")]
    FrankleCarbin2019,
    /// open_lth's `mnist_lenet_300_100`: Kaiming normal, SGD 0.1, batch 128, 40 epochs
    /// (17,200 iterations), global pruning of 20% of the hidden weights per round, 18 rounds.
    OpenLth,
}

impl Preset {
    /// The full settings of this preset.
    pub fn config(self) -> Config {
        let paper = Config {
            preset: self,
            data: DataSpec::Mnist { dir: None },
            n_train: 55_000,
            n_val: 5_000,
            n_test: 10_000,
            data_seed: 0,
            widths: vec![300, 100],
            activation: Activation::Relu,
            init: Init::GlorotNormal,
            optimizer: OptimizerKind::Adam,
            lr: 1.2e-3,
            momentum: 0.0,
            weight_decay: 0.0,
            batch_size: 60,
            iterations: 50_000,
            eval_every: 100,
            pruning: Pruning::LayerWise,
            prune_hidden: 0.2,
            prune_output: 0.1,
            rounds: 18,
            rewind_iter: 0,
            seeds: 5,
            seed: 0,
            controls: true,
            dtype: Dtype::F32,
            save_tickets: true,
            max_memory_mib: None,
        };
        match self {
            Preset::FrankleCarbin2019 => paper,
            Preset::OpenLth => Config {
                init: Init::KaimingNormal,
                optimizer: OptimizerKind::Sgd,
                lr: 0.1,
                batch_size: 128,
                // 40 epochs of ⌈55,000/128⌉ = 430 batches.
                iterations: 17_200,
                pruning: Pruning::Global,
                ..paper
            },
            Preset::Quick => Config {
                data: DataSpec::Digits,
                n_train: 1000,
                n_val: 297,
                n_test: 500,
                iterations: 1600,
                eval_every: 50,
                rounds: 14,
                seeds: 3,
                ..paper
            },
        }
    }

    /// Whether runs of this preset may be drawn beside the paper's reference figures.
    pub fn is_paper_setup(self) -> bool {
        self == Preset::FrankleCarbin2019
    }
}
