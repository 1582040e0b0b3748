//! The two engines must agree on the same model code.
//!
//! The layer engine differentiates `mlp::mlp` through its own hand-written rules (`affine.rs`,
//! the forward and reverse modes); `mlp::GraphOps` runs the very same `mlp::mlp` on the
//! reference engine, where each affine layer becomes general primitives (slice θ, reshape to
//! W, transpose, matmul, scale, add the bias row) and φ the elementwise primitive, all
//! differentiated by the general tape and the block forward mode. Values, JVPs, VJPs and the
//! MSE gradient are compared for several depths, activations and both parameterizations.

use autodiff::graph::{self, Graph};
use autodiff::mlp::{mlp_on_graph, Mlp, Parameterization};
use autodiff::{Activation, Tensor, Var};
use linalg::Matrix;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn uniform(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    autodiff::graph::check::relative_error(a, b)
}

fn cross_check(net: &Mlp, n: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (d, o, p) = (net.input_dim(), net.output_dim(), net.num_params());
    let theta: Vec<f64> = net.init(seed);
    let x = Matrix::from_vec(n, d, uniform(&mut rng, n * d)).unwrap();
    let xt = Tensor::from_matrix(&x);
    let f = mlp_on_graph(net, &xt);
    let theta_t = Tensor::vector(theta.clone());
    let ctx = format!(
        "{:?} {:?} {:?}",
        net.widths(),
        net.activation(),
        net.parameterization()
    );

    let ours = graph::eval(&f, std::slice::from_ref(&theta_t)).unwrap();
    let theirs = net.forward(&theta, x.as_ref()).unwrap();
    let e = rel(ours.data(), theirs.as_slice());
    assert!(e <= 1e-13, "{ctx}: forward {e:e}");

    let dtheta = uniform(&mut rng, p);
    let (_, jv) = graph::jvp(
        &f,
        std::slice::from_ref(&theta_t),
        &[Tensor::vector(dtheta.clone())],
    )
    .unwrap();
    let (_, jv_nn) = net.jvp(&theta, x.as_ref(), &dtheta).unwrap();
    let e = rel(jv.data(), jv_nn.as_slice());
    assert!(e <= 1e-12, "{ctx}: JVP {e:e}");

    let u = Matrix::from_vec(n, o, uniform(&mut rng, n * o)).unwrap();
    let (_, jtu) =
        graph::vjp(&f, std::slice::from_ref(&theta_t), &Tensor::from_matrix(&u)).unwrap();
    let (_, jtu_nn) = net.vjp(&theta, x.as_ref(), u.as_ref()).unwrap();
    let e = rel(jtu[0].data(), &jtu_nn);
    assert!(e <= 1e-12, "{ctx}: VJP {e:e}");

    // nn's loss is 1/(2n)·‖f − Y‖²_F; the primitive mse is 1/(n·o)·‖f − Y‖²_F, so
    // L_nn = (o/2)·L_mse and likewise for the gradients.
    let y = Matrix::from_vec(n, o, uniform(&mut rng, n * o)).unwrap();
    let yt = Tensor::from_matrix(&y);
    let loss = |g: &mut dyn Graph<f64>, v: &[Var]| {
        let out = f(g, v)?;
        let target = g.constant(yt.clone());
        let l = g.mse(out, target)?;
        g.scale(l, o as f64 / 2.0)
    };
    let (value, grad) = graph::value_and_grad(loss, std::slice::from_ref(&theta_t)).unwrap();
    let (value_nn, grad_nn) = net
        .mse_value_and_grad(&theta, x.as_ref(), y.as_ref())
        .unwrap();
    assert!(
        (value - value_nn).abs() <= 1e-12 * value.abs(),
        "{ctx}: loss {value} vs {value_nn}"
    );
    let e = rel(grad[0].data(), &grad_nn);
    assert!(e <= 1e-12, "{ctx}: MSE gradient {e:e}");
}

fn activation(i: usize) -> Activation {
    Activation::EVERY[i]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x3c7a_11fe),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn general_graph_and_layer_level_mlp_agree(
        hidden in prop::collection::vec(1usize..7, 0..3),
        d in 1usize..5,
        o in 1usize..4,
        n in 1usize..5,
        act in 0usize..8,
        ntk in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let param = if ntk { Parameterization::Ntk } else { Parameterization::Standard };
        let net = Mlp::new(d, &hidden, o, activation(act), param, 1.3, 0.4).unwrap();
        cross_check(&net, n, seed);
    }
}
