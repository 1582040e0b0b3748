//! Two-way crossed analysis of variance of predictions: how much of their spread comes from
//! the initialisation, how much from the data order, and how much from the two together.
//!
//! For I inits × J orders, prediction vectors P_ij ∈ Rᴹ (one entry per test point and output),
//! per coordinate: grand mean μ, init effects a_i = P̄_i· − μ, order effects b_j = P̄_·j − μ,
//! interaction e_ij = P_ij − μ − a_i − b_j. The sums of squares SS_init = J Σ a_i²,
//! SS_order = I Σ b_j², SS_inter = Σ e_ij² add up to Σ (P_ij − μ)², and with one run per cell
//! the random-effects model P_ij = μ + A_i + B_j + E_ij has the method-of-moments estimates
//! σ²_A = (MS_init − MS_inter)/J, σ²_B = (MS_order − MS_inter)/I, σ²_E = MS_inter
//! (mean squares MS = SS/df with df = I − 1, J − 1, (I − 1)(J − 1); Searle, Casella &
//! McCulloch, "Variance Components", 1992, §4), each summed over coordinates and clamped at 0.

use anyhow::{bail, Result};
use serde::Serialize;

/// The decomposition, summed over coordinates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anova {
    /// SS_init / SS_total.
    pub init_share: f64,
    /// SS_order / SS_total.
    pub order_share: f64,
    /// SS_inter / SS_total.
    pub interaction_share: f64,
    /// σ²_A: the variance a change of init alone causes (per coordinate, summed).
    pub init_variance: f64,
    /// σ²_B: the same for the data order.
    pub order_variance: f64,
    /// σ²_E: what neither explains alone.
    pub interaction_variance: f64,
}

/// Decomposes `p[i][j]` (I ≥ 2 inits × J ≥ 2 orders, each a vector of the same length).
pub fn two_way(p: &[Vec<Vec<f64>>]) -> Result<Anova> {
    let ni = p.len();
    let nj = p.first().map_or(0, Vec::len);
    if ni < 2 || nj < 2 || p.iter().any(|r| r.len() != nj) {
        bail!("the decomposition needs a full grid of at least 2 inits × 2 orders");
    }
    let m = p[0][0].len();
    if p.iter().flatten().any(|v| v.len() != m) {
        bail!("every run must predict the same number of values");
    }
    let (fi, fj) = (ni as f64, nj as f64);
    let (mut ss_a, mut ss_b, mut ss_e) = (0.0, 0.0, 0.0);
    for c in 0..m {
        let mu = p.iter().flatten().map(|v| v[c]).sum::<f64>() / (fi * fj);
        let a: Vec<f64> = p
            .iter()
            .map(|row| row.iter().map(|v| v[c]).sum::<f64>() / fj - mu)
            .collect();
        let b: Vec<f64> = (0..nj)
            .map(|j| p.iter().map(|row| row[j][c]).sum::<f64>() / fi - mu)
            .collect();
        ss_a += fj * a.iter().map(|x| x * x).sum::<f64>();
        ss_b += fi * b.iter().map(|x| x * x).sum::<f64>();
        for (i, row) in p.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                let e = v[c] - mu - a[i] - b[j];
                ss_e += e * e;
            }
        }
    }
    let total = ss_a + ss_b + ss_e;
    let share = |x: f64| if total > 0.0 { x / total } else { 0.0 };
    let ms_a = ss_a / (fi - 1.0);
    let ms_b = ss_b / (fj - 1.0);
    let ms_e = ss_e / ((fi - 1.0) * (fj - 1.0));
    Ok(Anova {
        init_share: share(ss_a),
        order_share: share(ss_b),
        interaction_share: share(ss_e),
        init_variance: ((ms_a - ms_e) / fj).max(0.0),
        order_variance: ((ms_b - ms_e) / fi).max(0.0),
        interaction_variance: ms_e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use linalg::random::SplitMix64;

    /// P_ij = μ + A_i + B_j + E_ij with known variances, 3 coordinates.
    fn synthetic(ni: usize, nj: usize, sd: (f64, f64, f64), seed: u64) -> Vec<Vec<Vec<f64>>> {
        let mut rng = SplitMix64::new(seed);
        let n = |s: f64, r: &mut SplitMix64| s * r.normal();
        let a: Vec<Vec<f64>> = (0..ni)
            .map(|_| (0..3).map(|_| n(sd.0, &mut rng)).collect())
            .collect();
        let b: Vec<Vec<f64>> = (0..nj)
            .map(|_| (0..3).map(|_| n(sd.1, &mut rng)).collect())
            .collect();
        (0..ni)
            .map(|i| {
                (0..nj)
                    .map(|j| {
                        (0..3)
                            .map(|c| 5.0 + a[i][c] + b[j][c] + n(sd.2, &mut rng))
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn recovers_known_components() {
        // σ_A = 2, σ_B = 0.5, σ_E = 0.1 over 3 coordinates: σ² sums 12, 0.75, 0.03.
        let p = synthetic(200, 200, (2.0, 0.5, 0.1), 1);
        let r = two_way(&p).unwrap();
        assert!((r.init_variance / 12.0 - 1.0).abs() < 0.2, "{r:?}");
        assert!((r.order_variance / 0.75 - 1.0).abs() < 0.2, "{r:?}");
        assert!((r.interaction_variance / 0.03 - 1.0).abs() < 0.05, "{r:?}");
        let sum = r.init_share + r.order_share + r.interaction_share;
        assert!((sum - 1.0).abs() < 1e-12);
        assert!(r.init_share > 0.9);
    }

    #[test]
    fn pure_order_noise_has_no_init_share() {
        // Every init gives the same predictions for a given order: A = 0 exactly.
        let row: Vec<Vec<f64>> = (0..4).map(|j| vec![j as f64, -(j as f64)]).collect();
        let p = vec![row.clone(), row.clone(), row];
        let r = two_way(&p).unwrap();
        assert_eq!(r.init_share, 0.0);
        assert_eq!(r.interaction_share, 0.0);
        assert!((r.order_share - 1.0).abs() < 1e-15);
        assert!(two_way(&p[..1]).is_err());
    }
}
