//! A network's derivative certificate: its Jacobian three ways (block forward mode, block
//! reverse mode, central differences), the adjoint identity of the one-call J·v and Jᵀu, and
//! the empirical NTK three ways. The MLP tests assert on these figures and `tangent selfcheck`
//! prints them.
//!
//! * `jvp_vs_vjp`: ‖J_rev − J_fwd‖_F / ‖J_fwd‖_F, the same sums in other orders
//!   ([`JAC_MODES_TOL`] = 1e-10);
//! * `fd`: ‖J_fd − J_rev‖_F / ‖J_rev‖_F with h = 1e-5 ([`FD_TOL`] = 1e-6, as for the
//!   primitives: Nocedal & Wright, *Numerical Optimization*, §8.1);
//! * `adjoint`: |⟨u, Jv⟩ − ⟨Jᵀu, v⟩| / (‖u‖‖Jv‖) ([`ADJOINT_TOL`] = 1e-10);
//! * `ntk`: the worst of JJᵀ from either Jacobian, the structured per-layer kernel (with and
//!   without an explicit second input), and the matrix-free operator applied to unit vectors
//!   and its diagonal, each against J_rev J_revᵀ ([`NTK_TOL`] = 1e-12).

use super::jacobian::{jacobian_by_jvp, jacobian_by_vjp};
use super::ntk::{ntk_by_contraction, ntk_structured};
use super::operators::NtkOperator;
use super::Mlp;
use crate::Result;
use linalg::random::SplitMix64;
use linalg::vec::{dot, rel_diff};
use linalg::{LinearOperator, MatRef, Matrix};

/// Threshold for [`MlpFigures::jvp_vs_vjp`].
pub const JAC_MODES_TOL: f64 = 1e-10;
/// Threshold for [`MlpFigures::fd`].
pub const FD_TOL: f64 = 1e-6;
/// Threshold for [`MlpFigures::adjoint`].
pub const ADJOINT_TOL: f64 = 1e-10;
/// Threshold for [`MlpFigures::ntk`].
pub const NTK_TOL: f64 = 1e-12;

/// The figures of one network at one point (see the module doc); NaN is reported as +∞.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MlpFigures {
    /// Jacobian by JVPs against by VJPs.
    pub jvp_vs_vjp: f64,
    /// Jacobian against central differences.
    pub fd: f64,
    /// The adjoint identity defect of `Mlp::jvp` and `Mlp::vjp`.
    pub adjoint: f64,
    /// The worst disagreement among the NTK methods.
    pub ntk: f64,
}

impl MlpFigures {
    /// Whether every figure is within its threshold.
    pub fn passes(&self) -> bool {
        self.jvp_vs_vjp <= JAC_MODES_TOL
            && self.fd <= FD_TOL
            && self.adjoint <= ADJOINT_TOL
            && self.ntk <= NTK_TOL
    }
}

/// The (n·o) × p Jacobian by central differences, column j = (f(θ + h eⱼ) − f(θ − h eⱼ)) / 2h,
/// rows in `forward`'s row-major order of the n × o output.
pub fn jacobian_fd(net: &Mlp, theta: &[f64], x: MatRef<'_, f64>, h: f64) -> Result<Matrix<f64>> {
    let (n, o, p) = (x.rows(), net.output_dim(), net.num_params());
    let mut jac = Matrix::zeros(n * o, p);
    let mut th = theta.to_vec();
    for j in 0..p {
        th[j] = theta[j] + h;
        let fp = net.forward(&th, x)?;
        th[j] = theta[j] - h;
        let fm = net.forward(&th, x)?;
        th[j] = theta[j];
        for r in 0..n * o {
            jac.set(r, j, (fp.as_slice()[r] - fm.as_slice()[r]) / (2.0 * h));
        }
    }
    Ok(jac)
}

/// The worst relative disagreement among the NTK methods at (θ, X), against J_rev J_revᵀ.
pub fn ntk_methods_defect(net: &Mlp, theta: &[f64], x: MatRef<'_, f64>) -> Result<f64> {
    let no = x.rows() * net.output_dim();
    let k_rev = ntk_by_contraction(jacobian_by_vjp(net, theta, x, 5)?.as_ref())?;
    let k_fwd = ntk_by_contraction(jacobian_by_jvp(net, theta, x, 8)?.as_ref())?;
    let k_str = ntk_structured(net, theta, x, None)?;
    // Passing X₂ = X explicitly takes the non-symmetric path.
    let k_str2 = ntk_structured(net, theta, x, Some(x))?;
    let want = k_rev.as_slice();
    let mut worst = rel_diff(k_fwd.as_slice(), want)
        .max(rel_diff(k_str.as_slice(), want))
        .max(rel_diff(k_str2.as_slice(), want));
    let op = NtkOperator::new(net, theta, x)?;
    let (mut e_j, mut col) = (vec![0.0; no], vec![0.0; no]);
    for j in 0..no {
        e_j.fill(0.0);
        e_j[j] = 1.0;
        op.apply(&e_j, &mut col);
        let want: Vec<f64> = (0..no).map(|i| k_rev.get(i, j)).collect();
        worst = worst.max(rel_diff(&col, &want));
    }
    let want: Vec<f64> = (0..no).map(|i| k_rev.get(i, i)).collect();
    worst = worst.max(rel_diff(&op.try_diagonal()?, &want));
    Ok(if worst.is_nan() { f64::INFINITY } else { worst })
}

/// The figures of `net` at θ = `net.init(seed)` on n seeded inputs uniform in [−1, 1).
pub fn mlp_figures(net: &Mlp, n: usize, seed: u64) -> Result<MlpFigures> {
    let theta: Vec<f64> = net.init(seed);
    let mut rng = SplitMix64::new(seed ^ 0x5eed);
    let mut uniform = |len: usize| -> Vec<f64> { (0..len).map(|_| rng.next_symmetric()).collect() };
    let (d, o, p) = (net.input_dim(), net.output_dim(), net.num_params());
    let x = Matrix::from_vec(n, d, uniform(n * d)).expect("n·d entries");
    let j_rev = jacobian_by_vjp(net, &theta, x.as_ref(), 3)?;
    let j_fwd = jacobian_by_jvp(net, &theta, x.as_ref(), 7)?;
    let j_fd = jacobian_fd(net, &theta, x.as_ref(), 1e-5)?;
    let (v, u) = (
        uniform(p),
        Matrix::from_vec(n, o, uniform(n * o)).expect("n·o entries"),
    );
    let (_, jv) = net.jvp(&theta, x.as_ref(), &v)?;
    let (_, jtu) = net.vjp(&theta, x.as_ref(), u.as_ref())?;
    let (lhs, rhs) = (dot(u.as_slice(), jv.as_slice()), dot(&jtu, &v));
    let scale = (dot(u.as_slice(), u.as_slice()) * dot(jv.as_slice(), jv.as_slice())).sqrt();
    let nan_to_inf = |a: f64| if a.is_nan() { f64::INFINITY } else { a };
    Ok(MlpFigures {
        jvp_vs_vjp: nan_to_inf(rel_diff(j_rev.as_slice(), j_fwd.as_slice())),
        fd: nan_to_inf(rel_diff(j_fd.as_slice(), j_rev.as_slice())),
        adjoint: nan_to_inf((lhs - rhs).abs() / scale.max(f64::MIN_POSITIVE)),
        ntk: ntk_methods_defect(net, &theta, x.as_ref())?,
    })
}
