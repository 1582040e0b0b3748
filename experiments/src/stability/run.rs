//! The loop of `stability`: per seed, the dense training from θ₀, then per rewinding
//! iteration k the dense path, the IMP rounds rewound to θ_k with the chosen tickets' paths,
//! and the tangent view at θ_k.
//!
//! Seeds: θ₀ and the order of the first copy are `lottery`'s ([`crate::lottery::theta0_seed`],
//! [`crate::lottery::order_seed`]); the second copy's order is [`second_order_seed`]. IMP's own
//! trainings use the first copy's order, as `lottery` does. Copies restart the optimiser's
//! state at θ_k. Nothing reads the thread count.

use super::path::{alphas, instability, interpolate, STABLE_BELOW};
use super::{Config, Summary};
use crate::data::{one_hot_centred, Dataset};
use crate::lottery::{fit_config, network, order_seed, prune_next, theta0_seed, Splits};
use crate::metrics::accuracy;
use crate::metrics::sweep::{group_by, mean_std_by};
use crate::progress::Observer;
use crate::tickets::newton::newton_step;
use crate::train::{fit, fit::evaluate, Loss};
use anyhow::{anyhow, Context, Result};
use autodiff::mlp::{Linearized, Mask, Mlp, NtkForm};
use linalg::{Matrix, Real};
use serde::Serialize;

/// The error path between two copies trained from one start.
#[derive(Clone, Debug, Serialize)]
pub struct PathRecord {
    /// Seed index.
    pub seed: usize,
    /// Rewinding iteration k.
    pub k: usize,
    /// IMP round of the ticket (0: the dense network).
    pub round: usize,
    /// Percent of weights remaining.
    pub percent_remaining: f64,
    /// Test error at each α (α evenly spaced in [0, 1], ends included).
    pub errors: Vec<f64>,
    /// max error along the path − mean of the endpoint errors.
    pub instability: f64,
}

/// Mean ± std over seeds of one (k, round).
#[derive(Clone, Debug, Serialize)]
pub struct PathStats {
    /// Rewinding iteration k.
    pub k: usize,
    /// IMP round (0: dense).
    pub round: usize,
    /// Percent of weights remaining.
    pub percent_remaining: f64,
    /// Instability, mean and std.
    pub instability: (f64, f64),
    /// Mean endpoint test error, mean and std.
    pub endpoint_error: (f64, f64),
    /// Whether the mean instability is below the paper's 2 points.
    pub stable: bool,
}

/// The tangent view at θ_k of one seed.
#[derive(Clone, Debug, Serialize)]
pub struct TangentRecord {
    /// Seed index.
    pub seed: usize,
    /// Rewinding iteration k.
    pub k: usize,
    /// Test accuracy of θ_k itself.
    pub accuracy_at_k: f64,
    /// Test accuracy of the Newton step from θ_k (squared error, full NTK on the kernel
    /// samples, λ = λ_max/1000).
    pub newton_accuracy: f64,
    /// 1 − ⟨K_k, K_T⟩/(‖K_k‖‖K_T‖) for the output-traced NTK on the kernel samples.
    pub kernel_distance: f64,
}

/// Seed of the second copy's data order.
pub fn second_order_seed(cfg: &Config, s: usize) -> u64 {
    order_seed(&cfg.train, s) ^ 0x636f_7079_0000_0002
}

struct Ctx<'a, T: Real> {
    cfg: &'a Config,
    mlp: Mlp,
    data: Splits<T>,
    ds: &'a Dataset,
    x_kernel: Matrix<f64>,
    y_kernel: Matrix<f64>,
    done: u64,
}

impl<T: Real> Ctx<'_, T> {
    /// Trains from `start` for `iterations` with data order `order`; θ after the last step.
    fn train(
        &mut self,
        start: Vec<T>,
        mask: Option<&Mask>,
        iterations: usize,
        order: u64,
    ) -> Result<Vec<T>> {
        let mut fc = fit_config(&self.cfg.train, order);
        fc.iterations = iterations;
        fc.rewind_at = None;
        fc.eval_every = iterations;
        let mut quiet = crate::progress::Silent;
        let fitted = fit(
            &self.mlp,
            start,
            mask.cloned(),
            self.data.train(),
            self.data.val(),
            &fc,
            &mut quiet,
        )?;
        Ok(fitted.theta)
    }

    fn error(&self, theta: &[T]) -> Result<f64> {
        let test = self.data.test();
        Ok(1.0 - evaluate(&self.mlp, theta, &test, Loss::CrossEntropy, 0)?.val_accuracy)
    }

    /// Two copies from `start` with the two orders, and the error path between them.
    fn path(
        &mut self,
        s: usize,
        k: usize,
        round: usize,
        start: &[T],
        mask: &Mask,
        obs: &mut dyn Observer,
    ) -> Result<PathRecord> {
        let rest = self.cfg.train.iterations - k;
        let a = self.train(
            start.to_vec(),
            Some(mask),
            rest,
            order_seed(&self.cfg.train, s),
        )?;
        let b = self.train(
            start.to_vec(),
            Some(mask),
            rest,
            second_order_seed(self.cfg, s),
        )?;
        self.tick(2, obs);
        let errors = error_path(&a, &b, self.cfg.alphas, |t| self.error(t))?;
        Ok(PathRecord {
            seed: s,
            k,
            round,
            percent_remaining: 100.0 * mask.fraction_kept(),
            instability: instability(&errors)?,
            errors,
        })
    }

    fn tick(&mut self, n: u64, obs: &mut dyn Observer) {
        self.done += n;
        obs.advance(self.done);
    }

    /// The Newton step from θ_k and the kernel distance to θ_T.
    fn tangent(
        &self,
        s: usize,
        k: usize,
        theta_k: &[T],
        k_final: &Matrix<f64>,
    ) -> Result<TangentRecord> {
        let th: Vec<f64> = theta_k.iter().map(|t| t.to_f64()).collect();
        let step = newton_step(
            &self.mlp,
            &th,
            None,
            self.x_kernel.as_ref(),
            &self.y_kernel,
            self.ds.x_test.as_ref(),
            None,
            (1.0, 1000),
        )
        .with_context(|| format!("Newton step from θ_{k}"))?;
        let labels = self.ds.labels_test.as_deref().unwrap_or(&[]);
        Ok(TangentRecord {
            seed: s,
            k,
            accuracy_at_k: 1.0 - self.error(theta_k)?,
            newton_accuracy: accuracy(&step.test_outputs, labels),
            kernel_distance: kernel_distance(&self.traced_kernel(theta_k)?, k_final),
        })
    }

    fn traced_kernel(&self, theta: &[T]) -> Result<Matrix<f64>> {
        let th: Vec<f64> = theta.iter().map(|t| t.to_f64()).collect();
        let lin =
            Linearized::new(&self.mlp, &th, self.x_kernel.as_ref()).map_err(|e| anyhow!("{e}"))?;
        lin.ntk(NtkForm::Traced).map_err(|e| anyhow!("{e}"))
    }
}

/// Test errors along θ(α) between `a` and `b` at `count` evenly spaced α.
pub fn error_path<T: Real>(
    a: &[T],
    b: &[T],
    count: usize,
    error: impl Fn(&[T]) -> Result<f64>,
) -> Result<Vec<f64>> {
    alphas(count)
        .into_iter()
        .map(|al| error(&interpolate(a, b, al)))
        .collect()
}

/// 1 − ⟨A, B⟩_F / (‖A‖_F ‖B‖_F): 0 for kernels equal up to scale.
pub fn kernel_distance(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    let (x, y) = (a.as_slice(), b.as_slice());
    let dot = linalg::vec::dot(x, y);
    1.0 - dot / (linalg::vec::nrm2(x) * linalg::vec::nrm2(y)).max(f64::MIN_POSITIVE)
}

/// One seed: the dense training, then per k its path, IMP rewound to θ_k and the tangent view.
fn run_seed<T: Real>(
    ctx: &mut Ctx<'_, T>,
    s: usize,
    obs: &mut dyn Observer,
    out: &mut (Vec<PathRecord>, Vec<TangentRecord>),
) -> Result<()> {
    let cfg = ctx.cfg;
    let t = &cfg.train;
    let theta0: Vec<T> = ctx
        .mlp
        .init_with(t.init, theta0_seed(t, s))
        .map_err(|e| anyhow!("{e}"))?;
    let order = order_seed(t, s);
    let theta_t = ctx.train(theta0.clone(), None, t.iterations, order)?;
    ctx.tick(1, obs);
    let k_final = ctx.traced_kernel(&theta_t)?;
    let dense = Mask::dense(ctx.mlp.layout());
    let last_round = cfg.ticket_rounds.iter().copied().max().unwrap_or(0);
    for &k in &cfg.ks {
        let theta_k = if k == 0 {
            theta0.clone()
        } else {
            ctx.train(theta0.clone(), None, k, order)?
        };
        ctx.tick(1, obs);
        out.0.push(
            ctx.path(s, k, 0, &theta_k, &dense, obs)
                .context("dense path")?,
        );
        out.1.push(ctx.tangent(s, k, &theta_k, &k_final)?);
        let (mut mask, mut last) = (dense.clone(), theta_t.clone());
        for round in 1..=last_round {
            mask = prune_next(t, &mask, &last)?;
            let mut start = theta_k.clone();
            mask.apply(&mut start).map_err(|e| anyhow!("{e}"))?;
            last = ctx.train(start.clone(), Some(&mask), t.iterations - k, order)?;
            ctx.tick(1, obs);
            if cfg.ticket_rounds.contains(&round) {
                let p = ctx
                    .path(s, k, round, &start, &mask, obs)
                    .with_context(|| format!("ticket of round {round}"))?;
                out.0.push(p);
            }
        }
    }
    Ok(())
}

/// Runs every seed and gathers the statistics.
pub fn run<T: Real>(cfg: &Config, ds: &Dataset, obs: &mut dyn Observer) -> Result<Summary> {
    let t = &cfg.train;
    let Some(labels) = &ds.labels_train else {
        anyhow::bail!(
            "stability needs class labels (softmax cross-entropy); {} is a regression task",
            ds.name
        );
    };
    let n = cfg.kernel_samples;
    let d = ds.input_dim();
    let x_kernel = Matrix::from_fn(n, d, |i, j| ds.x_train.get(i, j));
    let y_kernel = one_hot_centred(&labels[..n], ds.output_dim());
    let mut ctx = Ctx {
        cfg,
        mlp: network(t, d, ds.output_dim())?,
        data: Splits::<T>::new(t, ds)?,
        ds,
        x_kernel,
        y_kernel,
        done: 0,
    };
    let last_round = cfg.ticket_rounds.iter().copied().max().unwrap_or(0) as u64;
    let per_k = 1 + 2 + last_round + 2 * cfg.ticket_rounds.len() as u64;
    obs.begin(
        "stability: trainings",
        t.seeds as u64 * (1 + cfg.ks.len() as u64 * per_k),
    );
    let mut out = (Vec::new(), Vec::new());
    for s in 0..t.seeds {
        run_seed(&mut ctx, s, obs, &mut out)?;
    }
    obs.end();
    Ok(Summary {
        memory_estimate_bytes: 0,
        memory_peak_bytes: None,
        config: cfg.clone(),
        data_name: ds.name.clone(),
        stats: stats(&out.0),
        paths: out.0,
        tangent: out.1,
        wall_seconds: 0.0,
    })
}

/// Mean ± std over seeds per (k, round), in record order.
pub fn stats(records: &[PathRecord]) -> Vec<PathStats> {
    group_by(records, |r| (r.k, r.round))
        .into_iter()
        .map(|group| {
            let r = group[0];
            let inst = mean_std_by(&group, |g| g.instability);
            let ends = |g: &PathRecord| match (g.errors.first(), g.errors.last()) {
                (Some(a), Some(b)) => 0.5 * (a + b),
                _ => f64::NAN,
            };
            PathStats {
                k: r.k,
                round: r.round,
                percent_remaining: r.percent_remaining,
                instability: inst,
                endpoint_error: mean_std_by(&group, ends),
                stable: inst.0 < STABLE_BELOW,
            }
        })
        .collect()
}
