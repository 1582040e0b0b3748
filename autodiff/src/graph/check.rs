//! Derivative checks, usable by any code that can be written as a function of a flat vector.
//!
//! Everything works on plain closures over `&[f64]`, so primitive rules, whole networks and
//! Jacobian builders are checked with the same tools:
//!
//! * [`check_jvp_fd`]: a JVP against the central difference
//!   (f(x + hv) − f(x − hv)) / 2h = Jv + O(h²)  (Nocedal & Wright, *Numerical Optimization*,
//!   2nd ed., §8.1); with h ≈ 10⁻⁵ the truncation and rounding errors are both ≈ 10⁻¹⁰
//!   relative for smooth f of moderate size;
//! * [`check_adjoint`]: a VJP against a JVP through the adjoint identity ⟨u, Jv⟩ = ⟨Jᵀu, v⟩,
//!   which holds to rounding error for exact rules (the "dot-product test");
//! * [`jacobian_fd`], [`jacobian_from_jvps`], [`jacobian_from_vjps`] and [`compare_jacobians`]:
//!   whole Jacobians by columns (finite differences or JVPs with eⱼ) or by rows (VJPs with eᵢ).
//!
//! [`FlatFunction`] adapts a function written against [`Graph`] to such closures, through
//! the three backends (evaluation, forward mode, reverse mode) in either precision.

use super::backend::{Graph, Var};
use super::dual::DualGraph;
use super::eval::Eval;
use super::prims::block::block_shape;
use super::tape::Tape;
use crate::error::{AdError, Result};
use crate::tensor::{numel, Tensor};
use linalg::{Matrix, Real};
use std::marker::PhantomData;

use linalg::vec::{dot, nrm2 as norm};

/// ‖a − b‖₂ / max(‖a‖₂, ‖b‖₂): 0 when both are zero, +∞ when the lengths differ or an entry
/// is not finite (so a NaN can never pass a tolerance check).
pub fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || a.iter().chain(b).any(|x| !x.is_finite()) {
        return f64::INFINITY;
    }
    let diff: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let scale = norm(a).max(norm(b));
    if scale == 0.0 {
        0.0
    } else {
        norm(&diff) / scale
    }
}

/// The central difference (f(x + hv) − f(x − hv)) / 2h ≈ J(x)·v.
pub fn fd_jvp<F>(f: F, x: &[f64], v: &[f64], h: f64) -> Vec<f64>
where
    F: Fn(&[f64]) -> Vec<f64>,
{
    let plus: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let minus: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
    let (fp, fm) = (f(&plus), f(&minus));
    fp.iter()
        .zip(&fm)
        .map(|(a, b)| (a - b) / (2.0 * h))
        .collect()
}

/// Relative error ‖Jv − FD‖ / max(‖Jv‖, ‖FD‖) between `jvp(x, v)` and the central difference
/// of `f` with step h (see [`fd_jvp`]).
pub fn check_jvp_fd<F, J>(f: F, jvp: J, x: &[f64], v: &[f64], h: f64) -> f64
where
    F: Fn(&[f64]) -> Vec<f64>,
    J: Fn(&[f64], &[f64]) -> Vec<f64>,
{
    relative_error(&jvp(x, v), &fd_jvp(f, x, v, h))
}

/// The adjoint-identity defect |⟨u, Jv⟩ − ⟨Jᵀu, v⟩| / (‖u‖‖Jv‖ + ‖Jᵀu‖‖v‖).
///
/// The denominator bounds both inner products by Cauchy–Schwarz, so the ratio is a relative
/// error that stays meaningful when ⟨u, Jv⟩ happens to be small; exact rules give a few ε,
/// a wrong rule gives O(1). `jvp(x, v)` = Jv and `vjp(x, u)` = Jᵀu. Returns +∞ on length
/// mismatches or non-finite values, and 0 when both sides are exactly zero.
pub fn check_adjoint<J, V>(jvp: J, vjp: V, x: &[f64], u: &[f64], v: &[f64]) -> f64
where
    J: Fn(&[f64], &[f64]) -> Vec<f64>,
    V: Fn(&[f64], &[f64]) -> Vec<f64>,
{
    let jv = jvp(x, v);
    let jtu = vjp(x, u);
    if jv.len() != u.len() || jtu.len() != v.len() {
        return f64::INFINITY;
    }
    let (lhs, rhs) = (dot(u, &jv), dot(&jtu, v));
    let scale = norm(u) * norm(&jv) + norm(&jtu) * norm(v);
    if !(lhs.is_finite() && rhs.is_finite() && scale.is_finite()) {
        return f64::INFINITY;
    }
    if scale == 0.0 {
        0.0
    } else {
        (lhs - rhs).abs() / scale
    }
}

/// The m × n Jacobian by central differences, column j = (f(x + h eⱼ) − f(x − h eⱼ)) / 2h.
pub fn jacobian_fd<F>(f: F, x: &[f64], h: f64) -> Matrix<f64>
where
    F: Fn(&[f64]) -> Vec<f64>,
{
    let n = x.len();
    let mut e = vec![0.0; n];
    let mut cols = Vec::with_capacity(n);
    for j in 0..n {
        e[j] = 1.0;
        cols.push(fd_jvp(&f, x, &e, h));
        e[j] = 0.0;
    }
    let m = cols.first().map_or_else(|| f(x).len(), Vec::len);
    Matrix::from_fn(m, n, |i, j| cols[j][i])
}

/// The m × n Jacobian by n JVPs, column j = J eⱼ.
pub fn jacobian_from_jvps<J>(jvp: J, x: &[f64], m: usize) -> Matrix<f64>
where
    J: Fn(&[f64], &[f64]) -> Vec<f64>,
{
    let n = x.len();
    let mut out = Matrix::zeros(m, n);
    let mut e = vec![0.0; n];
    for j in 0..n {
        e[j] = 1.0;
        for (i, v) in jvp(x, &e).into_iter().enumerate().take(m) {
            out.set(i, j, v);
        }
        e[j] = 0.0;
    }
    out
}

/// The m × n Jacobian by m VJPs, row i = (Jᵀ eᵢ)ᵀ.
pub fn jacobian_from_vjps<V>(vjp: V, x: &[f64], m: usize) -> Matrix<f64>
where
    V: Fn(&[f64], &[f64]) -> Vec<f64>,
{
    let n = x.len();
    let mut out = Matrix::zeros(m, n);
    let mut e = vec![0.0; m];
    for i in 0..m {
        e[i] = 1.0;
        out.row_mut(i).copy_from_slice(&vjp(x, &e)[..n]);
        e[i] = 0.0;
    }
    out
}

/// ‖A − B‖_F / max(‖A‖_F, ‖B‖_F) (0 when both are zero); errors on a shape mismatch.
pub fn compare_jacobians(a: &Matrix<f64>, b: &Matrix<f64>) -> Result<f64> {
    if a.shape() != b.shape() {
        return Err(AdError::Shape {
            what: format!("Jacobians {:?} and {:?}", a.shape(), b.shape()),
        });
    }
    Ok(relative_error(a.as_slice(), b.as_slice()))
}

/// A function of several tensors, written once against [`Graph`], seen as a map between
/// flat f64 vectors: the inputs are concatenated in order (each row-major), the output is
/// flattened. Evaluation runs in precision `T`, so the same function checks f32 and f64.
pub struct FlatFunction<T, F> {
    f: F,
    shapes: Vec<Vec<usize>>,
    _precision: PhantomData<T>,
}

impl<T: Real, F> FlatFunction<T, F>
where
    F: Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var>,
{
    /// Wraps `f`, whose inputs have the given shapes.
    pub fn new(f: F, shapes: &[Vec<usize>]) -> Self {
        FlatFunction {
            f,
            shapes: shapes.to_vec(),
            _precision: PhantomData,
        }
    }

    /// Total number of input entries n.
    pub fn input_len(&self) -> usize {
        self.shapes.iter().map(|s| numel(s)).sum()
    }

    /// Cuts a flat vector into the input tensors; with `block = Some(k)` it holds k stacked
    /// directions and each piece is a block [k, shape…].
    fn split(&self, x: &[f64], block: Option<usize>) -> Result<Vec<Tensor<T>>> {
        let n = self.input_len();
        let k = block.unwrap_or(1);
        if x.len() != n * k {
            return Err(AdError::Shape {
                what: format!("flat input of {} entries, expected {}", x.len(), n * k),
            });
        }
        let mut out = Vec::with_capacity(self.shapes.len());
        let mut start = 0;
        for s in &self.shapes {
            let len = numel(s);
            let mut data = Vec::with_capacity(k * len);
            for r in 0..k {
                data.extend(
                    x[r * n + start..r * n + start + len]
                        .iter()
                        .map(|&v| T::from_f64(v)),
                );
            }
            let shape = match block {
                Some(k) => block_shape(s, k),
                None => s.clone(),
            };
            out.push(Tensor::from_vec(&shape, data)?);
            start += len;
        }
        Ok(out)
    }

    /// f(x), flattened.
    pub fn eval(&self, x: &[f64]) -> Result<Vec<f64>> {
        let mut g = Eval::new();
        let xs: Vec<Var> = self
            .split(x, None)?
            .into_iter()
            .map(|t| g.constant(t))
            .collect();
        let y = (self.f)(&mut g, &xs)?;
        Ok(g.take(y)?.to_f64_vec())
    }

    /// Jv by forward mode (one direction).
    pub fn jvp(&self, x: &[f64], v: &[f64]) -> Result<Vec<f64>> {
        Ok(self.jvp_block(x, &[v.to_vec()])?.remove(0))
    }

    /// J vᵣ for k directions in one forward pass.
    pub fn jvp_block(&self, x: &[f64], vs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let k = vs.len();
        let flat: Vec<f64> = vs.concat();
        let mut g = DualGraph::new(k);
        let xs = self.split(x, None)?;
        let ts = self.split(&flat, Some(k))?;
        let vars = xs
            .into_iter()
            .zip(ts)
            .map(|(x, t)| g.input(x, t))
            .collect::<Result<Vec<_>>>()?;
        let y = (self.f)(&mut g, &vars)?;
        let t = g.tangents(y)?.to_f64_vec();
        let m = t.len() / k.max(1);
        Ok((0..k).map(|r| t[r * m..(r + 1) * m].to_vec()).collect())
    }

    /// Jᵀu by reverse mode (one cotangent).
    pub fn vjp(&self, x: &[f64], u: &[f64]) -> Result<Vec<f64>> {
        Ok(self.vjp_block(x, &[u.to_vec()])?.remove(0))
    }

    /// Jᵀuᵣ for k cotangents in one backward sweep.
    pub fn vjp_block(&self, x: &[f64], us: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let k = us.len();
        let mut tape = Tape::new();
        let xs: Vec<Var> = self
            .split(x, None)?
            .into_iter()
            .map(|t| tape.leaf(t))
            .collect();
        let y = (self.f)(&mut tape, &xs)?;
        let shape = block_shape(tape.value(y)?.shape(), k);
        let cot = Tensor::<T>::from_f64(&shape, &us.concat())?;
        let grads = tape.vjp_block(y, &cot)?;
        let per: Vec<Vec<f64>> = xs
            .iter()
            .map(|&v| grads.wrt(v).map(|t| t.to_f64_vec()))
            .collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(k);
        for r in 0..k {
            let mut row = Vec::with_capacity(self.input_len());
            for (p, s) in per.iter().zip(&self.shapes) {
                let len = numel(s);
                row.extend_from_slice(&p[r * len..(r + 1) * len]);
            }
            out.push(row);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_detect_a_wrong_derivative() {
        let f = |x: &[f64]| vec![x[0] * x[0], x[0] * x[1]];
        let good = |x: &[f64], v: &[f64]| vec![2.0 * x[0] * v[0], v[0] * x[1] + x[0] * v[1]];
        let bad = |x: &[f64], v: &[f64]| vec![x[0] * v[0], v[0] * x[1] + x[0] * v[1]];
        let vjp = |x: &[f64], u: &[f64]| vec![2.0 * x[0] * u[0] + x[1] * u[1], x[0] * u[1]];
        let (x, v, u) = ([0.7, -1.3], [0.4, 0.9], [1.1, -0.2]);
        assert!(check_jvp_fd(f, good, &x, &v, 1e-5) < 1e-9);
        assert!(check_jvp_fd(f, bad, &x, &v, 1e-5) > 1e-2);
        assert!(check_adjoint(good, vjp, &x, &u, &v) < 1e-15);
        assert!(check_adjoint(bad, vjp, &x, &u, &v) > 1e-2);
        let jf = jacobian_fd(f, &x, 1e-5);
        let jj = jacobian_from_jvps(good, &x, 2);
        let jv = jacobian_from_vjps(vjp, &x, 2);
        assert!(compare_jacobians(&jf, &jj).unwrap() < 1e-9);
        assert!(compare_jacobians(&jj, &jv).unwrap() < 1e-15);
        assert!(relative_error(&[f64::NAN], &[f64::NAN]).is_infinite());
    }
}
