//! `supermask` on small sizes: keeping every weight reproduces f(θ₀) with a zero tangent gap,
//! learned masks keep the exact per-layer counts, the signed constant has one magnitude per
//! layer, repeatability and bad settings.

use experiments::data::{self, DataConfig, DataSpec};
use experiments::progress::Silent;
use experiments::supermask::run::{learn, network, signed_constant, top_k};
use experiments::supermask::{self, Config, Weights};

fn tiny() -> Config {
    Config {
        n_train: 120,
        n_test: 60,
        widths: vec![24, 12],
        keep: vec![1.0, 0.3],
        iterations: 30,
        batch_size: 20,
        seeds: 2,
        ..Config::default()
    }
}

fn digits(cfg: &Config) -> data::Dataset {
    data::load(&DataConfig {
        spec: DataSpec::Digits,
        n_train: cfg.n_train,
        n_test: cfg.n_test,
        seed: cfg.data_seed,
    })
    .unwrap()
}

#[test]
fn keeping_every_weight_reproduces_the_network_at_init() {
    let cfg = tiny();
    let s = supermask::run_with(&cfg, &mut Silent).unwrap();
    for r in s.records.iter().filter(|r| r.keep == 1.0) {
        assert_eq!(r.tangent_gap, 0.0, "{r:?}");
        let dense = s
            .dense_accuracy
            .iter()
            .find(|d| d.0 == r.seed && d.1 == r.weights)
            .unwrap()
            .2;
        assert_eq!(r.accuracy_learned, dense);
        assert_eq!(r.accuracy_random, dense);
        assert_eq!(r.overlap_with_magnitude, 1.0);
    }
    assert_eq!(s.records.len(), 2 * 2 * 2);
    let again = supermask::run_with(&cfg, &mut Silent).unwrap();
    let key = |s: &supermask::Summary| serde_json::to_string(&s.records).unwrap();
    assert_eq!(key(&s), key(&again));
}

#[test]
fn learned_masks_keep_the_exact_counts_and_learn() {
    let cfg = Config {
        iterations: 200,
        keep: vec![0.3],
        ..tiny()
    };
    let ds = digits(&cfg);
    let net = network(&cfg, ds.input_dim(), ds.output_dim()).unwrap();
    let theta: Vec<f64> = net.init_with(cfg.init, 4).unwrap();
    let (mask, loss) = learn(&cfg, &net, &theta, &ds, 0.3, 9).unwrap();
    let layout = net.layout();
    for (l, &k) in mask.kept_per_layer().iter().enumerate() {
        let n = layout.weight(l).len;
        assert_eq!(k, (0.3 * n as f64).round() as usize, "layer {l}");
    }
    // Ten classes: chance-level cross-entropy is ln 10 = 2.30.
    assert!(loss < 2.0, "the scores did not learn: loss {loss}");
    let scores: Vec<f64> = (0..theta.len()).map(|i| i as f64).collect();
    let top = top_k(&net, &scores, 0.5).unwrap();
    let w = layout.weight(0);
    assert!(top.keep()[w.offset + w.len - 1] && !top.keep()[w.offset]);
}

#[test]
fn the_signed_constant_has_one_magnitude_per_layer() {
    let cfg = tiny();
    let net = network(&cfg, 64, 10).unwrap();
    let theta: Vec<f64> = net.init_with(cfg.init, 1).unwrap();
    let sc = signed_constant(&net, &theta);
    let layout = net.layout();
    for l in 0..layout.num_layers() {
        let w = layout.weight(l);
        let seg = &sc[w.offset..w.offset + w.len];
        let m = seg[0].abs();
        assert!(seg.iter().all(|v| v.abs() == m), "layer {l}");
        let rms = (theta[w.offset..w.offset + w.len]
            .iter()
            .map(|t| t * t)
            .sum::<f64>()
            / w.len as f64)
            .sqrt();
        assert!((m - rms).abs() < 1e-15);
        for (a, b) in seg.iter().zip(&theta[w.offset..w.offset + w.len]) {
            assert_eq!(a.signum(), if *b < 0.0 { -1.0 } else { 1.0 });
        }
    }
    assert_eq!(Weights::SignedConstant.name(), "signed-constant");
}

#[test]
fn impossible_settings_are_refused() {
    for (cfg, needle) in [
        (
            Config {
                keep: vec![0.0],
                ..tiny()
            },
            "--keep",
        ),
        (
            Config {
                keep: vec![1.5],
                ..tiny()
            },
            "--keep",
        ),
        (
            Config {
                iterations: 0,
                ..tiny()
            },
            "--iterations",
        ),
        (
            Config {
                batch_size: 500,
                ..tiny()
            },
            "--batch-size",
        ),
        (
            Config {
                lr: f64::NAN,
                ..tiny()
            },
            "--lr",
        ),
        (
            Config {
                momentum: 1.0,
                ..tiny()
            },
            "--momentum",
        ),
        (Config { seeds: 0, ..tiny() }, "--seeds"),
    ] {
        let e = supermask::validate(&cfg).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
}
