//! Minibatch training with a validation split: the early-stopping iteration is the arg-min of
//! the validation curve, rewinding keeps θ_k bit for bit, masks hold through the whole loop.

use autodiff::mlp::{Init, Mask, Mlp, Parameterization};
use autodiff::Activation;
use experiments::progress::Silent;
use experiments::train::fit::{early_stop_iteration, evaluate};
use experiments::train::{fit, AdamConfig, FitConfig, Loss, Optimizer, Split, Targets};
use linalg::Matrix;

fn net() -> Mlp {
    Mlp::new(
        8,
        &[16, 12],
        3,
        Activation::Relu,
        Parameterization::Standard,
        1.0,
        0.0,
    )
    .unwrap()
}

/// Three noisy Gaussian blobs in 8 dimensions; labels follow the blob.
fn blobs(n: usize, seed: u64) -> (Matrix<f64>, Vec<usize>) {
    let mut s = autodiff::mlp::NormalStream::new(seed);
    let labels: Vec<usize> = (0..n).map(|i| (i * 5 + i / 7) % 3).collect();
    let x = Matrix::from_fn(n, 8, |i, j| {
        let centre = if j % 3 == labels[i] { 1.0 } else { 0.0 };
        centre + 0.8 * s.next_normal()
    });
    (x, labels)
}

fn config(iterations: usize, rewind_at: Option<usize>) -> FitConfig {
    FitConfig {
        optimizer: Optimizer::Adam(AdamConfig {
            lr: 2e-2,
            ..AdamConfig::default()
        }),
        loss: Loss::CrossEntropy,
        batch_size: 10,
        iterations,
        eval_every: 5,
        order_seed: 4,
        rewind_at,
    }
}

#[test]
fn early_stop_is_the_argmin_of_the_validation_curve() {
    let net = net();
    let (xt, yt) = blobs(120, 1);
    // A small, noisy validation set so that its loss turns up while training goes on.
    let (xv, yv) = blobs(30, 2);
    let train = Split {
        x: xt.as_ref(),
        targets: Targets::Classes(&yt),
    };
    let val = Split {
        x: xv.as_ref(),
        targets: Targets::Classes(&yv),
    };
    let theta0: Vec<f64> = net.init_with(Init::GlorotNormal, 0).unwrap();
    let out = fit(
        &net,
        theta0,
        None,
        train,
        val,
        &config(300, None),
        &mut Silent,
    )
    .unwrap();
    assert_eq!(out.curve.len(), 61);
    assert_eq!(Some(out.early_stop), early_stop_iteration(&out.curve));
    let min = out
        .curve
        .iter()
        .map(|p| p.val_loss)
        .fold(f64::INFINITY, f64::min);
    let again = evaluate(&net, &out.theta_early, &val, Loss::CrossEntropy, 0).unwrap();
    assert_eq!(again.val_loss, min);
    assert!(out.curve[0].val_loss > min, "training lowered the loss");
    // The curve's accuracy is the share of correct arg-maxes.
    assert!(out
        .curve
        .iter()
        .all(|p| (0.0..=1.0).contains(&p.val_accuracy)));
}

#[test]
fn early_stop_ties_go_to_the_earliest_and_nan_is_skipped() {
    use experiments::train::EvalPoint;
    let p = |iteration, val_loss| EvalPoint {
        iteration,
        val_loss,
        val_accuracy: 0.5,
    };
    let curve = [
        p(0, 2.0),
        p(10, 1.0),
        p(20, f64::NAN),
        p(30, 1.0),
        p(40, 1.5),
    ];
    assert_eq!(early_stop_iteration(&curve), Some(10));
    assert_eq!(early_stop_iteration(&[p(0, f64::NAN)]), None);
    assert_eq!(early_stop_iteration(&[]), None);
}

fn split<'a>(x: &'a Matrix<f64>, y: &'a [usize]) -> Split<'a, f64> {
    Split {
        x: x.as_ref(),
        targets: Targets::Classes(y),
    }
}

#[test]
fn rewinding_keeps_theta_k_bit_for_bit_and_masks_hold() {
    let net = net();
    let (xt, yt) = blobs(60, 3);
    let (xv, yv) = blobs(20, 4);
    let theta0: Vec<f64> = net.init_with(Init::KaimingNormal, 1).unwrap();
    let mask = Mask::dense(net.layout())
        .prune_by_magnitude(&theta0, &[0.5, 0.5, 0.2])
        .unwrap();
    let run = |iterations, rewind| {
        fit(
            &net,
            theta0.clone(),
            Some(mask.clone()),
            split(&xt, &yt),
            split(&xv, &yv),
            &config(iterations, rewind),
            &mut Silent,
        )
        .unwrap()
    };
    let long = run(40, Some(7));
    let short = run(7, None);
    let rewound = long.theta_rewind.as_ref().expect("θ_7 kept");
    assert!(rewound
        .iter()
        .zip(&short.theta)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_ne!(rewound, &long.theta);
    for theta in [&long.theta, &long.theta_early, rewound] {
        assert!((0..theta.len()).all(|i| mask.keep()[i] || theta[i].to_bits() == 0));
    }
    // A rewind point past the end is refused before training.
    let bad = fit(
        &net,
        theta0.clone(),
        None,
        split(&xt, &yt),
        split(&xv, &yv),
        &config(5, Some(6)),
        &mut Silent,
    );
    assert!(bad.unwrap_err().to_string().contains("rewinding"));
}
