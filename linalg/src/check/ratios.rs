//! Residual ratios in the style of LAPACK's test suite, all evaluated in f64 with the plain
//! triple loop, for results computed in f32 or f64. A backward-stable routine gives ratios
//! of order one; LAPACK's own tests fail a routine at 30 (LAPACK Working Note 41, §6).

use crate::{Matrix, Real, SymmetricEigen};

/// A·B in f64 by the plain i-p-j triple loop: independent of the packed GEMM under test.
pub fn reference_matmul(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
    let (n, k, m) = (a.rows(), a.cols(), b.cols());
    let mut c = Matrix::zeros(n, m);
    for i in 0..n {
        for p in 0..k {
            let aip = a.get(i, p);
            if aip == 0.0 {
                continue;
            }
            let crow = c.row_mut(i);
            for (cj, bj) in crow.iter_mut().zip(b.row(p)) {
                *cj += aip * bj;
            }
        }
    }
    c
}

/// Widens a matrix to f64, exactly.
pub fn widen<T: Real>(a: &Matrix<T>) -> Matrix<f64> {
    Matrix::from_fn(a.rows(), a.cols(), |i, j| a.get(i, j).to_f64())
}

/// ‖A − B‖_F in f64 (+∞ when the shapes differ).
pub fn diff_fro(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    if a.rows() != b.rows() || a.cols() != b.cols() {
        return f64::INFINITY;
    }
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// The worst entrywise ratio of the error of Ĉ = αAB + βC₀ to Higham's forward-error bound
/// (*Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.5):
///
/// |Ĉ − C|ᵢⱼ / (γ_{k+2} (|α|·(|A||B|)ᵢⱼ + |β|·|C₀|ᵢⱼ) + tiny),  γ_j = j·ε,
///
/// with C computed in f64 from the same (widened) inputs. At most 1 in exact-reference
/// arithmetic; the f64 reference's own rounding can add as much again when T is f64, so a
/// correct kernel stays below 2.
pub fn gemm_ratio<T: Real>(
    got: &Matrix<T>,
    alpha: f64,
    a: &Matrix<T>,
    b: &Matrix<T>,
    beta: f64,
    c0: &Matrix<T>,
) -> f64 {
    let (a, b, c0, got) = (widen(a), widen(b), widen(c0), widen(got));
    let abs = |m: &Matrix<f64>| Matrix::from_fn(m.rows(), m.cols(), |i, j| m.get(i, j).abs());
    let want = reference_matmul(&a, &b);
    let mag = reference_matmul(&abs(&a), &abs(&b));
    let gamma = (a.cols() as f64 + 2.0) * T::EPSILON.to_f64();
    let mut worst: f64 = 0.0;
    for i in 0..got.rows() {
        for j in 0..got.cols() {
            let c0ij = if beta == 0.0 { 0.0 } else { c0.get(i, j) };
            let exact = alpha * want.get(i, j) + beta * c0ij;
            let bound = gamma * (alpha.abs() * mag.get(i, j) + beta.abs() * c0ij.abs())
                + T::MIN_POSITIVE.to_f64();
            let err = (got.get(i, j) - exact).abs();
            worst = worst.max(if err.is_finite() {
                err / bound
            } else {
                f64::INFINITY
            });
        }
    }
    worst
}

/// ‖A − LLᵀ‖_F / (n·ε·‖A‖_F), LAPACK's xPOT01 ratio (Frobenius norms), with ε of the
/// precision L was computed in. `a` is the matrix actually factored, widened.
pub fn cholesky_ratio<T: Real>(a: &Matrix<f64>, l: &Matrix<T>) -> f64 {
    let n = a.rows().max(1) as f64;
    let l = widen(l);
    let llt = reference_matmul(&l, &l.transpose());
    let r = diff_fro(a, &llt) / (n * T::EPSILON.to_f64() * a.norm_fro().max(f64::MIN_POSITIVE));
    if r.is_nan() {
        f64::INFINITY
    } else {
        r
    }
}

/// maxⱼ ‖A xⱼ − bⱼ‖ / (n·ε·‖A‖_F·‖xⱼ‖), LAPACK's xPOT02/xTRT02 ratio, for any square A
/// given densely (a triangle, its transpose, an SPD matrix), with ε of x's precision.
pub fn solve_ratio<T: Real>(a: &Matrix<f64>, x: &Matrix<T>, b: &Matrix<f64>) -> f64 {
    let n = a.rows();
    let x = widen(x);
    let ax = reference_matmul(a, &x);
    let scale = n.max(1) as f64 * T::EPSILON.to_f64() * a.norm_fro();
    (0..b.cols())
        .map(|c| {
            let r: f64 = (0..n).map(|i| (ax.get(i, c) - b.get(i, c)).powi(2)).sum();
            let xn: f64 = (0..n).map(|i| x.get(i, c).powi(2)).sum();
            let q = r.sqrt() / (scale * xn.sqrt()).max(f64::MIN_POSITIVE);
            if q.is_nan() {
                f64::INFINITY
            } else {
                q
            }
        })
        .fold(0.0, f64::max)
}

/// (‖AV − VΛ‖_F / (n·ε·‖A‖_F), ‖VᵀV − I‖_F / (n·ε)), LAPACK's xSYT21 residual and
/// orthogonality ratios, for an eigendecomposition computed in T.
pub fn eigen_ratios<T: Real>(a: &Matrix<f64>, e: &SymmetricEigen<T>) -> (f64, f64) {
    let n = a.rows();
    let v = widen(&e.vectors);
    let av = reference_matmul(a, &v);
    let vl = Matrix::from_fn(n, n, |i, j| v.get(i, j) * e.values[j].to_f64());
    let eps = T::EPSILON.to_f64();
    let nf = n.max(1) as f64;
    let res = diff_fro(&av, &vl) / (nf * eps * a.norm_fro().max(f64::MIN_POSITIVE));
    let vtv = reference_matmul(&v.transpose(), &v);
    let orth = diff_fro(&vtv, &Matrix::identity(n)) / (nf * eps);
    let finite = |x: f64| if x.is_nan() { f64::INFINITY } else { x };
    (finite(res), finite(orth))
}
