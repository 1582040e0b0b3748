//! Hessian-vector products of the MSE loss (forward over reverse) against finite differences
//! of the gradient, symmetry ⟨u, Hv⟩ = ⟨Hu, v⟩, and the Gauss–Newton part.

use autodiff::mlp::hvp::{gauss_newton_vp, mse_hvp};
use autodiff::mlp::jacobian::jacobian_by_vjp;
use autodiff::mlp::{Mlp, Parameterization};
use autodiff::Activation;
mod common;
use common::{dot, random_matrix, rel_diff};

/// Smooth activations only: finite differences of the gradient across a ReLU kink are
/// meaningless (its curvature is a delta).
const SMOOTH: [Activation; 6] = [
    Activation::Identity,
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Softplus,
    Activation::Erf,
    Activation::Gelu,
];

#[test]
fn hvp_matches_finite_differences_of_the_gradient_and_is_symmetric() {
    let shapes: [(usize, &[usize], usize); 3] = [(3, &[5], 2), (2, &[4, 3], 3), (3, &[3, 4, 2], 2)];
    let mut case = 0u64;
    for &(d, hidden, o) in &shapes {
        for act in SMOOTH {
            for par in [Parameterization::Standard, Parameterization::Ntk] {
                case += 1;
                let net = Mlp::new(d, hidden, o, act, par, 1.5, 0.4).unwrap();
                let theta: Vec<f64> = net.init(case);
                let x = random_matrix(5, d, 100 + case);
                let y = random_matrix(5, o, 200 + case);
                let p = net.num_params();
                let v = random_matrix(1, p, 300 + case).into_vec();
                let u = random_matrix(1, p, 400 + case).into_vec();
                let hv = mse_hvp(&net, &theta, x.as_ref(), y.as_ref(), &v).unwrap();
                let hu = mse_hvp(&net, &theta, x.as_ref(), y.as_ref(), &u).unwrap();
                // Central difference of ∇L along v.
                let h = 1e-5;
                let grad_at = |t: f64| {
                    let th: Vec<f64> = theta.iter().zip(&v).map(|(a, b)| a + t * b).collect();
                    net.mse_value_and_grad(&th, x.as_ref(), y.as_ref())
                        .unwrap()
                        .1
                };
                let (gp, gm) = (grad_at(h), grad_at(-h));
                let fd: Vec<f64> = gp
                    .iter()
                    .zip(&gm)
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect();
                let e = rel_diff(&fd, &hv);
                assert!(e <= 1e-6, "{act} {par}: HVP vs differences {e:e}");
                let (a, b) = (dot(&u, &hv), dot(&hu, &v));
                let scale = (dot(&u, &u) * dot(&hv, &hv)).sqrt();
                assert!(
                    (a - b).abs() <= 1e-10 * scale,
                    "{act} {par}: ⟨u,Hv⟩ {a} vs ⟨Hu,v⟩ {b}"
                );
            }
        }
    }
}

#[test]
fn gauss_newton_part_and_zero_residual() {
    let net = Mlp::new(
        3,
        &[6, 4],
        2,
        Activation::Tanh,
        Parameterization::Ntk,
        1.3,
        0.2,
    )
    .unwrap();
    let theta: Vec<f64> = net.init(1);
    let n = 7;
    let x = random_matrix(n, 3, 2);
    let p = net.num_params();
    let v = random_matrix(1, p, 3).into_vec();
    let gn = gauss_newton_vp(&net, &theta, x.as_ref(), &v).unwrap();
    let jac = jacobian_by_vjp(&net, &theta, x.as_ref(), 8).unwrap();
    let jv: Vec<f64> = (0..jac.rows()).map(|r| dot(jac.row(r), &v)).collect();
    let want: Vec<f64> = (0..p)
        .map(|c| (0..jac.rows()).map(|r| jac.get(r, c) * jv[r]).sum::<f64>() / n as f64)
        .collect();
    assert!(rel_diff(&want, &gn) <= 1e-12);
    // With Y = f(X; θ) the residual vanishes and H·v is exactly the Gauss–Newton product;
    // with other targets it is not (the curvature term is present).
    let f = net.forward(&theta, x.as_ref()).unwrap();
    let hv0 = mse_hvp(&net, &theta, x.as_ref(), f.as_ref(), &v).unwrap();
    assert!(rel_diff(&gn, &hv0) <= 1e-12);
    let y = random_matrix(n, 2, 4);
    let hv = mse_hvp(&net, &theta, x.as_ref(), y.as_ref(), &v).unwrap();
    assert!(rel_diff(&gn, &hv) > 1e-3);
    assert!(mse_hvp(&net, &theta, x.as_ref(), y.as_ref(), &v[1..]).is_err());
    assert!(gauss_newton_vp(&net, &theta[1..], x.as_ref(), &v).is_err());
}
