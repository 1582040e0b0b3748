//! `imbalance`: k points of group A with target −1 against m points of group B with target +1
//! (default 1 against 100), fitted by a linear model in random ReLU features
//! f(x) = φ(x)ᵀθ, φ(x) = relu(Wx + c)/√p — the same algebra as a linearised network, with
//! kernel K = ΦΦᵀ.
//!
//! The loss is L(θ) = 1/(2n)‖Φθ − y‖². Its gradient at θ = 0 is −Φᵀy/n = (1/n)(Σ_A φᵢ − Σ_B φᵢ):
//! when the groups' features are correlated, the m terms of B outweigh the k of A, so the first
//! step moves A's prediction toward B's target. One Newton step, θ = Φᵀ(K + nλI)⁻¹y, fits both
//! groups at once. The run records the per-group mean residual under GD (η = 1/λ_max(ΦᵀΦ/n))
//! and after the Newton step.

mod about;
mod report;
mod run;

pub use report::output;

use crate::memory::{mat, MemoryPlan};
use crate::progress::Observer;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Settings of `imbalance`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Points in group A (target −1).
    pub k: usize,
    /// Points in group B (target +1).
    pub m: usize,
    /// Number of random features p.
    pub features: usize,
    /// Distance between the group centres in the input plane.
    pub separation: f64,
    /// Spread of the points around their centre.
    pub spread: f64,
    /// GD steps T.
    pub steps: usize,
    /// Ridge λ of the Newton step (relative to the loss scaling 1/(2n)).
    pub lambda: f64,
    /// Seed of the points and of the random features.
    pub seed: u64,
    /// Memory budget in MiB (None: 70% of the available memory).
    pub max_memory_mib: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            k: 1,
            m: 100,
            features: 512,
            separation: 1.0,
            spread: 0.3,
            steps: 2000,
            lambda: 1e-6,
            seed: 0,
            max_memory_mib: None,
        }
    }
}

/// What `imbalance` measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Estimated peak heap bytes of the run (the memory plan), made before allocating.
    pub memory_estimate_bytes: u128,
    /// Measured peak heap bytes of the run (None where the counting allocator is absent).
    pub memory_peak_bytes: Option<u128>,
    /// The settings.
    pub config: Config,
    /// Mean cosine similarity of features between groups A and B.
    pub feature_cosine_ab: f64,
    /// Share of the first gradient that comes from group B: ‖g_B‖/(‖g_A‖ + ‖g_B‖).
    pub first_gradient_share_b: f64,
    /// cos∠(g, g_B) for the first gradient g = g_A + g_B.
    pub first_gradient_cos_b: f64,
    /// Mean prediction of group A after the first GD step (the target is −1; it starts at 0).
    pub group_a_after_first_step: f64,
    /// Mean residual f − y over group A after T GD steps (starts at +1: f = 0, y = −1).
    pub gd_residual_a: f64,
    /// Mean residual f − y over group B after T GD steps (starts at −1).
    pub gd_residual_b: f64,
    /// Mean residual f − y over group A after the one Newton step.
    pub newton_residual_a: f64,
    /// Mean residual f − y over group B after the one Newton step.
    pub newton_residual_b: f64,
    /// GD steps until |mean residual of A| < 0.1 (None if not reached).
    pub gd_steps_to_fit_a: Option<usize>,
    /// GD step size η = 1/λ_max(K/n + λI).
    pub step: f64,
    /// Condition number λ_max/λ_min of K/n + λI (Lanczos, or dense when Lanczos did not
    /// converge).
    pub kappa: f64,
    /// How λ_max was found: "lanczos" (converged) or "dense" (Lanczos did not converge within
    /// its step cap, so the eigenvalues were computed directly).
    pub lambda_max_method: String,
    /// The GD curve: steps 0 to 49, then every tenth, and the last (a row of curves.csv
    /// each).
    #[serde(skip)]
    pub curve: Vec<CurveRow>,
}

/// One recorded GD step (a row of curves.csv).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CurveRow {
    /// GD step t (0 is the start, θ = 0).
    pub step: usize,
    /// Mean residual f − y over group A after t steps.
    pub mean_residual_a: f64,
    /// Mean residual f − y over group B after t steps.
    pub mean_residual_b: f64,
    /// The loss 1/(2n)‖Φθ_t − y‖² after t steps.
    pub loss: f64,
}

/// The memory plan: Φ (n×p) with two n×n matrices at a time — K = ΦΦᵀ and K/n + λI while
/// the spectrum is estimated, then K/n + λI and its Cholesky factor for the Newton step.
pub fn memory_plan(n: usize, p: usize) -> MemoryPlan {
    let phi = (format!("features Φ ({n}×{p})"), mat(n, p, 8));
    let mut plan = MemoryPlan::default();
    plan.phase(
        "kernel and spectrum",
        vec![
            phi.clone(),
            (format!("K and K/n + λI ({n}×{n} × 2)"), mat(n, n, 16)),
        ],
    );
    plan.phase(
        "Newton step",
        vec![
            phi,
            (
                format!("K/n + λI and its Cholesky factor ({n}×{n} × 2)"),
                mat(n, n, 16),
            ),
        ],
    );
    plan
}

/// Most points per group.
pub const MAX_GROUP: usize = 100_000;

/// Checks the settings before anything runs.
pub fn validate(cfg: &Config) -> Result<()> {
    if !(1..=MAX_GROUP).contains(&cfg.k) || !(1..=MAX_GROUP).contains(&cfg.m) {
        bail!(
            "--k and --m must each lie in 1..={MAX_GROUP}, got --k {} and --m {}",
            cfg.k,
            cfg.m
        );
    }
    if cfg.features == 0 {
        bail!("--features must be at least 1");
    }
    crate::linearize::check_training(cfg.lambda, None, cfg.steps)
}

crate::experiment::experiment!(Imbalance, "imbalance", |c| c.seed);

fn run_checked(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let n = cfg.k.saturating_add(cfg.m);
    let window = crate::memory::PeakWindow::start();
    let plan = memory_plan(n, cfg.features);
    plan.check(
        crate::memory::budget(cfg.max_memory_mib),
        "use fewer points (--k/--m) or fewer features",
    )?;
    let s = run::run(cfg, obs)?;
    Ok(Summary {
        memory_estimate_bytes: plan.peak(),
        memory_peak_bytes: window.measured(),
        ..s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    #[test]
    fn first_step_favours_b_and_newton_fits_both() {
        let s = run_with(
            &Config {
                steps: 200,
                ..Default::default()
            },
            &mut Silent,
        )
        .unwrap();
        assert!(
            s.first_gradient_share_b > 0.9,
            "{}",
            s.first_gradient_share_b
        );
        // A starts at 0 with target −1: the first step pushes it up, toward B's target.
        assert!(
            s.group_a_after_first_step > 0.0,
            "{}",
            s.group_a_after_first_step
        );
        assert!(s.newton_residual_a.abs() < 1e-2 && s.newton_residual_b.abs() < 1e-2);
        assert!(s.gd_residual_a.abs() > 10.0 * s.newton_residual_a.abs());
    }
}
