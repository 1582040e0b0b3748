//! Linear mode connectivity (Frankle et al., "Linear Mode Connectivity and the Lottery Ticket
//! Hypothesis", ICML 2020, §2): the test error along θ(α) = (1 − α)θ_A + αθ_B and the
//! instability, max_α err(θ(α)) − (err(θ_A) + err(θ_B))/2.

use anyhow::{bail, Result};
use linalg::Real;

/// The `count` evenly spaced α in [0, 1] (both ends included; at least 2).
pub fn alphas(count: usize) -> Vec<f64> {
    let count = count.max(2);
    (0..count).map(|i| i as f64 / (count - 1) as f64).collect()
}

/// θ(α) = (1 − α)θ_A + αθ_B, entry by entry (exact at α = 0 and α = 1).
pub fn interpolate<T: Real>(a: &[T], b: &[T], alpha: f64) -> Vec<T> {
    let (wa, wb) = (T::from_f64(1.0 - alpha), T::from_f64(alpha));
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            if alpha == 0.0 {
                x
            } else if alpha == 1.0 {
                y
            } else {
                wa * x + wb * y
            }
        })
        .collect()
}

/// The instability of an error curve whose first and last entries are the endpoints: the
/// largest error along the path minus the mean of the endpoint errors (≥ 0).
pub fn instability(errors: &[f64]) -> Result<f64> {
    let (Some(&first), Some(&last)) = (errors.first(), errors.last()) else {
        bail!("an empty error curve has no instability");
    };
    if errors.iter().any(|e| !e.is_finite()) {
        bail!("the error curve holds a non-finite value");
    }
    let max = errors.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(max - 0.5 * (first + last))
}

/// The paper's threshold: stable when the instability is below 2 percentage points.
pub const STABLE_BELOW: f64 = 0.02;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instability_of_hand_made_curves() {
        assert_eq!(instability(&[0.1, 0.1, 0.1]).unwrap(), 0.0);
        // Endpoints 0.02 and 0.04, a barrier of 0.30: 0.30 − 0.03.
        let v = instability(&[0.02, 0.1, 0.3, 0.1, 0.04]).unwrap();
        assert!((v - 0.27).abs() < 1e-15, "{v}");
        // A path better than its ends: the max is an endpoint, so the value is half their gap.
        assert!((instability(&[0.1, 0.05, 0.2]).unwrap() - 0.05).abs() < 1e-15);
        assert!(instability(&[]).is_err());
        assert!(instability(&[0.1, f64::NAN]).is_err());
    }

    #[test]
    fn interpolation_hits_the_endpoints_exactly() {
        let a = [1.0f32, -2.0, 3.5];
        let b = [0.1f32, 0.2, -0.3];
        assert_eq!(interpolate(&a, &b, 0.0), a.to_vec());
        assert_eq!(interpolate(&a, &b, 1.0), b.to_vec());
        let mid = interpolate(&a, &b, 0.5);
        assert!((mid[0] - 0.55).abs() < 1e-6);
        assert_eq!(alphas(30).len(), 30);
        assert_eq!(alphas(30)[29], 1.0);
    }
}
