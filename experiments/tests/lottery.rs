//! `lottery` end to end on the embedded digits, at a size that trains in seconds: the
//! scheduled per-layer counts of each round, the controls' counts, the saved tickets (masks
//! that load against the layout, trained θ zero where pruned, θ₀ as drawn), rewinding, and
//! the same records from the same seed.

use autodiff::mlp::{Mask, Mlp, Parameterization};
use autodiff::Activation;
use experiments::data::DataSpec;
use experiments::lottery::{self, Arm, Config, Pruning};
use experiments::progress::Silent;
use std::collections::HashMap;

fn tiny() -> Config {
    Config {
        data: DataSpec::Digits,
        n_train: 300,
        n_val: 100,
        n_test: 200,
        widths: vec![40, 20],
        iterations: 60,
        eval_every: 20,
        rounds: 3,
        seeds: 2,
        batch_size: 30,
        ..Config::default()
    }
}

fn files(s: &lottery::Summary) -> HashMap<&str, &[u8]> {
    s.files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect()
}

fn npy_f32(bytes: &[u8]) -> Vec<f32> {
    npyz::NpyFile::new(bytes)
        .unwrap()
        .into_vec::<f32>()
        .unwrap()
}

fn npy_u8(bytes: &[u8]) -> Vec<u8> {
    npyz::NpyFile::new(bytes).unwrap().into_vec::<u8>().unwrap()
}

fn net(cfg: &Config) -> Mlp {
    Mlp::new(
        64,
        &cfg.widths,
        10,
        Activation::Relu,
        Parameterization::Standard,
        1.0,
        0.0,
    )
    .unwrap()
}

/// Kept weights after r layer-wise rounds: each removes round(f × kept).
fn scheduled(total: usize, f: f64, rounds: usize) -> usize {
    (0..rounds).fold(total, |k, _| k - (f * k as f64).round() as usize)
}

#[test]
fn rounds_prune_the_scheduled_counts_and_controls_match_them() {
    let cfg = tiny();
    let s = lottery::run_with(&cfg, &mut Silent).unwrap();
    assert_eq!(s.trainings.len(), cfg.seeds * (1 + 3 * cfg.rounds));
    let w = &s.weights_per_layer;
    assert_eq!(w, &[64 * 40, 40 * 20, 20 * 10]);
    for r in &s.trainings {
        for (l, (&p, &total)) in r.percent_per_layer.iter().zip(w).enumerate() {
            let f = if l + 1 == w.len() { 0.1 } else { 0.2 };
            let want = scheduled(total, f, r.round);
            let got = (p / 100.0 * total as f64).round() as usize;
            assert_eq!(
                got, want,
                "seed {}, round {}, {:?}, layer {l}",
                r.seed, r.round, r.arm
            );
        }
        assert!(r.early_stop_iteration <= cfg.iterations);
        assert!((0.0..=1.0).contains(&r.test_accuracy_early));
        assert_eq!(r.curve.len(), cfg.iterations / cfg.eval_every + 1);
    }
    // Stats: one row per (round, arm), each over both seeds.
    assert_eq!(s.stats.len(), 1 + 3 * cfg.rounds);
    assert!(s.stats.iter().all(|a| a.n == cfg.seeds));
}

#[test]
fn saved_tickets_load_and_are_zero_where_pruned() {
    let cfg = tiny();
    let s = lottery::run_with(&cfg, &mut Silent).unwrap();
    let f = files(&s);
    let mlp = net(&cfg);
    let theta0: Vec<f32> = mlp.init_with(cfg.init, cfg.seed).unwrap();
    assert_eq!(npy_f32(f["tickets/seed0/theta0.npy"]), theta0);
    let dir = tempfile::tempdir().unwrap();
    let mut previous = Mask::dense(mlp.layout());
    for round in 1..=cfg.rounds {
        let stem = format!("tickets/seed0/round{round:02}");
        let keep = npy_u8(f[format!("{stem}_mask.npy").as_str()]);
        // Through the loader, as an outside tool's file would come back.
        let path = dir.path().join(format!("round{round}.npy"));
        std::fs::write(&path, f[format!("{stem}_mask.npy").as_str()]).unwrap();
        std::fs::write(
            experiments::mask_file::layout_path(&path),
            f[format!("{stem}_mask.layout.json").as_str()],
        )
        .unwrap();
        let mask = experiments::mask_file::load_mask(&path, mlp.layout()).unwrap();
        assert_eq!(
            mask.keep().iter().map(|&k| u8::from(k)).collect::<Vec<_>>(),
            keep
        );
        // Masks are nested: IMP only ever removes weights.
        assert!(mask
            .keep()
            .iter()
            .zip(previous.keep())
            .all(|(&now, &before)| before || !now));
        let theta = npy_f32(f[format!("{stem}_theta_final.npy").as_str()]);
        for (t, &k) in theta.iter().zip(mask.keep()) {
            if !k {
                assert_eq!(t.to_bits(), 0, "a pruned weight moved (round {round})");
            }
        }
        previous = mask;
    }
}

#[test]
fn rewinding_starts_the_tickets_at_k_and_saves_theta_k() {
    let cfg = Config {
        rewind_iter: 20,
        seeds: 1,
        rounds: 2,
        ..tiny()
    };
    let s = lottery::run_with(&cfg, &mut Silent).unwrap();
    let f = files(&s);
    assert!(f.contains_key("tickets/seed0/theta_rewind.npy"));
    for r in s.trainings.iter().filter(|r| r.round > 0) {
        assert_eq!(r.curve[0].iteration, 20, "{:?} of round {}", r.arm, r.round);
        assert_eq!(r.curve.last().unwrap().iteration, cfg.iterations);
        assert!(r.early_stop_iteration >= 20);
    }
}

#[test]
fn global_pruning_spares_the_output_layer_and_one_seed_repeats_itself() {
    let cfg = Config {
        pruning: Pruning::Global,
        seeds: 1,
        rounds: 2,
        save_tickets: false,
        ..tiny()
    };
    let a = lottery::run_with(&cfg, &mut Silent).unwrap();
    let b = lottery::run_with(&cfg, &mut Silent).unwrap();
    assert!(a.files.is_empty());
    for r in &a.trainings {
        assert_eq!(*r.percent_per_layer.last().unwrap(), 100.0);
        let hidden: usize = a.weights_per_layer[..2].iter().sum();
        let kept: f64 = r.percent_per_layer[..2]
            .iter()
            .zip(&a.weights_per_layer)
            .map(|(p, &w)| p / 100.0 * w as f64)
            .sum();
        assert_eq!(kept.round() as usize, scheduled(hidden, 0.2, r.round));
    }
    let key = |s: &lottery::Summary| {
        s.trainings
            .iter()
            .map(|r| {
                (
                    r.arm == Arm::Ticket,
                    r.early_stop_iteration,
                    r.best_val_loss.to_bits(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b), "the same seed gives the same rounds");
}
