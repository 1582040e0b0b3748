//! Derivative certificates: every primitive of the reference engine, and MLPs of every
//! activation and both parameterisations on the layer engine.

use super::{worst_of, Check};
use autodiff::graph::audit::{self as prim, catalogue, primitive_figures, PrimitiveFigures};
use autodiff::mlp::audit::{self as net, mlp_figures, MlpFigures};
use autodiff::mlp::{Mlp, Parameterization};
use autodiff::Activation;

const NW: &str = "central differences, h = 1e-5: Nocedal & Wright, Numerical Optimization §8.1";
const DOT: &str = "dot-product test ⟨u,Jv⟩ = ⟨Jᵀu,v⟩, a few ε for exact rules";

/// Seeds per primitive: different random points, same shapes.
const SEEDS: u64 = 8;

/// Rows for the primitives and for the MLPs.
pub(super) fn checks() -> Vec<Check> {
    let mut out = primitive_checks();
    out.extend(mlp_checks());
    out
}

fn primitive_checks() -> Vec<Check> {
    let figs: Vec<Option<PrimitiveFigures>> = catalogue()
        .iter()
        .flat_map(|c| (0..SEEDS).map(move |s| primitive_figures(c, s).ok()))
        .collect();
    let col = |f: fn(&PrimitiveFigures) -> f64| {
        worst_of(
            figs.iter()
                .map(|p| p.as_ref().map(f).ok_or_else(|| anyhow::anyhow!("failed"))),
        )
    };
    let ((fd, n), (adj, _), (modes, _), (f32, _)) = (
        col(|p| p.fd),
        col(|p| p.adjoint),
        col(|p| p.modes),
        col(|p| p.f32),
    );
    vec![
        Check::new(
            "primitives: JVP vs central differences (f64)",
            fd,
            prim::FD_TOL,
            NW,
            n,
        ),
        Check::new(
            "primitives: adjoint identity, JVP vs VJP (f64)",
            adj,
            prim::ADJOINT_TOL,
            DOT,
            n,
        ),
        Check::new(
            "primitives: Jacobian by block JVP = block VJP = single directions",
            modes,
            prim::MODES_TOL,
            "same sums in another order: a few ε·√n",
            n,
        ),
        Check::new(
            "primitives: f32 value, JVP, VJP vs f64",
            f32,
            prim::F32_TOL,
            "≈ 170 ε_f32, normwise against ‖J‖‖v‖",
            n,
        ),
    ]
}

/// Every activation × both parameterisations × two depths.
fn networks() -> Vec<Mlp> {
    let shapes: [(usize, &[usize], usize); 2] = [(3, &[6], 2), (4, &[5, 4], 3)];
    let mut nets = Vec::new();
    for (d, hidden, o) in shapes {
        for act in Activation::EVERY {
            for par in [Parameterization::Standard, Parameterization::Ntk] {
                if let Ok(n) = Mlp::new(d, hidden, o, act, par, 1.3, 0.4) {
                    nets.push(n);
                }
            }
        }
    }
    nets
}

fn mlp_checks() -> Vec<Check> {
    let figs: Vec<Option<MlpFigures>> = networks()
        .iter()
        .enumerate()
        .map(|(k, n)| mlp_figures(n, 4, 100 + k as u64).ok())
        .collect();
    let col = |f: fn(&MlpFigures) -> f64| {
        worst_of(
            figs.iter()
                .map(|p| p.as_ref().map(f).ok_or_else(|| anyhow::anyhow!("failed"))),
        )
    };
    let (jv, n) = col(|f| f.jvp_vs_vjp);
    vec![
        Check::new(
            "MLPs (8 activations × 2 parameterisations): Jacobian by JVP vs by VJP",
            jv,
            net::JAC_MODES_TOL,
            "same sums in another order",
            n,
        ),
        Check::new(
            "MLPs: Jacobian vs central differences",
            col(|f| f.fd).0,
            net::FD_TOL,
            NW,
            n,
        ),
        Check::new(
            "MLPs: adjoint identity of J·v and Jᵀ·u",
            col(|f| f.adjoint).0,
            net::ADJOINT_TOL,
            DOT,
            n,
        ),
        Check::new(
            "MLPs: NTK by contraction (J_fwd, J_rev), structured, operator",
            col(|f| f.ntk).0,
            net::NTK_TOL,
            "same sums in another order",
            n,
        ),
    ]
}
