//! The empirical NTK three ways — contraction of an explicit Jacobian (either one), structured
//! per-layer products, the matrix-free operator applied to unit vectors — plus the traced
//! kernel, the cross kernel, K·v, the Gauss–Newton operator and thread-count independence.

use autodiff::mlp::audit::{ntk_methods_defect, NTK_TOL};
use autodiff::mlp::jacobian::{jacobian_by_jvp, jacobian_by_vjp};
use autodiff::mlp::ntk::{
    ntk_by_contraction, ntk_cross_by_contraction, ntk_memory_bytes, ntk_structured, ntk_traced,
};
use autodiff::mlp::operators::{GaussNewtonOperator, NtkOperator};
use autodiff::mlp::{Mlp, Parameterization};
use autodiff::Activation;
use linalg::{LinearOperator, Matrix};
mod common;
use common::{random_matrix, rel_diff};

fn networks() -> Vec<Mlp> {
    let mut nets = Vec::new();
    let shapes: [(usize, &[usize], usize); 3] = [(3, &[6], 2), (4, &[5, 7], 3), (2, &[4, 3, 5], 1)];
    for &(d, hidden, o) in &shapes {
        for act in [
            Activation::Tanh,
            Activation::Relu,
            Activation::Gelu,
            Activation::Erf,
        ] {
            for par in [Parameterization::Standard, Parameterization::Ntk] {
                nets.push(Mlp::new(d, hidden, o, act, par, 1.4, 0.3).unwrap());
            }
        }
    }
    nets
}

#[test]
fn all_ntk_methods_agree() {
    for (k, net) in networks().iter().enumerate() {
        let theta: Vec<f64> = net.init(k as u64);
        let n = 13;
        let x = random_matrix(n, net.input_dim(), 50 + k as u64);
        let o = net.output_dim();
        let k_str = ntk_structured(net, &theta, x.as_ref(), None).unwrap();
        assert_eq!(k_str.shape(), (n * o, n * o));
        // Contraction of either Jacobian, structured (symmetric and general paths), the
        // operator's columns and diagonal: the library's certificate, shared with selfcheck.
        let e = ntk_methods_defect(net, &theta, x.as_ref()).unwrap();
        assert!(e <= NTK_TOL, "{net:?}: NTK methods disagree by {e:e}");
    }
}

#[test]
fn operator_times_vector_equals_kernel_times_vector() {
    let net = Mlp::new(
        5,
        &[8, 6],
        3,
        Activation::Softplus,
        Parameterization::Ntk,
        1.2,
        0.2,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(3);
    let x = random_matrix(7, 5, 4);
    let k = ntk_structured(&net, &theta, x.as_ref(), None).unwrap();
    let lambda = 0.37;
    let op = NtkOperator::with_ridge(&net, &theta, x.as_ref(), lambda).unwrap();
    let v = random_matrix(1, 21, 5).into_vec();
    let mut kv = vec![0.0; 21];
    op.apply(&v, &mut kv);
    let want: Vec<f64> = (0..21)
        .map(|i| (0..21).map(|j| k.get(i, j) * v[j]).sum::<f64>() + lambda * v[i])
        .collect();
    assert!(rel_diff(&want, &kv) <= 1e-12);
    assert!(op.try_apply(&v[..20], &mut kv).is_err());
}

#[test]
fn traced_kernel_is_the_mean_over_output_blocks() {
    for (k, net) in networks().iter().enumerate() {
        let theta: Vec<f64> = net.init(100 + k as u64);
        let (n1, n2) = (11, 6);
        let o = net.output_dim();
        let x1 = random_matrix(n1, net.input_dim(), 7 + k as u64);
        let x2 = random_matrix(n2, net.input_dim(), 8 + k as u64);
        for x2opt in [None, Some(x2.as_ref())] {
            let full = ntk_structured(net, &theta, x1.as_ref(), x2opt).unwrap();
            let traced = ntk_traced(net, &theta, x1.as_ref(), x2opt).unwrap();
            let m = if x2opt.is_some() { n2 } else { n1 };
            assert_eq!(traced.shape(), (n1, m));
            let mut want = Matrix::zeros(n1, m);
            for i in 0..n1 {
                for j in 0..m {
                    let s: f64 = (0..o).map(|a| full.get(i * o + a, j * o + a)).sum();
                    want.set(i, j, s / o as f64);
                }
            }
            assert!(rel_diff(want.as_slice(), traced.as_slice()) <= 1e-12);
        }
    }
}

#[test]
fn cross_kernel_matches_contraction_of_two_jacobians() {
    for (k, net) in networks().iter().enumerate() {
        let theta: Vec<f64> = net.init(200 + k as u64);
        let x_test = random_matrix(9, net.input_dim(), 9 + k as u64);
        let x_train = random_matrix(14, net.input_dim(), 10 + k as u64);
        let j_test = jacobian_by_vjp(net, &theta, x_test.as_ref(), 16).unwrap();
        let j_train = jacobian_by_jvp(net, &theta, x_train.as_ref(), 16).unwrap();
        let want = ntk_cross_by_contraction(j_test.as_ref(), j_train.as_ref()).unwrap();
        let got = ntk_structured(net, &theta, x_test.as_ref(), Some(x_train.as_ref())).unwrap();
        let o = net.output_dim();
        assert_eq!(got.shape(), (9 * o, 14 * o));
        assert!(rel_diff(want.as_slice(), got.as_slice()) <= 1e-12);
    }
}

#[test]
fn gauss_newton_operator_is_jtj_plus_ridge() {
    let net = Mlp::new(
        3,
        &[5, 4],
        2,
        Activation::Tanh,
        Parameterization::Standard,
        1.5,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(11);
    let x = random_matrix(6, 3, 12);
    let jac = jacobian_by_vjp(&net, &theta, x.as_ref(), 4).unwrap();
    let p = net.num_params();
    let lambda = 0.25;
    let op = GaussNewtonOperator::new(&net, &theta, x.as_ref(), lambda).unwrap();
    let v = random_matrix(1, p, 13).into_vec();
    let mut got = vec![0.0; p];
    op.apply(&v, &mut got);
    let jv: Vec<f64> = (0..jac.rows())
        .map(|r| jac.row(r).iter().zip(&v).map(|(a, b)| a * b).sum())
        .collect();
    let want: Vec<f64> = (0..p)
        .map(|c| (0..jac.rows()).map(|r| jac.get(r, c) * jv[r]).sum::<f64>() + lambda * v[c])
        .collect();
    assert!(rel_diff(&want, &got) <= 1e-12);
    let diag = op.diagonal().unwrap();
    let want_diag: Vec<f64> = (0..p)
        .map(|c| (0..jac.rows()).map(|r| jac.get(r, c).powi(2)).sum::<f64>() + lambda)
        .collect();
    assert!(rel_diff(&want_diag, &diag) <= 1e-12);
    assert!(GaussNewtonOperator::new(&net, &theta, x.as_ref(), -1.0).is_err());
}

#[test]
fn kernels_are_bit_identical_on_one_and_two_threads() {
    let net = Mlp::new(
        6,
        &[20, 12],
        4,
        Activation::Tanh,
        Parameterization::Ntk,
        1.1,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(21);
    let x = random_matrix(200, 6, 22);
    let x2 = random_matrix(17, 6, 23);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                ntk_structured(&net, &theta, x.as_ref(), None).unwrap(),
                ntk_traced(&net, &theta, x.as_ref(), Some(x2.as_ref())).unwrap(),
            )
        })
    };
    let (a1, b1) = run(1);
    let (a2, b2) = run(2);
    assert_eq!(a1.as_slice(), a2.as_slice());
    assert_eq!(b1.as_slice(), b2.as_slice());
    // The symmetric path mirrors tiles: exactly symmetric.
    for i in 0..a1.rows() {
        for j in 0..i {
            assert_eq!(a1.get(i, j), a1.get(j, i));
        }
    }
}

#[test]
fn memory_estimate_and_bad_inputs() {
    let full = ntk_memory_bytes(1000, 1000, 10, 4, false);
    let traced = ntk_memory_bytes(1000, 1000, 10, 4, true);
    assert!((1000 * 1000 * 100 * 4..1000 * 1000 * 100 * 4 * 11 / 10).contains(&full));
    assert!(traced >= 1000 * 1000 * 4 && traced < full / 50);
    let net = Mlp::new(
        3,
        &[4],
        2,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(0);
    let x = random_matrix(4, 3, 0);
    let bad = random_matrix(4, 2, 0);
    assert!(ntk_structured(&net, &theta, bad.as_ref(), None).is_err());
    assert!(ntk_structured(&net, &theta, x.as_ref(), Some(bad.as_ref())).is_err());
    assert!(ntk_traced(&net, &theta[1..], x.as_ref(), None).is_err());
    assert!(NtkOperator::new(&net, &theta, bad.as_ref()).is_err());
    assert!(NtkOperator::with_ridge(&net, &theta, x.as_ref(), f64::NAN).is_err());
}

#[test]
fn several_tiles_and_their_mirrors_match_the_contraction() {
    // Large enough batches that the kernel is assembled from several sample tiles (up to 96
    // samples per tile for o = 4, 128 for the traced kernel), including mirrored ones.
    let net = Mlp::new(
        3,
        &[5, 4],
        4,
        Activation::Tanh,
        Parameterization::Ntk,
        1.2,
        0.3,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(31);
    let (n1, n2, o) = (290, 140, 4);
    let x1 = random_matrix(n1, 3, 32);
    let x2 = random_matrix(n2, 3, 33);
    let j1 = jacobian_by_vjp(&net, &theta, x1.as_ref(), 64).unwrap();
    let j2 = jacobian_by_vjp(&net, &theta, x2.as_ref(), 64).unwrap();
    let k11 = ntk_by_contraction(j1.as_ref()).unwrap();
    let k12 = ntk_cross_by_contraction(j1.as_ref(), j2.as_ref()).unwrap();
    let s11 = ntk_structured(&net, &theta, x1.as_ref(), None).unwrap();
    let s12 = ntk_structured(&net, &theta, x1.as_ref(), Some(x2.as_ref())).unwrap();
    assert!(rel_diff(k11.as_slice(), s11.as_slice()) <= 1e-12);
    assert!(rel_diff(k12.as_slice(), s12.as_slice()) <= 1e-12);
    for (x2opt, full, m) in [(None, &k11, n1), (Some(x2.as_ref()), &k12, n2)] {
        let traced = ntk_traced(&net, &theta, x1.as_ref(), x2opt).unwrap();
        let want = Matrix::from_fn(n1, m, |i, j| {
            (0..o).map(|a| full.get(i * o + a, j * o + a)).sum::<f64>() / o as f64
        });
        assert!(rel_diff(want.as_slice(), traced.as_slice()) <= 1e-12);
    }
}
