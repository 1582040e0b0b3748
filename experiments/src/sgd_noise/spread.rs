//! The across-init statistics of a grid of predictions P[i][j] (init i, order j, each a
//! flattened m×o test prediction) that the GP comparison needs.

/// P̄ = the mean over every init and order.
pub fn grand_mean(p: &[Vec<Vec<f64>>]) -> Vec<f64> {
    let len = p[0][0].len();
    let count = p.iter().map(Vec::len).sum::<usize>() as f64;
    let mut mean = vec![0.0; len];
    for v in p.iter().flatten() {
        mean.iter_mut().zip(v).for_each(|(m, x)| *m += x / count);
    }
    mean
}

/// Per coordinate, the unbiased variance over inits at a fixed order, averaged over orders:
/// under P = μ + A + B + E it estimates σ²_A + σ²_E, the spread a change of θ₀ causes.
pub fn across_init_variance(p: &[Vec<Vec<f64>>]) -> Vec<f64> {
    let (ni, nj, len) = (p.len(), p[0].len(), p[0][0].len());
    let mut out = vec![0.0; len];
    for j in 0..nj {
        for (c, o) in out.iter_mut().enumerate() {
            let mean = p.iter().map(|r| r[j][c]).sum::<f64>() / ni as f64;
            let ss: f64 = p.iter().map(|r| (r[j][c] - mean).powi(2)).sum();
            *o += ss / ((ni - 1) as f64 * nj as f64);
        }
    }
    out
}

/// The covariance over test inputs across inits, m×m, pooled over orders and the o outputs
/// (which the GP of Θ ⊗ I treats as independent draws of one covariance): the unbiased
/// covariance of the I predictions at each fixed (order, output), averaged.
pub fn across_init_covariance(p: &[Vec<Vec<f64>>], o: usize) -> Vec<f64> {
    let (ni, nj) = (p.len(), p[0].len());
    let m = p[0][0].len() / o;
    let mut cov = vec![0.0; m * m];
    let scale = 1.0 / ((ni - 1) as f64 * (nj * o) as f64);
    for j in 0..nj {
        for a in 0..o {
            let centred: Vec<Vec<f64>> = p
                .iter()
                .map(|r| (0..m).map(|x| r[j][x * o + a]).collect())
                .collect();
            let mean: Vec<f64> = (0..m)
                .map(|x| centred.iter().map(|c| c[x]).sum::<f64>() / ni as f64)
                .collect();
            for c in &centred {
                for x in 0..m {
                    let dx = (c[x] - mean[x]) * scale;
                    for y in 0..m {
                        cov[x * m + y] += dx * (c[y] - mean[y]);
                    }
                }
            }
        }
    }
    cov
}

/// The mean of every `o` consecutive entries: one value per test input from m×o entries.
pub fn per_input(v: &[f64], o: usize) -> Vec<f64> {
    v.chunks(o)
        .map(|c| c.iter().sum::<f64>() / o as f64)
        .collect()
}

/// Pearson's correlation; None when either side is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variance_over_inits_ignores_order_effects() {
        // P_ij = a_i + 10·j: the order shifts every init alike, so only a_i spreads.
        let a = [1.0, 2.0, 4.0];
        let p: Vec<Vec<Vec<f64>>> = a
            .iter()
            .map(|&ai| (0..3).map(|j| vec![ai + 10.0 * j as f64]).collect())
            .collect();
        let v = across_init_variance(&p);
        // Sample variance of {1, 2, 4}: mean 7/3, Σ(x − x̄)² = 14/3, over 2.
        assert!((v[0] - 7.0 / 3.0).abs() < 1e-12, "{v:?}");
        assert!((grand_mean(&p)[0] - (7.0 / 3.0 + 10.0)).abs() < 1e-12);
        // One output, one test input: the covariance is that variance.
        assert!((across_init_covariance(&p, 1)[0] - 7.0 / 3.0).abs() < 1e-12);
        // Two test inputs moving together: their covariance equals each variance.
        let q: Vec<Vec<Vec<f64>>> = a.iter().map(|&ai| vec![vec![ai, -ai]; 2]).collect();
        let c = across_init_covariance(&q, 1);
        assert!(
            (c[1] + 7.0 / 3.0).abs() < 1e-12 && (c[3] - 7.0 / 3.0).abs() < 1e-12,
            "{c:?}"
        );
    }

    #[test]
    fn pearson_of_lines_and_constants() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [2.0, 4.0, 6.0, 8.0];
        let c = [8.0, 6.0, 4.0, 2.0];
        assert!((pearson(&a, &b).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&a, &c).unwrap() + 1.0).abs() < 1e-12);
        assert!(pearson(&a, &[1.0; 4]).is_none());
        assert_eq!(per_input(&[1.0, 3.0, 5.0, 7.0], 2), vec![2.0, 6.0]);
    }
}
