//! `probe` on small sizes: the CK solve is ridge regression on the last layer's features
//! computed by hand, the readout's best tangent feature is the best last-hidden unit, the
//! alignments behave as their formulas say, and a run is repeatable with the records it
//! promises.

use experiments::data::{self, DataConfig, DataSpec, Dataset};
use experiments::probe::detectors::{best_features, best_units, hidden_activations};
use experiments::probe::kernels::{alignment, centred_alignment, kernels_at, solve, KernelKind};
use experiments::probe::run::network;
use experiments::probe::{self, Config};
use experiments::progress::Silent;
use linalg::{Cholesky, Matrix};

fn tiny() -> Config {
    Config {
        n_train: 60,
        n_test: 50,
        widths: vec![12, 24],
        iterations: 20,
        features_per_layer: 40,
        seeds: 2,
        ..Config::default()
    }
}

fn digits(cfg: &Config) -> Dataset {
    data::load(&DataConfig {
        spec: DataSpec::Digits,
        n_train: cfg.n_train,
        n_test: cfg.n_test,
        seed: cfg.data_seed,
    })
    .unwrap()
}

fn max_diff(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// relu(W x + b) of the first layer, straight from θ's layout (standard parameterization).
fn features_by_hand(net: &autodiff::mlp::Mlp, theta: &[f64], x: &Matrix<f64>) -> Matrix<f64> {
    let l = &net.layers()[0];
    Matrix::from_fn(x.rows(), l.n_out, |i, r| {
        let z: f64 = (0..l.n_in)
            .map(|s| theta[l.w_offset + r * l.n_in + s] * x.get(i, s))
            .sum::<f64>()
            + theta[l.b_offset + r];
        z.max(0.0)
    })
}

#[test]
fn the_ck_solve_is_ridge_regression_on_the_last_layer_features() {
    let cfg = Config {
        parameterization: autodiff::mlp::Parameterization::Standard,
        ..tiny()
    };
    let ds = digits(&cfg);
    let net = network(&cfg, ds.input_dim(), ds.output_dim(), 16).unwrap();
    let theta: Vec<f64> = net.init(3);
    let ks = kernels_at(&net, &theta, ds.x_train.as_ref(), ds.x_test.as_ref()).unwrap();
    let ck = ks.iter().find(|k| k.kind == KernelKind::Conjugate).unwrap();
    let f = net.forward(&theta, ds.x_train.as_ref()).unwrap();
    let f_test = net.forward(&theta, ds.x_test.as_ref()).unwrap();
    let sol = solve(ck, &ds.y_train, &f, &f_test, 1e-3).unwrap();
    // Primal ridge: w = (ΦᵀΦ + λI)⁻¹ΦᵀT, predictions Φ*w (s = 1 in this parameterization).
    let (phi, phi_test) = (
        features_by_hand(&net, &theta, &ds.x_train),
        features_by_hand(&net, &theta, &ds.x_test),
    );
    let w = phi.cols();
    let gram = Matrix::from_fn(w, w, |a, b| {
        (0..phi.rows())
            .map(|i| phi.get(i, a) * phi.get(i, b))
            .sum::<f64>()
            + if a == b { sol.lambda } else { 0.0 }
    });
    let chol = Cholesky::factor(gram.as_ref()).unwrap();
    let primal = |t: &Matrix<f64>| {
        let pt = Matrix::from_fn(w, t.cols(), |a, c| {
            (0..phi.rows()).map(|i| phi.get(i, a) * t.get(i, c)).sum()
        });
        let coef = chol.solve(pt.as_ref()).unwrap();
        Matrix::from_fn(phi_test.rows(), t.cols(), |i, c| {
            (0..w).map(|a| phi_test.get(i, a) * coef.get(a, c)).sum()
        })
    };
    let zero = primal(&ds.y_train);
    let scale = linalg::vec::nrm2(zero.as_slice());
    assert!(max_diff(&sol.from_zero, &zero) < 1e-9 * scale.max(1.0));
    let resid = Matrix::from_fn(f.rows(), f.cols(), |i, c| {
        ds.y_train.get(i, c) - f.get(i, c)
    });
    let step = primal(&resid);
    let newton = Matrix::from_fn(step.rows(), step.cols(), |i, c| {
        f_test.get(i, c) + step.get(i, c)
    });
    assert!(max_diff(&sol.newton, &newton) < 1e-9 * scale.max(1.0));
}

#[test]
fn the_readout_best_feature_is_the_best_last_hidden_unit() {
    let cfg = tiny();
    let ds = digits(&cfg);
    let labels = ds.labels_test.as_deref().unwrap();
    let net = network(&cfg, ds.input_dim(), ds.output_dim(), 10).unwrap();
    let theta: Vec<f64> = net.init(1);
    let top = net.layers().last().unwrap();
    let all: Vec<usize> = top.param_range().collect();
    let x = ds.x_test.as_ref();
    let scored = best_features(&net, &theta, x, labels, (1, &all), 7).unwrap();
    let acts = hidden_activations(&net, &theta, x).unwrap();
    let units = best_units(&acts, labels, ds.output_dim()).unwrap();
    for (a, (f, u)) in scored.iter().zip(&units).enumerate() {
        assert!((f.auc - u.auc).abs() < 1e-12, "class {a}: {f:?} vs {u:?}");
        assert_eq!(f.index, top.w_offset + a * top.n_in + u.index, "class {a}");
        assert!(f.auc > 0.5 && f.auc <= 1.0);
    }
}

#[test]
fn alignments_follow_their_formulas() {
    let y = Matrix::from_fn(6, 2, |i, c| if i % 2 == c { 0.5 } else { -0.5 });
    let yyt = Matrix::from_fn(6, 6, |i, j| (0..2).map(|c| y.get(i, c) * y.get(j, c)).sum());
    assert!((alignment(&yyt, &y).unwrap() - 1.0).abs() < 1e-14);
    let k = Matrix::from_fn(6, 6, |i, j| 1.0 / (1.0 + (i as f64 - j as f64).abs()));
    let shifted = Matrix::from_fn(6, 6, |i, j| k.get(i, j) + 5.0);
    let (a, b) = (
        centred_alignment(&k, &y).unwrap(),
        centred_alignment(&shifted, &y).unwrap(),
    );
    assert!(
        (a - b).abs() < 1e-12,
        "a constant mode moved the centred alignment: {a} vs {b}"
    );
    assert!(alignment(&shifted, &y).unwrap() < alignment(&k, &y).unwrap());
}

#[test]
fn a_run_is_repeatable_and_complete() {
    let cfg = tiny();
    let s = probe::run_with(&cfg, &mut Silent).unwrap();
    let kinds = 1 + (cfg.depth + 1) + 1;
    assert_eq!(s.kernels.len(), cfg.widths.len() * cfg.seeds * 2 * kinds);
    assert_eq!(s.detectors.len(), cfg.widths.len() * cfg.seeds * 2);
    assert_eq!(s.nets.len(), cfg.widths.len() * cfg.seeds);
    for r in &s.kernels {
        assert!((0.0..=1.0).contains(&r.accuracy_newton), "{r:?}");
        assert!(r.lambda > 0.0 && r.alignment.is_finite(), "{r:?}");
    }
    // The network at θ₀ is the tangent step's base: it did learn.
    for n in &s.nets {
        assert!(n.accuracy_trained > n.accuracy_init, "{n:?}");
    }
    let again = probe::run_with(&cfg, &mut Silent).unwrap();
    let key =
        |s: &probe::Summary| serde_json::to_string(&(&s.kernels, &s.detectors, &s.nets)).unwrap();
    assert_eq!(key(&s), key(&again));
}
