//! The Jacobian of an MLP three ways — batched forward mode, batched reverse mode, central
//! finite differences — across depths, activations and both parameterizations (f64), plus the
//! adjoint identity ⟨u, Jv⟩ = ⟨Jᵀu, v⟩, thread-count independence and input validation.

use autodiff::mlp::jacobian::{jacobian_by_jvp, jacobian_by_vjp, jacobian_columns_by_jvp};
use autodiff::mlp::{Mlp, ParamKind, Parameterization};
use autodiff::Activation;
use linalg::{MatRef, Matrix};
mod common;
use common::{dot, random_matrix, random_vec, rel_diff};

const ACTIVATIONS: [Activation; 8] = Activation::EVERY;

const SHAPES: [(usize, &[usize], usize); 3] = [(3, &[5], 2), (4, &[5, 3], 3), (2, &[4, 3, 5], 2)];

/// Central differences with h = 1e-5 (the library's `mlp::audit::jacobian_fd`).
fn jacobian_fd(net: &Mlp, theta: &[f64], x: MatRef<'_, f64>) -> Matrix<f64> {
    autodiff::mlp::audit::jacobian_fd(net, theta, x, 1e-5).unwrap()
}

fn networks() -> Vec<Mlp> {
    let mut nets = Vec::new();
    for (s, &(d, hidden, o)) in SHAPES.iter().enumerate() {
        for act in ACTIVATIONS {
            for par in [Parameterization::Standard, Parameterization::Ntk] {
                let (sw, sb) = if s == 1 { (1.5, 0.2) } else { (1.2, 0.5) };
                nets.push(Mlp::new(d, hidden, o, act, par, sw, sb).unwrap());
            }
        }
    }
    nets
}

#[test]
fn jacobian_by_jvp_equals_by_vjp_equals_finite_differences() {
    for (k, net) in networks().iter().enumerate() {
        let theta: Vec<f64> = net.init(10 + k as u64);
        let x = random_matrix(4, net.input_dim(), 100 + k as u64);
        let by_vjp = jacobian_by_vjp(net, &theta, x.as_ref(), 3).unwrap();
        let by_jvp = jacobian_by_jvp(net, &theta, x.as_ref(), 7).unwrap();
        assert_eq!(by_vjp.shape(), (4 * net.output_dim(), net.num_params()));
        let d = rel_diff(by_vjp.as_slice(), by_jvp.as_slice());
        assert!(d <= 1e-10, "{net:?}: JVP vs VJP Jacobian differ by {d:e}");
        let fd = jacobian_fd(net, &theta, x.as_ref());
        let e = rel_diff(fd.as_slice(), by_vjp.as_slice());
        assert!(e <= 1e-6, "{net:?}: Jacobian vs finite differences {e:e}");
        // Every block of θ matters somewhere (guards against a layer silently left at zero).
        for entry in net.layout().entries() {
            let block_norm: f64 = (0..by_vjp.rows())
                .flat_map(|r| (entry.offset..entry.offset + entry.len).map(move |c| (r, c)))
                .map(|(r, c)| by_vjp.get(r, c).abs())
                .sum();
            if !(net.activation() == Activation::Relu && entry.kind == ParamKind::Weight) {
                assert!(
                    block_norm > 0.0,
                    "{}: zero Jacobian block {}",
                    net.activation(),
                    entry.name
                );
            }
        }
    }
}

#[test]
fn chunk_sizes_do_not_change_the_jacobian() {
    let net = Mlp::new(
        3,
        &[6, 4],
        3,
        Activation::Tanh,
        Parameterization::Ntk,
        1.3,
        0.4,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(5);
    let x = random_matrix(5, 3, 6);
    let reference = jacobian_by_vjp(&net, &theta, x.as_ref(), 1).unwrap();
    for chunk in [1, 2, 5, 16, 1000] {
        let a = jacobian_by_vjp(&net, &theta, x.as_ref(), chunk).unwrap();
        let b = jacobian_by_jvp(&net, &theta, x.as_ref(), chunk).unwrap();
        // Not bit-identical across chunk sizes: the GEMM's blocking depends on the row count.
        assert!(
            rel_diff(reference.as_slice(), a.as_slice()) <= 1e-14,
            "VJP chunk {chunk}"
        );
        assert!(
            rel_diff(reference.as_slice(), b.as_slice()) <= 1e-12,
            "JVP chunk {chunk}"
        );
    }
    // A subset of columns, in any order, equals those columns of J.
    let cols = [66, 3, 0, 41, 42, 17, 65];
    let sub = jacobian_columns_by_jvp(&net, &theta, x.as_ref(), &cols, 3).unwrap();
    for (q, &j) in cols.iter().enumerate() {
        for r in 0..reference.rows() {
            assert!((sub.get(r, q) - reference.get(r, j)).abs() <= 1e-12);
        }
    }
}

#[test]
fn adjoint_identity_and_mlp_jvp_vjp_agree_with_jacobian() {
    for (k, net) in networks().iter().enumerate() {
        let theta: Vec<f64> = net.init(20 + k as u64);
        let n = 3;
        let x = random_matrix(n, net.input_dim(), 200 + k as u64);
        let v = random_vec(net.num_params(), 300 + k as u64);
        let u = random_matrix(n, net.output_dim(), 400 + k as u64);
        let (f1, jv) = net.jvp(&theta, x.as_ref(), &v).unwrap();
        let (f2, jtu) = net.vjp(&theta, x.as_ref(), u.as_ref()).unwrap();
        let f0 = net.forward(&theta, x.as_ref()).unwrap();
        assert_eq!(f1.as_slice(), f0.as_slice());
        assert_eq!(f2.as_slice(), f0.as_slice());
        let lhs = dot(u.as_slice(), jv.as_slice());
        let rhs = dot(&jtu, &v);
        let scale = (dot(u.as_slice(), u.as_slice()) * dot(jv.as_slice(), jv.as_slice())).sqrt();
        assert!(
            (lhs - rhs).abs() <= 1e-10 * scale.max(1e-300),
            "{lhs} vs {rhs}"
        );
        // And both against the explicit Jacobian.
        let jac = jacobian_by_vjp(net, &theta, x.as_ref(), 4).unwrap();
        let jv_explicit: Vec<f64> = (0..jac.rows()).map(|r| dot(jac.row(r), &v)).collect();
        assert!(rel_diff(&jv_explicit, jv.as_slice()) <= 1e-10);
        let jtu_explicit: Vec<f64> = (0..jac.cols())
            .map(|c| {
                (0..jac.rows())
                    .map(|r| jac.get(r, c) * u.as_slice()[r])
                    .sum()
            })
            .collect();
        assert!(rel_diff(&jtu_explicit, &jtu) <= 1e-10);
    }
}

#[test]
fn mse_gradient_matches_finite_differences() {
    let net = Mlp::new(
        3,
        &[5, 4],
        2,
        Activation::Gelu,
        Parameterization::Standard,
        1.4,
        0.3,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(9);
    let x = random_matrix(6, 3, 10);
    let y = random_matrix(6, 2, 11);
    let (loss, grad) = net
        .mse_value_and_grad(&theta, x.as_ref(), y.as_ref())
        .unwrap();
    let f = net.forward(&theta, x.as_ref()).unwrap();
    let direct: f64 = f
        .as_slice()
        .iter()
        .zip(y.as_slice())
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        / (2.0 * 6.0);
    assert!((loss - direct).abs() <= 1e-14 * direct);
    let h = 1e-6;
    let mut fd = vec![0.0; theta.len()];
    let mut th = theta.clone();
    for j in 0..theta.len() {
        th[j] = theta[j] + h;
        let lp = net
            .mse_value_and_grad(&th, x.as_ref(), y.as_ref())
            .unwrap()
            .0;
        th[j] = theta[j] - h;
        let lm = net
            .mse_value_and_grad(&th, x.as_ref(), y.as_ref())
            .unwrap()
            .0;
        th[j] = theta[j];
        fd[j] = (lp - lm) / (2.0 * h);
    }
    assert!(rel_diff(&grad, &fd) <= 1e-6, "{:e}", rel_diff(&grad, &fd));
}

#[test]
fn results_are_bit_identical_on_one_and_two_threads() {
    let net = Mlp::new(
        5,
        &[16, 8],
        3,
        Activation::Softplus,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(1);
    let x = random_matrix(9, 5, 2);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                jacobian_by_vjp(&net, &theta, x.as_ref(), 4).unwrap(),
                jacobian_by_jvp(&net, &theta, x.as_ref(), 5).unwrap(),
                net.mse_value_and_grad(&theta, x.as_ref(), x.as_ref().submatrix(0, 0, 9, 3))
                    .unwrap(),
            )
        })
    };
    let (a1, b1, g1) = run(1);
    let (a2, b2, g2) = run(2);
    assert_eq!(a1.as_slice(), a2.as_slice());
    assert_eq!(b1.as_slice(), b2.as_slice());
    assert_eq!(g1.0.to_bits(), g2.0.to_bits());
    assert_eq!(g1.1, g2.1);
}

#[test]
fn init_is_seeded_and_has_the_documented_variance() {
    let sw = 1.7;
    let sb = 0.3;
    let std_net = Mlp::new(
        400,
        &[300],
        10,
        Activation::Tanh,
        Parameterization::Standard,
        sw,
        sb,
    )
    .unwrap();
    let ntk_net = Mlp::new(
        400,
        &[300],
        10,
        Activation::Tanh,
        Parameterization::Ntk,
        sw,
        sb,
    )
    .unwrap();
    let a: Vec<f64> = std_net.init(42);
    assert_eq!(a, std_net.init::<f64>(42));
    assert_ne!(a, std_net.init::<f64>(43));
    let a32: Vec<f32> = std_net.init(42);
    assert!(a.iter().zip(&a32).all(|(x, y)| (*x as f32) == *y));
    let var = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64;
    let l = std_net.layout();
    // W1 (120 000 entries) ~ N(0, σ_w²/400): relative standard error of the variance ≈ 0.4%.
    let w1 = &a[l.entries()[0].offset..][..l.entries()[0].len];
    let want = sw * sw / 400.0;
    assert!((var(w1) / want - 1.0).abs() < 0.03, "{} vs {want}", var(w1));
    let w2 = &a[l.entries()[2].offset..][..l.entries()[2].len];
    let want2 = sw * sw / 300.0;
    assert!(
        (var(w2) / want2 - 1.0).abs() < 0.1,
        "{} vs {want2}",
        var(w2)
    );
    let b1 = &a[l.entries()[1].offset..][..l.entries()[1].len];
    assert!((var(b1) / (sb * sb) - 1.0).abs() < 0.3, "{}", var(b1));
    let t: Vec<f64> = ntk_net.init(42);
    assert!((var(&t) - 1.0).abs() < 0.03);
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    assert!(mean.abs() < 0.01);
    // Same function distribution: the two parameterizations compute the same f at matched θ.
    let theta_std: Vec<f64> = {
        let mut v = t.clone();
        for layer in ntk_net.layers() {
            for w in &mut v[layer.w_offset..layer.b_offset] {
                *w *= layer.w_scale;
            }
            for b in &mut v[layer.b_offset..layer.b_offset + layer.n_out] {
                *b *= layer.b_scale;
            }
        }
        v
    };
    let x = random_matrix(3, 400, 1);
    let f_ntk = ntk_net.forward(&t, x.as_ref()).unwrap();
    let f_std = std_net.forward(&theta_std, x.as_ref()).unwrap();
    assert!(rel_diff(f_ntk.as_slice(), f_std.as_slice()) < 1e-13);
}

#[test]
fn bad_inputs_are_errors() {
    assert!(Mlp::new(
        0,
        &[3],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.0
    )
    .is_err());
    assert!(Mlp::new(
        2,
        &[0],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.0
    )
    .is_err());
    assert!(Mlp::new(
        2,
        &[3],
        0,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.0
    )
    .is_err());
    assert!(Mlp::new(
        2,
        &[3],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        -1.0,
        0.0
    )
    .is_err());
    assert!(Mlp::new(
        2,
        &[3],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        f64::NAN
    )
    .is_err());
    assert!(Mlp::new(
        2,
        &[3],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        f64::INFINITY,
        0.0
    )
    .is_err());
    let net = Mlp::new(
        2,
        &[3],
        2,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(0);
    let x = random_matrix(4, 2, 0);
    let wide = random_matrix(4, 3, 0);
    let short = &theta[..theta.len() - 1];
    assert!(net.forward(short, x.as_ref()).is_err());
    assert!(net.forward(&theta, wide.as_ref()).is_err());
    assert!(net.jvp(&theta, x.as_ref(), short).is_err());
    let u_bad = random_matrix(4, 3, 0);
    assert!(net.vjp(&theta, x.as_ref(), u_bad.as_ref()).is_err());
    assert!(net
        .mse_value_and_grad(&theta, x.as_ref(), u_bad.as_ref())
        .is_err());
    assert!(jacobian_by_jvp(&net, &theta, x.as_ref(), 0).is_err());
    assert!(jacobian_by_vjp(&net, &theta, x.as_ref(), 0).is_err());
    assert!(jacobian_by_vjp(&net, short, x.as_ref(), 4).is_err());
    assert!(jacobian_by_jvp(&net, &theta, wide.as_ref(), 4).is_err());
    assert!(jacobian_columns_by_jvp(&net, &theta, x.as_ref(), &[theta.len()], 4).is_err());
    let empty = Matrix::<f64>::zeros(0, 2);
    assert!(net.forward(&theta, empty.as_ref()).is_err());
}
