//! The closed-form GD curve of the linearised model against GD stepped on it.

use super::Check;
use crate::data::{DataConfig, DataSpec};
use crate::linearize::closed_form_check::closed_form_vs_steps;
use crate::linearize::Config;
use crate::model::ModelConfig;

/// A small `linearize` run: 40 training digits, one hidden layer of 32, 60 steps.
fn small() -> Config {
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

/// One row: ‖f_closed − f_stepped‖ / ‖f_stepped − f₀‖ on the test inputs (+∞ when the model
/// did not move, which would make the comparison vacuous).
pub(super) fn checks() -> Vec<Check> {
    let gap = match closed_form_vs_steps(&small()) {
        Ok(c) if c.moved > 1e-2 => c.gap,
        _ => f64::INFINITY,
    };
    vec![Check::new(
        "closed-form GD on f_lin vs 60 stepped GD steps (test predictions)",
        gap,
        1e-8,
        "Lee et al. 2019 eq. 8–9 in discrete time; rounding of 60 steps ≈ 1e-13",
        1,
    )]
}
