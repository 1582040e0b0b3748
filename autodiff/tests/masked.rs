//! The network and its linearisation restricted to a mask: J_S = J·diag(m).
//!
//! * J_S v against central differences of the subnetwork along m ⊙ v;
//! * the adjoint identity ⟨u, J_S v⟩ = ⟨J_Sᵀu, v⟩ to 1e-12, J_Sᵀu exactly 0 off the support;
//! * the kept-column Jacobian (by JVP and by VJP) equals the dense Jacobian's kept columns;
//! * K_S (full, traced, cross; several tiles, X₂ = X₁ and not) equals J_S J_Sᵀ from the
//!   explicit kept Jacobian to 1e-10, including rows of W with nothing kept;
//! * the matrix-free faces equal J_S J_Sᵀ + λI and J_SᵀJ_S + λI, diagonals included;
//! * a dense mask reproduces the unmasked model (bit for bit in `Linearized`);
//! * a mask laid out for another network is an error, never a panic.

use autodiff::graph::check::{check_adjoint, fd_jvp, relative_error};
use autodiff::mlp::{
    jacobian_by_vjp, jacobian_masked_by_jvp, jacobian_masked_by_vjp, kept_columns,
    ntk_by_contraction, ntk_cross_by_contraction, ntk_masked, ntk_structured, ntk_traced,
    Linearized, Mask, Mlp, NtkForm, Parameterization,
};
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

/// Small networks: several depths and output counts, smooth activations, both
/// parameterizations.
fn nets() -> Vec<Mlp> {
    let cases: [(usize, &[usize], usize, Activation, Parameterization); 4] = [
        (3, &[5], 2, Activation::Tanh, Parameterization::Ntk),
        (2, &[4, 3], 3, Activation::Gelu, Parameterization::Standard),
        (4, &[6], 1, Activation::Softplus, Parameterization::Ntk),
        (2, &[], 3, Activation::Identity, Parameterization::Ntk),
    ];
    cases
        .iter()
        .map(|&(d, hidden, o, act, par)| Mlp::new(d, hidden, o, act, par, 1.4, 0.3).unwrap())
        .collect()
}

/// Masks of several kinds: half of every layer by magnitude; the output layer's weights all
/// pruned; row 0 of W1 and every other entry of W1 pruned (rows with nothing kept); random.
fn masks(net: &Mlp, theta: &[f64]) -> Vec<Mask> {
    let layout = net.layout();
    let l = layout.num_layers();
    let dense = Mask::dense(layout);
    let half = dense.prune_by_magnitude(theta, &vec![0.5; l]).unwrap();
    let mut fractions = vec![0.3; l];
    fractions[l - 1] = 1.0;
    let top = dense.prune_by_magnitude(theta, &fractions).unwrap();
    let mut keep = vec![true; layout.total()];
    let w = layout.weight(0);
    keep[w.offset..w.offset + w.shape[1]].fill(false);
    for i in (w.offset..w.offset + w.len).step_by(2) {
        keep[i] = false;
    }
    let rows = Mask::from_keep(layout, keep).unwrap();
    let random = half.random_like(7);
    vec![half, top, rows, random]
}

fn masked(theta: &[f64], mask: &Mask) -> Vec<f64> {
    let mut t = theta.to_vec();
    mask.apply(&mut t).unwrap();
    t
}

/// J_S = J·diag(m) with all p columns (pruned ones zero), from the dense J at θ.
fn jacobian_s(net: &Mlp, theta: &[f64], x: &Matrix<f64>, mask: &Mask) -> Matrix<f64> {
    let mut j = jacobian_by_vjp(net, theta, x.as_ref(), 3).unwrap();
    let p = net.num_params();
    for r in 0..j.rows() {
        mask.apply(&mut j.row_mut(r)[..p]).unwrap();
    }
    j
}

/// A x.
fn mv(a: MatRef<'_, f64>, x: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; a.rows()];
    linalg::matvec(1.0, a, x, 0.0, &mut y).unwrap();
    y
}

/// (1/o)·Σ_a K[(i, a), (j, a)].
fn trace_outputs(k: &Matrix<f64>, o: usize) -> Matrix<f64> {
    Matrix::from_fn(k.rows() / o, k.cols() / o, |i, j| {
        (0..o).map(|a| k.get(i * o + a, j * o + a)).sum::<f64>() / o as f64
    })
}

fn bits(a: &[f64]) -> Vec<u64> {
    a.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn masked_jvp_matches_central_differences_along_the_masked_direction() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(case as u64);
        let theta: Vec<f64> = net.init(10 + case as u64);
        let x = matrix(&mut rng, 4, net.input_dim());
        let v = uniform(&mut rng, net.num_params());
        for (k, mask) in masks(net, &theta).iter().enumerate() {
            let (_, jv) = net.jvp_masked(&theta, x.as_ref(), mask, &v).unwrap();
            // d/dt f(X; m ⊙ (θ + t v)) at t = 0, θ unmasked: the mask acts on both.
            let f = |t: &[f64]| {
                let out = net.forward_masked(t, x.as_ref(), mask).unwrap();
                out.as_slice().to_vec()
            };
            let fd = fd_jvp(f, &theta, &v, 1e-5);
            let e = relative_error(jv.as_slice(), &fd);
            assert!(e <= 1e-7, "case {case} mask {k}: J_S v vs FD {e:e}");
            // The same derivative as the dense network's along m ⊙ v from m ⊙ θ …
            let (tm, vm) = (masked(&theta, mask), masked(&v, mask));
            let f = |t: &[f64]| net.forward(t, x.as_ref()).unwrap().as_slice().to_vec();
            let e = relative_error(jv.as_slice(), &fd_jvp(f, &tm, &vm, 1e-5));
            assert!(e <= 1e-7, "case {case} mask {k}: along m ⊙ v {e:e}");
            // … and the masked linearisation's, but not the dense J v (the test can fail).
            let lin = Linearized::new(net, &tm, x.as_ref()).unwrap();
            let dense_jv = lin.jvp(&v).unwrap();
            let lin = lin.with_mask(mask.clone()).unwrap();
            assert_eq!(bits(lin.jvp(&v).unwrap().as_slice()), bits(jv.as_slice()));
            let e = relative_error(dense_jv.as_slice(), jv.as_slice());
            assert!(
                e > 1e-3,
                "case {case} mask {k}: the mask changed nothing ({e:e})"
            );
        }
    }
}

#[test]
fn masked_jvp_and_vjp_satisfy_the_adjoint_identity() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + case as u64);
        let theta: Vec<f64> = net.init(20 + case as u64);
        let (n, o, p) = (5, net.output_dim(), net.num_params());
        let x = matrix(&mut rng, n, net.input_dim());
        let (u, v) = (uniform(&mut rng, n * o), uniform(&mut rng, p));
        for (k, mask) in masks(net, &theta).iter().enumerate() {
            let jvp = |t: &[f64], v: &[f64]| {
                let (_, jv) = net.jvp_masked(t, x.as_ref(), mask, v).unwrap();
                jv.into_vec()
            };
            let vjp = |t: &[f64], u: &[f64]| {
                let u = MatRef::from_slice(u, n, o, o).unwrap();
                net.vjp_masked(t, x.as_ref(), mask, u).unwrap().1
            };
            let e = check_adjoint(jvp, vjp, &theta, &u, &v);
            assert!(e <= 1e-12, "case {case} mask {k}: free functions {e:e}");
            let g = vjp(&theta, &u);
            let off: Vec<f64> = (0..p).filter(|&j| !mask.keep()[j]).map(|j| g[j]).collect();
            assert!(off.iter().all(|&z| z == 0.0), "case {case}: J_Sᵀu off S");
            let tm = masked(&theta, mask);
            let lin = Linearized::new(net, &tm, x.as_ref())
                .unwrap()
                .with_mask(mask.clone())
                .unwrap();
            let jvp = |_: &[f64], v: &[f64]| lin.jvp(v).unwrap().into_vec();
            let vjp =
                |_: &[f64], u: &[f64]| lin.vjp(MatRef::from_slice(u, n, o, o).unwrap()).unwrap();
            let e = check_adjoint(jvp, vjp, &tm, &u, &v);
            assert!(e <= 1e-12, "case {case} mask {k}: Linearized {e:e}");
            assert_eq!(bits(&vjp(&tm, &u)), bits(&g), "case {case}: same J_Sᵀu");
        }
    }
}

#[test]
fn kept_column_jacobian_equals_the_dense_columns() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(200 + case as u64);
        let theta: Vec<f64> = net.init(30 + case as u64);
        let x = matrix(&mut rng, 5, net.input_dim());
        for (k, mask) in masks(net, &theta).iter().enumerate() {
            let want_cols: Vec<usize> = (0..net.num_params()).filter(|&j| mask.keep()[j]).collect();
            assert_eq!(kept_columns(mask), want_cols);
            let dense = jacobian_by_vjp(net, &masked(&theta, mask), x.as_ref(), 4).unwrap();
            for (name, kj) in [
                (
                    "jvp",
                    jacobian_masked_by_jvp(net, &theta, x.as_ref(), mask, 5),
                ),
                (
                    "vjp",
                    jacobian_masked_by_vjp(net, &theta, x.as_ref(), mask, 3),
                ),
            ] {
                let kj = kj.unwrap();
                assert_eq!(kj.columns, want_cols, "case {case} mask {k} {name}");
                assert_eq!(kj.matrix.shape(), (dense.rows(), want_cols.len()));
                let want = Matrix::from_fn(dense.rows(), want_cols.len(), |r, q| {
                    dense.get(r, want_cols[q])
                });
                let e = relative_error(kj.matrix.as_slice(), want.as_slice());
                assert!(e <= 1e-12, "case {case} mask {k} {name}: {e:e}");
            }
        }
    }
}

/// Checks every form of K_S of one network, mask and pair of batches against the explicit
/// kept-column Jacobians.
fn check_kernels(net: &Mlp, theta: &[f64], x1: &Matrix<f64>, x2: &Matrix<f64>, mask: &Mask) {
    let o = net.output_dim();
    let j1 = jacobian_masked_by_vjp(net, theta, x1.as_ref(), mask, 8).unwrap();
    let j2 = jacobian_masked_by_vjp(net, theta, x2.as_ref(), mask, 8).unwrap();
    let k11 = ntk_by_contraction(j1.matrix.as_ref()).unwrap();
    let k12 = ntk_cross_by_contraction(j1.matrix.as_ref(), j2.matrix.as_ref()).unwrap();
    let tm = masked(theta, mask);
    let lin = Linearized::new(net, &tm, x1.as_ref())
        .unwrap()
        .with_mask(mask.clone())
        .unwrap();
    for form in [NtkForm::Full, NtkForm::Traced] {
        let (w11, w12) = match form {
            NtkForm::Full => (k11.clone(), k12.clone()),
            NtkForm::Traced => (trace_outputs(&k11, o), trace_outputs(&k12, o)),
        };
        let got = [
            ("Linearized::ntk", lin.ntk(form).unwrap(), &w11),
            (
                "ntk_masked",
                ntk_masked(net, theta, x1.as_ref(), None, mask, form).unwrap(),
                &w11,
            ),
            (
                "Linearized::ntk_cross",
                lin.ntk_cross(x2.as_ref(), form).unwrap(),
                &w12,
            ),
            (
                "ntk_masked cross",
                ntk_masked(net, theta, x1.as_ref(), Some(x2.as_ref()), mask, form).unwrap(),
                &w12,
            ),
        ];
        for (name, k, want) in got {
            assert_eq!(k.shape(), want.shape(), "{name} {form:?}");
            let e = relative_error(k.as_slice(), want.as_slice());
            assert!(e <= 1e-10, "{name} {form:?}: {e:e}");
        }
        let k = lin.ntk(form).unwrap();
        assert!(k == k.transpose(), "K_S({form:?}) is exactly symmetric");
    }
}

#[test]
fn masked_ntk_equals_the_gram_of_the_kept_jacobian() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(300 + case as u64);
        let theta: Vec<f64> = net.init(40 + case as u64);
        let x1 = matrix(&mut rng, 6, net.input_dim());
        let x2 = matrix(&mut rng, 3, net.input_dim());
        for mask in masks(net, &theta) {
            check_kernels(net, &theta, &x1, &x2, &mask);
        }
    }
}

#[test]
fn masked_ntk_over_several_tiles() {
    // Sample tiles are 256/q samples (at least 8, at most 128): o = 40 gives tiles of 8
    // samples for the full kernel, and 150 samples give two tiles when q = 1.
    let cases = [(40, 20, 9), (1, 150, 140)];
    for (o, n1, n2) in cases {
        let net = Mlp::new(
            2,
            &[3],
            o,
            Activation::Tanh,
            Parameterization::Ntk,
            1.3,
            0.2,
        )
        .unwrap();
        let theta: Vec<f64> = net.init(5);
        let mut rng = ChaCha8Rng::seed_from_u64(o as u64);
        let x1 = matrix(&mut rng, n1, 2);
        let x2 = matrix(&mut rng, n2, 2);
        let mask = &masks(&net, &theta)[2];
        check_kernels(&net, &theta, &x1, &x2, mask);
    }
}

#[test]
fn masked_operators_equal_their_dense_forms() {
    let lambda = 0.37;
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(400 + case as u64);
        let theta: Vec<f64> = net.init(50 + case as u64);
        let x = matrix(&mut rng, 4, net.input_dim());
        for (k, mask) in masks(net, &theta).iter().enumerate() {
            let tm = masked(&theta, mask);
            let js = jacobian_s(net, &tm, &x, mask);
            let lin = Linearized::new(net, &tm, x.as_ref())
                .unwrap()
                .with_mask(mask.clone())
                .unwrap();
            let (m, p) = (lin.num_outputs(), lin.num_params());
            let ntk = lin.ntk_operator(lambda).unwrap();
            assert_eq!(ntk.dim(), m);
            let u = uniform(&mut rng, m);
            let want: Vec<f64> = mv(js.as_ref(), &mv(js.as_ref().t(), &u))
                .iter()
                .zip(&u)
                .map(|(a, b)| a + lambda * b)
                .collect();
            let mut got = vec![0.0; m];
            ntk.apply(&u, &mut got);
            let e = relative_error(&got, &want);
            assert!(e <= 1e-12, "case {case} mask {k}: (K_S + λI)u {e:e}");
            let gn = lin.gauss_newton(lambda).unwrap();
            assert_eq!(gn.dim(), p);
            let v = uniform(&mut rng, p);
            let want: Vec<f64> = mv(js.as_ref().t(), &mv(js.as_ref(), &v))
                .iter()
                .zip(&v)
                .map(|(a, b)| a + lambda * b)
                .collect();
            let mut got = vec![0.0; p];
            gn.apply(&v, &mut got);
            let e = relative_error(&got, &want);
            assert!(e <= 1e-12, "case {case} mask {k}: (J_SᵀJ_S + λI)v {e:e}");
            let dk: Vec<f64> = (0..m)
                .map(|r| js.row(r).iter().map(|x| x * x).sum::<f64>() + lambda)
                .collect();
            let e = relative_error(&ntk.diagonal().unwrap(), &dk);
            assert!(e <= 1e-12, "case {case} mask {k}: diag(K_S) {e:e}");
            let dg: Vec<f64> = (0..p)
                .map(|c| (0..m).map(|r| js.get(r, c).powi(2)).sum::<f64>() + lambda)
                .collect();
            let e = relative_error(&gn.diagonal().unwrap(), &dg);
            assert!(e <= 1e-12, "case {case} mask {k}: diag(J_SᵀJ_S) {e:e}");
        }
    }
}

#[test]
fn f_lin_with_a_mask_ignores_pruned_entries_of_delta() {
    let net = &nets()[1];
    let theta: Vec<f64> = net.init(3);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let x = matrix(&mut rng, 5, net.input_dim());
    let mask = &masks(net, &theta)[0];
    let tm = masked(&theta, mask);
    let lin = Linearized::new(net, &tm, x.as_ref())
        .unwrap()
        .with_mask(mask.clone())
        .unwrap();
    assert_eq!(lin.mask(), Some(mask));
    let delta = uniform(&mut rng, net.num_params());
    let f = lin.eval(&delta).unwrap();
    assert_eq!(
        bits(f.as_slice()),
        bits(lin.eval(&masked(&delta, mask)).unwrap().as_slice())
    );
    let js = jacobian_s(net, &tm, &x, mask);
    let want: Vec<f64> = mv(js.as_ref(), &delta)
        .iter()
        .zip(lin.output0().as_slice())
        .map(|(a, b)| a + b)
        .collect();
    let e = relative_error(f.as_slice(), &want);
    assert!(e <= 1e-12, "f_lin(δ) = f(θ₀) + J_S δ: {e:e}");
}

#[test]
fn a_dense_mask_reproduces_the_unmasked_model() {
    for (case, net) in nets().iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(500 + case as u64);
        let theta: Vec<f64> = net.init(60 + case as u64);
        let x = matrix(&mut rng, 5, net.input_dim());
        let x2 = matrix(&mut rng, 3, net.input_dim());
        let dense = Mask::dense(net.layout());
        let plain = Linearized::new(net, &theta, x.as_ref()).unwrap();
        let lin = plain.clone().with_mask(dense.clone()).unwrap();
        let (n, o, p) = (5, net.output_dim(), net.num_params());
        let (u, v) = (uniform(&mut rng, n * o), uniform(&mut rng, p));
        let um = MatRef::from_slice(&u, n, o, o).unwrap();
        assert_eq!(
            bits(lin.jvp(&v).unwrap().as_slice()),
            bits(plain.jvp(&v).unwrap().as_slice())
        );
        assert_eq!(bits(&lin.vjp(um).unwrap()), bits(&plain.vjp(um).unwrap()));
        for form in [NtkForm::Full, NtkForm::Traced] {
            let (a, b) = (lin.ntk(form).unwrap(), plain.ntk(form).unwrap());
            assert_eq!(
                bits(a.as_slice()),
                bits(b.as_slice()),
                "case {case} {form:?}"
            );
            let a = lin.ntk_cross(x2.as_ref(), form).unwrap();
            let b = plain.ntk_cross(x2.as_ref(), form).unwrap();
            assert_eq!(
                bits(a.as_slice()),
                bits(b.as_slice()),
                "case {case} cross {form:?}"
            );
        }
        let (mut a, mut b) = (vec![0.0; p], vec![0.0; p]);
        lin.gauss_newton(0.1).unwrap().apply(&v, &mut a);
        plain.gauss_newton(0.1).unwrap().apply(&v, &mut b);
        assert_eq!(bits(&a), bits(&b));
        let (mut a, mut b) = (vec![0.0; n * o], vec![0.0; n * o]);
        lin.ntk_operator(0.1).unwrap().apply(&u, &mut a);
        plain.ntk_operator(0.1).unwrap().apply(&u, &mut b);
        assert_eq!(bits(&a), bits(&b));
        // The masked kernel's own route (no short cut in the free function) with m = 1.
        for (form, want) in [
            (
                NtkForm::Full,
                ntk_structured(net, &theta, x.as_ref(), Some(x2.as_ref())),
            ),
            (NtkForm::Traced, ntk_traced(net, &theta, x.as_ref(), None)),
        ] {
            let x2 = (form == NtkForm::Full).then(|| x2.as_ref());
            let got = ntk_masked(net, &theta, x.as_ref(), x2, &dense, form).unwrap();
            let e = relative_error(got.as_slice(), want.unwrap().as_slice());
            assert!(
                e <= 1e-12,
                "case {case} {form:?}: masked route with m = 1 {e:e}"
            );
        }
        let (f, jv) = net.jvp_masked(&theta, x.as_ref(), &dense, &v).unwrap();
        let (f0, jv0) = net.jvp(&theta, x.as_ref(), &v).unwrap();
        assert_eq!(bits(jv.as_slice()), bits(jv0.as_slice()));
        assert_eq!(bits(f.as_slice()), bits(f0.as_slice()));
    }
}

#[test]
fn a_mask_of_another_layout_is_an_error() {
    let net = Mlp::new(
        2,
        &[3],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    // Same p = 13 as 2-3-1, other widths: a silent misreading would be possible.
    let other = Mlp::new(
        1,
        &[4],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    assert_eq!(net.num_params(), other.num_params());
    let bigger = Mlp::new(
        2,
        &[4],
        1,
        Activation::Tanh,
        Parameterization::Ntk,
        1.0,
        0.1,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(1);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let x = matrix(&mut rng, 3, 2);
    let u = Matrix::zeros(3, 1);
    let v = vec![0.0; net.num_params()];
    for wrong in [Mask::dense(other.layout()), Mask::dense(bigger.layout())] {
        let shape = |r: Result<(), AdError>, what: &str| {
            let e = r.expect_err(what);
            assert!(matches!(e, AdError::Shape { .. }), "{what}: {e:?}");
            assert!(e.to_string().contains("W1"), "{what}: {e}");
        };
        let lin = Linearized::new(&net, &theta, x.as_ref()).unwrap();
        shape(lin.with_mask(wrong.clone()).map(|_| ()), "with_mask");
        shape(
            net.forward_masked(&theta, x.as_ref(), &wrong).map(|_| ()),
            "forward",
        );
        shape(
            net.jvp_masked(&theta, x.as_ref(), &wrong, &v).map(|_| ()),
            "jvp",
        );
        shape(
            net.vjp_masked(&theta, x.as_ref(), &wrong, u.as_ref())
                .map(|_| ()),
            "vjp",
        );
        shape(
            jacobian_masked_by_jvp(&net, &theta, x.as_ref(), &wrong, 2).map(|_| ()),
            "J jvp",
        );
        shape(
            jacobian_masked_by_vjp(&net, &theta, x.as_ref(), &wrong, 2).map(|_| ()),
            "J vjp",
        );
        let k = ntk_masked(&net, &theta, x.as_ref(), None, &wrong, NtkForm::Full);
        shape(k.map(|_| ()), "ntk_masked");
    }
    // Wrong lengths are errors too.
    let mask = Mask::dense(net.layout());
    assert!(net.jvp_masked(&theta, x.as_ref(), &mask, &v[1..]).is_err());
    assert!(net.forward_masked(&theta[1..], x.as_ref(), &mask).is_err());
    let lin = Linearized::new(&net, &theta, x.as_ref())
        .unwrap()
        .with_mask(mask)
        .unwrap();
    assert!(lin.jvp(&v[1..]).is_err());
    let mut y = vec![0.0; 2];
    assert!(lin
        .gauss_newton(0.0)
        .unwrap()
        .try_apply(&v, &mut y)
        .is_err());
}
