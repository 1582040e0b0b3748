//! Hessian-vector products of the squared-error loss, forward over reverse.
//!
//! For L(θ) = 1/(2n)·‖f(X; θ) − Y‖²_F the Hessian is
//!
//!   H = JᵀJ/n + Σ_{i,a} r_{ia}/n · ∇²f_a(x_i),   r = f − Y,
//!
//! the Gauss–Newton part plus a residual-weighted curvature part. [`mse_hvp`] computes H·v
//! exactly by differentiating the reverse pass along v (Pearlmutter, "Fast exact
//! multiplication by the Hessian", Neural Computation 6(1), 1994): a forward-mode pass gives
//! the tangents ż_l, ȧ_l of every layer, then the backward pass carries each cotangent with
//! its tangent, using the affine layer's tangent-of-VJP rules and, through φ,
//!
//!   z̄ = ā ⊙ φ'(z),   (z̄)˙ = (ā)˙ ⊙ φ'(z) + ā ⊙ φ''(z) ⊙ ż.
//!
//! [`gauss_newton_vp`] gives the first term alone, JᵀJv/n, for contrast: the Newton step on the
//! linearised model uses it, the Newton step on the network itself uses H.

use super::api::check_len;
use super::forward::{Forward, Seeds};
use super::net::Mlp;
use super::ops::mlp;
use super::reverse::NodeOp;
use crate::error::Result;
use crate::unary::Unary;
use linalg::{MatMut, MatRef, Matrix, Par, Real};

/// H·v for the loss L(θ) = 1/(2n)·‖f(X; θ) − Y‖²_F (the loss of
/// [`Mlp::mse_value_and_grad`]), by forward over reverse.
pub fn mse_hvp<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: MatRef<'_, T>,
    y: MatRef<'_, T>,
    v: &[T],
) -> Result<Vec<T>> {
    let n = net.check_inputs(theta, x)?;
    net.check_outputs(n, y, "targets Y")?;
    check_len("v", v.len(), net.num_params())?;
    let par = Par::Rayon;
    let tape = net.record(theta, x)?;
    let nodes = tape.nodes();
    // Forward mode along v, keeping the tangent of every node (node k ↔ kept[k − 1]).
    let seeds = MatRef::from_slice(v, 1, v.len(), v.len())?;
    let mut fw = Forward::replaying(&tape, Seeds::Dense(seeds), par).keep_tangents();
    let input = fw.input(&nodes[0].value);
    mlp(&mut fw, net, input)?;
    let kept = fw.into_kept();
    let tangent_of = |k: usize| -> Option<Matrix<T>> {
        (k > 0).then(|| kept[k - 1].to_dense(1, n, nodes[k].value.cols()))
    };
    let inv_n = T::one() / T::from_usize(n);
    let out = nodes.len() - 1;
    let f = &nodes[out].value;
    let f_dot = tangent_of(out).expect("output depends on θ");
    // Cotangent of the output and its tangent: ∂L/∂f = (f − Y)/n, along v: ḟ/n.
    let mut bar = Matrix::from_fn(n, f.cols(), |i, a| (f.get(i, a) - y.get(i, a)) * inv_n);
    let mut bar_dot = Matrix::from_fn(n, f.cols(), |i, a| f_dot.get(i, a) * inv_n);
    let mut hv = vec![T::zero(); net.num_params()];
    let mut node = out;
    loop {
        let nd = &nodes[node];
        match nd.op {
            NodeOp::Input => break,
            NodeOp::Affine(layer) => {
                let aff = layer.affine(theta)?;
                let a = &nodes[nd.input].value;
                let a_dot = tangent_of(nd.input);
                let w_dot = MatRef::from_slice(
                    &v[layer.w_offset..layer.w_offset + layer.n_out * layer.n_in],
                    layer.n_out,
                    layer.n_in,
                    layer.n_in,
                )?;
                let (w_part, rest) = hv[layer.w_offset..].split_at_mut(layer.n_out * layer.n_in);
                aff.vjp_weight_tangent(
                    bar.as_ref(),
                    bar_dot.as_ref(),
                    a.as_ref(),
                    a_dot.as_ref().map(|m| m.as_ref()),
                    T::zero(),
                    MatMut::from_slice(w_part, layer.n_out, layer.n_in, layer.n_in)?,
                    par,
                )?;
                aff.vjp_bias(bar_dot.as_ref(), &mut rest[..layer.n_out])?;
                if a_dot.is_none() {
                    break;
                }
                let mut a_bar = Matrix::zeros(n, layer.n_in);
                let mut a_bar_dot = Matrix::zeros(n, layer.n_in);
                aff.vjp_input(bar.as_ref(), T::zero(), a_bar.as_mut(), par)?;
                aff.vjp_input_tangent(
                    bar.as_ref(),
                    bar_dot.as_ref(),
                    w_dot,
                    a_bar_dot.as_mut(),
                    par,
                )?;
                bar = a_bar;
                bar_dot = a_bar_dot;
            }
            NodeOp::Unary(act) => {
                let z = &nodes[nd.input].value;
                let z_dot = tangent_of(nd.input).expect("activations follow an affine layer");
                let yv = &nd.value;
                for idx in 0..z.as_slice().len() {
                    let (zv, av) = (z.as_slice()[idx], yv.as_slice()[idx]);
                    let slope = act.slope(zv, av);
                    let curv = act.curvature(zv, av);
                    let b = bar.as_slice()[idx];
                    let bd = bar_dot.as_slice()[idx];
                    bar.as_mut_slice()[idx] = b * slope;
                    bar_dot.as_mut_slice()[idx] = bd * slope + b * curv * z_dot.as_slice()[idx];
                }
            }
        }
        node = nd.input;
    }
    Ok(hv)
}

/// The Gauss–Newton product JᵀJv/n for the same loss: the Hessian without its
/// residual-weighted curvature term (exact for the linearised model f₀ + J(θ − θ₀)).
pub fn gauss_newton_vp<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: MatRef<'_, T>,
    v: &[T],
) -> Result<Vec<T>> {
    let n = net.check_inputs(theta, x)?;
    check_len("v", v.len(), net.num_params())?;
    let tape = net.record(theta, x)?;
    let jv = net.jvp_on_tape(&tape, v, Par::Rayon)?;
    let mut g = net.vjp_on_tape(&tape, jv.as_ref(), Par::Rayon)?;
    let inv_n = T::one() / T::from_usize(n);
    for gi in &mut g {
        *gi *= inv_n;
    }
    Ok(g)
}
