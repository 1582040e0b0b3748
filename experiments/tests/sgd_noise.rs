//! `sgd-noise` on small sizes: the NTK-GP's mean is the GD sum taken step by step and its
//! variance what sampling f₀ gives, its limits are the prior and the interpolant; a run is
//! repeatable, full-batch SGD on the linear model is the closed-form GD curve, and a batch
//! order that cannot matter leaves no order share.

use experiments::progress::Silent;
use experiments::sgd_noise::gp::{ntk_gp, GpKernels};
use experiments::sgd_noise::{self, Config};
use linalg::random::SplitMix64;
use linalg::{matmul, Cholesky, Matrix};

/// G Gᵀ + c·I for a seeded G: a random SPD matrix of size k.
fn spd(k: usize, c: f64, seed: u64) -> Matrix<f64> {
    let mut rng = SplitMix64::new(seed);
    let g = Matrix::from_fn(k, k, |_, _| rng.normal());
    let mut a = matmul(g.as_ref(), g.as_ref().t()).unwrap();
    for i in 0..k {
        a.set(i, i, a.get(i, i) + c);
    }
    a
}

fn block(
    a: &Matrix<f64>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> Matrix<f64> {
    let (r0, c0) = (rows.start, cols.start);
    Matrix::from_fn(rows.len(), cols.len(), |i, j| a.get(r0 + i, c0 + j))
}

struct Joint {
    theta: Matrix<f64>,
    k: Matrix<f64>,
    y: Matrix<f64>,
    n: usize,
    m: usize,
}

fn joint() -> Joint {
    let (n, m) = (4, 3);
    let mut rng = SplitMix64::new(7);
    Joint {
        theta: spd(n + m, 0.5, 1),
        k: spd(n + m, 0.2, 2),
        y: Matrix::from_fn(n, 2, |_, _| rng.normal()),
        n,
        m,
    }
}

/// The GP of `j` after t steps of size lr, with x* the last m points (or the first n).
fn gp_of(j: &Joint, lr: f64, t: f64, at_train: bool) -> experiments::sgd_noise::gp::GpPrediction {
    let (n, m) = (j.n, j.m);
    let test = if at_train { 0..n } else { n..n + m };
    let tk = block(&j.k, test.clone(), test.clone());
    let (th, thc) = (
        block(&j.theta, 0..n, 0..n),
        block(&j.theta, test.clone(), 0..n),
    );
    let (kk, kc) = (block(&j.k, 0..n, 0..n), block(&j.k, test, 0..n));
    let k = GpKernels {
        ntk: &th,
        ntk_cross: &thc,
        nngp: &kk,
        nngp_cross: &kc,
        nngp_test: &tk,
    };
    ntk_gp(&k, &j.y, lr, t).unwrap()
}

/// A_t = h·Θ* Σ_{s<t} (I − hΘ)ˢ, h = η/n, summed one GD step at a time.
fn filter_by_steps(j: &Joint, lr: f64, t: usize) -> Matrix<f64> {
    let n = j.n;
    let h = lr / n as f64;
    let th = block(&j.theta, 0..n, 0..n);
    let mut power = Matrix::<f64>::identity(n);
    let mut sum = Matrix::<f64>::zeros(n, n);
    for _ in 0..t {
        sum.as_mut_slice()
            .iter_mut()
            .zip(power.as_slice())
            .for_each(|(s, p)| *s += p);
        let tp = matmul(th.as_ref(), power.as_ref()).unwrap();
        power
            .as_mut_slice()
            .iter_mut()
            .zip(tp.as_slice())
            .for_each(|(p, q)| *p -= h * q);
    }
    let thc = block(&j.theta, n..n + j.m, 0..n);
    let mut a = matmul(thc.as_ref(), sum.as_ref()).unwrap();
    a.as_mut_slice().iter_mut().for_each(|v| *v *= h);
    a
}

/// λ_max of Θ on the training inputs.
fn lambda_max(j: &Joint) -> f64 {
    let ev = linalg::symmetric_eigenvalues(block(&j.theta, 0..j.n, 0..j.n).as_ref()).unwrap();
    ev.last().copied().unwrap()
}

#[test]
fn the_gp_mean_is_gd_summed_step_by_step_and_its_variance_is_sampled_f0s() {
    let j = joint();
    let lam_max = lambda_max(&j);
    let (lr, t) = (0.7 * j.n as f64 / lam_max, 9);
    let gp = gp_of(&j, lr, t as f64, false);
    let a = filter_by_steps(&j, lr, t);
    let mean = matmul(a.as_ref(), j.y.as_ref()).unwrap();
    let err = linalg::vec::rel_diff(gp.mean.as_slice(), mean.as_slice());
    assert!(err < 1e-10, "mean off by {err:e}");
    // f_t(x*) = f₀(x*) + A(Y − f₀(X)) with f₀ ~ N(0, K) over all n + m points.
    let l = Cholesky::factor(j.k.as_ref()).unwrap();
    let mut rng = SplitMix64::new(11);
    let draws = 40_000;
    let mut sq = vec![0.0; j.m];
    let mut c01 = 0.0;
    for _ in 0..draws {
        let z: Vec<f64> = (0..j.n + j.m).map(|_| rng.normal()).collect();
        let f0: Vec<f64> = (0..j.n + j.m)
            .map(|r| (0..=r).map(|c| l.l().get(r, c) * z[c]).sum())
            .collect();
        let ft: Vec<f64> = (0..j.m)
            .map(|i| f0[j.n + i] - (0..j.n).map(|c| a.get(i, c) * f0[c]).sum::<f64>())
            .collect();
        for (s, f) in sq.iter_mut().zip(&ft) {
            *s += f * f / draws as f64;
        }
        c01 += ft[0] * ft[1] / draws as f64;
    }
    let c = gp.covariance.get(0, 1);
    let scale = (gp.variance[0] * gp.variance[1]).sqrt();
    assert!(
        (c01 - c).abs() < 0.03 * scale,
        "covariance: sampled {c01}, formula {c}"
    );
    assert_eq!(c.to_bits(), gp.covariance.get(1, 0).to_bits());
    for (i, (mc, v)) in sq.iter().zip(&gp.variance).enumerate() {
        assert!(
            (mc / v - 1.0).abs() < 0.04,
            "input {i}: sampled {mc}, formula {v}"
        );
    }
}

#[test]
fn the_gp_starts_at_the_prior_and_ends_interpolating() {
    let j = joint();
    let lam_max = lambda_max(&j);
    let lr = j.n as f64 / lam_max;
    let start = gp_of(&j, lr, 0.0, false);
    assert!(start.mean.as_slice().iter().all(|v| *v == 0.0));
    for (i, v) in start.variance.iter().enumerate() {
        assert!((v - j.k.get(j.n + i, j.n + i)).abs() < 1e-12);
    }
    let end = gp_of(&j, lr, 1e7, true);
    assert!(linalg::vec::rel_diff(end.mean.as_slice(), j.y.as_slice()) < 1e-8);
    for (i, v) in end.variance.iter().enumerate() {
        assert!(
            *v < 1e-8 * j.k.get(i, i),
            "training input {i} keeps variance {v}"
        );
    }
}

fn tiny() -> Config {
    Config {
        n_train: 30,
        n_test: 40,
        widths: vec![16],
        batch_sizes: vec![5, 30],
        steps: 60,
        inits: 2,
        orders: 3,
        ..Config::default()
    }
}

#[test]
fn a_tiny_run_is_repeatable_and_full_batch_has_no_order() {
    let cfg = tiny();
    let s = sgd_noise::run_with(&cfg, &mut Silent).unwrap();
    assert_eq!(s.runs.len(), 2 * 2 * 3);
    assert_eq!(s.cells.len(), 2);
    let again = sgd_noise::run_with(&cfg, &mut Silent).unwrap();
    for (a, b) in s.runs.iter().zip(&again.runs) {
        assert_eq!(a.net_vs_newton.to_bits(), b.net_vs_newton.to_bits());
        assert_eq!(a.lin_vs_gd.to_bits(), b.lin_vs_gd.to_bits());
    }
    let full = s.cells.iter().find(|c| c.batch == 30).unwrap();
    // Every order sees the whole set each step: the order may only reorder a sum.
    assert!(
        full.lin.order_share + full.lin.interaction_share < 1e-12,
        "{full:?}"
    );
    assert!(
        full.net.order_share + full.net.interaction_share < 1e-12,
        "{full:?}"
    );
    // SGD with b = n on the linear model is full-batch GD, which the references take in
    // closed form through the eigenbasis of the full NTK.
    assert!(
        full.lin_vs_gd < 1e-8,
        "linear full-batch SGD vs closed form: {}",
        full.lin_vs_gd
    );
    let mini = s.cells.iter().find(|c| c.batch == 5).unwrap();
    assert!(mini.net.order_share + mini.net.interaction_share > 1e-8);
    assert!(mini.lin_vs_gd > full.lin_vs_gd);
}

#[test]
fn batches_are_capped_at_n_and_bad_settings_refused() {
    let cfg = Config {
        batch_sizes: vec![5, 30, 500],
        ..tiny()
    };
    assert_eq!(sgd_noise::run::effective_batches(&cfg, 30), vec![5, 30]);
    for bad in [
        Config { inits: 1, ..tiny() },
        Config {
            batch_sizes: vec![],
            ..tiny()
        },
        Config {
            lr_scale: 2.0,
            ..tiny()
        },
        Config {
            newton_ridge: 0.0,
            ..tiny()
        },
    ] {
        assert!(sgd_noise::validate(&bad).is_err());
    }
}
