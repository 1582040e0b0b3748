//! Triangular solves with one or many right-hand sides (forward and back substitution).
//!
//! The many-right-hand-side solves are recursive (Golub & Van Loan, *Matrix Computations*,
//! 4th ed., §3.1.4 "Block forward substitution"; Elmroth, Gustavson, Jonsson & Kågström,
//! "Recursive blocked algorithms and hybrid data structures for dense matrix library
//! software", SIAM Review 46(1), 2004): split L = [L₁₁ 0; L₂₁ L₂₂] and B = [B₁; B₂], solve
//! L₁₁X₁ = B₁, update B₂ ← B₂ − L₂₁X₁ with one GEMM, then solve L₂₂X₂ = B₂. Almost all flops land
//! in GEMM calls; only diagonal blocks of at most `BASE` (32) rows are solved by substitution.
//!
//! Each right-hand side (column of B) is computed by exactly one task in a fixed order, and
//! GEMM is deterministic, so results do not depend on the rayon thread count. Every solve
//! takes a [`Par`] in its `_with` form; the plain form uses `Par::default()`.

use crate::error::{LinalgError, Result};
use crate::gemm::{gemm_with, Par};
use crate::matrix::{MatMut, MatRef};
use crate::real::Real;
use crate::vec::kernels::fma_available;
use rayon::prelude::*;

/// Diagonal blocks up to this order are solved by plain substitution.
pub(crate) const BASE: usize = 32;

/// Right-hand sides handed to one rayon task in the substitution kernels.
const RHS_CHUNK: usize = 64;

/// Solves L·X = B in place (B ← L⁻¹B) for lower-triangular L (n×n, only the lower triangle is
/// read) and B n×m with any strides. Forward substitution, blocked as described in the module
/// docs; [`solve_lower_in_place_with`] with the default [`Par`].
///
/// Errors: `NotSquare`, `DimensionMismatch`, `Singular { index }` for an exactly zero diagonal
/// entry (checked before B is touched).
pub fn solve_lower_in_place<T: Real>(l: MatRef<'_, T>, b: MatMut<'_, T>) -> Result<()> {
    solve_lower_in_place_with(Par::default(), l, b)
}

/// [`solve_lower_in_place`] with an explicit choice of parallelism (results do not depend on
/// it).
pub fn solve_lower_in_place_with<T: Real>(
    par: Par,
    l: MatRef<'_, T>,
    b: MatMut<'_, T>,
) -> Result<()> {
    check(l, b.rows(), b.cols(), "solve_lower_in_place")?;
    lower_rec(l, b, par);
    Ok(())
}

/// Solves Lᵀ·X = B in place for lower-triangular L (back substitution with the transpose,
/// which is a view: no copy).
///
/// Errors as [`solve_lower_in_place`].
pub fn solve_lower_transpose_in_place<T: Real>(l: MatRef<'_, T>, b: MatMut<'_, T>) -> Result<()> {
    solve_lower_transpose_in_place_with(Par::default(), l, b)
}

/// [`solve_lower_transpose_in_place`] with an explicit choice of parallelism.
pub fn solve_lower_transpose_in_place_with<T: Real>(
    par: Par,
    l: MatRef<'_, T>,
    b: MatMut<'_, T>,
) -> Result<()> {
    check(l, b.rows(), b.cols(), "solve_lower_transpose_in_place")?;
    upper_rec(l.t(), b, par);
    Ok(())
}

/// Solves U·X = B in place for upper-triangular U (only the upper triangle is read):
/// back substitution, blocked like [`solve_lower_in_place`] with the blocks taken bottom-up.
///
/// Errors as [`solve_lower_in_place`].
pub fn solve_upper_in_place<T: Real>(u: MatRef<'_, T>, b: MatMut<'_, T>) -> Result<()> {
    solve_upper_in_place_with(Par::default(), u, b)
}

/// [`solve_upper_in_place`] with an explicit choice of parallelism.
pub fn solve_upper_in_place_with<T: Real>(
    par: Par,
    u: MatRef<'_, T>,
    b: MatMut<'_, T>,
) -> Result<()> {
    check(u, b.rows(), b.cols(), "solve_upper_in_place")?;
    upper_rec(u, b, par);
    Ok(())
}

/// Solves Uᵀ·X = B in place for upper-triangular U.
///
/// Errors as [`solve_lower_in_place`].
pub fn solve_upper_transpose_in_place<T: Real>(u: MatRef<'_, T>, b: MatMut<'_, T>) -> Result<()> {
    solve_upper_transpose_in_place_with(Par::default(), u, b)
}

/// [`solve_upper_transpose_in_place`] with an explicit choice of parallelism.
pub fn solve_upper_transpose_in_place_with<T: Real>(
    par: Par,
    u: MatRef<'_, T>,
    b: MatMut<'_, T>,
) -> Result<()> {
    check(u, b.rows(), b.cols(), "solve_upper_transpose_in_place")?;
    lower_rec(u.t(), b, par);
    Ok(())
}

/// Solves L·x = b in place for one right-hand side: xᵢ = (bᵢ − Σ_{j<i} lᵢⱼxⱼ)/lᵢᵢ.
///
/// Errors as [`solve_lower_in_place`].
pub fn solve_lower_vec<T: Real>(l: MatRef<'_, T>, b: &mut [T]) -> Result<()> {
    solve_lower_vec_with(Par::default(), l, b)
}

/// [`solve_lower_vec`] with an explicit choice of parallelism.
pub fn solve_lower_vec_with<T: Real>(par: Par, l: MatRef<'_, T>, b: &mut [T]) -> Result<()> {
    let n = b.len();
    solve_lower_in_place_with(par, l, MatMut::from_slice(b, n, 1, 1)?)
}

/// Solves Lᵀ·x = b in place for one right-hand side: xᵢ = (bᵢ − Σ_{j>i} lⱼᵢxⱼ)/lᵢᵢ.
///
/// Errors as [`solve_lower_in_place`].
pub fn solve_lower_transpose_vec<T: Real>(l: MatRef<'_, T>, b: &mut [T]) -> Result<()> {
    solve_lower_transpose_vec_with(Par::default(), l, b)
}

/// [`solve_lower_transpose_vec`] with an explicit choice of parallelism.
pub fn solve_lower_transpose_vec_with<T: Real>(
    par: Par,
    l: MatRef<'_, T>,
    b: &mut [T],
) -> Result<()> {
    let n = b.len();
    solve_lower_transpose_in_place_with(par, l, MatMut::from_slice(b, n, 1, 1)?)
}

/// Solves U·x = b in place for one right-hand side.
///
/// Errors as [`solve_lower_in_place`].
pub fn solve_upper_vec<T: Real>(u: MatRef<'_, T>, b: &mut [T]) -> Result<()> {
    solve_upper_vec_with(Par::default(), u, b)
}

/// [`solve_upper_vec`] with an explicit choice of parallelism.
pub fn solve_upper_vec_with<T: Real>(par: Par, u: MatRef<'_, T>, b: &mut [T]) -> Result<()> {
    let n = b.len();
    solve_upper_in_place_with(par, u, MatMut::from_slice(b, n, 1, 1)?)
}

fn check<T: Real>(t: MatRef<'_, T>, b_rows: usize, b_cols: usize, op: &'static str) -> Result<()> {
    if t.rows() != t.cols() {
        return Err(LinalgError::NotSquare {
            rows: t.rows(),
            cols: t.cols(),
        });
    }
    if t.rows() != b_rows {
        let expected = (t.rows(), b_cols);
        return Err(LinalgError::shape_mismatch(
            op,
            "B",
            expected,
            (b_rows, b_cols),
        ));
    }
    for i in 0..t.rows() {
        // SAFETY: i < rows = cols.
        if unsafe { t.get_unchecked(i, i) } == T::zero() {
            return Err(LinalgError::Singular { index: i });
        }
    }
    Ok(())
}

/// Split point for a recursive step: a multiple of the base size, so the leaves are whole
/// base blocks.
#[inline]
fn split_point(n: usize) -> usize {
    let half = n / 2;
    let rounded = half.div_ceil(BASE) * BASE;
    if rounded >= n {
        half
    } else {
        rounded
    }
}

/// L·X = B, lower L, recursive. Preconditions (checked by callers): shapes agree, diagonal
/// nonzero.
pub(crate) fn lower_rec<T: Real>(l: MatRef<'_, T>, b: MatMut<'_, T>, par: Par) {
    let n = l.rows();
    if n == 0 || b.cols() == 0 {
        return;
    }
    if n <= BASE {
        substitute(l, b, par, false);
        return;
    }
    let h = split_point(n);
    let (mut b1, mut b2) = b.split_at_row(h);
    lower_rec(l.submatrix(0, 0, h, h), b1.rb(), par);
    update(par, l.submatrix(h, 0, n - h, h), b1.as_ref(), b2.rb());
    lower_rec(l.submatrix(h, h, n - h, n - h), b2, par);
}

/// U·X = B, upper U, recursive (bottom block first).
pub(crate) fn upper_rec<T: Real>(u: MatRef<'_, T>, b: MatMut<'_, T>, par: Par) {
    let n = u.rows();
    if n == 0 || b.cols() == 0 {
        return;
    }
    if n <= BASE {
        substitute(u, b, par, true);
        return;
    }
    let h = n - split_point(n);
    let (mut b1, mut b2) = b.split_at_row(h);
    upper_rec(u.submatrix(h, h, n - h, n - h), b2.rb(), par);
    update(par, u.submatrix(0, h, h, n - h), b2.as_ref(), b1.rb());
    upper_rec(u.submatrix(0, 0, h, h), b1, par);
}

/// C ← C − T·X by GEMM. When C is column-major (the transposed panel of a Cholesky step), the
/// transposed product Cᵀ ← Cᵀ − XᵀTᵀ is issued instead, so GEMM writes contiguous rows.
fn update<T: Real>(par: Par, t: MatRef<'_, T>, x: MatRef<'_, T>, c: MatMut<'_, T>) {
    let r = if c.col_stride() != 1 && c.row_stride() == 1 {
        gemm_with(par, -T::one(), x.t(), t.t(), T::one(), c.t())
    } else {
        gemm_with(par, -T::one(), t, x, T::one(), c)
    };
    r.expect("shapes agree by construction");
}

/// Substitution on a small triangle t (n ≤ BASE) for every column of b, splitting the columns
/// over rayon tasks. `upper` selects back substitution.
fn substitute<T: Real>(t: MatRef<'_, T>, b: MatMut<'_, T>, par: Par, upper: bool) {
    let n = t.rows();
    // A contiguous row-major copy of the triangle (the lower one, reversed for upper: an
    // upper solve is a lower solve with rows and columns taken in reverse order).
    let mut tri = vec![T::zero(); n * n];
    for i in 0..n {
        for j in 0..=i {
            // SAFETY: i, j < n.
            tri[i * n + j] = unsafe {
                if upper {
                    t.get_unchecked(n - 1 - i, n - 1 - j)
                } else {
                    t.get_unchecked(i, j)
                }
            };
        }
    }
    let m = b.cols();
    if par == Par::Rayon && m > RHS_CHUNK {
        let mut chunks = Vec::with_capacity(m.div_ceil(RHS_CHUNK));
        let mut rest = b;
        while rest.cols() > RHS_CHUNK {
            let (head, tail) = rest.split_at_col(RHS_CHUNK);
            chunks.push(head);
            rest = tail;
        }
        chunks.push(rest);
        chunks
            .into_par_iter()
            .for_each(|chunk| substitute_cols(&tri, n, chunk, upper));
    } else {
        substitute_cols(&tri, n, b, upper);
    }
}

/// Forward substitution with the row-major lower triangle `tri` on every column of `b`
/// (rows of b taken in reverse when `upper`).
///
/// The columns are copied, [`TILE`] at a time, into a contiguous row-major tile so that the
/// row-oriented form xᵢ ← (bᵢ − Σ_{j<i} tᵢⱼxⱼ)/tᵢᵢ runs as vector operations over the
/// right-hand sides whatever b's strides are; the copy is O(n·m) against O(n²·m) flops.
fn substitute_cols<T: Real>(tri: &[T], n: usize, mut b: MatMut<'_, T>, upper: bool) {
    let m = b.cols();
    let row = |i: usize| if upper { n - 1 - i } else { i };
    let fused = fma_available();
    let mut tile = vec![T::zero(); n * TILE];
    let (rs, cs) = (b.row_stride(), b.col_stride());
    let base = b.as_mut_ptr();
    // Walk B along its contiguous direction when it has one.
    let rows_inner = rs.abs() < cs.abs();
    let at = |i: usize, c: usize| row(i) as isize * rs + c as isize * cs;
    // The Cholesky panel (B = A₂₁ᵀ, columns contiguous) in f64: 4×4 AVX transposes.
    let simd_f64 = !upper
        && rs == 1
        && n.is_multiple_of(4)
        && fused
        && std::any::TypeId::of::<T>() == std::any::TypeId::of::<f64>();
    for c0 in (0..m).step_by(TILE) {
        let w = TILE.min(m - c0);
        #[cfg(target_arch = "x86_64")]
        if simd_f64 && w.is_multiple_of(4) {
            let tp = tile.as_mut_ptr() as *mut f64;
            // SAFETY: T is f64 (checked above), AVX2 is present (`fused`), and the ranges are
            // those of the scalar copies below: columns c0..c0+w of b with rows 0..n
            // contiguous, and rows 0..n × columns 0..w of the tile.
            unsafe {
                let bp = base.offset(c0 as isize * cs) as *mut f64;
                transpose_f64(bp, cs, tp, TILE as isize, w, n);
                forward_tile(fused, tri, n, &mut tile);
                let tp = tile.as_ptr() as *const f64;
                transpose_f64(tp as *mut f64, TILE as isize, bp, cs, n, w);
            }
            continue;
        }
        // SAFETY (both copies): row(i) < n = rows and c0 + c < m, so every offset addresses an
        // entry of b, which this function borrows exclusively.
        if rows_inner {
            for c in 0..w {
                for i in 0..n {
                    tile[i * TILE + c] = unsafe { *base.offset(at(i, c0 + c)) };
                }
            }
        } else {
            for i in 0..n {
                for c in 0..w {
                    tile[i * TILE + c] = unsafe { *base.offset(at(i, c0 + c)) };
                }
            }
        }
        forward_tile(fused, tri, n, &mut tile);
        if rows_inner {
            for c in 0..w {
                for i in 0..n {
                    unsafe { *base.offset(at(i, c0 + c)) = tile[i * TILE + c] };
                }
            }
        } else {
            for i in 0..n {
                for c in 0..w {
                    unsafe { *base.offset(at(i, c0 + c)) = tile[i * TILE + c] };
                }
            }
        }
    }
}

/// dst[j·ds + k] = src[k·ss + j] for k < rows, j < len (both multiples of 4), by 4×4 blocks
/// held in AVX registers.
///
/// # Safety
/// AVX2 present; all addressed entries valid, `dst` exclusive and not overlapping `src`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_f64(
    src: *mut f64,
    ss: isize,
    dst: *mut f64,
    ds: isize,
    rows: usize,
    len: usize,
) {
    use std::arch::x86_64::*;
    for k in (0..rows).step_by(4) {
        for j in (0..len).step_by(4) {
            let s = src.offset(k as isize * ss + j as isize);
            let r0 = _mm256_loadu_pd(s);
            let r1 = _mm256_loadu_pd(s.offset(ss));
            let r2 = _mm256_loadu_pd(s.offset(2 * ss));
            let r3 = _mm256_loadu_pd(s.offset(3 * ss));
            let t0 = _mm256_unpacklo_pd(r0, r1);
            let t1 = _mm256_unpackhi_pd(r0, r1);
            let t2 = _mm256_unpacklo_pd(r2, r3);
            let t3 = _mm256_unpackhi_pd(r2, r3);
            let d = dst.offset(j as isize * ds + k as isize);
            _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(d.offset(ds), _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(d.offset(2 * ds), _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(d.offset(3 * ds), _mm256_permute2f128_pd(t1, t3, 0x31));
        }
    }
}

/// Right-hand sides per contiguous tile: 32 f64 are eight AVX2 registers, so a row of the
/// tile stays in registers while the earlier rows stream past.
const TILE: usize = 32;

fn forward_tile<T: Real>(fused: bool, tri: &[T], n: usize, tile: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if fused {
        // SAFETY: `fused` is true only when the CPU has AVX2 and FMA.
        return unsafe { forward_tile_fma(tri, n, tile) };
    }
    let _ = fused;
    forward_tile_body::<T, false>(tri, n, tile)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_tile_fma<T: Real>(tri: &[T], n: usize, tile: &mut [T]) {
    forward_tile_body::<T, true>(tri, n, tile)
}

/// Row i of the tile ← (row i − Σ_{j<i} tᵢⱼ·row j) / tᵢᵢ, accumulated in a fixed-size array
/// the compiler keeps in registers. `FUSED` selects one-rounding multiply-adds, compiled to
/// FMA instructions inside [`forward_tile_fma`] (elsewhere they would be library calls).
#[inline(always)]
fn forward_tile_body<T: Real, const FUSED: bool>(tri: &[T], n: usize, tile: &mut [T]) {
    for i in 0..n {
        let (done, rest) = tile.split_at_mut(i * TILE);
        let mut acc = [T::zero(); TILE];
        acc.copy_from_slice(&rest[..TILE]);
        for j in 0..i {
            let t = tri[i * n + j];
            let xj: &[T; TILE] = done[j * TILE..(j + 1) * TILE].try_into().expect("tile row");
            if FUSED {
                let nt = -t;
                for c in 0..TILE {
                    acc[c] = nt.mul_add(xj[c], acc[c]);
                }
            } else {
                for c in 0..TILE {
                    acc[c] -= t * xj[c];
                }
            }
        }
        let d = tri[i * n + i];
        for (dst, a) in rest[..TILE].iter_mut().zip(acc) {
            *dst = a / d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn small_lower_and_upper() {
        let l = Matrix::from_vec(2, 2, vec![2.0f64, 0.0, 1.0, 4.0]).unwrap();
        let mut b = vec![2.0, 9.0];
        solve_lower_vec(l.as_ref(), &mut b).unwrap();
        assert_eq!(b, vec![1.0, 2.0]);
        let mut c = vec![4.0, 8.0];
        // Lᵀ = [2 1; 0 4]: x₂ = 2, x₁ = (4 − 2)/2 = 1.
        solve_lower_transpose_vec(l.as_ref(), &mut c).unwrap();
        assert_eq!(c, vec![1.0, 2.0]);
    }

    /// The plain and FMA substitution kernels agree (both are the plain one without AVX2).
    #[test]
    fn plain_and_fused_tiles_agree() {
        let n = 9;
        let tri: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                if j > i {
                    0.0
                } else if i == j {
                    2.0 + i as f64
                } else {
                    ((k * 37) % 11) as f64 / 11.0 - 0.5
                }
            })
            .collect();
        let tile: Vec<f64> = (0..n * TILE)
            .map(|k| ((k * 13) % 17) as f64 - 8.0)
            .collect();
        let (mut a, mut b) = (tile.clone(), tile.clone());
        forward_tile(false, &tri, n, &mut a);
        forward_tile(fma_available(), &tri, n, &mut b);
        for c in 0..TILE {
            // Check L·x = b column by column, and the two kernels against each other.
            for i in 0..n {
                let lx: f64 = (0..=i).map(|j| tri[i * n + j] * a[j * TILE + c]).sum();
                assert!((lx - tile[i * TILE + c]).abs() < 1e-12);
                assert!((a[i * TILE + c] - b[i * TILE + c]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn singular_reports_index() {
        let l =
            Matrix::from_vec(3, 3, vec![1.0f64, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0]).unwrap();
        let mut b = vec![1.0; 3];
        assert_eq!(
            solve_lower_vec(l.as_ref(), &mut b),
            Err(LinalgError::Singular { index: 1 })
        );
    }
}
