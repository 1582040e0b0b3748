//! `stability` on small sizes: two copies trained with the same data order have instability
//! exactly 0, different orders give two different networks, every record of a tiny run is
//! there, the kernel distance of a kernel to a multiple of itself is 0, and bad settings are
//! refused.

use experiments::data::DataSpec;
use experiments::lottery::{self, fit_config, network, order_seed, theta0_seed, Splits};
use experiments::progress::Silent;
use experiments::stability::{self, path::instability, Config};
use experiments::train::{fit, fit::evaluate, Loss};
use linalg::Matrix;

fn tiny() -> Config {
    Config {
        train: lottery::Config {
            data: DataSpec::Digits,
            n_train: 200,
            n_val: 50,
            n_test: 100,
            widths: vec![32, 16],
            iterations: 60,
            eval_every: 20,
            batch_size: 20,
            seeds: 2,
            controls: false,
            save_tickets: false,
            ..lottery::Preset::Quick.config()
        },
        ks: vec![0, 10],
        ticket_rounds: vec![2],
        alphas: 7,
        kernel_samples: 30,
    }
}

#[test]
fn copies_with_one_data_order_have_zero_instability() {
    let cfg = tiny();
    let t = &cfg.train;
    let ds = experiments::data::load(&lottery::data_config(t)).unwrap();
    let data = Splits::<f32>::new(t, &ds).unwrap();
    let net = network(t, ds.input_dim(), ds.output_dim()).unwrap();
    let theta0: Vec<f32> = net.init_with(t.init, theta0_seed(t, 0)).unwrap();
    let train = |order: u64| {
        fit(
            &net,
            theta0.clone(),
            None,
            data.train(),
            data.val(),
            &fit_config(t, order),
            &mut Silent,
        )
        .unwrap()
        .theta
    };
    let err = |th: &[f32]| -> anyhow::Result<f64> {
        Ok(1.0 - evaluate(&net, th, &data.test(), Loss::CrossEntropy, 0)?.val_accuracy)
    };
    let (a, b) = (train(order_seed(t, 0)), train(order_seed(t, 0)));
    assert_eq!(a, b);
    let same = stability::run::error_path(&a, &b, 9, err).unwrap();
    assert!(same.windows(2).all(|w| w[0] == w[1]), "{same:?}");
    assert_eq!(instability(&same).unwrap(), 0.0);
    let c = train(order_seed(t, 0) ^ 1);
    assert_ne!(a, c, "another data order must give another network");
    let other = stability::run::error_path(&a, &c, 9, err).unwrap();
    assert!(instability(&other).unwrap() >= 0.0);
}

#[test]
fn a_tiny_run_has_every_record() {
    let s = stability::run_with(&tiny(), &mut Silent).unwrap();
    // Per seed and k: the dense path and one ticket.
    assert_eq!(s.paths.len(), 2 * 2 * 2);
    assert_eq!(s.tangent.len(), 2 * 2);
    assert_eq!(s.stats.len(), 2 * 2);
    for p in &s.paths {
        assert_eq!(p.errors.len(), 7);
        assert!(p.instability >= 0.0 && p.instability <= 1.0);
        let want = if p.round == 0 { 100.0 } else { 65.0 };
        assert!(
            (p.percent_remaining - want).abs() < 10.0,
            "{}",
            p.percent_remaining
        );
    }
    for r in &s.tangent {
        assert!((0.0..=1.0).contains(&r.newton_accuracy));
        assert!(r.kernel_distance >= -1e-12 && r.kernel_distance <= 1.0);
    }
}

#[test]
fn kernel_distance_ignores_scale_and_sees_change() {
    let a = Matrix::from_fn(4, 4, |i, j| 1.0 / (1 + i + j) as f64);
    let b = Matrix::from_fn(4, 4, |i, j| 3.0 / (1 + i + j) as f64);
    assert!(stability::run::kernel_distance(&a, &b).abs() < 1e-15);
    let c = Matrix::from_fn(4, 4, |i, j| if i == j { 1.0 } else { 0.0 });
    assert!(stability::run::kernel_distance(&a, &c) > 0.1);
}

#[test]
fn impossible_settings_are_refused() {
    for (cfg, needle) in [
        (
            Config {
                ks: vec![],
                ..tiny()
            },
            "--ks",
        ),
        (
            Config {
                ks: vec![60],
                ..tiny()
            },
            "--ks",
        ),
        (
            Config {
                ks: vec![10, 0],
                ..tiny()
            },
            "increasing",
        ),
        (
            Config {
                ticket_rounds: vec![0],
                ..tiny()
            },
            "--ticket-rounds",
        ),
        (
            Config {
                alphas: 1,
                ..tiny()
            },
            "--alphas",
        ),
        (
            Config {
                kernel_samples: 0,
                ..tiny()
            },
            "--kernel-samples",
        ),
        (
            Config {
                kernel_samples: 201,
                ..tiny()
            },
            "--kernel-samples",
        ),
    ] {
        let e = match stability::validate(&cfg) {
            Err(e) => e.to_string(),
            Ok(()) => panic!(
                "accepted: {needle} {:?} {:?} {} {}",
                cfg.ks, cfg.ticket_rounds, cfg.alphas, cfg.kernel_samples
            ),
        };
        assert!(e.contains(needle), "{e}");
    }
}
