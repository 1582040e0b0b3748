//! The IMP loop of `lottery`: per seed, the dense training, then R rounds of prune → reset (or
//! rewind) → retrain, with the two controls at the same per-layer counts.
//!
//! Seeds: θ₀ of seed index s is drawn with seed `cfg.seed + s`; all trainings of one seed
//! share one data order, so within a seed the arms differ only by their mask and start. The
//! reinit control of round r draws a fresh θ₀ (seed [`reinit_seed`]), the random control a
//! mask with the ticket's per-layer counts (seed [`random_mask_seed`]). Nothing here reads
//! the thread count, so the rounds are bit-identical on any number of threads.

use super::{Config, OptimizerKind, Pruning, Summary};
use crate::data::{cast, Dataset};
use crate::progress::Observer;
use crate::train::{
    fit, fit::evaluate, AdamConfig, EvalPoint, FitConfig, Loss, Optimizer, SgdConfig, Split,
    Targets,
};
use anyhow::{anyhow, bail, Context, Result};
use autodiff::mlp::{Mask, Mlp, Parameterization};
use linalg::{Matrix, Real};
use serde::{Deserialize, Serialize};

/// The three kinds of training of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arm {
    /// The winning ticket: the IMP mask, reset to θ₀ (or rewound to θ_k).
    Ticket,
    /// The ticket's mask from a fresh random θ₀ (the paper's "random reinitialization").
    Reinit,
    /// A random mask with the ticket's per-layer counts, from the ticket's start ("random
    /// pruning", Frankle et al. 2019).
    Random,
}

impl Arm {
    /// Lower-case name, as in the tables and files.
    pub fn name(self) -> &'static str {
        match self {
            Arm::Ticket => "ticket",
            Arm::Reinit => "reinit",
            Arm::Random => "random",
        }
    }
}

/// One training: its mask's sparsity and what it reached.
#[derive(Clone, Debug, Serialize)]
pub struct TrainingRecord {
    /// Index of the seed (θ₀ seed = config seed + this).
    pub seed: usize,
    /// Pruning round (0: the dense network).
    pub round: usize,
    /// Which arm.
    pub arm: Arm,
    /// Percent of weights remaining over all layers (biases excluded).
    pub percent_remaining: f64,
    /// Percent of weights remaining per layer.
    pub percent_per_layer: Vec<f64>,
    /// Iteration of minimum validation loss (counted from θ₀, so a rewound ticket's
    /// iterations start at k).
    pub early_stop_iteration: usize,
    /// Test accuracy of θ at the early-stopping iteration.
    pub test_accuracy_early: f64,
    /// Test accuracy after the last iteration.
    pub test_accuracy_final: f64,
    /// Minimum validation loss.
    pub best_val_loss: f64,
    /// The validation curve (iterations counted from θ₀).
    pub curve: Vec<EvalPoint>,
}

/// Mean ± standard deviation (sample, n − 1) over seeds of one round and arm.
#[derive(Clone, Debug, Serialize)]
pub struct ArmStats {
    /// Pruning round.
    pub round: usize,
    /// Which arm.
    pub arm: Arm,
    /// Seeds averaged.
    pub n: usize,
    /// Percent of weights remaining (the same for every seed and arm of a round).
    pub percent_remaining: f64,
    /// Early-stopping iteration, mean and std.
    pub early_stop: (f64, f64),
    /// Test accuracy at early stopping, mean and std.
    pub accuracy_early: (f64, f64),
    /// Test accuracy at the end, mean and std.
    pub accuracy_final: (f64, f64),
}

/// The network every training uses: the configured widths, standard parameterization (the
/// lottery papers' PyTorch layers), σ's unused because θ₀ comes from `cfg.init`.
pub fn network(cfg: &Config, d: usize, o: usize) -> Result<Mlp> {
    Mlp::new(
        d,
        &cfg.widths,
        o,
        cfg.activation,
        Parameterization::Standard,
        1.0,
        0.0,
    )
    .map_err(|e| anyhow!("cannot build the network: {e}"))
}

/// How every training of `cfg` is run; `iterations` of a retraining from θ_k are the rest
/// after k.
pub fn fit_config(cfg: &Config, order_seed: u64) -> FitConfig {
    let optimizer = match cfg.optimizer {
        OptimizerKind::Adam => Optimizer::Adam(AdamConfig {
            lr: cfg.lr,
            weight_decay: cfg.weight_decay,
            ..AdamConfig::default()
        }),
        OptimizerKind::Sgd => Optimizer::Sgd(SgdConfig {
            lr: cfg.lr,
            momentum: cfg.momentum,
            weight_decay: cfg.weight_decay,
        }),
    };
    FitConfig {
        optimizer,
        loss: Loss::CrossEntropy,
        batch_size: cfg.batch_size,
        iterations: cfg.iterations,
        eval_every: cfg.eval_every,
        order_seed,
        rewind_at: (cfg.rewind_iter > 0).then_some(cfg.rewind_iter),
    }
}

/// Seed of θ₀ of seed index s.
pub fn theta0_seed(cfg: &Config, s: usize) -> u64 {
    cfg.seed.wrapping_add(s as u64)
}

/// Seed of the data order of seed index s (one order for all its trainings).
pub fn order_seed(cfg: &Config, s: usize) -> u64 {
    theta0_seed(cfg, s) ^ 0x6f72_6465_7200_0000
}

/// Seed of the fresh θ₀ of the reinit control of round r.
pub fn reinit_seed(cfg: &Config, s: usize, round: usize) -> u64 {
    theta0_seed(cfg, s) ^ 0x7265_696e_0000_0000 ^ ((round as u64) << 16)
}

/// Seed of the random mask of round r.
pub fn random_mask_seed(cfg: &Config, s: usize, round: usize) -> u64 {
    theta0_seed(cfg, s) ^ 0x7261_6e64_0000_0000 ^ ((round as u64) << 16)
}

/// The data of one run in the training precision: train, validation (the last `n_val` rows
/// of the seeded training pool) and test.
pub struct Splits<T: Real> {
    x_train: Matrix<T>,
    y_train: Vec<usize>,
    x_val: Matrix<T>,
    y_val: Vec<usize>,
    x_test: Matrix<T>,
    y_test: Vec<usize>,
}

impl<T: Real> Splits<T> {
    /// Splits the loaded pool (`n_train + n_val` rows, already a seeded subset) into train
    /// and validation.
    pub fn new(cfg: &Config, ds: &Dataset) -> Result<Self> {
        let (Some(labels), Some(y_test)) = (&ds.labels_train, &ds.labels_test) else {
            bail!(
                "lottery needs class labels (softmax cross-entropy); {} is a regression task",
                ds.name
            );
        };
        let n = cfg.n_train;
        if ds.n_train() != n + cfg.n_val {
            bail!(
                "internal: the pool has {} rows, not {} + {}",
                ds.n_train(),
                n,
                cfg.n_val
            );
        }
        // Each split is cast straight from the f64 pool: no f32 copy of the whole pool.
        let x = &ds.x_train;
        let d = x.cols();
        let rows =
            |a: usize, b: usize| Matrix::from_fn(b - a, d, |i, j| T::from_f64(x.get(a + i, j)));
        Ok(Splits {
            x_train: rows(0, n),
            y_train: labels[..n].to_vec(),
            x_val: rows(n, n + cfg.n_val),
            y_val: labels[n..].to_vec(),
            x_test: cast::<T>(&ds.x_test),
            y_test: y_test.clone(),
        })
    }

    /// The training split.
    pub fn train(&self) -> Split<'_, T> {
        Split {
            x: self.x_train.as_ref(),
            targets: Targets::Classes(&self.y_train),
        }
    }
    /// The validation split.
    pub fn val(&self) -> Split<'_, T> {
        Split {
            x: self.x_val.as_ref(),
            targets: Targets::Classes(&self.y_val),
        }
    }
    /// The test split.
    pub fn test(&self) -> Split<'_, T> {
        Split {
            x: self.x_test.as_ref(),
            targets: Targets::Classes(&self.y_test),
        }
    }
}

/// Passes a training's progress on as part of one bar over the whole run.
struct Offset<'a> {
    inner: &'a mut dyn Observer,
    base: u64,
}

impl Observer for Offset<'_> {
    fn begin(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, done: u64) {
        self.inner.advance(self.base + done);
    }
    fn end(&mut self) {}
    fn message(&mut self, msg: &str) {
        self.inner.message(msg);
    }
}

/// What one training of a round needs besides the shared pieces.
struct Job<'a, T: Real> {
    round: usize,
    arm: Arm,
    start: Vec<T>,
    mask: &'a Mask,
    /// Iterations already done before `start` (k when rewound, else 0).
    offset: usize,
}

/// The trained θ of a job and its record.
struct Trained<T: Real> {
    theta: Vec<T>,
    theta_rewind: Option<Vec<T>>,
    record: TrainingRecord,
}

/// The pieces every training of a run shares.
struct Shared<'a, T: Real> {
    cfg: &'a Config,
    mlp: &'a Mlp,
    data: &'a Splits<T>,
    done: u64,
}

impl<T: Real> Shared<'_, T> {
    fn train(&mut self, s: usize, job: Job<'_, T>, obs: &mut dyn Observer) -> Result<Trained<T>> {
        let mut fc = fit_config(self.cfg, order_seed(self.cfg, s));
        fc.iterations -= job.offset;
        if job.round > 0 {
            fc.rewind_at = None;
        }
        let mut sub = Offset {
            inner: obs,
            base: self.done,
        };
        let fitted = fit(
            self.mlp,
            job.start,
            Some(job.mask.clone()),
            self.data.train(),
            self.data.val(),
            &fc,
            &mut sub,
        )
        .with_context(|| {
            format!(
                "seed {s}, round {}, {}: training failed",
                job.round,
                job.arm.name()
            )
        })?;
        self.done += fc.iterations as u64;
        obs.advance(self.done);
        let test = self.data.test();
        let acc = |theta: &[T]| -> Result<f64> {
            Ok(evaluate(self.mlp, theta, &test, fc.loss, 0)?.val_accuracy)
        };
        let curve: Vec<EvalPoint> = fitted
            .curve
            .iter()
            .map(|p| EvalPoint {
                iteration: p.iteration + job.offset,
                ..*p
            })
            .collect();
        let best_val_loss = curve
            .iter()
            .map(|p| p.val_loss)
            .fold(f64::INFINITY, f64::min);
        let record = TrainingRecord {
            seed: s,
            round: job.round,
            arm: job.arm,
            percent_remaining: 100.0 * job.mask.fraction_kept(),
            percent_per_layer: percent_per_layer(job.mask),
            early_stop_iteration: fitted.early_stop + job.offset,
            test_accuracy_early: acc(&fitted.theta_early)?,
            test_accuracy_final: acc(&fitted.theta)?,
            best_val_loss,
            curve,
        };
        Ok(Trained {
            theta: fitted.theta,
            theta_rewind: fitted.theta_rewind,
            record,
        })
    }
}

/// Percent of weights kept in each layer.
pub fn percent_per_layer(mask: &Mask) -> Vec<f64> {
    let layout = mask.layout();
    mask.kept_per_layer()
        .iter()
        .enumerate()
        .map(|(l, &k)| 100.0 * k as f64 / layout.weight(l).len as f64)
        .collect()
}

/// The next round's mask from the last ticket's trained θ.
pub fn prune_next<T: Real>(cfg: &Config, mask: &Mask, theta: &[T]) -> Result<Mask> {
    let layers = mask.layout().num_layers();
    let next = match cfg.pruning {
        Pruning::LayerWise => {
            let mut f = vec![cfg.prune_hidden; layers];
            f[layers - 1] = cfg.prune_output;
            mask.prune_by_magnitude(theta, &f)
        }
        Pruning::Global => mask.prune_global(theta, cfg.prune_hidden),
    };
    next.map_err(|e| anyhow!("pruning: {e}"))
}

/// Saved arrays of one seed: (relative path, .npy bytes).
type Files = Vec<(String, Vec<u8>)>;

/// θ as a 1-D .npy in the training precision.
fn theta_npy<T: Real>(theta: &[T]) -> Result<Vec<u8>> {
    let shape = [theta.len()];
    if T::BYTES == 4 {
        let f: Vec<f32> = theta.iter().map(|t| t.to_f64() as f32).collect();
        crate::report::npy::npy_bytes(&shape, &f)
    } else {
        let v: Vec<f64> = theta.iter().map(|t| t.to_f64()).collect();
        crate::report::npy::npy_bytes(&shape, &v)
    }
}

/// All rounds of one seed.
fn run_seed<T: Real>(
    ctx: &mut Shared<'_, T>,
    s: usize,
    obs: &mut dyn Observer,
    records: &mut Vec<TrainingRecord>,
    files: &mut Files,
) -> Result<()> {
    let cfg = ctx.cfg;
    let mlp = ctx.mlp;
    let theta0: Vec<T> = mlp
        .init_with(cfg.init, theta0_seed(cfg, s))
        .map_err(|e| anyhow!("{e}"))?;
    let dense_mask = Mask::dense(mlp.layout());
    let dir = format!("tickets/seed{s}");
    let save = cfg.save_tickets;
    let dense = ctx.train(
        s,
        Job {
            round: 0,
            arm: Arm::Ticket,
            start: theta0.clone(),
            mask: &dense_mask,
            offset: 0,
        },
        obs,
    )?;
    let (start, offset) = match &dense.theta_rewind {
        Some(t) => (t.clone(), cfg.rewind_iter),
        None => (theta0.clone(), 0),
    };
    if save {
        files.push((format!("{dir}/theta0.npy"), theta_npy(&theta0)?));
        if offset > 0 {
            files.push((format!("{dir}/theta_rewind.npy"), theta_npy(&start)?));
        }
        files.push((
            format!("{dir}/round00_theta_final.npy"),
            theta_npy(&dense.theta)?,
        ));
    }
    records.push(dense.record);
    let mut mask = dense_mask;
    let mut last_theta = dense.theta;
    for round in 1..=cfg.rounds {
        mask = prune_next(cfg, &mask, &last_theta)?;
        let mut start_masked = start.clone();
        mask.apply(&mut start_masked).map_err(|e| anyhow!("{e}"))?;
        let ticket = ctx.train(
            s,
            Job {
                round,
                arm: Arm::Ticket,
                start: start_masked,
                mask: &mask,
                offset,
            },
            obs,
        )?;
        if save {
            let stem = format!("{dir}/round{round:02}");
            for (suffix, bytes) in crate::mask_file::mask_file_bytes(&mask)? {
                files.push((format!("{stem}_mask{suffix}"), bytes));
            }
            files.push((format!("{stem}_theta_final.npy"), theta_npy(&ticket.theta)?));
        }
        records.push(ticket.record);
        last_theta = ticket.theta;
        if cfg.controls {
            controls(ctx, s, round, &mask, &start, offset, obs, records)?;
        }
    }
    Ok(())
}

/// The reinit and random-pruning controls of one round.
#[allow(clippy::too_many_arguments)]
fn controls<T: Real>(
    ctx: &mut Shared<'_, T>,
    s: usize,
    round: usize,
    mask: &Mask,
    start: &[T],
    offset: usize,
    obs: &mut dyn Observer,
    records: &mut Vec<TrainingRecord>,
) -> Result<()> {
    let cfg = ctx.cfg;
    let mut fresh: Vec<T> = ctx
        .mlp
        .init_with(cfg.init, reinit_seed(cfg, s, round))
        .map_err(|e| anyhow!("{e}"))?;
    mask.apply(&mut fresh).map_err(|e| anyhow!("{e}"))?;
    let random_mask = mask.random_like(random_mask_seed(cfg, s, round));
    let mut from_start = start.to_vec();
    random_mask
        .apply(&mut from_start)
        .map_err(|e| anyhow!("{e}"))?;
    for (arm, start, m) in [
        (Arm::Reinit, fresh, mask),
        (Arm::Random, from_start, &random_mask),
    ] {
        let job = Job {
            round,
            arm,
            start,
            mask: m,
            offset,
        };
        records.push(ctx.train(s, job, obs)?.record);
    }
    Ok(())
}

/// Iterations the whole run trains (the progress bar's length).
pub fn total_iterations(cfg: &Config) -> u64 {
    let retrain = (cfg.iterations - cfg.rewind_iter) as u64;
    let per_round = if cfg.controls { 3 } else { 1 };
    cfg.seeds as u64 * (cfg.iterations as u64 + cfg.rounds as u64 * per_round * retrain)
}

/// Runs every seed and gathers the statistics; the caller adds the memory figures and time.
pub fn run<T: Real>(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    let data = Splits::<T>::new(cfg, ds)?;
    let mlp = network(cfg, ds.input_dim(), ds.output_dim())?;
    let mut ctx = Shared {
        cfg,
        mlp: &mlp,
        data: &data,
        done: 0,
    };
    let mut records = Vec::new();
    let mut files = Vec::new();
    obs.begin("lottery: training", total_iterations(cfg));
    for s in 0..cfg.seeds {
        run_seed(&mut ctx, s, obs, &mut records, &mut files)?;
    }
    obs.end();
    let layout = mlp.layout();
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        data_name: ds.name.clone(),
        layer_widths: mlp.widths().to_vec(),
        weights_per_layer: (0..layout.num_layers())
            .map(|l| layout.weight(l).len)
            .collect(),
        stats: super::stats::arm_stats(&records),
        trainings: records,
        wall_seconds: 0.0,
        files: std::sync::Arc::new(files),
    })
}
