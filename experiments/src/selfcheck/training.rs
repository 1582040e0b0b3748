//! The closed-form GD curve of the linearised model against GD stepped on it.

use super::Check;
use crate::linearize::closed_form_check::{closed_form_vs_steps, standard_case};

/// One row: ‖f_closed − f_stepped‖ / ‖f_stepped − f₀‖ on the test inputs (+∞ when the model
/// did not move, which would make the comparison vacuous).
pub(super) fn checks() -> Vec<Check> {
    let gap = match closed_form_vs_steps(&standard_case()) {
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
