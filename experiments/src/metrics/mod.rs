//! The figures experiments report, computed in one place: norms and relative differences (one
//! meaning: relative to the second operand, the reference), the squared-error loss, accuracy,
//! and the statistics of sweeps over seeds (`sweep`).

pub mod anova;
pub mod auc;
pub mod sweep;

/// ‖v‖₂ (overflow-safe), ⟨a, b⟩ and the one relative difference ‖a − b‖/‖b‖ (b the
/// reference): the workspace's level-1 kernels in `linalg::vec`.
pub use linalg::vec::{dot, nrm2 as norm, rel_diff};
use linalg::{Matrix, Real};
pub use sweep::{bootstrap_slope, local_slopes, loglog_slope, mean_std};

/// ‖a − b‖ / `scale` (the absolute difference when `scale` is 0 or not finite).
pub fn rel_diff_scaled(a: &[f64], b: &[f64], scale: f64) -> f64 {
    let diff: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let d = norm(&diff);
    if scale > 0.0 && scale.is_finite() {
        d / scale
    } else {
        d
    }
}

/// Fraction of rows whose arg-max equals the label.
pub fn accuracy<T: Real>(pred: &Matrix<T>, labels: &[usize]) -> f64 {
    if labels.is_empty() {
        return f64::NAN;
    }
    let hits = (0..pred.rows())
        .filter(|&i| {
            let row = pred.row(i);
            let mut best = 0;
            for (j, v) in row.iter().enumerate() {
                if v.to_f64() > row[best].to_f64() {
                    best = j;
                }
            }
            best == labels[i]
        })
        .count();
    hits as f64 / labels.len() as f64
}

/// The squared-error loss 1/(2n)‖f − y‖²_F over n samples (f and y flattened alike).
pub fn squared_loss(f: &[f64], y: &[f64], n: usize) -> f64 {
    f.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / (2.0 * n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_difference_is_relative_to_the_reference() {
        assert_eq!(rel_diff_scaled(&[3.0, 4.0], &[0.0, 0.0], 0.0), 5.0);
        assert_eq!(rel_diff_scaled(&[3.0, 4.0], &[0.0, 0.0], 10.0), 0.5);
        assert_eq!(rel_diff(&[1.0, 1.0], &[1.0, 1.0]), 0.0);
        assert!((rel_diff(&[2.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-15);
        assert!((rel_diff(&[1.0, 0.0], &[2.0, 0.0]) - 0.5).abs() < 1e-15);
        assert_eq!(squared_loss(&[1.0, 3.0], &[0.0, 1.0], 1), 2.5);
        assert_eq!(dot(&[1.0f64, 2.0], &[3.0, 4.0]), 11.0);
    }
}
