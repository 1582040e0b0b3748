//! The minibatch training pieces: losses, batch order, SGD and Adam against hand-computed
//! references, convergence on a convex problem, masks, and determinism across thread counts.

use anyhow::Result;
use autodiff::mlp::{Mask, Mlp, Parameterization};
use autodiff::Activation;
use experiments::progress::Silent;
use experiments::train::{
    self, epoch_order, Adam, AdamConfig, Batches, GradientSource, Iterative, Loss, MinibatchLoss,
    Sgd, SgdConfig, Stop, Targets,
};
use linalg::{MatRef, Matrix};

/// L(θ) = ½ Σᵢ aᵢ(θᵢ − cᵢ)², ∇L = a ⊙ (θ − c): a deterministic "minibatch" loss.
struct Quadratic {
    a: Vec<f64>,
    c: Vec<f64>,
}

impl GradientSource<f64> for Quadratic {
    fn num_params(&self) -> usize {
        self.a.len()
    }
    fn value_and_grad(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>)> {
        let mut value = 0.0;
        let mut g = Vec::new();
        for ((t, a), c) in theta.iter().zip(&self.a).zip(&self.c) {
            let r = t - c;
            value += 0.5 * a * r * r;
            g.push(a * r);
        }
        Ok((value, g))
    }
    fn advance(&mut self) {}
}

fn quadratic() -> Quadratic {
    Quadratic {
        a: vec![2.0, 0.5],
        c: vec![0.3, -1.0],
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-14 * (1.0 + b.abs())
}

#[test]
fn momentum_sgd_matches_the_formulas_over_three_steps() {
    let (lr, mu, wd) = (0.1, 0.9, 0.01);
    let q = quadratic();
    let theta0 = vec![1.0, 2.0];
    let mut sgd = Sgd::new(
        quadratic(),
        theta0.clone(),
        SgdConfig {
            lr,
            momentum: mu,
            weight_decay: wd,
        },
        None,
    )
    .unwrap();
    for _ in 0..3 {
        sgd.step().unwrap();
    }
    for (i, &t0) in theta0.iter().enumerate() {
        // PyTorch: g = a(θ − c) + wd·θ; v ← μv + g; θ ← θ − ηv, from v = 0.
        let (mut th, mut v) = (t0, 0.0);
        for _ in 0..3 {
            let g = q.a[i] * (th - q.c[i]) + wd * th;
            v = mu * v + g;
            th -= lr * v;
        }
        assert!(close(sgd.theta[i], th), "θ[{i}] {} vs {th}", sgd.theta[i]);
    }
}

#[test]
fn adam_matches_the_formulas_over_three_steps() {
    let cfg = AdamConfig {
        lr: 0.05,
        weight_decay: 0.01,
        ..AdamConfig::default()
    };
    let q = quadratic();
    let theta0 = vec![1.0, 2.0];
    let mut adam = Adam::new(quadratic(), theta0.clone(), cfg, None).unwrap();
    for _ in 0..3 {
        adam.step().unwrap();
    }
    for (i, &t0) in theta0.iter().enumerate() {
        // Kingma & Ba, Algorithm 1, with g += wd·θ.
        let (mut th, mut m, mut v) = (t0, 0.0, 0.0);
        for t in 1..=3 {
            let g = q.a[i] * (th - q.c[i]) + cfg.weight_decay * th;
            m = cfg.beta1 * m + (1.0 - cfg.beta1) * g;
            v = cfg.beta2 * v + (1.0 - cfg.beta2) * g * g;
            let m_hat = m / (1.0 - cfg.beta1.powi(t));
            let v_hat = v / (1.0 - cfg.beta2.powi(t));
            th -= cfg.lr * m_hat / (v_hat.sqrt() + cfg.eps);
        }
        assert!(close(adam.theta[i], th), "θ[{i}] {} vs {th}", adam.theta[i]);
    }
    assert_eq!(adam.steps(), 3);
}

#[test]
fn bad_hyperparameters_are_errors() {
    let sgd = |lr, momentum, weight_decay| {
        Sgd::new(
            quadratic(),
            vec![0.0; 2],
            SgdConfig {
                lr,
                momentum,
                weight_decay,
            },
            None,
        )
        .is_err()
    };
    assert!(sgd(0.0, 0.0, 0.0));
    assert!(sgd(f64::NAN, 0.0, 0.0));
    assert!(sgd(0.1, 1.0, 0.0));
    assert!(sgd(0.1, 0.0, -1.0));
    let ok = SgdConfig {
        lr: 0.1,
        momentum: 0.0,
        weight_decay: 0.0,
    };
    assert!(Sgd::new(quadratic(), vec![0.0; 3], ok, None).is_err());
    for cfg in [
        AdamConfig {
            beta2: 1.0,
            ..AdamConfig::default()
        },
        AdamConfig {
            eps: 0.0,
            ..AdamConfig::default()
        },
        AdamConfig {
            lr: f64::INFINITY,
            ..AdamConfig::default()
        },
    ] {
        assert!(Adam::new(quadratic(), vec![0.0; 2], cfg, None).is_err());
    }
}

/// n samples of d features from a fixed LCG, in [−1, 1).
fn features(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut s = seed;
    Matrix::from_fn(n, d, |_, _| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

#[test]
fn sgd_reaches_the_least_squares_optimum() {
    // A linear model f = xwᵀ + b (no hidden layer) on noise-free targets y = xw*ᵀ + b*: the
    // loss is convex with its unique minimum 0 at (w*, b*), and every minibatch gradient
    // vanishes there, so SGD converges to it.
    let (n, d) = (64, 3);
    let x = features(n, d, 1);
    let (w_star, b_star) = ([0.5, -1.25, 2.0], 0.75);
    let y = Matrix::from_fn(n, 1, |i, _| {
        (0..d).map(|j| w_star[j] * x.get(i, j)).sum::<f64>() + b_star
    });
    let net = Mlp::new(
        d,
        &[],
        1,
        Activation::Identity,
        Parameterization::Standard,
        1.0,
        1.0,
    )
    .unwrap();
    let batches = Batches::new(n, 8, 3, false).unwrap();
    let source = MinibatchLoss::new(
        &net,
        x.as_ref(),
        Targets::Values(y.as_ref()),
        Loss::SquaredError,
        batches,
    )
    .unwrap();
    let cfg = SgdConfig {
        lr: 0.2,
        momentum: 0.5,
        weight_decay: 0.0,
    };
    let mut sgd = Sgd::new(source, vec![0.0; 4], cfg, None).unwrap();
    let stop = Stop {
        max_steps: 3000,
        target: None,
        stop_at_target: false,
    };
    train::run(&mut sgd, stop, |_| false, |_, _, _| Ok(()), &mut Silent).unwrap();
    let want = [w_star[0], w_star[1], w_star[2], b_star];
    for (got, want) in sgd.theta.iter().zip(want) {
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }
}

fn classifier(widths: &[usize]) -> Mlp {
    let (d, o) = (widths[0], widths[widths.len() - 1]);
    Mlp::new(
        d,
        &widths[1..widths.len() - 1],
        o,
        Activation::Tanh,
        Parameterization::Ntk,
        1.5,
        0.1,
    )
    .unwrap()
}

#[test]
fn cross_entropy_gradient_matches_central_differences() {
    let net = classifier(&[4, 6, 5, 3]);
    let theta: Vec<f64> = net.init(11);
    let x = features(7, 4, 2);
    let classes = [0usize, 2, 1, 1, 0, 2, 2];
    let rows: Vec<usize> = (0..7).collect();
    let targets = Targets::Classes(&classes);
    let loss = |t: &[f64]| {
        Loss::CrossEntropy
            .network_value_and_grad(&net, t, x.as_ref(), &targets, &rows)
            .unwrap()
    };
    let (_, grad) = loss(&theta);
    let h = 1e-6;
    for i in 0..theta.len() {
        let (mut up, mut down) = (theta.clone(), theta.clone());
        up[i] += h;
        down[i] -= h;
        let fd = (loss(&up).0 - loss(&down).0) / (2.0 * h);
        assert!(
            (fd - grad[i]).abs() < 1e-7 * (1.0 + fd.abs()),
            "θ[{i}]: {fd} vs {}",
            grad[i]
        );
    }
}

#[test]
fn hostile_logits_stay_finite() {
    let f: Matrix<f64> =
        Matrix::from_vec(3, 3, vec![1e4, -1e4, 0.0, -1e4, -1e4, -1e4, 1e4, 1e4, -1e4]).unwrap();
    let classes = [1usize, 0, 0];
    let (value, grad) = Loss::CrossEntropy
        .value_and_output_grad(f.as_ref(), &Targets::Classes(&classes), &[0, 1, 2])
        .unwrap();
    // Row 0: logsumexp = 1e4, loss 2e4; row 1: ln 3; row 2: 1e4 + ln 2 − 1e4 = ln 2.
    let want = (2e4 + 3f64.ln() + 2f64.ln()) / 3.0;
    assert!((value - want).abs() < 1e-9 * want, "{value} vs {want}");
    assert!(grad.as_slice().iter().all(|g| g.is_finite()));
    for i in 0..3 {
        let row_sum: f64 = (0..3).map(|a| grad.get(i, a)).sum();
        assert!(row_sum.abs() < 1e-15);
    }
    // f32 logits as well.
    let f32s = Matrix::from_fn(3, 3, |i, j| f.get(i, j) as f32);
    let (v32, g32) = Loss::CrossEntropy
        .value_and_output_grad(f32s.as_ref(), &Targets::Classes(&classes), &[0, 1, 2])
        .unwrap();
    assert!(v32.is_finite() && g32.as_slice().iter().all(|g| g.is_finite()));
    // Out-of-range classes, mismatched targets, and non-finite logits are errors.
    let bad = [3usize, 0, 0];
    let t = Targets::Classes(&bad);
    assert!(Loss::CrossEntropy
        .value_and_output_grad(f.as_ref(), &t, &[0, 1, 2])
        .is_err());
    let y = Matrix::<f64>::zeros(3, 3);
    let values = Targets::Values(y.as_ref());
    assert!(Loss::CrossEntropy
        .value_and_output_grad(f.as_ref(), &values, &[0, 1, 2])
        .is_err());
    assert!(Loss::SquaredError
        .value_and_output_grad(f.as_ref(), &values, &[0, 1, 9])
        .is_err());
    let nan = Matrix::from_vec(1, 2, vec![f64::NAN, 1.0]).unwrap();
    let one = [0usize];
    let t = Targets::Classes(&one);
    assert!(Loss::CrossEntropy
        .value_and_output_grad(nan.as_ref(), &t, &[0])
        .is_err());
}

#[test]
fn batches_are_seeded_permutations_reshuffled_each_epoch() {
    let e0 = epoch_order(10, 5, 0);
    let e1 = epoch_order(10, 5, 1);
    let mut sorted = e0.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    assert_ne!(e0, e1);
    assert_eq!(e0, epoch_order(10, 5, 0));
    assert_ne!(e0, epoch_order(10, 6, 0));

    let mut keep = Batches::new(10, 4, 5, false).unwrap();
    assert_eq!(keep.per_epoch(), 3);
    let sizes: Vec<usize> = (0..6).map(|_| keep.next_batch().len()).collect();
    assert_eq!(sizes, [4, 4, 2, 4, 4, 2]);
    let mut drop = Batches::new(10, 4, 5, true).unwrap();
    assert_eq!(drop.per_epoch(), 2);
    let first: Vec<usize> = drop
        .next_batch()
        .into_iter()
        .chain(drop.next_batch())
        .collect();
    assert_eq!(first, e0[..8]);
    assert_eq!(drop.next_batch(), e1[..4]);
    assert_eq!(drop.epoch(), 1);
    assert!(Batches::new(0, 4, 5, false).is_err());
    assert!(Batches::new(10, 0, 5, false).is_err());
    assert!(Batches::new(3, 4, 5, true).is_err());
}

/// A seeded classification set: n samples, d features, `classes` classes.
fn dataset(n: usize, d: usize, classes: usize) -> (Matrix<f64>, Vec<usize>) {
    let x = features(n, d, 9);
    let y = (0..n).map(|i| (i * 7 + i / 3) % classes).collect();
    (x, y)
}

fn ce_source<'a>(
    net: &'a Mlp,
    x: MatRef<'a, f64>,
    y: &'a [usize],
    batch: usize,
    seed: u64,
) -> MinibatchLoss<'a, f64> {
    let batches = Batches::new(x.rows(), batch, seed, false).unwrap();
    MinibatchLoss::new(net, x, Targets::Classes(y), Loss::CrossEntropy, batches).unwrap()
}

#[test]
fn masked_training_keeps_pruned_weights_exactly_zero() {
    let net = classifier(&[6, 12, 10, 3]);
    let (x, y) = dataset(40, 6, 3);
    let theta0: Vec<f64> = net.init(4);
    let mask = Mask::dense(net.layout())
        .prune_by_magnitude(&theta0, &[0.5, 0.5, 0.2])
        .unwrap();
    let pruned: Vec<usize> = (0..theta0.len()).filter(|&i| !mask.keep()[i]).collect();
    assert!(!pruned.is_empty());
    let sgd_cfg = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 1e-2,
    };
    let adam_cfg = AdamConfig {
        lr: 1e-2,
        weight_decay: 1e-2,
        ..AdamConfig::default()
    };
    let mut sgd = Sgd::new(
        ce_source(&net, x.as_ref(), &y, 16, 1),
        theta0.clone(),
        sgd_cfg,
        Some(mask.clone()),
    )
    .unwrap();
    let mut adam = Adam::new(
        ce_source(&net, x.as_ref(), &y, 16, 1),
        theta0.clone(),
        adam_cfg,
        Some(mask.clone()),
    )
    .unwrap();
    for _ in 0..50 {
        sgd.objective().unwrap();
        sgd.step().unwrap();
        adam.step().unwrap();
    }
    for theta in [&sgd.theta, &adam.theta] {
        assert!(
            pruned.iter().all(|&i| theta[i].to_bits() == 0),
            "a pruned weight moved"
        );
        // The kept weights did train.
        assert!((0..theta.len()).any(|i| mask.keep()[i] && theta[i] != theta0[i]));
    }
}

/// 20 SGD-with-momentum steps on a seeded problem, inside a pool of `threads` threads; the
/// batch of 128 × 256 hidden units is large enough for the engine to split its work.
fn train_on(threads: usize) -> Vec<f64> {
    let net = classifier(&[64, 256, 256, 5]);
    let (x, y) = dataset(300, 64, 5);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let cfg = SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 1e-3,
        };
        let mut sgd = Sgd::new(
            ce_source(&net, x.as_ref(), &y, 128, 77),
            net.init(3),
            cfg,
            None,
        )
        .unwrap();
        for _ in 0..20 {
            sgd.objective().unwrap();
            sgd.step().unwrap();
        }
        sgd.theta
    })
}

#[test]
fn the_same_seed_gives_bit_identical_parameters_on_one_and_two_threads() {
    let one = train_on(1);
    let two = train_on(2);
    assert_eq!(one.len(), two.len());
    assert!(one
        .iter()
        .zip(&two)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}
