//! The linearised model f_lin(δ) = f(θ₀) + J δ and its faces.
//!
//! * f_lin(0) = f(θ₀), bit for bit;
//! * f_lin(tδ) is linear in t: exactly (bit for bit) for powers of two, to rounding for any t,
//!   with a vanishing second difference where the network's is not;
//! * the adjoint identity ⟨u, Jv⟩ = ⟨Jᵀu, v⟩ to 1e-12;
//! * J·v against central differences of the network itself;
//! * the NTK face (full, traced, cross) equals J Jᵀ built from JVP columns, the matrix-free
//!   faces K + λI and JᵀJ + λI equal their dense forms, and λ is validated once for both.

use autodiff::graph::check::{check_adjoint, fd_jvp, relative_error};
use autodiff::mlp::{Linearized, Mlp, NtkForm, Parameterization};
use autodiff::{Activation, AdError};
use linalg::{LinearOperator, MatRef, Matrix};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn uniform(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn matrix(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Matrix<f64> {
    Matrix::from_vec(rows, cols, uniform(rng, rows * cols)).unwrap()
}

/// Networks of several depths, smooth activations, both parameterizations.
fn nets() -> Vec<Mlp> {
    let cases: [(usize, &[usize], usize, Activation, Parameterization); 5] = [
        (3, &[5], 2, Activation::Tanh, Parameterization::Ntk),
        (2, &[4, 3], 3, Activation::Gelu, Parameterization::Standard),
        (4, &[6], 1, Activation::Softplus, Parameterization::Ntk),
        (3, &[5, 4], 2, Activation::Erf, Parameterization::Standard),
        (2, &[], 3, Activation::Identity, Parameterization::Ntk),
    ];
    cases
        .iter()
        .map(|&(d, hidden, o, act, par)| Mlp::new(d, hidden, o, act, par, 1.4, 0.3).unwrap())
        .collect()
}

/// J ((n·o)×p) from p JVP columns J eⱼ.
fn jacobian_from_columns(lin: &Linearized<'_, f64>) -> Matrix<f64> {
    let (m, p) = (lin.num_outputs(), lin.num_params());
    let mut e = vec![0.0; p];
    let mut j = Matrix::zeros(m, p);
    for c in 0..p {
        e[c] = 1.0;
        let col = lin.jvp(&e).unwrap();
        for (r, &v) in col.as_slice().iter().enumerate() {
            j.set(r, c, v);
        }
        e[c] = 0.0;
    }
    j
}

/// A x.
fn mv(a: MatRef<'_, f64>, x: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; a.rows()];
    linalg::matvec(1.0, a, x, 0.0, &mut y).unwrap();
    y
}

fn bits(a: &[f64]) -> Vec<u64> {
    a.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn f_lin_at_zero_is_the_network_at_theta0() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(case as u64);
        let theta0: Vec<f64> = net.init(10 + case as u64);
        let x = matrix(&mut rng, 5, net.input_dim());
        let lin = Linearized::new(net, &theta0, x.as_ref()).unwrap();
        let f = net.forward(&theta0, x.as_ref()).unwrap();
        let f0 = lin.eval(&vec![0.0; net.num_params()]).unwrap();
        assert_eq!(bits(f0.as_slice()), bits(f.as_slice()), "case {case}");
        assert_eq!(bits(lin.output0().as_slice()), bits(f.as_slice()));
        assert_eq!(lin.theta0(), &theta0[..]);
        assert!(lin.x() == &x);
        assert_eq!(lin.num_outputs(), 5 * net.output_dim());
    }
}

#[test]
fn f_lin_is_linear_in_t() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + case as u64);
        let theta0: Vec<f64> = net.init(20 + case as u64);
        let x = matrix(&mut rng, 4, net.input_dim());
        let lin = Linearized::new(net, &theta0, x.as_ref()).unwrap();
        let delta = uniform(&mut rng, net.num_params());
        let f0 = lin.output0().as_slice().to_vec();
        let jd = lin.jvp(&delta).unwrap().into_vec();
        let at = |t: f64| {
            let d: Vec<f64> = delta.iter().map(|v| t * v).collect();
            lin.eval(&d).unwrap().into_vec()
        };
        // Powers of two scale every intermediate tangent exactly: bit-identical.
        for t in [2.0, -0.5, 4.0, 0.25, -8.0] {
            let want: Vec<f64> = f0.iter().zip(&jd).map(|(a, b)| a + t * b).collect();
            assert_eq!(bits(&at(t)), bits(&want), "case {case}, t = {t}");
        }
        // Any t: f_lin(tδ) − f(θ₀) = t·Jδ to rounding, and the second difference in t vanishes.
        for t in [0.3, -1.7, 3.1] {
            let got: Vec<f64> = at(t).iter().zip(&f0).map(|(a, b)| a - b).collect();
            let want: Vec<f64> = jd.iter().map(|b| t * b).collect();
            let e = relative_error(&got, &want);
            assert!(e <= 1e-13, "case {case}, t = {t}: {e:e}");
            let (p, c, m) = (at(t + 1.0), at(t), at(t - 1.0));
            let second: Vec<f64> = (0..p.len()).map(|i| p[i] - 2.0 * c[i] + m[i]).collect();
            let scale: f64 = c.iter().map(|v| v.abs()).fold(1.0, f64::max);
            let worst = second.iter().map(|v| v.abs()).fold(0.0, f64::max);
            assert!(
                worst <= 1e-13 * scale,
                "case {case}: second difference {worst:e}"
            );
        }
        // The network itself is not linear in t (so the check above can fail).
        if net.activation() != Activation::Identity || net.widths().len() > 2 {
            let f_at = |t: f64| {
                let th: Vec<f64> = theta0.iter().zip(&delta).map(|(a, b)| a + t * b).collect();
                net.forward(&th, x.as_ref()).unwrap().into_vec()
            };
            let (p, c, m) = (f_at(1.0), f_at(0.0), f_at(-1.0));
            let worst = (0..p.len())
                .map(|i| (p[i] - 2.0 * c[i] + m[i]).abs())
                .fold(0.0, f64::max);
            assert!(
                worst > 1e-6,
                "case {case}: network looks linear ({worst:e})"
            );
        }
    }
}

#[test]
fn adjoint_identity_and_jvp_against_differences_of_the_network() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(200 + case as u64);
        let theta0: Vec<f64> = net.init(30 + case as u64);
        let (n, o, p) = (6, net.output_dim(), net.num_params());
        let x = matrix(&mut rng, n, net.input_dim());
        let lin = Linearized::new(net, &theta0, x.as_ref()).unwrap();
        let jvp = |_: &[f64], v: &[f64]| lin.jvp(v).unwrap().into_vec();
        let vjp = |_: &[f64], u: &[f64]| lin.vjp(MatRef::from_slice(u, n, o, o).unwrap()).unwrap();
        for _ in 0..3 {
            let (u, v) = (uniform(&mut rng, n * o), uniform(&mut rng, p));
            let e = check_adjoint(jvp, vjp, &theta0, &u, &v);
            assert!(e <= 1e-12, "case {case}: adjoint identity {e:e}");
            // J·v against the central difference of the network at θ₀ along v.
            let f = |th: &[f64]| net.forward(th, x.as_ref()).unwrap().into_vec();
            let fd = fd_jvp(f, &theta0, &v, 1e-5);
            let e = relative_error(&jvp(&theta0, &v), &fd);
            assert!(e <= 1e-7, "case {case}: J·v vs finite differences {e:e}");
        }
    }
}

#[test]
fn ntk_face_is_j_jt_from_jvp_columns() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(300 + case as u64);
        let theta0: Vec<f64> = net.init(40 + case as u64);
        let o = net.output_dim();
        let (n1, n2) = (5, 3);
        let x1 = matrix(&mut rng, n1, net.input_dim());
        let x2 = matrix(&mut rng, n2, net.input_dim());
        let lin = Linearized::new(net, &theta0, x1.as_ref()).unwrap();
        let j1 = jacobian_from_columns(&lin);
        let j2 = jacobian_from_columns(&Linearized::new(net, &theta0, x2.as_ref()).unwrap());
        let k = linalg::matmul(j1.as_ref(), j1.as_ref().t()).unwrap();
        let k12 = linalg::matmul(j1.as_ref(), j2.as_ref().t()).unwrap();
        let full = lin.ntk(NtkForm::Full).unwrap();
        let e = relative_error(full.as_slice(), k.as_slice());
        assert!(e <= 1e-12, "case {case}: full NTK {e:e}");
        let traced = lin.ntk(NtkForm::Traced).unwrap();
        let want = Matrix::from_fn(n1, n1, |i, j| {
            (0..o).map(|a| k.get(i * o + a, j * o + a)).sum::<f64>() / o as f64
        });
        let e = relative_error(traced.as_slice(), want.as_slice());
        assert!(e <= 1e-12, "case {case}: traced NTK {e:e}");
        let cross = lin.ntk_cross(x2.as_ref(), NtkForm::Full).unwrap();
        let e = relative_error(cross.as_slice(), k12.as_slice());
        assert!(e <= 1e-12, "case {case}: cross NTK {e:e}");
        let cross_t = lin.ntk_cross(x2.as_ref(), NtkForm::Traced).unwrap();
        let want = Matrix::from_fn(n1, n2, |i, j| {
            (0..o).map(|a| k12.get(i * o + a, j * o + a)).sum::<f64>() / o as f64
        });
        let e = relative_error(cross_t.as_slice(), want.as_slice());
        assert!(e <= 1e-12, "case {case}: traced cross NTK {e:e}");
    }
}

#[test]
fn matrix_free_faces_equal_their_dense_forms() {
    let lambda = 0.37;
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(400 + case as u64);
        let theta0: Vec<f64> = net.init(50 + case as u64);
        let x = matrix(&mut rng, 4, net.input_dim());
        let lin = Linearized::new(net, &theta0, x.as_ref()).unwrap();
        let j = jacobian_from_columns(&lin);
        let (m, p) = (lin.num_outputs(), lin.num_params());
        // Function space: (K + λI) u.
        let ntk = lin.ntk_operator(lambda).unwrap();
        assert_eq!(ntk.dim(), m);
        let u = uniform(&mut rng, m);
        let jtu = mv(j.as_ref().t(), &u);
        let want: Vec<f64> = mv(j.as_ref(), &jtu)
            .iter()
            .zip(&u)
            .map(|(a, b)| a + lambda * b)
            .collect();
        let mut got = vec![0.0; m];
        ntk.apply(&u, &mut got);
        let e = relative_error(&got, &want);
        assert!(e <= 1e-12, "case {case}: (K + λI)u {e:e}");
        // Parameter space: (JᵀJ + λI) v.
        let gn = lin.gauss_newton(lambda).unwrap();
        assert_eq!(gn.dim(), p);
        let v = uniform(&mut rng, p);
        let jv = mv(j.as_ref(), &v);
        let want: Vec<f64> = mv(j.as_ref().t(), &jv)
            .iter()
            .zip(&v)
            .map(|(a, b)| a + lambda * b)
            .collect();
        let mut got = vec![0.0; p];
        gn.apply(&v, &mut got);
        let e = relative_error(&got, &want);
        assert!(e <= 1e-12, "case {case}: (JᵀJ + λI)v {e:e}");
        // Their diagonals (Jacobi preconditioners).
        let dk: Vec<f64> = (0..m)
            .map(|r| j.row(r).iter().map(|x| x * x).sum::<f64>() + lambda)
            .collect();
        let e = relative_error(&ntk.diagonal().unwrap(), &dk);
        assert!(e <= 1e-12, "case {case}: diag(K) {e:e}");
        let dg: Vec<f64> = (0..p)
            .map(|c| (0..m).map(|r| j.get(r, c).powi(2)).sum::<f64>() + lambda)
            .collect();
        let e = relative_error(&gn.diagonal().unwrap(), &dg);
        assert!(e <= 1e-12, "case {case}: diag(JᵀJ) {e:e}");
    }
}

#[test]
fn one_validation_of_lambda_and_of_shapes() {
    let net = &nets()[0];
    let theta0: Vec<f64> = net.init(1);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let x = matrix(&mut rng, 3, net.input_dim());
    let lin = Linearized::new(net, &theta0, x.as_ref()).unwrap();
    for bad in [-1e-3, f64::NAN, f64::INFINITY] {
        let a = lin.ntk_operator(bad).err();
        let b = lin.gauss_newton(bad).err();
        assert!(
            matches!(a, Some(AdError::InvalidArgument { .. })),
            "{bad}: {a:?}"
        );
        assert_eq!(a, b, "the two faces validate λ the same way");
    }
    assert!(lin.ntk_operator(0.0).is_ok() && lin.gauss_newton(0.0).is_ok());
    let p = net.num_params();
    assert!(lin.jvp(&vec![0.0; p + 1]).is_err());
    assert!(lin.eval(&vec![0.0; p - 1]).is_err());
    let u = Matrix::zeros(2, net.output_dim());
    assert!(lin.vjp(u.as_ref()).is_err());
    let wide = Matrix::zeros(2, net.input_dim() + 1);
    assert!(lin.ntk_cross(wide.as_ref(), NtkForm::Full).is_err());
    assert!(Linearized::new(net, &theta0[1..], x.as_ref()).is_err());
    assert!(Linearized::new(net, &theta0, wide.as_ref()).is_err());
}
