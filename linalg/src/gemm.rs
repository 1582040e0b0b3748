//! General matrix multiply C ← αAB + βC and the matrix-vector product.
//!
//! Transposes are views (`a.t()`), so the four cases AB, AᵀB, ABᵀ, AᵀBᵀ are one routine.
//! BLAS convention: when β = 0, C is overwritten and its old contents (even NaN) are ignored.
//!
//! This file holds the public API; the packed, cache-blocked SIMD implementation lives in the
//! `gemm/` module (Goto & van de Geijn, "Anatomy of high-performance matrix multiplication",
//! ACM TOMS 34(3), 2008).

use crate::error::{LinalgError, Result};
use crate::matrix::{MatMut, MatRef, Matrix};
use crate::real::Real;

mod driver;
mod gemv;
mod kernels;
mod pack;
mod typed;

use driver::Epilogue;

/// Whether an operand enters a product as itself or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Use the matrix as is.
    NoTrans,
    /// Use its transpose.
    Trans,
}

impl Op {
    fn apply<'a, T: Real>(self, m: MatRef<'a, T>) -> MatRef<'a, T> {
        match self {
            Op::NoTrans => m,
            Op::Trans => m.t(),
        }
    }
}

/// C ← α·A·B + β·C, with A m×k, B k×n, C m×n (any strides; pass `x.t()` for a transpose).
///
/// Errors on mismatched shapes. The result does not depend on the rayon thread count: each
/// entry of C is accumulated by one task, over k in a fixed order.
pub fn gemm<T: Real>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    gemm_with(Par::default(), alpha, a, b, beta, c)
}

/// Whether a routine may spread its work over the rayon thread pool (faer's convention: every
/// routine that parallelises takes one, and its convenience wrapper passes
/// [`Par::default()`], which is [`Par::Rayon`]).
///
/// The choice never changes a result: every routine in this crate gives bit-identical output
/// under `Seq`, and under `Rayon` with any number of threads, because each output entry is
/// computed by one task in an order fixed by the shapes alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Par {
    /// Run on the calling thread only (for callers that parallelise at a coarser level).
    Seq,
    /// Use the current rayon pool (the one `rayon::ThreadPool::install` set, or the global
    /// one).
    #[default]
    Rayon,
}

/// [`gemm`] with an explicit choice of parallelism; `Par::Seq` and `Par::Rayon` give
/// bit-identical results.
pub fn gemm_with<T: Real>(
    par: Par,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    gemm_dispatch(selected_kernel(), par, alpha, a, b, beta, c, None)
}

/// C ← g(αAB + βC): [`gemm_with`], then `g(i, j0, row)` on every run `row` of finished
/// entries C[i, j0..j0 + row.len()], each entry exactly once.
///
/// This is a GEMM epilogue (as in BLIS and CUTLASS): where C's rows are contiguous, each
/// thread applies `g` to the tiles it computed right after their last rank update, while
/// they are still in its cache, instead of a second pass over C. A network layer uses it for
/// bias and activation. Elementwise `g` gives the same bits as calling it after the product,
/// on any number of threads.
pub fn gemm_then<T: Real>(
    par: Par,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
    g: &(dyn Fn(usize, usize, &mut [T]) + Sync),
) -> Result<()> {
    gemm_dispatch(selected_kernel(), par, alpha, a, b, beta, c, Some(g))
}

/// `g` on every row of C, outside the product (for the routes without a packed epilogue).
fn apply_rows<T: Real>(mut c: MatMut<'_, T>, g: &(dyn Fn(usize, usize, &mut [T]) + Sync)) {
    let mut row = vec![T::zero(); c.cols()];
    for i in 0..c.rows() {
        for (j, r) in row.iter_mut().enumerate() {
            *r = c.get(i, j);
        }
        g(i, 0, &mut row);
        for (j, &r) in row.iter().enumerate() {
            c.set(i, j, r);
        }
    }
}

/// A micro-kernel family for [`gemm_with_kernel`]: which instruction set computes the tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Plain scalar code, compiled for every target (4×4 tiles).
    Portable,
    /// AVX2 + FMA, 256-bit vectors (6×8 tiles for f64, 6×16 for f32).
    Avx2,
    /// AVX-512F, 512-bit vectors (14×16 tiles for f64, 14×32 for f32).
    Avx512,
}

impl Kernel {
    /// Whether the running CPU can execute this kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// The kernels the running CPU can execute, slowest first (`Portable` is always there).
pub fn available_kernels() -> Vec<Kernel> {
    [Kernel::Portable, Kernel::Avx2, Kernel::Avx512]
        .into_iter()
        .filter(|k| k.is_available())
        .collect()
}

/// The kernel [`gemm`] uses: the widest available, detected once and cached.
///
/// `TANGENT_GEMM_KERNEL=portable|avx2|avx512` picks another available kernel for comparisons
/// (read once); a name that is unknown or not available on this CPU is ignored.
pub fn selected_kernel() -> Kernel {
    static SELECTED: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
    *SELECTED.get_or_init(|| {
        let available = available_kernels();
        let asked = std::env::var("TANGENT_GEMM_KERNEL").ok().and_then(|v| {
            match v.to_ascii_lowercase().as_str() {
                "portable" => Some(Kernel::Portable),
                "avx2" => Some(Kernel::Avx2),
                "avx512" => Some(Kernel::Avx512),
                _ => None,
            }
        });
        match asked {
            Some(k) if available.contains(&k) => k,
            _ if available.contains(&Kernel::Avx2) && avx512_is_double_pumped() => Kernel::Avx2,
            _ => *available.last().unwrap_or(&Kernel::Portable),
        }
    })
}

/// True on AMD Zen 4 (family 19h with AVX-512), which executes a 512-bit FMA as two 256-bit
/// halves: the AVX-512 kernel then has no throughput advantage over the AVX2 one, while its
/// 14×32 f32 tiles waste more rows and columns at the edges. Measured on a 2-core Zen 4
/// (`benches/peers`, `tangent bench-train`): GEMM f32 n = 2048, 1 thread, 99.4 GFLOP/s with the
/// AVX2 kernel against 86.6; a LeNet-300-100 training step 0.95 ms against 1.10.
fn avx512_is_double_pumped() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if !is_x86_feature_detected!("avx512f") {
            return false;
        }
        // cpuid leaves 0 and 1 exist on every x86-64 CPU.
        let (vendor, signature) = {
            let v = std::arch::x86_64::__cpuid(0);
            ([v.ebx, v.edx, v.ecx], std::arch::x86_64::__cpuid(1).eax)
        };
        let amd = vendor == [0x6874_7541, 0x6974_6e65, 0x444d_4163]; // "AuthenticAMD"
        let family = ((signature >> 8) & 0xf) + ((signature >> 20) & 0xff);
        amd && family == 0x19
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`gemm_with`] on an explicitly chosen micro-kernel, so that tests exercise every kernel the
/// CPU has. Errors with `InvalidArgument` when the CPU lacks the kernel's instructions.
#[doc(hidden)]
pub fn gemm_with_kernel<T: Real>(
    kernel: Kernel,
    par: Par,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    if !kernel.is_available() {
        return Err(LinalgError::InvalidArgument {
            op: "gemm_with_kernel",
            arg: "kernel",
            value: None,
            reason: match kernel {
                Kernel::Portable => "the portable kernel is always available",
                Kernel::Avx2 => "this CPU lacks AVX2 or FMA",
                Kernel::Avx512 => "this CPU lacks AVX-512F",
            },
        });
    }
    gemm_dispatch(kernel, par, alpha, a, b, beta, c, None)
}

/// Products with fewer multiply-adds than this use a direct loop: packing would cost more
/// than it saves.
const TINY_FLOPS: usize = 8 * 1024;
/// Products with fewer multiply-adds than this (about 100³) stay on the calling thread: the
/// rayon fork-join would cost more than the second core gives back.
const PARALLEL_FLOPS: usize = 1 << 20;

#[allow(clippy::too_many_arguments)]
fn gemm_dispatch<T: Real>(
    kernel: Kernel,
    par: Par,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
    epilogue: Epilogue<'_, T>,
) -> Result<()> {
    if a.cols() != b.rows() {
        let (expected, got) = ((a.cols(), b.cols()), (b.rows(), b.cols()));
        return Err(LinalgError::shape_mismatch("gemm", "B", expected, got));
    }
    if a.rows() != c.rows() || b.cols() != c.cols() {
        let (expected, got) = ((a.rows(), b.cols()), (c.rows(), c.cols()));
        return Err(LinalgError::shape_mismatch("gemm", "C", expected, got));
    }
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    if m == 0 || n == 0 {
        return Ok(());
    }
    let packed = k > 0
        && alpha != T::zero()
        && m > 1
        && n > 1
        && m.saturating_mul(n).saturating_mul(k) >= TINY_FLOPS
        && typed::is_supported::<T>();
    if let Some(g) = epilogue {
        if !(packed && c.col_stride() == 1) {
            gemm_dispatch(kernel, par, alpha, a, b, beta, c.rb(), None)?;
            apply_rows(c, g);
            return Ok(());
        }
    }
    if k == 0 || alpha == T::zero() {
        scale(beta, c);
        return Ok(());
    }
    // The kernels store rows of C as vectors: hand them Cᵀ = BᵀAᵀ when C is column-major.
    if c.col_stride() != 1 && c.row_stride().unsigned_abs() < c.col_stride().unsigned_abs() {
        return gemm_dispatch(kernel, par, alpha, b.t(), a.t(), beta, c.t(), None);
    }
    let flops = m.saturating_mul(n).saturating_mul(k);
    let parallel = par == Par::Rayon && flops >= PARALLEL_FLOPS;
    if n == 1 {
        gemv::gemv(parallel, alpha, a, b, beta, c);
    } else if m == 1 {
        gemv::gemv(parallel, alpha, b.t(), a.t(), beta, c.t());
    } else if !packed {
        gemm_direct(alpha, a, b, beta, c);
    } else {
        typed::run(kernel, parallel, alpha, a, b, beta, c, epilogue);
    }
    Ok(())
}

/// C ← βC, with β = 0 overwriting (NaN included).
fn scale<T: Real>(beta: T, mut c: MatMut<'_, T>) {
    if beta == T::one() {
        return;
    }
    for i in 0..c.rows() {
        for j in 0..c.cols() {
            // SAFETY: in bounds.
            let cij = unsafe { c.get_mut_unchecked(i, j) };
            *cij = if beta == T::zero() {
                T::zero()
            } else {
                beta * *cij
            };
        }
    }
}

/// Unpacked loop for tiny products, summing over k in order like the kernels.
fn gemm_direct<T: Real>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    for i in 0..m {
        for j in 0..n {
            let mut s = T::zero();
            for p in 0..k {
                // SAFETY: indices in bounds by the loop ranges.
                s += unsafe { a.get_unchecked(i, p) * b.get_unchecked(p, j) };
            }
            // SAFETY: in bounds.
            let cij = unsafe { c.get_mut_unchecked(i, j) };
            *cij = if beta == T::zero() {
                alpha * s
            } else {
                alpha * s + beta * *cij
            };
        }
    }
}

/// C ← α·op(A)·op(B) + β·C, the BLAS-style spelling of [`gemm`].
pub fn gemm_op<T: Real>(
    alpha: T,
    a: MatRef<'_, T>,
    op_a: Op,
    b: MatRef<'_, T>,
    op_b: Op,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    gemm_with(Par::default(), alpha, op_a.apply(a), op_b.apply(b), beta, c)
}

/// [`gemm_op`] with an explicit choice of parallelism (results do not depend on it).
#[allow(clippy::too_many_arguments)] // the BLAS argument list plus `par`
pub fn gemm_op_with<T: Real>(
    par: Par,
    alpha: T,
    a: MatRef<'_, T>,
    op_a: Op,
    b: MatRef<'_, T>,
    op_b: Op,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    gemm_with(par, alpha, op_a.apply(a), op_b.apply(b), beta, c)
}

/// A·B as a new matrix. Errors as [`gemm`].
pub fn matmul<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Result<Matrix<T>> {
    matmul_with(Par::default(), a, b)
}

/// [`matmul`] with an explicit choice of parallelism (results do not depend on it).
pub fn matmul_with<T: Real>(par: Par, a: MatRef<'_, T>, b: MatRef<'_, T>) -> Result<Matrix<T>> {
    let mut c = Matrix::zeros(a.rows(), b.cols());
    gemm_with(par, T::one(), a, b, T::zero(), c.as_mut())?;
    Ok(c)
}

/// y ← α·A·x + β·y (pass `a.t()` for Aᵀx). When β = 0, y is overwritten.
///
/// Rows of y are shared out over rayon in fixed blocks; each yᵢ is summed over j in a fixed
/// order, so the result does not depend on the thread count.
///
/// Errors: `DimensionMismatch` when x does not have A's column count or y its row count.
pub fn matvec<T: Real>(alpha: T, a: MatRef<'_, T>, x: &[T], beta: T, y: &mut [T]) -> Result<()> {
    matvec_with(Par::default(), alpha, a, x, beta, y)
}

/// [`matvec`] with an explicit choice of parallelism (results do not depend on it).
pub fn matvec_with<T: Real>(
    par: Par,
    alpha: T,
    a: MatRef<'_, T>,
    x: &[T],
    beta: T,
    y: &mut [T],
) -> Result<()> {
    if a.cols() != x.len() {
        return Err(LinalgError::len_mismatch("matvec", "x", a.cols(), x.len()));
    }
    if a.rows() != y.len() {
        return Err(LinalgError::len_mismatch("matvec", "y", a.rows(), y.len()));
    }
    let (m, n) = (a.rows(), a.cols());
    if m == 0 {
        return Ok(());
    }
    let x = MatRef::from_slice(x, n, 1, 1)?;
    let y = MatMut::from_slice(y, m, 1, 1)?;
    if n == 0 || alpha == T::zero() {
        scale(beta, y);
        return Ok(());
    }
    let parallel = par == Par::Rayon && m.saturating_mul(n) >= PARALLEL_FLOPS / 16;
    gemv::gemv(parallel, alpha, a, x, beta, y);
    Ok(())
}

/// The plain triple loop, C ← αAB + βC. Slow, obviously right: the oracle the tests compare
/// the fast path against.
pub fn gemm_reference<T: Real>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    for i in 0..m {
        for j in 0..n {
            let mut s = T::zero();
            for p in 0..k {
                // SAFETY: indices in bounds by the loop ranges.
                s = unsafe { a.get_unchecked(i, p) }.mul_add(unsafe { b.get_unchecked(p, j) }, s);
            }
            // SAFETY: in bounds.
            let cij = unsafe { c.get_mut_unchecked(i, j) };
            *cij = if beta == T::zero() {
                alpha * s
            } else {
                alpha * s + beta * *cij
            };
        }
    }
}
