//! Pruning masks: exact per-layer counts, deterministic ties, the random control, and errors.

use autodiff::mlp::{prune_count, Mask, ParamKind, ParamLayout};

/// θ with distinct magnitudes in a scrambled order (a fixed permutation of 1..=p, signs
/// alternating), so magnitude pruning has one right answer.
fn scrambled_theta(p: usize) -> Vec<f64> {
    (0..p)
        .map(|i| {
            let v = ((i * 7919) % p + 1) as f64;
            if i % 2 == 0 {
                v
            } else {
                -v
            }
        })
        .collect()
}

#[test]
fn layer_wise_rounds_remove_exactly_the_scheduled_counts() {
    let layout = ParamLayout::new(&[40, 30, 20, 10]).unwrap();
    let theta = scrambled_theta(layout.total());
    let fractions = [0.2, 0.2, 0.1];
    let mut mask = Mask::dense(&layout);
    let sizes: Vec<usize> = (0..3).map(|l| layout.weight(l).len).collect();
    let mut expected = sizes.clone();
    for round in 1..=10 {
        mask = mask.prune_by_magnitude(&theta, &fractions).unwrap();
        for l in 0..3 {
            expected[l] -= (fractions[l] * expected[l] as f64).round() as usize;
            assert_eq!(
                mask.kept(l).unwrap(),
                expected[l],
                "round {round} layer {l}"
            );
            // 0.8^r (hidden), 0.9^r (output), up to one rounding per round.
            let ideal = sizes[l] as f64 * (1.0 - fractions[l]).powi(round);
            assert!((expected[l] as f64 - ideal).abs() <= round as f64);
        }
        // Biases are never pruned.
        for l in 0..3 {
            let b = layout.bias(l);
            assert!(mask.keep()[b.offset..b.offset + b.len].iter().all(|&k| k));
        }
    }
    let total: usize = sizes.iter().sum();
    let kept: usize = expected.iter().sum();
    assert_eq!(mask.fraction_kept(), kept as f64 / total as f64);
}

#[test]
fn magnitude_pruning_removes_the_smallest_weights_of_each_layer() {
    let layout = ParamLayout::new(&[6, 5, 3]).unwrap();
    let theta = scrambled_theta(layout.total());
    let mask = Mask::dense(&layout)
        .prune_by_magnitude(&theta, &[0.5, 0.4])
        .unwrap();
    for l in 0..2 {
        let w = layout.weight(l);
        let range = w.offset..w.offset + w.len;
        let max_pruned = range
            .clone()
            .filter(|&i| !mask.keep()[i])
            .map(|i| theta[i].abs())
            .fold(0.0, f64::max);
        let min_kept = range
            .filter(|&i| mask.keep()[i])
            .map(|i| theta[i].abs())
            .fold(f64::INFINITY, f64::min);
        assert!(max_pruned < min_kept, "layer {l}");
    }
}

#[test]
fn ties_go_to_the_lower_index() {
    let layout = ParamLayout::new(&[4, 3, 2]).unwrap();
    // All weights of equal magnitude (signs differ): the pruned ones are the first of each
    // layer, in index order.
    let theta: Vec<f64> = (0..layout.total())
        .map(|i| if i % 3 == 0 { -1.0 } else { 1.0 })
        .collect();
    let mask = Mask::dense(&layout)
        .prune_by_magnitude(&theta, &[0.25, 0.5])
        .unwrap();
    for (l, pruned) in [(0usize, 3usize), (1, 3)] {
        let w = layout.weight(l);
        let keep = &mask.keep()[w.offset..w.offset + w.len];
        assert!(keep[..pruned].iter().all(|&k| !k), "layer {l}");
        assert!(keep[pruned..].iter().all(|&k| k), "layer {l}");
    }
    let again = Mask::dense(&layout)
        .prune_by_magnitude(&theta, &[0.25, 0.5])
        .unwrap();
    assert_eq!(mask, again);
}

#[test]
fn global_pruning_leaves_the_output_layer_and_counts_exactly() {
    let layout = ParamLayout::new(&[10, 8, 6, 4]).unwrap();
    let theta = scrambled_theta(layout.total());
    let mut mask = Mask::dense(&layout);
    let mut hidden_kept = layout.weight(0).len + layout.weight(1).len;
    for _ in 0..5 {
        mask = mask.prune_global(&theta, 0.2).unwrap();
        hidden_kept -= prune_count(0.2, hidden_kept).unwrap();
        assert_eq!(mask.kept(0).unwrap() + mask.kept(1).unwrap(), hidden_kept);
        assert_eq!(mask.kept(2).unwrap(), layout.weight(2).len);
    }
    // The pruned hidden weights are the globally smallest.
    let hidden = 0..layout.weight(1).offset + layout.weight(1).len;
    let is_w = |i: usize| layout.locate(i).1 == ParamKind::Weight;
    let max_pruned = hidden
        .clone()
        .filter(|&i| is_w(i) && !mask.keep()[i])
        .map(|i| theta[i].abs())
        .fold(0.0, f64::max);
    let min_kept = hidden
        .filter(|&i| is_w(i) && mask.keep()[i])
        .map(|i| theta[i].abs())
        .fold(f64::INFINITY, f64::min);
    assert!(max_pruned < min_kept);
}

#[test]
fn random_pruning_matches_the_ticket_per_layer() {
    let layout = ParamLayout::new(&[30, 20, 10]).unwrap();
    let theta = scrambled_theta(layout.total());
    let ticket = Mask::dense(&layout)
        .prune_by_magnitude(&theta, &[0.2, 0.1])
        .unwrap()
        .prune_by_magnitude(&theta, &[0.2, 0.1])
        .unwrap();
    let random = ticket.random_like(7);
    assert_eq!(random.kept_per_layer(), ticket.kept_per_layer());
    assert_eq!(random, ticket.random_like(7));
    assert_ne!(random, ticket.random_like(8));
    assert_ne!(random, ticket);
    // The valid-mask check accepts it (biases kept).
    Mask::from_keep(&layout, random.keep().to_vec()).unwrap();
}

#[test]
fn apply_sets_pruned_entries_to_exactly_zero() {
    let layout = ParamLayout::new(&[5, 4, 3]).unwrap();
    let theta = scrambled_theta(layout.total());
    let mask = Mask::dense(&layout)
        .prune_by_magnitude(&theta, &[0.5, 0.5])
        .unwrap();
    let mut t = theta.clone();
    mask.apply(&mut t).unwrap();
    let mut g = theta.clone();
    mask.apply_to_gradient(&mut g).unwrap();
    for i in 0..t.len() {
        if mask.keep()[i] {
            assert_eq!(t[i].to_bits(), theta[i].to_bits());
        } else {
            assert_eq!(t[i].to_bits(), 0.0f64.to_bits());
            assert_eq!(g[i].to_bits(), 0.0f64.to_bits());
        }
    }
    let mut f32s: Vec<f32> = theta.iter().map(|&v| v as f32).collect();
    mask.apply(&mut f32s).unwrap();
    assert!(f32s.iter().zip(mask.keep()).all(|(v, &k)| k || *v == 0.0));
}

#[test]
fn bad_inputs_are_errors() {
    let layout = ParamLayout::new(&[3, 2, 1]).unwrap();
    let p = layout.total();
    assert!(Mask::from_keep(&layout, vec![true; p - 1]).is_err());
    let mut bias_pruned = vec![true; p];
    bias_pruned[layout.bias(0).offset] = false;
    assert!(Mask::from_keep(&layout, bias_pruned).is_err());
    let mask = Mask::dense(&layout);
    let theta = vec![1.0f64; p];
    assert!(mask.apply(&mut vec![0.0f64; p + 1]).is_err());
    assert!(mask.prune_by_magnitude(&theta[1..], &[0.2, 0.1]).is_err());
    assert!(mask.prune_by_magnitude(&theta, &[0.2]).is_err());
    assert!(mask.prune_by_magnitude(&theta, &[1.5, 0.1]).is_err());
    assert!(mask.prune_by_magnitude(&theta, &[f64::NAN, 0.1]).is_err());
    assert!(mask.prune_global(&theta, -0.1).is_err());
    let mut nan = theta.clone();
    nan[0] = f64::NAN;
    assert!(mask.prune_by_magnitude(&nan, &[0.2, 0.1]).is_err());
    assert!(mask.kept(2).is_err());
}
