//! Training a network on minibatches with a validation split: the loop of the lottery-ticket
//! experiments (Frankle & Carbin, "The Lottery Ticket Hypothesis", ICLR 2019, §2).
//!
//! Every `eval_every` iterations the validation loss and accuracy are measured; the
//! **early-stopping iteration** is the iteration of minimum validation loss (the paper's
//! definition; ties go to the earliest), and the parameters there are kept, so the test
//! accuracy "at early stopping" is the accuracy of those parameters, not a re-run. With
//! `rewind_at = Some(k)` the parameters after k iterations, θ_k, are kept as well, for
//! rewinding (Frankle et al., "Stabilizing the Lottery Ticket Hypothesis", 2019).

use super::adam::{Adam, AdamConfig};
use super::batches::{Batches, MinibatchLoss};
use super::loss::{Loss, Targets};
use super::sgd::{Sgd, SgdConfig};
use super::{run, Iterative, Stop, Trajectory};
use crate::metrics::accuracy;
use crate::progress::Observer;
use anyhow::{bail, Result};
use autodiff::mlp::{Mask, Mlp};
use linalg::{MatRef, Real};
use serde::{Deserialize, Serialize};

/// The optimiser and its hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// Minibatch SGD with momentum and weight decay.
    Sgd(SgdConfig),
    /// Adam.
    Adam(AdamConfig),
}

impl Optimizer {
    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        match self {
            Optimizer::Sgd(c) => c.validate(),
            Optimizer::Adam(c) => c.validate(),
        }
    }
}

/// How to train.
#[derive(Clone, Copy, Debug)]
pub struct FitConfig {
    /// SGD or Adam.
    pub optimizer: Optimizer,
    /// The training loss.
    pub loss: Loss,
    /// Samples per minibatch.
    pub batch_size: usize,
    /// Optimisation steps.
    pub iterations: usize,
    /// Validation every this many iterations (and at the last).
    pub eval_every: usize,
    /// Seed of the data order (independent of θ₀'s seed).
    pub order_seed: u64,
    /// Keep θ_k after this many iterations (rewinding).
    pub rewind_at: Option<usize>,
}

impl FitConfig {
    /// Errors on a zero batch, no iterations, a zero evaluation period, a rewind point past
    /// the end or invalid optimiser settings.
    pub fn validate(&self) -> Result<()> {
        self.optimizer.validate()?;
        if self.batch_size == 0 || self.iterations == 0 || self.eval_every == 0 {
            bail!(
                "training needs a batch size, iterations and an evaluation period ≥ 1 (got {}, {}, {})",
                self.batch_size,
                self.iterations,
                self.eval_every
            );
        }
        if let Some(k) = self.rewind_at {
            if k > self.iterations {
                bail!(
                    "rewinding to iteration {k} needs at least {k} iterations (training runs {})",
                    self.iterations
                );
            }
        }
        Ok(())
    }
}

/// Inputs (n×d) and their targets.
#[derive(Clone, Copy)]
pub struct Split<'a, T: Real> {
    /// One sample per row.
    pub x: MatRef<'a, T>,
    /// Classes or target rows, one per sample.
    pub targets: Targets<'a, T>,
}

/// One validation measurement.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct EvalPoint {
    /// Iterations done.
    pub iteration: usize,
    /// Loss on the validation split.
    pub val_loss: f64,
    /// Accuracy on the validation split (NaN for regression targets).
    pub val_accuracy: f64,
}

/// What training produced.
#[derive(Clone, Debug)]
pub struct Fitted<T: Real> {
    /// θ after the last iteration.
    pub theta: Vec<T>,
    /// θ at the early-stopping iteration.
    pub theta_early: Vec<T>,
    /// θ_k when `rewind_at = Some(k)`.
    pub theta_rewind: Option<Vec<T>>,
    /// The validation curve.
    pub curve: Vec<EvalPoint>,
    /// Iteration of minimum validation loss.
    pub early_stop: usize,
    /// Steps and minibatch losses of the run.
    pub trajectory: Trajectory,
}

/// SGD or Adam on a network's minibatch loss.
enum Method<'a, T: Real> {
    Sgd(Sgd<T, MinibatchLoss<'a, T>>),
    Adam(Adam<T, MinibatchLoss<'a, T>>),
}

impl<T: Real> Method<'_, T> {
    fn theta(&self) -> &[T] {
        match self {
            Method::Sgd(m) => &m.theta,
            Method::Adam(m) => &m.theta,
        }
    }
}

impl<T: Real> Iterative for Method<'_, T> {
    fn objective(&mut self) -> Result<f64> {
        match self {
            Method::Sgd(m) => m.objective(),
            Method::Adam(m) => m.objective(),
        }
    }
    fn step(&mut self) -> Result<()> {
        match self {
            Method::Sgd(m) => m.step(),
            Method::Adam(m) => m.step(),
        }
    }
}

/// Trains `mlp` from `theta0` (masked first when a mask is given; pruned weights stay exactly
/// 0) on `train`, measuring `val` every `eval_every` iterations. A mask that keeps every
/// weight is dropped, so a dense training never pays for masking.
pub fn fit<T: Real>(
    mlp: &Mlp,
    theta0: Vec<T>,
    mask: Option<Mask>,
    train: Split<'_, T>,
    val: Split<'_, T>,
    cfg: &FitConfig,
    obs: &mut dyn Observer,
) -> Result<Fitted<T>> {
    cfg.validate()?;
    let mask = mask.filter(|m| m.fraction_kept() < 1.0);
    let batches = Batches::new(train.x.rows(), cfg.batch_size, cfg.order_seed, false)?;
    let source = MinibatchLoss::new(mlp, train.x, train.targets, cfg.loss, batches)?;
    let mut method = match cfg.optimizer {
        Optimizer::Sgd(c) => Method::Sgd(Sgd::new(source, theta0, c, mask)?),
        Optimizer::Adam(c) => Method::Adam(Adam::new(source, theta0, c, mask)?),
    };
    let mut curve = Vec::new();
    let mut best: Option<(f64, usize, Vec<T>)> = None;
    let mut rewind = None;
    let stop = Stop {
        max_steps: cfg.iterations,
        target: None,
        stop_at_target: false,
    };
    let is_eval = |t: usize| t.is_multiple_of(cfg.eval_every);
    let trajectory = run(
        &mut method,
        stop,
        |t| is_eval(t) || Some(t) == cfg.rewind_at,
        |t, _, m| {
            if Some(t) == cfg.rewind_at {
                rewind = Some(m.theta().to_vec());
            }
            if is_eval(t) || t == cfg.iterations {
                let point = evaluate(mlp, m.theta(), &val, cfg.loss, t)?;
                // Strictly smaller: ties keep the earliest iteration.
                if best.as_ref().is_none_or(|b| point.val_loss < b.0) {
                    best = Some((point.val_loss, t, m.theta().to_vec()));
                }
                curve.push(point);
            }
            Ok(())
        },
        obs,
    )?;
    let (_, early_stop, theta_early) = best.expect("iteration 0 is always evaluated");
    Ok(Fitted {
        theta: method.theta().to_vec(),
        theta_early,
        theta_rewind: rewind,
        curve,
        early_stop,
        trajectory,
    })
}

/// Loss and accuracy of θ on a split.
pub fn evaluate<T: Real>(
    mlp: &Mlp,
    theta: &[T],
    split: &Split<'_, T>,
    loss: Loss,
    iteration: usize,
) -> Result<EvalPoint> {
    let f = mlp.forward(theta, split.x)?;
    let rows: Vec<usize> = (0..f.rows()).collect();
    let (val_loss, _) = loss.value_and_output_grad(f.as_ref(), &split.targets, &rows)?;
    let val_accuracy = match split.targets {
        Targets::Classes(c) => accuracy(&f, c),
        Targets::Values(_) => f64::NAN,
    };
    Ok(EvalPoint {
        iteration,
        val_loss,
        val_accuracy,
    })
}

/// The early-stopping iteration of a curve: the iteration of minimum validation loss, the
/// earliest on ties; None for an empty curve or one whose losses are all NaN.
pub fn early_stop_iteration(curve: &[EvalPoint]) -> Option<usize> {
    let mut best: Option<&EvalPoint> = None;
    for p in curve.iter().filter(|p| !p.val_loss.is_nan()) {
        if best.is_none_or(|b| p.val_loss < b.val_loss) {
            best = Some(p);
        }
    }
    best.map(|p| p.iteration)
}
