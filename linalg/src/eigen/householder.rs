//! Stage 1: Householder tridiagonalisation QᵀAQ = T (Golub & Van Loan Algorithm 8.3.1), and
//! the back-transformation of T's eigenvectors by Q.

use crate::gemm::Par;
use crate::matrix::Matrix;
use crate::real::Real;
use crate::vec::kernels;
use rayon::prelude::*;

/// Rows of Zᵀ per task in the back-transformation (reflectors are reused from cache across
/// these rows).
const BACK_ROWS: usize = 16;

/// Householder reflectors: vₖ (with vₖ[0] = 1, stored in full) and βₖ, acting on indices
/// k+1..n.
pub(super) struct Reflectors<T> {
    /// vₖ for k = 0, …, n − 3, each of length n − k − 1.
    vs: Vec<Vec<T>>,
    /// βₖ = 2/(vₖᵀvₖ), or 0 where column k needed no reflection.
    betas: Vec<T>,
}

/// Reduces the full symmetric `a` to tridiagonal form, returning (diagonal, off-diagonal,
/// reflectors, kept only when `keep`). `a` is destroyed.
pub(super) fn tridiagonalize<T: Real>(
    a: &mut Matrix<T>,
    keep: bool,
    par: Par,
) -> (Vec<T>, Vec<T>, Reflectors<T>) {
    let n = a.rows();
    let mut d = vec![T::zero(); n];
    let mut e = vec![T::zero(); n.saturating_sub(1)];
    let mut refl = Reflectors {
        vs: Vec::new(),
        betas: Vec::new(),
    };
    if n == 0 {
        return (d, e, refl);
    }
    let mut p = vec![T::zero(); n];
    for k in 0..n.saturating_sub(2) {
        // x = A[k+1.., k] = A[k, k+1..] by symmetry (a contiguous row).
        let x = &a.row(k)[k + 1..];
        let (v, beta, mu) = householder(x);
        d[k] = a.get(k, k);
        e[k] = mu;
        if beta != T::zero() {
            rank2_update(a, k, &v, beta, &mut p[..n - k - 1], par);
        }
        if keep {
            refl.vs.push(v);
            refl.betas.push(beta);
        }
    }
    if n >= 2 {
        d[n - 2] = a.get(n - 2, n - 2);
        e[n - 2] = a.get(n - 1, n - 2);
    }
    d[n - 1] = a.get(n - 1, n - 1);
    (d, e, refl)
}

/// Entries of p per task in the product p = βA₂₂v.
const P_BLOCK: usize = 64;

/// The trailing block A₂₂ = A[k+1.., k+1..] ← H A₂₂ H for H = I − βvvᵀ, as the symmetric
/// rank-2 update A₂₂ − vwᵀ − wvᵀ with p = βA₂₂v and w = p − (β/2)(pᵀv)v (`p` is scratch of
/// length n − k − 1). Each entry of p and each row of A₂₂ is owned by one task.
fn rank2_update<T: Real>(a: &mut Matrix<T>, k: usize, v: &[T], beta: T, p: &mut [T], par: Par) {
    let fused = kernels::fma_available();
    let cols = a.cols();
    let trailing = &mut a.as_mut_slice()[(k + 1) * cols..];
    // p = β A₂₂ v, one row per entry.
    let product = |(blk, ps): (usize, &mut [T])| {
        for (r, pr) in ps.iter_mut().enumerate() {
            let i = blk * P_BLOCK + r;
            let row = &trailing[i * cols + k + 1..(i + 1) * cols];
            *pr = beta * kernels::dot8(fused, row, v);
        }
    };
    match par {
        Par::Rayon => p.par_chunks_mut(P_BLOCK).enumerate().for_each(product),
        Par::Seq => p.chunks_mut(P_BLOCK).enumerate().for_each(product),
    }
    // w = p − (β/2)(pᵀv) v.
    let half = T::from_f64(0.5) * beta * kernels::dot4(p, v);
    let w: Vec<T> = p.iter().zip(v).map(|(&pi, &vi)| pi - half * vi).collect();
    // A₂₂ ← A₂₂ − v wᵀ − w vᵀ, row i of A₂₂ being row k+1+i of `a` from column k+1 on.
    let update = |(i, row): (usize, &mut [T])| {
        kernels::rank2(fused, &mut row[k + 1..], v[i], &w, w[i], v);
    };
    let m = p.len();
    match par {
        Par::Rayon => trailing
            .par_chunks_mut(cols)
            .take(m)
            .enumerate()
            .for_each(update),
        Par::Seq => trailing
            .chunks_mut(cols)
            .take(m)
            .enumerate()
            .for_each(update),
    }
}

/// Householder vector (Golub & Van Loan Algorithm 5.1.1): returns (v, β, μ) with v[0] = 1 and
/// (I − βvvᵀ)x = μe₁. β = 0 when x is already a multiple of e₁.
fn householder<T: Real>(x: &[T]) -> (Vec<T>, T, T) {
    let mut v = x.to_vec();
    let sigma = if x.len() > 1 {
        kernels::dot4(&x[1..], &x[1..])
    } else {
        T::zero()
    };
    let x0 = x[0];
    if sigma == T::zero() {
        v[0] = T::one();
        return (v, T::zero(), x0);
    }
    let mu = (x0 * x0 + sigma).sqrt();
    let v0 = if x0 <= T::zero() {
        x0 - mu
    } else {
        -sigma / (x0 + mu)
    };
    let beta = T::from_f64(2.0) * v0 * v0 / (sigma + v0 * v0);
    let inv = T::one() / v0;
    for vi in v.iter_mut().skip(1) {
        *vi *= inv;
    }
    v[0] = T::one();
    (v, beta, mu)
}

/// Each row y of zt (an eigenvector of T) becomes Q·y = H₀(H₁(⋯Hₙ₋₃y)), applying
/// Hₖ: y[k+1..] ← y[k+1..] − βₖvₖ(vₖᵀy[k+1..]) for k descending. Rows are independent; a
/// block of rows shares each reflector while it is in cache.
pub(super) fn back_transform<T: Real>(zt: &mut Matrix<T>, refl: &Reflectors<T>, par: Par) {
    let n = zt.cols();
    if refl.vs.is_empty() {
        return;
    }
    let fused = kernels::fma_available();
    let block = |rows: &mut [T]| {
        for k in (0..refl.vs.len()).rev() {
            let beta = refl.betas[k];
            if beta == T::zero() {
                continue;
            }
            let v = &refl.vs[k];
            for y in rows.chunks_mut(n) {
                kernels::reflect(fused, &mut y[k + 1..], beta, v);
            }
        }
    };
    match par {
        Par::Rayon => zt
            .as_mut_slice()
            .par_chunks_mut(n * BACK_ROWS)
            .for_each(block),
        Par::Seq => zt.as_mut_slice().chunks_mut(n * BACK_ROWS).for_each(block),
    }
}
