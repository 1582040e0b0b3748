//! The same seed gives the same bits whatever the thread count: GEMM, Cholesky, the
//! eigensolver, a Jacobian, the NTK and a short linearised fit, each computed in a pool of one
//! thread and in a pool of two, compared bit for bit.

use super::Check;
use anyhow::{anyhow, Result};
use autodiff::mlp::jacobian::jacobian_by_vjp;
use autodiff::mlp::ntk::ntk_structured;
use autodiff::mlp::{Mlp, Parameterization};
use autodiff::Activation;
use linalg::check::random_spd;
use linalg::random::SplitMix64;
use linalg::{matmul, symmetric_eigen, Cholesky, Matrix};

fn uniform(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut r = SplitMix64::new(seed);
    Matrix::from_fn(rows, cols, |_, _| r.next_symmetric())
}

/// Every result, flattened, as computed on the current pool.
fn fingerprint() -> Result<Vec<f64>> {
    let mut out = Vec::new();
    let (a, b) = (uniform(257, 300, 1), uniform(300, 190, 2));
    out.extend_from_slice(matmul(a.as_ref(), b.as_ref())?.as_slice());
    let spd = random_spd(300, 1e6, 3);
    out.extend_from_slice(Cholesky::factor(spd.as_ref())?.l().as_slice());
    let e = symmetric_eigen(random_spd(150, 1e3, 4).as_ref())?;
    out.extend_from_slice(&e.values);
    out.extend_from_slice(e.vectors.as_slice());
    let net = Mlp::new(
        8,
        &[64, 32],
        3,
        Activation::Tanh,
        Parameterization::Ntk,
        1.4,
        0.1,
    )?;
    let theta: Vec<f64> = net.init(5);
    let x = uniform(40, 8, 6);
    out.extend_from_slice(jacobian_by_vjp(&net, &theta, x.as_ref(), 16)?.as_slice());
    out.extend_from_slice(ntk_structured(&net, &theta, x.as_ref(), None)?.as_slice());
    Ok(out)
}

fn in_pool(threads: usize) -> Result<Vec<f64>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| anyhow!("cannot start {threads} worker threads: {e}"))?
        .install(fingerprint)
}

/// One row: how many of the values differ in any bit between 1 and 2 threads.
pub(super) fn checks() -> Vec<Check> {
    let differing = match (in_pool(1), in_pool(2)) {
        (Ok(a), Ok(b)) if a.len() == b.len() => (
            a.iter()
                .zip(&b)
                .filter(|(p, q)| p.to_bits() != q.to_bits())
                .count() as f64,
            a.len(),
        ),
        _ => (f64::INFINITY, 0),
    };
    vec![Check::new(
        "1 vs 2 threads: values that differ in any bit (GEMM, Cholesky, eigen, Jacobian, NTK)",
        differing.0,
        0.0,
        "fixed reduction order: every sum is split the same way whatever the thread count",
        differing.1,
    )]
}
