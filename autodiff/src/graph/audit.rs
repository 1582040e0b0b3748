//! One primitive's derivative certificate at one random point, and the catalogue of every
//! primitive at a fixed small shape: the figures that the primitive tests assert on and that
//! `tangent selfcheck` prints.
//!
//! For a primitive y = f(x) at a seeded x, with random directions v and cotangents u:
//!
//! * `fd`: ‖Jv − FD‖ / max(‖Jv‖, ‖FD‖) against the central difference with h = 1e-5
//!   (Nocedal & Wright, *Numerical Optimization*, 2nd ed., §8.1: truncation and rounding are
//!   both ≈ 1e-10, so [`FD_TOL`] = 1e-6 leaves four digits of headroom);
//! * `adjoint`: the dot-product test |⟨u, Jv⟩ − ⟨Jᵀu, v⟩| / (‖u‖‖Jv‖ + ‖Jᵀu‖‖v‖), a few ε for
//!   exact rules ([`ADJOINT_TOL`] = 1e-10);
//! * `modes`: the whole Jacobian built by one block JVP against one block VJP (transposed)
//!   and both against one direction at a time ([`MODES_TOL`] = 1e-12: the same products
//!   summed in other orders);
//! * `f32`: the f32 value, JVP and VJP against f64 at the same (rounded) point, normwise
//!   against ‖J‖_F‖v‖ (Cauchy–Schwarz bounds |Jv| by it, so cancelling sums are judged by the
//!   size of their terms); [`F32_TOL`] = 2e-5 ≈ 170 ε_f32.

use super::check::{check_adjoint, check_jvp_fd, compare_jacobians, relative_error, FlatFunction};
use super::prims::*;
use super::{Graph, Prim, Var};
use crate::unary::{Exp, Log, Softsign, Square};
use crate::{Activation, Result};
use linalg::random::SplitMix64;
use linalg::{Matrix, Real};
use std::sync::Arc;

/// Threshold for [`PrimitiveFigures::fd`].
pub const FD_TOL: f64 = 1e-6;
/// Threshold for [`PrimitiveFigures::adjoint`].
pub const ADJOINT_TOL: f64 = 1e-10;
/// Threshold for [`PrimitiveFigures::modes`].
pub const MODES_TOL: f64 = 1e-12;
/// Threshold for [`PrimitiveFigures::f32`].
pub const F32_TOL: f64 = 2e-5;

/// How the entries of an operand are drawn, so that kinks and domain edges are avoided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Uniform in [−2, 2].
    Any,
    /// ±[0.2, 2]: away from kinks at 0 and from zero divisors.
    AwayFromZero,
    /// [0.2, 3]: inside log's domain.
    Positive,
}

/// A primitive in both precisions with the shapes and value ranges of its operands.
#[derive(Clone)]
pub struct PrimitiveCase {
    /// The primitive's Debug form, e.g. `Elementwise(Tanh)`.
    pub name: String,
    p64: Prim<f64>,
    p32: Prim<f32>,
    /// Shape and value range of each operand.
    pub operands: Vec<(Vec<usize>, Values)>,
}

impl PrimitiveCase {
    /// The case for `prim` (any primitive: every one serves f32 and f64).
    pub fn new<P>(prim: &P, operands: &[(Vec<usize>, Values)]) -> Self
    where
        P: Primitive<f32> + Primitive<f64> + Clone + 'static,
    {
        PrimitiveCase {
            name: format!("{:?}", prim as &dyn Primitive<f64>),
            p64: Arc::new(prim.clone()),
            p32: Arc::new(prim.clone()),
            operands: operands.to_vec(),
        }
    }
}

/// The four figures of one case (see the module doc); each is +∞ when a value is not finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrimitiveFigures {
    /// JVP against central differences.
    pub fd: f64,
    /// The adjoint identity defect.
    pub adjoint: f64,
    /// Block JVP vs block VJP vs single directions, the worst.
    pub modes: f64,
    /// f32 against f64 (value, JVP, VJP), the worst.
    pub f32: f64,
}

impl PrimitiveFigures {
    /// Whether every figure is within its threshold.
    pub fn passes(&self) -> bool {
        self.fd <= FD_TOL
            && self.adjoint <= ADJOINT_TOL
            && self.modes <= MODES_TOL
            && self.f32 <= F32_TOL
    }
}

/// n entries drawn from `kind`'s range.
pub fn draw(rng: &mut SplitMix64, n: usize, kind: Values) -> Vec<f64> {
    (0..n)
        .map(|_| match kind {
            Values::Any => 2.0 * rng.next_symmetric(),
            Values::AwayFromZero => {
                let m = 0.2 + 1.8 * rng.next_f64();
                if rng.next_u64() & 1 == 0 {
                    m
                } else {
                    -m
                }
            }
            Values::Positive => 0.2 + 2.8 * rng.next_f64(),
        })
        .collect()
}

/// n direction (or cotangent) entries, uniform in [−1, 1).
pub fn directions(rng: &mut SplitMix64, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.next_symmetric()).collect()
}

fn unit(n: usize, j: usize) -> Vec<f64> {
    let mut e = vec![0.0; n];
    e[j] = 1.0;
    e
}

fn apply<T: Real>(p: &Prim<T>) -> impl Fn(&mut dyn Graph<T>, &[Var]) -> Result<Var> + '_ {
    move |g: &mut dyn Graph<T>, x: &[Var]| g.apply(p.clone(), x)
}

/// ‖a − b‖ / scale (the raw norm when scale is 0; +∞ on a length mismatch or non-finite).
fn normwise(a: &[f64], b: &[f64], scale: f64) -> f64 {
    let d = a
        .iter()
        .zip(b)
        .map(|(p, q)| (p - q).powi(2))
        .sum::<f64>()
        .sqrt();
    if a.len() != b.len() || !d.is_finite() {
        f64::INFINITY
    } else if scale == 0.0 {
        d
    } else {
        d / scale
    }
}

fn l2(a: &[f64]) -> f64 {
    a.iter().map(|p| p * p).sum::<f64>().sqrt()
}

/// The figures of `case` at the point drawn from `seed` (see the module doc).
pub fn primitive_figures(case: &PrimitiveCase, seed: u64) -> Result<PrimitiveFigures> {
    let mut rng = SplitMix64::new(seed);
    let shapes: Vec<Vec<usize>> = case.operands.iter().map(|(s, _)| s.clone()).collect();
    let mut x = Vec::new();
    for (s, kind) in &case.operands {
        x.extend(draw(&mut rng, s.iter().product(), *kind));
    }
    let f64fn = FlatFunction::<f64, _>::new(apply(&case.p64), &shapes);
    let f32fn = FlatFunction::<f32, _>::new(apply(&case.p32), &shapes);
    let n = x.len();
    let m = f64fn.eval(&x)?.len();
    let v = directions(&mut rng, n);
    let u = directions(&mut rng, m);
    // Errors inside the closures cannot escape through the check helpers' signatures: an
    // empty result makes the figure +∞ instead.
    let eval = |x: &[f64]| f64fn.eval(x).unwrap_or_default();
    let jvp = |x: &[f64], v: &[f64]| f64fn.jvp(x, v).unwrap_or_default();
    let vjp = |x: &[f64], u: &[f64]| f64fn.vjp(x, u).unwrap_or_default();
    let fd = check_jvp_fd(eval, jvp, &x, &v, 1e-5);
    let adjoint = check_adjoint(jvp, vjp, &x, &u, &v);

    let fwd_block = f64fn.jvp_block(&x, &(0..n).map(|j| unit(n, j)).collect::<Vec<_>>())?;
    let rev_block = f64fn.vjp_block(&x, &(0..m).map(|i| unit(m, i)).collect::<Vec<_>>())?;
    let j_fwd = Matrix::from_fn(m, n, |i, j| fwd_block[j][i]);
    let j_rev = Matrix::from_fn(m, n, |i, j| rev_block[i][j]);
    let j_fwd1 = Matrix::from_fn(m, n, |i, j| {
        jvp(&x, &unit(n, j)).get(i).copied().unwrap_or(f64::NAN)
    });
    let j_rev1 = Matrix::from_fn(m, n, |i, j| {
        vjp(&x, &unit(m, i)).get(j).copied().unwrap_or(f64::NAN)
    });
    let mut modes = compare_jacobians(&j_fwd, &j_rev)?;
    modes = modes.max(compare_jacobians(&j_fwd, &j_fwd1)?);
    modes = modes.max(compare_jacobians(&j_rev, &j_rev1)?);
    // A block of three random directions equals three single JVPs/VJPs.
    let vs: Vec<Vec<f64>> = (0..3).map(|_| directions(&mut rng, n)).collect();
    let us: Vec<Vec<f64>> = (0..3).map(|_| directions(&mut rng, m)).collect();
    let (jb, vb) = (f64fn.jvp_block(&x, &vs)?, f64fn.vjp_block(&x, &us)?);
    for r in 0..3 {
        modes = modes.max(relative_error(&jb[r], &jvp(&x, &vs[r])));
        modes = modes.max(relative_error(&vb[r], &vjp(&x, &us[r])));
    }

    let x32: Vec<f64> = x.iter().map(|&a| a as f32 as f64).collect();
    let j_norm = j_fwd.norm_fro();
    let y64 = f64fn.eval(&x32)?;
    let f32 = normwise(&f32fn.eval(&x32)?, &y64, l2(&y64))
        .max(normwise(
            &f32fn.jvp(&x32, &v)?,
            &f64fn.jvp(&x32, &v)?,
            j_norm * l2(&v),
        ))
        .max(normwise(
            &f32fn.vjp(&x32, &u)?,
            &f64fn.vjp(&x32, &u)?,
            j_norm * l2(&u),
        ));
    let nan_to_inf = |a: f64| if a.is_nan() { f64::INFINITY } else { a };
    Ok(PrimitiveFigures {
        fd: nan_to_inf(fd),
        adjoint: nan_to_inf(adjoint),
        modes: nan_to_inf(modes),
        f32: nan_to_inf(f32),
    })
}

/// Every primitive once, at small fixed shapes that exercise its broadcasting and axes:
/// what `tangent selfcheck` certifies (the tests draw random shapes on top of these).
pub fn catalogue() -> Vec<PrimitiveCase> {
    use Values::{Any, AwayFromZero, Positive};
    let m = |r: usize, c: usize, v: Values| (vec![r, c], v);
    let mut cases = vec![
        PrimitiveCase::new(&MatMul, &[m(3, 4, Any), m(4, 2, Any)]),
        PrimitiveCase::new(&BatchMatMul, &[(vec![2, 3, 2], Any), (vec![2, 2, 3], Any)]),
        PrimitiveCase::new(&Binary(Add), &[m(3, 4, Any), (vec![4], Any)]),
        PrimitiveCase::new(&Binary(Sub), &[m(3, 4, Any), m(3, 4, Any)]),
        PrimitiveCase::new(&Binary(Mul), &[m(3, 4, Any), (vec![], Any)]),
        PrimitiveCase::new(&Binary(Div), &[m(3, 4, Any), m(3, 4, AwayFromZero)]),
        PrimitiveCase::new(&Neg, &[m(2, 3, Any)]),
        PrimitiveCase::new(&Scale(-1.7), &[m(2, 3, Any)]),
        PrimitiveCase::new(&Elementwise(Exp), &[m(2, 3, Any)]),
        PrimitiveCase::new(&Elementwise(Log), &[m(2, 3, Positive)]),
        PrimitiveCase::new(&Elementwise(Square), &[m(2, 3, Any)]),
        PrimitiveCase::new(&Elementwise(Softsign), &[m(2, 3, Any)]),
        PrimitiveCase::new(&Sum, &[(vec![2, 3, 2], Any)]),
        PrimitiveCase::new(&Mean, &[(vec![2, 3, 2], Any)]),
        PrimitiveCase::new(&SumAxis(1), &[(vec![2, 3, 2], Any)]),
        PrimitiveCase::new(&MeanAxis(0), &[(vec![2, 3, 2], Any)]),
        PrimitiveCase::new(&Reshape(vec![3, 4]), &[(vec![2, 2, 3], Any)]),
        PrimitiveCase::new(&Permute(vec![2, 0, 1]), &[(vec![2, 3, 2], Any)]),
        PrimitiveCase::new(&Concat(1), &[m(2, 1, Any), m(2, 3, Any)]),
        PrimitiveCase::new(
            &Slice {
                axis: 1,
                start: 1,
                len: 2,
            },
            &[m(3, 4, Any)],
        ),
        PrimitiveCase::new(&Mse, &[m(3, 4, Any), m(3, 4, Any)]),
        PrimitiveCase::new(&Softmax, &[m(3, 4, Any)]),
        PrimitiveCase::new(&LogSoftmax, &[m(3, 4, Any)]),
        PrimitiveCase::new(&SoftmaxCrossEntropy, &[m(3, 4, Any), m(3, 4, Positive)]),
    ];
    for (act, kind) in [
        (Activation::Identity, Any),
        (Activation::Relu, AwayFromZero),
        (Activation::LeakyRelu(0.1), AwayFromZero),
        (Activation::Tanh, Any),
        (Activation::Sigmoid, Any),
        (Activation::Softplus, Any),
        (Activation::Erf, Any),
        (Activation::Gelu, Any),
    ] {
        cases.push(PrimitiveCase::new(&Elementwise(act), &[m(2, 3, kind)]));
    }
    cases
}
