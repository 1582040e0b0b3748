//! Micro-kernels: each computes one MR×NR tile of C from a packed A micro-panel (MR rows,
//! stored column by column) and a packed B micro-panel (NR columns, stored row by row),
//!
//!   C[0..m, 0..n] ← α · Σₚ a[:, p] b[p, :] + β · C[0..m, 0..n],   m ≤ MR, n ≤ NR,
//!
//! as in Van Zee & van de Geijn, "BLIS: A framework for rapidly instantiating BLAS
//! functionality", ACM TOMS 41(3), 2015, §3. Every entry of the tile is accumulated by one
//! fused multiply-add chain over p in increasing order, so an entry's value does not depend on
//! where its tile sits or which thread computes it.
//!
//! One generic body ([`tile`]) is instantiated per instruction set through the [`Simd`] trait;
//! the `#[target_feature]` wrappers live in `avx2.rs` and `avx512.rs`.

/// Implements [`Simd`] for one x86 register type from its intrinsics, so the instruction sets
/// differ only in the names passed here (the kernel body itself is [`tile`]).
#[cfg(target_arch = "x86_64")]
macro_rules! impl_x86_simd {
    ($name:ident, $elem:ty, $v:ty, $lanes:expr,
     $zero:ident, $splat:ident, $load:ident, $store:ident, $fmadd:ident, $mul:ident) => {
        impl super::Simd for $name {
            type Elem = $elem;
            type V = $v;
            const LANES: usize = $lanes;
            #[inline(always)]
            unsafe fn zero() -> $v {
                $zero()
            }
            #[inline(always)]
            unsafe fn splat(x: $elem) -> $v {
                $splat(x)
            }
            #[inline(always)]
            unsafe fn load(p: *const $elem) -> $v {
                $load(p)
            }
            #[inline(always)]
            unsafe fn store(p: *mut $elem, v: $v) {
                $store(p, v)
            }
            #[inline(always)]
            unsafe fn fmadd(a: $v, b: $v, c: $v) -> $v {
                $fmadd(a, b, c)
            }
            #[inline(always)]
            unsafe fn mul(a: $v, b: $v) -> $v {
                $mul(a, b)
            }
            #[inline(always)]
            unsafe fn prefetch(p: *const $elem) {
                _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod portable;

/// Signature shared by all micro-kernels.
///
/// `kc`: depth; `a`: packed A micro-panel (kc × MR values); `b`: packed B micro-panel
/// (kc × NR values); `coef`: [α, β]; `c`: tile origin with strides `rs`, `cs`; `m ≤ MR`,
/// `n ≤ NR`: the part of the tile that exists. When β = 0 C is only written, never read (BLAS
/// convention). α and β come by pointer so that they are read after the k loop: passed by
/// value they would sit in two of the vector registers the accumulators need.
pub(crate) type MicroKernel<T> = unsafe fn(
    kc: usize,
    a: *const T,
    b: *const T,
    coef: *const [T; 2],
    c: *mut T,
    rs: isize,
    cs: isize,
    m: usize,
    n: usize,
);

/// The few vector operations a micro-kernel needs, for one element type on one instruction
/// set. Every method is `#[inline(always)]` so that, once inlined into a `#[target_feature]`
/// function, the intrinsics compile to single instructions.
pub(crate) trait Simd {
    /// Scalar type.
    type Elem: Copy + PartialEq + Default;
    /// Vector register type.
    type V: Copy;
    /// Scalars per vector.
    const LANES: usize;
    /// All lanes zero.
    unsafe fn zero() -> Self::V;
    /// All lanes `x`.
    unsafe fn splat(x: Self::Elem) -> Self::V;
    /// Unaligned load of `LANES` consecutive scalars.
    unsafe fn load(p: *const Self::Elem) -> Self::V;
    /// Unaligned store of `LANES` consecutive scalars.
    unsafe fn store(p: *mut Self::Elem, v: Self::V);
    /// a·b + c (fused where the instruction set has it).
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// a·b.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// Hint that the cache line holding `p` will be written soon.
    #[inline(always)]
    unsafe fn prefetch(_p: *const Self::Elem) {}
}

/// Generic micro-kernel body: an MR × (NV·LANES) tile held in `MR·NV` vector accumulators.
/// Per step p it loads NV vectors of the B panel, broadcasts MR scalars of the A panel and
/// issues MR·NV independent FMAs (enough to hide FMA latency on current x86 cores).
///
/// # Safety
/// `a` must hold `kc·MR` values, `b` `kc·NV·LANES`; every (i, j) with i < m, j < n must address
/// a valid, exclusively borrowed entry of C.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub(crate) unsafe fn tile<S: Simd, const MR: usize, const NV: usize>(
    kc: usize,
    a: *const S::Elem,
    b: *const S::Elem,
    coef: *const [S::Elem; 2],
    c: *mut S::Elem,
    rs: isize,
    cs: isize,
    m: usize,
    n: usize,
) {
    let lanes = S::LANES;
    let nr = NV * lanes;
    let full = m == MR && n == nr && cs == 1;

    // Warm the lines of C we will read-modify-write at the end.
    if full {
        for i in 0..MR {
            S::prefetch(c.offset(i as isize * rs));
            S::prefetch(c.offset(i as isize * rs).add(nr - 1));
        }
    }

    let mut acc = [[S::zero(); NV]; MR];
    let mut pa = a;
    let mut pb = b;

    macro_rules! step {
        ($off:expr) => {{
            let mut bv = [S::zero(); NV];
            for j in 0..NV {
                bv[j] = S::load(pb.add($off * nr + j * lanes));
            }
            for i in 0..MR {
                let av = S::splat(*pa.add($off * MR + i));
                for j in 0..NV {
                    acc[i][j] = S::fmadd(av, bv[j], acc[i][j]);
                }
            }
        }};
    }

    // Unrolled by four: the loop bookkeeping then costs little next to MR·NV FMAs per step.
    let mut p = kc;
    while p >= 4 {
        step!(0);
        step!(1);
        step!(2);
        step!(3);
        pa = pa.add(4 * MR);
        pb = pb.add(4 * nr);
        p -= 4;
    }
    while p > 0 {
        step!(0);
        pa = pa.add(MR);
        pb = pb.add(nr);
        p -= 1;
    }

    let [alpha, beta] = *coef;
    let zero = S::Elem::default();
    let alpha_v = S::splat(alpha);
    if full {
        if beta == zero {
            for i in 0..MR {
                let row = c.offset(i as isize * rs);
                for j in 0..NV {
                    S::store(row.add(j * lanes), S::mul(alpha_v, acc[i][j]));
                }
            }
        } else {
            let beta_v = S::splat(beta);
            for i in 0..MR {
                let row = c.offset(i as isize * rs);
                for j in 0..NV {
                    let old = S::load(row.add(j * lanes));
                    S::store(
                        row.add(j * lanes),
                        S::fmadd(beta_v, old, S::mul(alpha_v, acc[i][j])),
                    );
                }
            }
        }
    } else {
        // Edge tile (or C not row-contiguous): spill α·acc, then update entry by entry with the
        // same rounding as the full path (one product for α, then a fused β·c + ·).
        let mut buf = [[[S::Elem::default(); 16]; NV]; MR];
        debug_assert!(lanes <= 16);
        for i in 0..MR {
            for j in 0..NV {
                S::store(buf[i][j].as_mut_ptr(), S::mul(alpha_v, acc[i][j]));
            }
        }
        let beta_v = S::splat(beta);
        for i in 0..m {
            for j in 0..n {
                let v = buf[i][j / lanes][j % lanes];
                let dst = c.offset(i as isize * rs + j as isize * cs);
                if beta == zero {
                    *dst = v;
                } else {
                    let mut tmp = [S::Elem::default(); 16];
                    S::store(
                        tmp.as_mut_ptr(),
                        S::fmadd(beta_v, S::splat(*dst), S::splat(v)),
                    );
                    *dst = tmp[0];
                }
            }
        }
    }
}
