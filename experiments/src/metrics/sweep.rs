//! Statistics of sweeps over seeds: mean and standard deviation, log-log slopes, local
//! slopes between neighbours, and a percentile bootstrap over seeds (Efron & Tibshirani 1993,
//! ch. 13) for the fitted slope.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Least-squares fit of log10 y = a·log10 x + b over the points with positive, finite
/// coordinates: Some((a, b)), or None with fewer than two such points or a single x.
pub fn loglog_slope(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && x.is_finite() && y.is_finite())
        .map(|(x, y)| (x.log10(), y.log10()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}

/// Mean and sample standard deviation (n − 1 in the denominator; 0 for one value) of the
/// finite values; None when there are none.
pub fn mean_std(v: &[f64]) -> Option<(f64, f64)> {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if f.is_empty() {
        return None;
    }
    let n = f.len() as f64;
    let mean = f.iter().sum::<f64>() / n;
    let var = if f.len() > 1 {
        f.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Some((mean, var.sqrt()))
}

/// The records grouped by `key` (e.g. one group per configuration, its seeds inside): groups
/// in the order their first record appears, records in their order.
pub fn group_by<R, K: PartialEq>(records: &[R], key: impl Fn(&R) -> K) -> Vec<Vec<&R>> {
    let mut keys: Vec<K> = Vec::new();
    let mut groups: Vec<Vec<&R>> = Vec::new();
    for r in records {
        let k = key(r);
        match keys.iter().position(|g| *g == k) {
            Some(i) => groups[i].push(r),
            None => {
                keys.push(k);
                groups.push(vec![r]);
            }
        }
    }
    groups
}

/// [`mean_std`] of `f` over a group, (NaN, NaN) when it has no finite value.
pub fn mean_std_by<R>(group: &[&R], f: impl Fn(&R) -> f64) -> (f64, f64) {
    let v: Vec<f64> = group.iter().map(|r| f(r)).collect();
    mean_std(&v).unwrap_or((f64::NAN, f64::NAN))
}

/// Slopes d log y / d log x between consecutive points ((x_k, y_k), (x_{k+1}, y_{k+1})),
/// reported at the geometric mean of the two x; None where a y is not positive.
pub fn local_slopes(points: &[(f64, f64)]) -> Vec<(f64, Option<f64>)> {
    points
        .windows(2)
        .map(|w| {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            let s = (y0 > 0.0 && y1 > 0.0 && x0 > 0.0 && x1 > 0.0 && x0 != x1)
                .then(|| (y1 / y0).ln() / (x1 / x0).ln());
            ((x0 * x1).sqrt(), s.filter(|v| v.is_finite()))
        })
        .collect()
}

/// Percentile-bootstrap interval for the log-log slope of the per-x means.
///
/// `groups[k]` = (x_k, the values of the seeds at x_k). Each replicate resamples every group's
/// seeds with replacement, fits the slope of log(mean) on log(x), and the interval is the
/// (α/2, 1 − α/2) quantile pair of the replicate slopes. Deterministic for a given `seed`.
/// None when fewer than two groups have values or no replicate gives a slope.
pub fn bootstrap_slope(
    groups: &[(f64, Vec<f64>)],
    replicates: usize,
    level: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    let groups: Vec<(f64, Vec<f64>)> = groups
        .iter()
        .map(|(x, v)| (*x, v.iter().copied().filter(|y| y.is_finite()).collect()))
        .filter(|(_, v): &(f64, Vec<f64>)| !v.is_empty())
        .collect();
    if groups.len() < 2 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut slopes = Vec::with_capacity(replicates);
    for _ in 0..replicates {
        let means: Vec<(f64, f64)> = groups
            .iter()
            .map(|(x, v)| {
                let s: f64 = (0..v.len()).map(|_| v[rng.random_range(0..v.len())]).sum();
                (*x, s / v.len() as f64)
            })
            .collect();
        if let Some((s, _)) = loglog_slope(&means) {
            slopes.push(s);
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let q =
        |p: f64| slopes[((p * (slopes.len() - 1) as f64).round() as usize).min(slopes.len() - 1)];
    let a = (1.0 - level) / 2.0;
    Some((q(a), q(1.0 - a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_the_order_of_first_appearance() {
        let recs = [(1, 2.0), (2, 5.0), (1, 4.0), (3, f64::NAN)];
        let g = group_by(&recs, |r| r.0);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].iter().map(|r| r.1).collect::<Vec<_>>(), vec![2.0, 4.0]);
        let (m, sd) = mean_std_by(&g[0], |r| r.1);
        assert_eq!(m, 3.0);
        assert!((sd - 2f64.sqrt()).abs() < 1e-15);
        assert!(mean_std_by(&g[2], |r| r.1).0.is_nan());
    }

    #[test]
    fn slope_of_power_law() {
        let pts: Vec<(f64, f64)> = [32.0, 64.0, 128.0, 256.0]
            .iter()
            .map(|&w: &f64| (w, 3.0 * w.powf(-0.5)))
            .collect();
        let (s, _) = loglog_slope(&pts).unwrap();
        assert!((s + 0.5).abs() < 1e-12);
        assert!(loglog_slope(&[(1.0, 1.0)]).is_none());
    }

    #[test]
    fn mean_and_std_by_hand() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0, f64::NAN]).unwrap();
        assert_eq!(m, 2.5);
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(mean_std(&[7.0]), Some((7.0, 0.0)));
        assert_eq!(mean_std(&[]), None);
    }

    #[test]
    fn local_slopes_of_a_power_law() {
        let pts: Vec<(f64, f64)> = [10.0, 20.0, 80.0]
            .iter()
            .map(|&x: &f64| (x, 5.0 * x.powf(-0.75)))
            .collect();
        let s = local_slopes(&pts);
        assert_eq!(s.len(), 2);
        for (x, v) in &s {
            assert!((v.unwrap() + 0.75).abs() < 1e-12, "{x}: {v:?}");
        }
        assert!((s[1].0 - 40.0).abs() < 1e-9);
        assert_eq!(local_slopes(&[(1.0, 1.0), (2.0, 0.0)])[0].1, None);
    }

    #[test]
    fn bootstrap_covers_the_true_slope_and_shrinks_with_noise() {
        // y = x^(−1) · (1 + noise), five seeds per x.
        let noise = [0.9, 1.1, 1.0, 0.95, 1.05];
        let groups: Vec<(f64, Vec<f64>)> = [32.0, 64.0, 128.0, 256.0]
            .iter()
            .map(|&x: &f64| (x, noise.iter().map(|e| e / x).collect()))
            .collect();
        let (lo, hi) = bootstrap_slope(&groups, 2000, 0.95, 1).unwrap();
        assert!(lo < -1.0 && -1.0 < hi, "[{lo}, {hi}]");
        assert!(hi - lo < 0.3, "[{lo}, {hi}]");
        // Without noise every replicate gives exactly the true slope.
        let exact: Vec<(f64, Vec<f64>)> = [32.0, 64.0, 128.0]
            .iter()
            .map(|&x: &f64| (x, vec![1.0 / x; 3]))
            .collect();
        let (lo, hi) = bootstrap_slope(&exact, 200, 0.95, 1).unwrap();
        assert!((lo + 1.0).abs() < 1e-12 && (hi + 1.0).abs() < 1e-12);
        assert_eq!(
            bootstrap_slope(&groups, 100, 0.95, 1),
            bootstrap_slope(&groups, 100, 0.95, 1)
        );
        assert_eq!(bootstrap_slope(&groups[..1], 100, 0.95, 1), None);
    }
}
