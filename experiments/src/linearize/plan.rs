//! The memory plan of `linearize`, phase by phase, made before θ or any kernel is allocated.
//!
//! Sizes, with s the bytes of the working precision, nk = n·q and mk = m·q (q = o for the
//! full kernel, 1 for the traced one), p parameters and Σw the hidden widths:
//! * the NTK: the per-layer factors of `autodiff::mlp::ntk` plus the kernel in precision s and its
//!   f64 copy;
//! * the Newton step: K, K(test, train), K + λI and its Cholesky factor L (all f64);
//! * the eigendecomposition: K plus the working copy, the reflectors and two n×n vector
//!   matrices of the Householder/QL solver;
//! * GD: θ₀, θ, ∇L and the network's activations and back-propagated errors for n samples;
//! * the kernel at θ_T: K, K(test, train), the eigenvectors, and the new kernel twice.

use crate::memory::{mat, MemoryPlan};
use crate::model::KernelForm;
use autodiff::mlp::Mlp;

/// What the plan needs to know about the run.
pub struct Dims {
    /// Training points.
    pub n: usize,
    /// Test points.
    pub m: usize,
    /// Input dimension.
    pub d: usize,
    /// Outputs.
    pub o: usize,
    /// Bytes per scalar of the network's precision.
    pub s: usize,
}

/// The phases of a `linearize` run with the given kernel form.
pub fn plan(mlp: &Mlp, dims: &Dims, form: KernelForm, kernel_change: bool) -> MemoryPlan {
    let Dims { n, m, d, o, s } = *dims;
    let q = if form == KernelForm::Full { o } else { 1 };
    let (nk, mk) = (n.saturating_mul(q), m.saturating_mul(q));
    let p = mlp.num_params();
    let kname = |r: usize, c: usize, e: usize| {
        format!("kernel {r}×{c} ({})", if e == 8 { "f64" } else { "f32" })
    };
    let data = (
        format!("data ({n}+{m} points × {d} inputs)"),
        mat(n + m, d + o, 8 + s),
    );
    let theta = |copies: usize| (format!("θ ({p} parameters × {copies})"), mat(p, copies, s));
    let hidden: usize = mlp.layers().iter().map(|l| l.n_out).sum();
    let factors = |rows: usize| {
        (
            format!("per-layer NTK factors ({rows} points)"),
            autodiff::mlp::ntk::ntk_factor_bytes(mlp, rows, 0, s) as u128,
        )
    };
    let k = (kname(nk, nk, 8), mat(nk, nk, 8));
    let k_test = (kname(mk, nk, 8), mat(mk, nk, 8));
    let mut plan = MemoryPlan::default();
    plan.phase(
        "empirical NTK",
        vec![
            data.clone(),
            theta(1),
            factors(n + m),
            k.clone(),
            (kname(mk, nk, s), mat(mk, nk, s)),
            k_test.clone(),
        ],
    );
    plan.phase(
        "Newton step (Cholesky of K + λI)",
        vec![
            data.clone(),
            theta(1),
            k.clone(),
            k_test.clone(),
            ("K + λI".into(), mat(nk, nk, 8)),
            ("Cholesky factor L".into(), mat(nk, nk, 8)),
        ],
    );
    plan.phase(
        "eigendecomposition of K",
        vec![
            data.clone(),
            theta(1),
            k.clone(),
            k_test.clone(),
            ("eigensolver work (3 matrices)".into(), mat(nk, nk, 24)),
        ],
    );
    let eigvec = ("eigenvectors of K".to_string(), mat(nk, nk, 8));
    plan.phase(
        "gradient descent on the network",
        vec![
            data.clone(),
            theta(3),
            k.clone(),
            k_test.clone(),
            eigvec.clone(),
            (
                format!("activations and errors ({n} points × {hidden} units × 3)"),
                mat(n, hidden, 3 * s),
            ),
        ],
    );
    if kernel_change {
        plan.phase(
            "kernel at θ_T",
            vec![
                data,
                theta(2),
                k.clone(),
                k_test,
                eigvec,
                factors(n),
                (kname(nk, nk, s), mat(nk, nk, s)),
                (format!("{} at θ_T", kname(nk, nk, 8)), mat(nk, nk, 8)),
            ],
        );
    }
    plan
}
