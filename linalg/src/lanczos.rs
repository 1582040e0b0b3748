//! Lanczos iteration for the extreme eigenvalues of a symmetric operator (for condition
//! numbers and step sizes), with full reorthogonalisation.
//!
//! Golub & Van Loan, *Matrix Computations*, 4th ed., §10.1 and §10.3.1: from a unit q₁,
//! βₖqₖ₊₁ = Aqₖ − αₖqₖ − βₖ₋₁qₖ₋₁ with αₖ = qₖᵀAqₖ builds the tridiagonal Tₖ whose eigenvalues
//! (Ritz values) approach the extreme eigenvalues of A from inside. Every new vector is
//! orthogonalised twice against all previous ones (classical Gram–Schmidt twice, "twice is
//! enough": Giraud, Langou & Rozložník 2005), which keeps ghost copies of converged Ritz values
//! away at the price of storing the basis.
//!
//! Stopping rule: the residual of a Ritz pair (θ, y = Qₖs) is ‖Ay − θy‖ = βₖ|sₖ| (the last
//! component of the eigenvector s of Tₖ, Theorem 10.1.4). Iteration stops when both extreme
//! Ritz values have βₖ|sₖ| ≤ tol·max(|θ_min|, |θ_max|). Since then |λ − θ| ≤ βₖ|sₖ| for some
//! eigenvalue λ, that bound is the guarantee. The cheap test "the extreme Ritz values moved by
//! less than tol·scale since the previous step" decides when to pay for the eigenvectors of
//! Tₖ that the residual test needs.

use crate::cg::LinearOperator;
use crate::eigen::tridiagonal_eigen;
use crate::error::{LinalgError, Result};
use crate::random::SplitMix64;
use crate::real::Real;
use crate::vec::dot_f64;

/// Extreme Ritz values of a Lanczos run.
#[derive(Clone, Debug, PartialEq)]
pub struct LanczosResult {
    /// Smallest Ritz value, an upper bound (up to rounding) on λ_min(A).
    pub min: f64,
    /// Largest Ritz value, a lower bound (up to rounding) on λ_max(A).
    pub max: f64,
    /// Number of Lanczos steps (operator applications).
    pub iterations: usize,
    /// All Ritz values of the final Tₖ, ascending.
    pub ritz_values: Vec<f64>,
    /// Whether the residual test passed (or an invariant subspace was found, making the Ritz
    /// values exact). `false` means `max_iter` steps were spent first: the values are then
    /// only estimates.
    pub converged: bool,
}

/// Estimates λ_min and λ_max of the symmetric operator `op` by at most `max_iter` Lanczos
/// steps (capped at n) from a start vector drawn from `seed` (uniform on [−1, 1)ⁿ from
/// [`SplitMix64::next_symmetric`], normalised), stopping when both extreme Ritz
/// pairs have residual βₖ|sₖ| ≤ `tol`·max|θ| (see the module docs).
///
/// The arithmetic is done in f64 whatever T is (the operator is applied in T).
///
/// Errors: `InvalidArgument` for n = 0, `max_iter` = 0 or a `tol` that is not positive and
/// finite; `NonFinite` if the operator returns NaN/±inf; the operator's `validate` error;
/// `NoConvergence` from the tridiagonal eigensolver.
pub fn lanczos_extremes<T: Real, O: LinearOperator<T> + ?Sized>(
    op: &O,
    max_iter: usize,
    tol: f64,
    seed: u64,
) -> Result<LanczosResult> {
    op.validate()?;
    let n = op.dim();
    let invalid = |arg, value, reason| LinalgError::InvalidArgument {
        op: "lanczos_extremes",
        arg,
        value: Some(value),
        reason,
    };
    if n == 0 {
        return Err(invalid(
            "op",
            0.0,
            "the operator's dimension must be at least 1",
        ));
    }
    if max_iter == 0 {
        return Err(invalid("max_iter", 0.0, "must be at least 1"));
    }
    if !tol.is_finite() || tol <= 0.0 {
        return Err(invalid("tol", tol, "must be positive and finite"));
    }
    let steps = max_iter.min(n);
    let mut rng = SplitMix64::new(seed);
    let mut q: Vec<f64> = (0..n).map(|_| rng.next_symmetric()).collect();
    let norm = norm2(&q);
    q.iter_mut().for_each(|v| *v /= norm);

    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(steps);
    let mut alphas: Vec<f64> = Vec::with_capacity(steps);
    let mut betas: Vec<f64> = Vec::with_capacity(steps);
    let mut x_t = vec![T::zero(); n];
    let mut y_t = vec![T::zero(); n];
    let mut previous: Option<(f64, f64)> = None;
    let mut last: Option<bool> = None;
    let mut last_check: Option<usize> = None;

    for k in 0..steps {
        for (xt, &qi) in x_t.iter_mut().zip(&q) {
            *xt = T::from_f64(qi);
        }
        op.apply(&x_t, &mut y_t);
        let mut w: Vec<f64> = y_t.iter().map(|v| v.to_f64()).collect();
        if let Some(i) = w.iter().position(|v| !v.is_finite()) {
            return Err(LinalgError::NonFinite { at: (i, 0) });
        }
        let alpha = dot_f64(&q, &w);
        basis.push(std::mem::take(&mut q));
        alphas.push(alpha);
        // w ← (I − QQᵀ)w, twice; this also removes the αₖqₖ and βₖ₋₁qₖ₋₁ terms.
        for _ in 0..2 {
            for v in &basis {
                let c = dot_f64(v, &w);
                w.iter_mut().zip(v).for_each(|(wi, vi)| *wi -= c * vi);
            }
        }
        let beta = norm2(&w);

        let (lo, hi) = extreme_eigenvalues(&alphas, &betas);
        let scale = lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE);
        // An invariant subspace (β ≈ 0 relative to ‖Tₖ‖) or the whole space: Ritz values are
        // eigenvalues.
        let exhausted = beta <= f64::EPSILON * scale * (k + 1) as f64 || k + 1 == n;
        let settled = previous
            .map(|(plo, phi)| (plo - lo).abs() <= tol * scale && (phi - hi).abs() <= tol * scale)
            .unwrap_or(false);
        previous = Some((lo, hi));
        // The residual test needs the eigenvectors of Tₖ (O(k³)); space the tests out
        // geometrically so their total cost stays a small multiple of the last one.
        let due = last_check.is_none_or(|at| k + 1 > at + (k + 1) / 10);
        let converged = exhausted
            || (settled && due && {
                last_check = Some(k + 1);
                residuals_small(&alphas, &betas, beta, tol)?
            });
        last = Some(converged);
        if converged {
            break;
        }
        betas.push(beta);
        q = w.into_iter().map(|v| v / beta).collect();
    }
    let converged = last.expect("at least one step");
    // After a capped run `betas` also holds the coupling to the next (unused) vector.
    let ritz = tridiagonal_eigen(&alphas, &betas[..alphas.len() - 1], false)?.values;
    Ok(LanczosResult {
        min: ritz[0],
        max: ritz[ritz.len() - 1],
        iterations: alphas.len(),
        ritz_values: ritz,
        converged,
    })
}

/// βₖ|sₖ| ≤ tol·max|θ| for the smallest and largest Ritz pairs of Tₖ.
fn residuals_small(alphas: &[f64], betas: &[f64], beta: f64, tol: f64) -> Result<bool> {
    let eig = tridiagonal_eigen(alphas, betas, true)?;
    let k = alphas.len();
    let scale = eig.values[0].abs().max(eig.values[k - 1].abs());
    let last_row = eig.vectors.row(k - 1);
    Ok(beta * last_row[0].abs() <= tol * scale && beta * last_row[k - 1].abs() <= tol * scale)
}

/// Smallest and largest eigenvalue of the symmetric tridiagonal (α, β) by Sturm-sequence
/// bisection (Golub & Van Loan §8.4.1; Kahan's pivmin safeguard as in LAPACK `dstebz`):
/// O(k) per step instead of the O(k²) of a full QL, which matters since it runs every step.
fn extreme_eigenvalues(alphas: &[f64], betas: &[f64]) -> (f64, f64) {
    let k = alphas.len();
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for i in 0..k {
        let r = if i > 0 { betas[i - 1].abs() } else { 0.0 }
            + if i + 1 < k { betas[i].abs() } else { 0.0 };
        lo = lo.min(alphas[i] - r);
        hi = hi.max(alphas[i] + r);
    }
    let norm = lo.abs().max(hi.abs());
    if norm == 0.0 {
        return (0.0, 0.0);
    }
    let b2: Vec<f64> = betas.iter().map(|b| b * b).collect();
    let pivmin = f64::MIN_POSITIVE * b2.iter().fold(1.0f64, |m, &v| m.max(v));
    // Number of eigenvalues strictly below x (Sylvester's law of inertia on T − xI = LDLᵀ).
    let count_below = |x: f64| {
        let mut q = alphas[0] - x;
        let mut c = 0;
        for i in 0..k {
            if i > 0 {
                q = alphas[i] - x - b2[i - 1] / q;
            }
            if q.abs() < pivmin {
                q = -pivmin;
            }
            if q < 0.0 {
                c += 1;
            }
        }
        c
    };
    let widen = 2.0 * f64::EPSILON * norm * k as f64 + 2.0 * pivmin;
    let bisect = |target: usize| {
        // The eigenvalue λ with exactly `target` eigenvalues below it lies in [a, b).
        let (mut a, mut b) = (lo - widen, hi + widen);
        for _ in 0..200 {
            let mid = 0.5 * (a + b);
            if b - a <= 2.0 * f64::EPSILON * a.abs().max(b.abs()) + pivmin || mid == a || mid == b {
                break;
            }
            if count_below(mid) > target {
                b = mid;
            } else {
                a = mid;
            }
        }
        0.5 * (a + b)
    };
    (bisect(0), bisect(k - 1))
}

/// (Σ aᵢ²)^½ without scaling: Lanczos vectors are normalised, and keeping the plain form keeps
/// results bit-identical to earlier releases.
fn norm2(a: &[f64]) -> f64 {
    dot_f64(a, a).sqrt()
}
