//! `width-sweep` survives a failing width; `newton-vs-gd` with a ridge solves the ridge system.

use experiments::data::{DataConfig, DataSpec};
use experiments::progress::Silent;
use experiments::{newton_vs_gd, width_sweep};

#[test]
fn a_failing_width_is_recorded_and_the_sweep_goes_on() {
    let cfg = width_sweep::Config {
        data: DataConfig {
            spec: DataSpec::Digits,
            n_train: 20,
            n_test: 20,
            seed: 0,
        },
        // Width 200000 needs gigabytes for θ alone; the budget refuses it, not the allocator.
        widths: vec![8, 16, 200_000],
        seeds: 2,
        steps: 10,
        max_memory_mib: Some(256),
        ..Default::default()
    };
    let s = width_sweep::run_with(&cfg, &mut Silent).unwrap();
    assert_eq!(s.points.len(), 4, "two widths × two seeds finished");
    assert_eq!(s.failures.len(), 2);
    for f in &s.failures {
        assert_eq!(f.width, 200_000);
        assert!(f.reason.contains("memory budget"), "{}", f.reason);
    }
    // Slopes come from the widths that finished.
    assert!(s.slopes.iter().all(|x| x.slope.is_some()));
    let out = width_sweep::output(&s).unwrap();
    assert!(
        out.notes.iter().any(|n| n.contains("200000")),
        "{:?}",
        out.notes
    );
}

#[test]
fn bootstrap_intervals_bracket_the_fitted_slopes() {
    let cfg = width_sweep::Config {
        data: DataConfig {
            spec: DataSpec::Digits,
            n_train: 20,
            n_test: 20,
            seed: 0,
        },
        widths: vec![16, 64, 256],
        seeds: 3,
        steps: 30,
        ..Default::default()
    };
    let s = width_sweep::run_with(&cfg, &mut Silent).unwrap();
    for x in &s.slopes {
        let (slope, (lo, hi)) = (x.slope.unwrap(), x.ci95.unwrap());
        assert!(
            lo <= slope + 1e-9 && slope <= hi + 1e-9,
            "{}: {slope} not in [{lo}, {hi}]",
            x.figure
        );
        assert_eq!(x.local.len(), 2);
        assert!(x.predicted < 0.0 && !x.source.is_empty());
    }
}

#[test]
fn ridge_shrinks_the_condition_number_and_gd_still_matches_its_closed_form() {
    let base = newton_vs_gd::Config {
        network: Some(newton_vs_gd::NetworkSystem {
            n_train: 10,
            width: 8,
        }),
        ..Default::default()
    };
    // This J is rank-deficient: without a ridge the Newton solve must say so.
    let e = newton_vs_gd::run_with(&base, &mut Silent)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--lambda"), "{e}");
    let small = 1e-3;
    let plain = newton_vs_gd::run_with(
        &newton_vs_gd::Config {
            lambda: small,
            ..base.clone()
        },
        &mut Silent,
    )
    .unwrap();
    let lambda = 0.05;
    let ridge = newton_vs_gd::run_with(
        &newton_vs_gd::Config {
            lambda,
            ..base.clone()
        },
        &mut Silent,
    )
    .unwrap();
    // Every non-zero eigenvalue of H moves with λ.
    let expect = (plain.lambda_max - small + lambda) / (plain.lambda_min - small + lambda);
    assert!(
        (ridge.kappa / expect - 1.0).abs() < 1e-8,
        "κ with ridge {} vs (λmax+λ)/(λmin+λ) = {expect}",
        ridge.kappa
    );
    assert!(ridge.kappa < plain.kappa);
    let r = ridge.gd.iterations.expect("GD reaches ε with the ridge");
    assert!(
        plain.gd.iterations.is_none_or(|p| r < p),
        "{r} vs {:?}",
        plain.gd.iterations
    );
    assert!(ridge.gd_closed_form_max_deviation < 1e-10);
    assert!(
        ridge.cg.final_rel_error < 1e-5,
        "{}",
        ridge.cg.final_rel_error
    );
    // The ridge solution fits less tightly: its least-squares part of the loss is larger.
    assert!(ridge.loss_min > plain.loss_min);
}
