//! `tickets` on small sizes: the masked Newton step against an explicit J_S solve, a full
//! mask against the dense step, the tangent mask at λ → ∞ against top-|θ₀|, equal per-layer
//! counts of the four masks, and the same records from the same seed.

use autodiff::mlp::{jacobian_masked_by_vjp, Mask, Mlp, Parameterization};
use autodiff::Activation;
use experiments::data::{self, DataConfig, DataSpec};
use experiments::progress::Silent;
use experiments::tickets::masks::{MaskKind, MaskSet};
use experiments::tickets::newton::newton_step;
use experiments::tickets::{self, Config};
use linalg::vec::rel_diff;
use linalg::{Cholesky, Matrix};

fn digits(n: usize, n_test: usize) -> data::Dataset {
    data::load(&DataConfig {
        spec: DataSpec::Digits,
        n_train: n,
        n_test,
        seed: 3,
    })
    .unwrap()
}

fn net(widths: &[usize]) -> Mlp {
    Mlp::new(
        64,
        widths,
        10,
        Activation::Relu,
        Parameterization::Standard,
        1.0,
        0.0,
    )
    .unwrap()
}

fn theta0(net: &Mlp) -> Vec<f64> {
    net.init_with(autodiff::mlp::Init::GlorotNormal, 7).unwrap()
}

/// δ = J_Sᵀ (J_S J_Sᵀ + λI)⁻¹ (Y − f₀) from the explicit kept-column Jacobian.
fn explicit_delta(net: &Mlp, th: &[f64], mask: &Mask, ds: &data::Dataset, lambda: f64) -> Vec<f64> {
    let kj = jacobian_masked_by_vjp(net, th, ds.x_train.as_ref(), mask, 8).unwrap();
    let (js, cols) = (kj.matrix, kj.columns);
    let mut k = linalg::matmul(js.as_ref(), js.as_ref().t()).unwrap();
    for i in 0..k.rows() {
        k.set(i, i, k.get(i, i) + lambda);
    }
    let f0 = net.forward_masked(th, ds.x_train.as_ref(), mask).unwrap();
    let r = Matrix::from_fn(k.rows(), 1, |i, _| {
        ds.y_train.as_slice()[i] - f0.as_slice()[i]
    });
    let alpha = Cholesky::factor(k.as_ref())
        .unwrap()
        .solve(r.as_ref())
        .unwrap();
    let ds_kept = linalg::matmul(js.as_ref().t(), alpha.as_ref()).unwrap();
    let mut delta = vec![0.0; net.num_params()];
    for (c, &j) in cols.iter().enumerate() {
        delta[j] = ds_kept.get(c, 0);
    }
    delta
}

#[test]
fn masked_newton_step_equals_the_explicit_kept_column_solve() {
    let ds = digits(25, 30);
    let net = net(&[20, 12]);
    let th0 = theta0(&net);
    let mask = Mask::dense(net.layout())
        .prune_by_magnitude(&th0, &[0.6, 0.5, 0.3])
        .unwrap();
    let mut th = th0.clone();
    mask.apply(&mut th).unwrap();
    let lambda = 1e-2;
    let step = newton_step(
        &net,
        &th,
        Some(&mask),
        ds.x_train.as_ref(),
        &ds.y_train,
        ds.x_test.as_ref(),
        Some(lambda),
        (1.0, 1),
    )
    .unwrap();
    let want = explicit_delta(&net, &th, &mask, &ds, lambda);
    let d = rel_diff(&step.delta, &want);
    assert!(d < 1e-10, "δ differs from the explicit solve by {d:e}");
    for (i, &k) in mask.keep().iter().enumerate() {
        if !k {
            assert_eq!(step.delta[i], 0.0, "pruned entry {i} moved");
        }
    }
    // The test prediction is f(X*; m⊙θ₀) + J_S(X*) δ.
    let kj = jacobian_masked_by_vjp(&net, &th, ds.x_test.as_ref(), &mask, 8).unwrap();
    let (js_test, cols) = (kj.matrix, kj.columns);
    let f0 = net.forward_masked(&th, ds.x_test.as_ref(), &mask).unwrap();
    let kept: Vec<f64> = cols.iter().map(|&j| step.delta[j]).collect();
    let jd = linalg::matmul(
        js_test.as_ref(),
        Matrix::from_vec(kept.len(), 1, kept).unwrap().as_ref(),
    )
    .unwrap();
    let pred: Vec<f64> = f0
        .as_slice()
        .iter()
        .zip(jd.as_slice())
        .map(|(a, b)| a + b)
        .collect();
    let d = rel_diff(step.test_outputs.as_slice(), &pred);
    assert!(d < 1e-10, "test predictions differ by {d:e}");
}

#[test]
fn a_full_mask_gives_the_dense_newton_step() {
    let ds = digits(20, 20);
    let net = net(&[16, 8]);
    let th0 = theta0(&net);
    let run = |mask: Option<&Mask>| {
        newton_step(
            &net,
            &th0,
            mask,
            ds.x_train.as_ref(),
            &ds.y_train,
            ds.x_test.as_ref(),
            None,
            (1.0, 50),
        )
        .unwrap()
    };
    let dense = run(None);
    let full = run(Some(&Mask::dense(net.layout())));
    assert_eq!(dense.delta, full.delta);
    assert_eq!(dense.test_outputs.as_slice(), full.test_outputs.as_slice());
    // And the dense step itself is the explicit solve with every column.
    let want = explicit_delta(&net, &th0, &Mask::dense(net.layout()), &ds, dense.lambda);
    assert!(rel_diff(&dense.delta, &want) < 1e-10);
}

#[test]
fn the_tangent_mask_at_huge_lambda_is_top_magnitude_at_init() {
    let ds = digits(20, 20);
    let net = net(&[30, 10]);
    let th0 = theta0(&net);
    let step = newton_step(
        &net,
        &th0,
        None,
        ds.x_train.as_ref(),
        &ds.y_train,
        ds.x_test.as_ref(),
        Some(1e14),
        (1.0, 1),
    )
    .unwrap();
    let trained: Vec<f64> = th0.iter().map(|t| t * 1.5 + 0.01).collect();
    let full = Mask::dense(net.layout());
    for keep in [0.5, 0.2, 0.05] {
        let set = MaskSet::build(&full, keep, &trained, &th0, &step.delta, 1).unwrap();
        let get = |k: MaskKind| &set.masks.iter().find(|(m, _)| *m == k).unwrap().1;
        assert_eq!(
            get(MaskKind::Tangent).keep(),
            get(MaskKind::Init).keep(),
            "keep {keep}"
        );
        let counts = get(MaskKind::Imp).kept_per_layer();
        for (kind, m) in &set.masks {
            assert_eq!(m.kept_per_layer(), counts, "{kind:?} at keep {keep}");
        }
    }
    // With a moderate λ the step moves θ, so the tangent mask is another mask.
    let moved = newton_step(
        &net,
        &th0,
        None,
        ds.x_train.as_ref(),
        &ds.y_train,
        ds.x_test.as_ref(),
        Some(1e-3),
        (1.0, 1),
    )
    .unwrap();
    let set = MaskSet::build(&full, 0.2, &trained, &th0, &moved.delta, 1).unwrap();
    assert_ne!(set.masks[1].1.keep(), set.masks[2].1.keep());
}

fn tiny() -> Config {
    Config {
        n_train: 40,
        n_test: 60,
        widths: vec![24, 12],
        width_scales: vec![0.5, 1.0],
        keep: vec![0.5, 0.2],
        iterations: 40,
        seeds: 2,
        ..Config::default()
    }
}

#[test]
fn a_tiny_run_has_every_record_and_repeats_exactly() {
    let cfg = tiny();
    let a = tickets::run_with(&cfg, &mut Silent).unwrap();
    assert_eq!(a.dense.len(), 4);
    assert_eq!(a.masks.len(), 2 * 2 * 2 * 4);
    assert_eq!(a.stats.len(), 2 * 2 * 4);
    for r in &a.masks {
        assert!(r.accuracy_trained.is_finite() && r.accuracy_newton.is_finite());
        assert!(r.gap.is_finite() && r.gap >= 0.0);
        if r.kind == MaskKind::Imp {
            assert!(r.jaccard.iter().all(|&j| j == 1.0), "{:?}", r.jaccard);
        }
        assert!(r.jaccard.iter().all(|&j| (0.0..=1.0).contains(&j)));
    }
    let b = tickets::run_with(&cfg, &mut Silent).unwrap();
    let key = |s: &tickets::Summary| serde_json::to_string(&(&s.dense, &s.masks)).unwrap();
    assert_eq!(key(&a), key(&b));
}

#[test]
fn impossible_settings_are_refused() {
    for (cfg, needle) in [
        (
            Config {
                keep: vec![1.0],
                ..tiny()
            },
            "--keep",
        ),
        (
            Config {
                keep: vec![],
                ..tiny()
            },
            "--keep",
        ),
        (
            Config {
                width_scales: vec![0.0],
                ..tiny()
            },
            "--width-scales",
        ),
        (
            Config {
                lr_scale: 2.0,
                ..tiny()
            },
            "--lr-scale",
        ),
        (
            Config {
                lambda: Some(f64::NAN),
                ..tiny()
            },
            "--lambda",
        ),
        (
            Config {
                iterations: 0,
                ..tiny()
            },
            "--iterations",
        ),
        (Config { seeds: 0, ..tiny() }, "--seeds"),
    ] {
        let e = tickets::validate(&cfg).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
    let cfg = Config {
        max_memory_mib: Some(1),
        n_train: 1000,
        ..tiny()
    };
    let e = tickets::run_with(&cfg, &mut Silent)
        .unwrap_err()
        .to_string();
    assert!(e.contains("memory"), "{e}");
}
