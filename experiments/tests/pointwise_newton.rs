//! Function-space Newton for pointwise losses on the linearised model: the cross-entropy
//! gradient against central differences, the converged α against the optimality condition
//! g + λα = 0, squared error through the same path against the one-step kernel solve, and
//! the separable case at λ → 0.

use autodiff::mlp::{ntk_structured, Linearized, Mlp, NtkForm, Parameterization};
use autodiff::Activation;
use experiments::tangent::kernel_ridge;
use experiments::tangent::pointwise_newton::{
    continuation, newton, CrossEntropy, Limit, NewtonOptions, PointwiseLoss, SquaredError, Verdict,
};
use experiments::tangent::pointwise_newton_cg::newton_cg;
use linalg::Matrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A small network's full NTK on random inputs, its outputs, and labels.
fn problem(n: usize, seed: u64) -> (Matrix<f64>, Matrix<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let net = Mlp::new(
        4,
        &[16],
        3,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(seed);
    let x = Matrix::from_fn(n, 4, |_, _| rng.random_range(-1.0..1.0));
    let k = ntk_structured(&net, &theta, x.as_ref(), None).unwrap();
    let f0 = net.forward(&theta, x.as_ref()).unwrap();
    let labels = (0..n).map(|i| (i * 7 + seed as usize) % 3).collect();
    (k, f0, labels)
}

#[test]
fn the_cross_entropy_gradient_and_hessian_match_central_differences() {
    let labels = [2usize];
    let loss = CrossEntropy { labels: &labels };
    let z = [0.3, -1.2, 0.8];
    let (mut g, mut h) = ([0.0; 3], [0.0; 9]);
    loss.eval(0, &z, &mut g, &mut h);
    let eps = 1e-6;
    for a in 0..3 {
        let (mut zp, mut zm) = (z, z);
        zp[a] += eps;
        zm[a] -= eps;
        let (mut gp, mut gm, mut hh) = ([0.0; 3], [0.0; 3], [0.0; 9]);
        let fd = (loss.eval(0, &zp, &mut gp, &mut hh) - loss.eval(0, &zm, &mut gm, &mut hh))
            / (2.0 * eps);
        assert!((fd - g[a]).abs() < 1e-9, "gradient {a}: {fd} vs {}", g[a]);
        for b in 0..3 {
            let fd_h = (gp[b] - gm[b]) / (2.0 * eps);
            assert!((fd_h - h[a * 3 + b]).abs() < 1e-8, "Hessian ({a}, {b})");
        }
    }
}

#[test]
fn converged_alpha_satisfies_the_optimality_condition() {
    let (k, f0, labels) = problem(12, 1);
    let lambda = 0.05;
    let sol = newton(
        &k,
        &f0,
        &CrossEntropy { labels: &labels },
        lambda,
        NewtonOptions::default(),
    )
    .unwrap();
    assert_eq!(sol.verdict, Verdict::Converged, "{:?}", sol.history);
    assert!(
        sol.history.len() > 1,
        "cross-entropy needs more than one Newton step"
    );
    // g + λα = 0 with g = softmax(z) − e_y at z = f₀ + Kα.
    let mut worst: f64 = 0.0;
    for (i, &y) in labels.iter().enumerate() {
        let z = sol.outputs.row(i);
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
        for (a, &za) in z.iter().enumerate() {
            let p = (za - m).exp() / s;
            let g = p - if a == y { 1.0 } else { 0.0 };
            worst = worst.max((g + lambda * sol.alpha.get(i, a)).abs());
        }
    }
    assert!(worst < 1e-10, "optimality residual {worst:e}");
    // The objective decreases monotonically (Armijo).
    for w in sol.history.windows(2) {
        assert!(w[1].objective <= w[0].objective);
    }
}

#[test]
fn squared_error_through_the_same_path_is_the_one_step_kernel_solve() {
    let (k, f0, _) = problem(10, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let y = Matrix::from_fn(f0.rows(), f0.cols(), |_, _| rng.random_range(-1.0..1.0));
    let lambda = 1e-2;
    let sol = newton(
        &k,
        &f0,
        &SquaredError { targets: &y },
        lambda,
        NewtonOptions::default(),
    )
    .unwrap();
    assert_eq!(sol.verdict, Verdict::Converged);
    assert_eq!(
        sol.history.len(),
        1,
        "a quadratic is solved by one full Newton step"
    );
    assert_eq!(sol.history[0].step, 1.0);
    let rhs = Matrix::from_fn(k.rows(), 1, |r, _| y.as_slice()[r] - f0.as_slice()[r]);
    let (alpha, _) = kernel_ridge::solve(&k, lambda, &rhs, &mut None).unwrap();
    let diff = alpha
        .as_slice()
        .iter()
        .zip(sol.alpha.as_slice())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let scale = alpha.as_slice().iter().map(|v| v.abs()).fold(0.0, f64::max);
    assert!(diff < 1e-10 * scale, "{diff:e} of {scale:e}");
}

#[test]
fn separable_data_at_vanishing_ridge_is_detected() {
    // 12 samples, 3 classes, a kernel of rank 36 ≥ n·o: the tangent model interpolates any
    // labels, so the training set is separable and the logits grow without bound as λ → 0.
    let (k, f0, labels) = problem(12, 3);
    let r = continuation(&k, &f0, &labels, 1.0, 12, NewtonOptions::default()).unwrap();
    assert!(
        matches!(r.limit, Limit::NoFiniteMinimiser { .. }),
        "{:?}",
        r.limit
    );
    // Three samples the tangent model cannot tell apart (K = 11ᵀ ⊗ I: one set of logits for
    // all), labelled 0, 1, 2: the best it can do is equal probabilities, a finite minimiser.
    let k2 = Matrix::from_fn(9, 9, |r, c| if r % 3 == c % 3 { 1.0 } else { 0.0 });
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let f0 = Matrix::from_fn(3, 3, |_, _| rng.random_range(-1.0..1.0));
    let r = continuation(&k2, &f0, &[0, 1, 2], 1.0, 12, NewtonOptions::default()).unwrap();
    assert!(matches!(r.limit, Limit::Finite { .. }), "{:?}", r.limit);
}

#[test]
fn function_space_and_parameter_space_newton_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let net = Mlp::new(
        4,
        &[16],
        3,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(5);
    let x = Matrix::from_fn(10, 4, |_, _| rng.random_range(-1.0..1.0));
    let labels: Vec<usize> = (0..10).map(|i| i % 3).collect();
    let loss = CrossEntropy { labels: &labels };
    let lambda = 0.05;
    let lin = Linearized::new(&net, &theta, x.as_ref()).unwrap();
    let k = lin.ntk(NtkForm::Full).unwrap();
    let fs = newton(&k, lin.output0(), &loss, lambda, NewtonOptions::default()).unwrap();
    let ps = newton_cg(&lin, &loss, lambda, NewtonOptions::default(), 1e-12).unwrap();
    assert_eq!(fs.verdict, Verdict::Converged);
    assert_eq!(ps.verdict, Verdict::Converged, "{:?}", ps.history);
    // δ = Jᵀα from the function-space solve against δ from CG in parameter space.
    let delta_fs = lin.vjp(fs.alpha.as_ref()).unwrap();
    let d = linalg::vec::rel_diff(&ps.delta, &delta_fs);
    assert!(d < 1e-8, "‖δ_CG − Jᵀα‖/‖Jᵀα‖ = {d:e}");
    let z = linalg::vec::rel_diff(ps.outputs.as_slice(), fs.outputs.as_slice());
    assert!(z < 1e-9, "outputs differ by {z:e}");
    assert_eq!(
        fs.history.len(),
        ps.history.len(),
        "both are Newton's method on one problem"
    );
}
