//! `linearize --loss cross-entropy` on small sizes: the two Newton solves agree, the curve has
//! its checkpoints, the ridge path reaches a verdict, and a run is repeatable.

use experiments::data::DataConfig;
use experiments::linearize_ce::{self, Config};
use experiments::model::ModelConfig;
use experiments::progress::Silent;
use experiments::tangent::pointwise_newton::{Limit, Verdict};

fn tiny() -> Config {
    Config {
        data: DataConfig {
            n_train: 30,
            n_test: 60,
            ..Default::default()
        },
        model: ModelConfig {
            widths: vec![32],
            ..Default::default()
        },
        lambda: 1e-2,
        steps: 40,
        checkpoints: 4,
        ..Config::default()
    }
}

#[test]
fn both_newton_solves_agree_and_the_run_is_repeatable() {
    let cfg = tiny();
    let s = linearize_ce::run_with(&cfg, &mut Silent).unwrap();
    assert_eq!(
        s.newton_verdict,
        Verdict::Converged,
        "{:?}",
        s.newton_history
    );
    assert!(s.newton_iterations > 1);
    assert!(s.newton_cg_vs_newton < 1e-8, "{:e}", s.newton_cg_vs_newton);
    assert!(s.newton_cg_test_vs_newton < 1e-8);
    assert_eq!(s.curve.len(), 4);
    assert_eq!(s.curve.last().unwrap().step, cfg.steps);
    // 30 samples, 10 classes and a kernel of full rank: separable in the tangent space.
    assert!(
        matches!(s.lambda_path.limit, Limit::NoFiniteMinimiser { .. }),
        "{:?}",
        s.lambda_path
    );
    // The objective falls at every Newton iteration.
    for w in s.newton_history.windows(2) {
        assert!(w[1].objective <= w[0].objective);
    }
    let again = linearize_ce::run_with(&cfg, &mut Silent).unwrap();
    let key = |s: &linearize_ce::Summary| {
        serde_json::to_string(&(&s.newton_history, &s.curve, &s.gd, &s.adam)).unwrap()
    };
    assert_eq!(key(&s), key(&again));
}
