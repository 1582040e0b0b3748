//! The timed loop of `bench-train`.

use super::{Config, Summary};
use crate::progress::Observer;
use crate::train::{Adam, AdamConfig, Batches, Iterative, Loss, MinibatchLoss, Targets};
use anyhow::{anyhow, Result};
use autodiff::mlp::{Init, Mask, Mlp, Parameterization};
use autodiff::Activation;
use linalg::Matrix;
use serde::Serialize;
use std::time::Instant;

/// MNIST's input width.
pub const INPUTS: usize = 784;
/// MNIST's classes.
pub const CLASSES: usize = 10;

/// One timed case.
#[derive(Clone, Debug, Serialize)]
pub struct StepTiming {
    /// Threads of the pool it ran on.
    pub threads: usize,
    /// Whether a 20%-density mask was applied.
    pub masked: bool,
    /// Median over blocks of the mean step time, in milliseconds.
    pub step_ms: f64,
    /// Every block's mean step time, in milliseconds.
    pub block_ms: Vec<f64>,
    /// Samples per second at the median.
    pub samples_per_s: f64,
    /// Forward + backward GFLOP/s at the median.
    pub gflops: f64,
}

/// 2·batch·Σ n_in·n_out for the forward pass, twice that backward (weight and input
/// cotangents; the first layer's input cotangent is never formed, which this ignores).
pub fn flops_per_step(widths: &[usize], batch: usize) -> f64 {
    let macs: usize = widths.windows(2).map(|w| w[0] * w[1]).sum();
    6.0 * batch as f64 * macs as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Times one case on the current rayon pool.
fn time_case(
    cfg: &Config,
    mlp: &Mlp,
    x: &Matrix<f32>,
    labels: &[usize],
    mask: Option<Mask>,
) -> Result<Vec<f64>> {
    let theta0: Vec<f32> = mlp
        .init_with(Init::GlorotNormal, 0)
        .map_err(|e| anyhow!("{e}"))?;
    let batches = Batches::new(x.rows(), cfg.batch, 1, false)?;
    let source = MinibatchLoss::new(
        mlp,
        x.as_ref(),
        Targets::Classes(labels),
        Loss::CrossEntropy,
        batches,
    )?;
    let adam = AdamConfig {
        lr: 1.2e-3,
        ..AdamConfig::default()
    };
    let mut opt = Adam::new(source, theta0, adam, mask)?;
    let mut step = || -> Result<()> {
        opt.objective()?;
        opt.step()
    };
    for _ in 0..cfg.warmup {
        step()?;
    }
    let mut blocks = Vec::with_capacity(cfg.blocks);
    for _ in 0..cfg.blocks {
        let t0 = Instant::now();
        for _ in 0..cfg.steps_per_block {
            step()?;
        }
        blocks.push(1e3 * t0.elapsed().as_secs_f64() / cfg.steps_per_block as f64);
    }
    Ok(blocks)
}

/// Seeded normal inputs and uniform labels.
fn data(cfg: &Config) -> (Matrix<f32>, Vec<usize>) {
    let mut s = autodiff::mlp::NormalStream::new(7);
    let x = Matrix::from_fn(cfg.n, INPUTS, |_, _| s.next_normal() as f32);
    let labels = (0..cfg.n)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) % CLASSES)
        .collect();
    (x, labels)
}

/// Every (threads, masked) case.
pub fn run(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let mlp = Mlp::new(
        INPUTS,
        &cfg.widths,
        CLASSES,
        Activation::Relu,
        Parameterization::Standard,
        1.0,
        0.0,
    )
    .map_err(|e| anyhow!("{e}"))?;
    let (x, labels) = data(cfg);
    let theta: Vec<f32> = mlp.init(0);
    let dense = Mask::dense(mlp.layout());
    let layers = mlp.layout().num_layers();
    // Keep `keep` of every layer: prune 1 − keep by magnitude of a random θ (a random mask).
    let sparse = dense
        .prune_by_magnitude(&theta, &vec![1.0 - cfg.keep; layers])
        .map_err(|e| anyhow!("{e}"))?;
    let flops = flops_per_step(mlp.widths(), cfg.batch);
    let cases = cfg.threads.len() * 2;
    obs.begin("bench-train", cases as u64);
    let mut timings = Vec::new();
    for &threads in &cfg.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| anyhow!("cannot start {threads} threads: {e}"))?;
        for masked in [false, true] {
            let mask = masked.then(|| sparse.clone());
            let blocks = pool.install(|| time_case(cfg, &mlp, &x, &labels, mask))?;
            let step_ms = median(blocks.clone());
            timings.push(StepTiming {
                threads,
                masked,
                step_ms,
                block_ms: blocks,
                samples_per_s: cfg.batch as f64 / (step_ms * 1e-3),
                gflops: flops / (step_ms * 1e6),
            });
            obs.advance(timings.len() as u64);
        }
    }
    obs.end();
    Ok(Summary {
        config: cfg.clone(),
        timings,
        flops_per_step: flops,
    })
}
