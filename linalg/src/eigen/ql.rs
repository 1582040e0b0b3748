//! Stage 2: implicit symmetric QL with Wilkinson-type shifts on the tridiagonal T (EISPACK
//! `tql2`), with the rotations of each sweep applied to the eigenvector rows in parallel
//! column blocks.

use crate::error::{LinalgError, Result};
use crate::gemm::Par;
use crate::matrix::Matrix;
use crate::mem::SharedMut;
use crate::real::Real;
use crate::vec::kernels;
use rayon::prelude::*;

/// QL sweeps allowed per eigenvalue before giving up with `NoConvergence` (EISPACK uses 30;
/// the extra room costs nothing when it is not needed).
const MAX_SWEEPS_PER_VALUE: usize = 60;

/// Columns of Zᵀ per task when a sweep's rotations are applied.
const ROTATION_COLS: usize = 128;

/// Implicit QL on the tridiagonal (d, e) with e[i] coupling i and i+1 (e[n−1] = 0); on return
/// d holds the eigenvalues (unsorted). If `zt` is given, its rows are rotated along, so that
/// with zt = I on entry, row j ends as the eigenvector of d[j].
pub(super) fn tridiagonal_ql<T: Real>(
    d: &mut [T],
    e: &mut [T],
    mut zt: Option<&mut Matrix<T>>,
    par: Par,
) -> Result<()> {
    let n = d.len();
    let eps = T::EPSILON;
    let two = T::from_f64(2.0);
    let mut rotations: Vec<(usize, T, T)> = Vec::new();
    let mut total_sweeps = 0;
    for l in 0..n {
        let mut sweeps = 0;
        loop {
            // The unreduced block l..=end by the relative test |eᵢ| ≤ ε(|dᵢ| + |dᵢ₊₁|).
            let mut end = l;
            let mut norm = T::zero();
            while end + 1 < n {
                let dd = d[end].abs() + d[end + 1].abs();
                if e[end].abs() <= eps * dd || e[end].abs() < T::MIN_POSITIVE {
                    break;
                }
                norm = norm.max(d[end].abs() + e[end].abs());
                end += 1;
            }
            norm = norm.max(d[end].abs());
            // Within the block, also deflate couplings below ε‖T_block‖. The relative test
            // alone cannot be met next to eigenvalues at rounding level (the zero cluster of a
            // rank-deficient matrix): every sweep re-injects rounding noise of order ε‖T_block‖
            // into eₗ, so |eₗ| stalls far above ε|dₗ| and the iteration never deflates. Dropping
            // such a coupling is a perturbation of T within the norm-wise backward error the
            // algorithm has anyway (EISPACK tql2's test; LAPACK dsteqr's anorm).
            let floor = eps * norm;
            let mut m = l;
            while m < end && e[m].abs() > floor {
                m += 1;
            }
            if m == l {
                break;
            }
            sweeps += 1;
            total_sweeps += 1;
            if sweeps > MAX_SWEEPS_PER_VALUE {
                return Err(LinalgError::NoConvergence {
                    iterations: total_sweeps,
                });
            }
            // Shift from the leading 2×2 block (closest eigenvalue to d[l]).
            let mut g = (d[l + 1] - d[l]) / (two * e[l]);
            let mut r = hypot(g, T::one());
            g = d[m] - d[l] + e[l] / (g + if g >= T::zero() { r.abs() } else { -r.abs() });
            let (mut s, mut c, mut p) = (T::one(), T::one(), T::zero());
            let mut underflow = false;
            rotations.clear();
            let mut i = m;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = hypot(f, g);
                e[i + 1] = r;
                if r == T::zero() {
                    // Deflation by underflow: split here and restart.
                    d[i + 1] -= p;
                    e[m] = T::zero();
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + two * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                rotations.push((i, c, s));
            }
            if let Some(zt) = zt.as_deref_mut() {
                apply_rotations(zt, &rotations, par);
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = T::zero();
        }
    }
    Ok(())
}

/// Applies the rotations of one sweep, in order, to the rows of zt: rows (i, i+1) ←
/// (c·zᵢ − s·zᵢ₊₁, s·zᵢ + c·zᵢ₊₁). Column blocks are independent and run in parallel under
/// `Par::Rayon` when the sweep is large enough to pay for the fork.
fn apply_rotations<T: Real>(zt: &mut Matrix<T>, rotations: &[(usize, T, T)], par: Par) {
    if rotations.is_empty() {
        return;
    }
    let cols = zt.cols();
    let ptr = SharedMut::new(zt.as_mut_slice().as_mut_ptr());
    let blocks = cols.div_ceil(ROTATION_COLS);
    let fused = kernels::fma_available();
    let work = |blk: usize| {
        let c0 = blk * ROTATION_COLS;
        let width = ROTATION_COLS.min(cols - c0);
        // SAFETY: column block [c0, c0 + width) of every row belongs to this task alone, and
        // `zt` outlives the loop below, which borrows it exclusively.
        unsafe { kernels::rotate_block(fused, ptr.get().add(c0), cols, width, rotations) };
    };
    if par == Par::Rayon && blocks > 1 && rotations.len() * cols >= 32 * 1024 {
        (0..blocks).into_par_iter().for_each(work);
    } else {
        (0..blocks).for_each(work);
    }
}

/// √(a² + b²) without overflow or destructive underflow.
#[inline]
fn hypot<T: Real>(a: T, b: T) -> T {
    let (a, b) = (a.abs(), b.abs());
    let (big, small) = if a >= b { (a, b) } else { (b, a) };
    if big == T::zero() {
        return T::zero();
    }
    let q = small / big;
    big * (T::one() + q * q).sqrt()
}
