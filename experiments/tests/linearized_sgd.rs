//! SGD on the linearised model from θ₀ lands on the minimum-norm interpolant, the Newton step
//! at λ → 0, whatever the batch order.

use autodiff::mlp::{Linearized, Mlp, NtkForm, Parameterization};
use autodiff::Activation;
use experiments::tangent::kernel_ridge;
use experiments::tangent::linearized_sgd::linearized_sgd;
use linalg::vec::rel_diff;
use linalg::Matrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn two_orders_reach_the_newton_step_at_vanishing_ridge() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let net = Mlp::new(
        3,
        &[32],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(7);
    let x = Matrix::from_fn(6, 3, |_, _| rng.random_range(-1.0..1.0));
    let y = Matrix::from_fn(6, 1, |_, _| rng.random_range(-1.0..1.0));
    let lin = Linearized::new(&net, &theta, x.as_ref()).unwrap();
    let k = lin.ntk(NtkForm::Full).unwrap();
    let f0 = lin.output0();
    let rhs = Matrix::from_fn(6, 1, |r, _| y.as_slice()[r] - f0.as_slice()[r]);
    let (alpha, _) = kernel_ridge::solve(&k, 1e-12, &rhs, &mut None).unwrap();
    let alpha = Matrix::from_vec(6, 1, alpha.as_slice().to_vec()).unwrap();
    let newton = lin.vjp(alpha.as_ref()).unwrap();
    let lmax = experiments::tickets::newton::largest_eigenvalue(&k).unwrap();
    // Batch b: the step's operator (1/b)·J_BᵀJ_B has norm ≤ λ_max(K)/b, so η = b/λ_max(K) is
    // half the stability limit.
    let lr = 2.0 / lmax;
    let kappa = lmax / linalg::symmetric_eigenvalues(k.as_ref()).unwrap()[0];
    assert!(
        kappa < 1e3,
        "κ(K) = {kappa:e}: the test needs a well-conditioned kernel"
    );
    let a = linearized_sgd(&lin, &y, (2, lr, 20_000), 1).unwrap();
    let b = linearized_sgd(&lin, &y, (2, lr, 20_000), 2).unwrap();
    assert!(
        rel_diff(&a, &newton) < 1e-6,
        "order 1: {:e}",
        rel_diff(&a, &newton)
    );
    assert!(
        rel_diff(&b, &newton) < 1e-6,
        "order 2: {:e}",
        rel_diff(&b, &newton)
    );
    // The paths differ: after a few steps the two orders are not at the same point.
    let a5 = linearized_sgd(&lin, &y, (2, lr, 5), 1).unwrap();
    let b5 = linearized_sgd(&lin, &y, (2, lr, 5), 2).unwrap();
    assert!(rel_diff(&a5, &b5) > 1e-3);
}
