//! Selected columns of J from the structured factors, without forming J.
//!
//! For a dense layer l with input a_{l−1} and output cotangents δ_l[i, a] = ∂f_a(x_i)/∂z_l
//! (the factors of the structured NTK, see [`super::ntk`]), the column of weight W_l[r, s] is
//!
//!   ∂f_a(x_i)/∂W_l[r, s] = s_l · δ_l[i, a, r] · a_{l−1}[i, s],
//!
//! and the column of bias b_l[r] is σ_b · δ_l[i, a, r]. One backward pass gives every δ_l, so
//! q columns cost q·n·o products: what a probe of single tangent features needs when J of a
//! wide network is far too big to hold (forward mode would cost one pass per column).

use super::net::Mlp;
use super::ntk::factors;
use crate::error::{AdError, Result};
use linalg::{MatRef, Matrix, Real};

/// Where parameter j sits: its layer, and (row, column) of W or the bias row.
fn locate(net: &Mlp, j: usize) -> Option<(usize, usize, Option<usize>)> {
    net.layers().iter().find_map(|l| {
        let w_end = l.w_offset + l.n_out * l.n_in;
        if (l.w_offset..w_end).contains(&j) {
            let k = j - l.w_offset;
            Some((l.index, k / l.n_in, Some(k % l.n_in)))
        } else if (l.b_offset..l.b_offset + l.n_out).contains(&j) {
            Some((l.index, j - l.b_offset, None))
        } else {
            None
        }
    })
}

/// Columns `cols` of J(X) at θ: an (n·o)×|cols| matrix whose column q is column `cols[q]` of
/// J, row i·o + a = ∂f_a(x_i)/∂θ_{cols[q]}. Errors on an index outside θ.
pub fn jacobian_columns<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: MatRef<'_, T>,
    cols: &[usize],
) -> Result<Matrix<T>> {
    net.check_inputs(theta, x)?;
    let places = cols
        .iter()
        .map(|&j| {
            locate(net, j).ok_or_else(|| AdError::InvalidArgument {
                what: format!(
                    "jacobian_columns: column {j} is outside θ ({} parameters)",
                    net.num_params()
                ),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let f = factors(net, theta, x)?;
    let o = net.output_dim();
    let rows = f.n() * o;
    let layers = net.layers();
    let mut out = Matrix::zeros(rows, cols.len());
    for (q, &(l, r, s)) in places.iter().enumerate() {
        let layer = &layers[l];
        let delta = &f.delta[l];
        let a = f.a(l);
        for row in 0..rows {
            let d = delta.get(row, r);
            let v = match s {
                Some(s) => T::from_f64(layer.w_scale) * d * a.get(row / o, s),
                None => T::from_f64(layer.b_scale) * d,
            };
            out.set(row, q, v);
        }
    }
    Ok(out)
}
