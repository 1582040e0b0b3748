//! The closed-form linearised GD curve against explicit steps on the linearised model: the
//! check that the eigendecomposition formula f_t = f₀ + K(x*, X)β_t (`tangent::closed_form`)
//! is the same trajectory as δ ← δ − (η/n) Jᵀ(f₀ + Jδ − Y), stepped with J·v and Jᵀ·u from
//! forward and reverse mode at θ₀.

use super::Config;
use crate::data::{DataConfig, DataSpec};
use crate::model::ModelConfig;
use crate::progress::Silent;
use crate::train::{self, gd::LinearizedGd, Stop};
use crate::{data, model};
use anyhow::Result;

/// How far the closed form is from the explicit steps after `cfg.steps` steps, on the test
/// inputs.
#[derive(Clone, Copy, Debug)]
pub struct ClosedFormGap {
    /// ‖f_closed − f_explicit‖ / ‖f_explicit − f₀‖: relative to how far the model moved.
    pub gap: f64,
    /// ‖f_explicit − f₀‖: how far it moved (a check that moves nothing proves nothing).
    pub moved: f64,
}

/// The case the test suite and `tangent selfcheck` certify: 40 training digits, one hidden
/// layer of 32, λ = 1e-3, 60 GD steps.
pub fn standard_case() -> Config {
    Config {
        data: DataConfig {
            spec: DataSpec::Digits,
            n_train: 40,
            n_test: 30,
            seed: 3,
        },
        model: ModelConfig {
            widths: vec![32],
            seed: 7,
            ..Default::default()
        },
        lambda: 1e-3,
        steps: 60,
        ..Default::default()
    }
}

/// Runs `linearize` on `cfg` (its closed-form curve) and the explicit steps, and compares
/// their test predictions after `cfg.steps` steps at the same learning rate.
pub fn closed_form_vs_steps(cfg: &Config) -> Result<ClosedFormGap> {
    let s = super::run_with(cfg, &mut Silent)?;
    let ds = data::load(&cfg.data)?;
    let mlp = model::build(&cfg.model, ds.input_dim(), ds.output_dim())?;
    let theta0: Vec<f64> = mlp.init(cfg.model.seed);
    let lin = autodiff::mlp::Linearized::new(&mlp, &theta0, ds.x_train.as_ref())?;
    let mut gd = LinearizedGd::new(&lin, ds.y_train.as_ref(), s.lr);
    let stop = Stop {
        max_steps: cfg.steps,
        target: None,
        stop_at_target: false,
    };
    train::run(&mut gd, stop, |_| false, |_, _, _| Ok(()), &mut Silent)?;
    let f0_test = mlp.forward(&theta0, ds.x_test.as_ref())?;
    let (_, jd_test) = mlp.jvp(&theta0, ds.x_test.as_ref(), &gd.delta)?;
    let explicit: Vec<f64> = f0_test
        .as_slice()
        .iter()
        .zip(jd_test.as_slice())
        .map(|(a, b)| a + b)
        .collect();
    let dist = |a: &[f64], b: &[f64]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    };
    let moved = dist(&explicit, f0_test.as_slice());
    let gap = dist(&explicit, &s.test_predictions.linearized_gd) / moved.max(f64::MIN_POSITIVE);
    Ok(ClosedFormGap { gap, moved })
}
