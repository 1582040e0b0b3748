//! One loop for every iterative method, in the style of argmin: a method exposes its objective
//! and one step; [`run`] owns the iteration count, the stopping rule, divergence detection and
//! the recording of a typed trajectory.
//!
//! | file | what |
//! |---|---|
//! | `gd.rs` | full-batch GD: on the network, on the linearised model, on least squares |
//! | `sgd.rs`, `adam.rs` | minibatch SGD (momentum, weight decay) and Adam, optionally masked |
//! | `batches.rs` | the seeded minibatch order, reshuffled each epoch |
//! | `fit.rs` | minibatch training with a validation split, early stopping and rewinding |
//! | `loss.rs` | softmax cross-entropy and squared error, value and gradient |
//!
//! Divergence is declared in one place: when the objective becomes NaN/±∞ or grows above
//! [`DIVERGENCE_FACTOR`] times its starting value, the run stops with [`Diverged`], which
//! names the iteration, the value and the start.

pub mod adam;
pub mod batches;
pub mod fit;
pub mod full_batch;
pub mod gd;
pub mod loss;
pub mod sgd;

pub use adam::{Adam, AdamConfig};
pub use batches::{epoch_order, Batches, GradientSource, MinibatchLoss};
pub use fit::{fit, EvalPoint, FitConfig, Fitted, Optimizer, Split};
pub use full_batch::{full_batch, full_batch_gd};
pub use loss::{Loss, Targets};
pub use sgd::{Sgd, SgdConfig};

use crate::progress::Observer;
use anyhow::Result;
use serde::Serialize;

/// Growth of the objective over its starting value that counts as divergence.
pub const DIVERGENCE_FACTOR: f64 = 1e3;

/// An iterative method on one loop.
pub trait Iterative {
    /// The objective at the current iterate (methods may cache work the next step reuses,
    /// e.g. the gradient computed with the loss).
    fn objective(&mut self) -> Result<f64>;
    /// Moves to the next iterate.
    fn step(&mut self) -> Result<()>;
}

/// When to stop.
#[derive(Clone, Copy, Debug)]
pub struct Stop {
    /// Steps at most (the objective is evaluated max_steps + 1 times).
    pub max_steps: usize,
    /// A level to watch: the first step with objective ≤ target is reported.
    pub target: Option<f64>,
    /// Stop as soon as the target is reached (else run all `max_steps`).
    pub stop_at_target: bool,
}

/// The error of a diverging run.
#[derive(Clone, Debug, PartialEq)]
pub struct Diverged {
    /// Iteration at which divergence was seen.
    pub step: usize,
    /// Objective there.
    pub objective: f64,
    /// Objective at step 0.
    pub initial: f64,
}

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the iteration diverged at step {} (objective {:e}, started at {:e})",
            self.step, self.objective, self.initial
        )
    }
}

impl std::error::Error for Diverged {}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct Trajectory {
    /// Steps taken.
    pub steps: usize,
    /// Objective at step 0.
    pub initial: f64,
    /// Objective at the last iterate.
    pub last: f64,
    /// First step at which the objective was ≤ the target (None: never, or no target).
    pub reached_target: Option<usize>,
}

/// Runs `method` until `stop`, calling `record(step, objective, method)` at every step for
/// which `every(step)` holds and at the last one, and advancing the observer's bar.
pub fn run<M: Iterative>(
    method: &mut M,
    stop: Stop,
    every: impl Fn(usize) -> bool,
    mut record: impl FnMut(usize, f64, &mut M) -> Result<()>,
    obs: &mut dyn Observer,
) -> Result<Trajectory> {
    let mut initial = f64::NAN;
    let mut reached = None;
    let mut t = 0;
    loop {
        let value = method.objective()?;
        if t == 0 {
            initial = value;
        }
        if !value.is_finite() || (t > 0 && value > DIVERGENCE_FACTOR * initial.abs().max(1e-12)) {
            return Err(Diverged {
                step: t,
                objective: value,
                initial,
            }
            .into());
        }
        if reached.is_none() && stop.target.is_some_and(|g| value <= g) {
            reached = Some(t);
        }
        let last = t == stop.max_steps || (stop.stop_at_target && reached.is_some());
        if last || every(t) {
            record(t, value, method)?;
        }
        if last {
            return Ok(Trajectory {
                steps: t,
                initial,
                last: value,
                reached_target: reached,
            });
        }
        method.step()?;
        t += 1;
        if t.is_multiple_of(10) {
            obs.advance(t as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    /// x ← x − η·x on ½x²: the objective after t steps is ½(1 − η)^{2t}.
    struct Scalar {
        x: f64,
        eta: f64,
    }

    impl Iterative for Scalar {
        fn objective(&mut self) -> Result<f64> {
            Ok(0.5 * self.x * self.x)
        }
        fn step(&mut self) -> Result<()> {
            self.x -= self.eta * self.x;
            Ok(())
        }
    }

    #[test]
    fn stops_at_the_target_and_records_the_last_step() {
        let mut m = Scalar { x: 1.0, eta: 0.5 };
        let mut seen = Vec::new();
        let tr = run(
            &mut m,
            Stop {
                max_steps: 100,
                target: Some(1e-4),
                stop_at_target: true,
            },
            |t| t % 2 == 0,
            |t, v, _| {
                seen.push((t, v));
                Ok(())
            },
            &mut Silent,
        )
        .unwrap();
        // ½·0.25^t ≤ 1e-4 first at t = 7.
        assert_eq!(tr.reached_target, Some(7));
        assert_eq!(tr.steps, 7);
        assert_eq!(seen.last().unwrap().0, 7);
        assert_eq!(
            seen[..4].iter().map(|p| p.0).collect::<Vec<_>>(),
            [0, 2, 4, 6]
        );
        assert!((tr.last - 0.5 * 0.25f64.powi(7)).abs() < 1e-18);
    }

    #[test]
    fn divergence_is_reported_with_its_step() {
        let mut m = Scalar { x: 1.0, eta: 3.0 };
        let e = run(
            &mut m,
            Stop {
                max_steps: 100,
                target: None,
                stop_at_target: false,
            },
            |_| false,
            |_, _, _| Ok(()),
            &mut Silent,
        )
        .unwrap_err();
        let d = e.downcast_ref::<Diverged>().expect("a Diverged error");
        // |1 − 3| = 2 per step: the objective grows 4× a step and passes 1000× at t = 5.
        assert_eq!(d.step, 5);
        assert_eq!(d.initial, 0.5);
    }
}
