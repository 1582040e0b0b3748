//! The blocked loop nest of Goto & van de Geijn ("Anatomy of high-performance matrix
//! multiplication", ACM TOMS 34(3), 2008) in the five-loop form of BLIS:
//!
//! ```text
//! for jc in 0..n step NC            // B block: KC×NC, packed once, shared by all threads (L3)
//!   for pc in 0..k step KC          // rank-KC update; β applies to the first one only
//!     pack B[pc.., jc..] into NR-column micro-panels
//!     for ic in 0..m step MC        // parallel: each task packs its own A block (L2)
//!       pack A[ic.., pc..] into MR-row micro-panels
//!       for jr in 0..NC step NR     // B micro-panel stays in L1 across the ir loop
//!         for ir in 0..MC step MR
//!           micro-kernel: C[ir.., jr..] ← α·Ã·B̃ + β'·C
//! ```
//!
//! Every entry of C belongs to exactly one micro-kernel call per `pc` step, and the `pc` steps
//! run in order, so the arithmetic (and hence every bit of the result) is fixed by the shape
//! and the kernel alone: thread count and task split only decide *who* computes a tile.
//! Packing reads through the views' row and column strides, which is how transposed and
//! strided operands enter the same code.

use super::kernels::MicroKernel;
use crate::matrix::{MatMut, MatRef};
use crate::mem::SharedMut;
use crate::real::Real;
use rayon::prelude::*;
use std::cell::Cell;
use std::thread::LocalKey;

/// A micro-kernel with its tile shape and cache-blocking parameters.
pub(crate) struct Spec<T> {
    /// Tile rows.
    pub mr: usize,
    /// Tile columns.
    pub nr: usize,
    /// Rows of the packed A block (upper bound; rounded to balance blocks).
    pub mc: usize,
    /// Depth of one rank update (upper bound).
    pub kc: usize,
    /// Columns of the packed B block (upper bound).
    pub nc: usize,
    /// The micro-kernel.
    pub ukr: MicroKernel<T>,
}

impl<T> Clone for Spec<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Spec<T> {}

/// One 64-byte line: packed buffers are aligned to it so vector loads never split lines.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

thread_local! {
    static PACK_A: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
    static PACK_B: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` with a per-thread scratch buffer of at least `len` values of `T`, reused across
/// calls so that the hot path does not allocate.
fn with_scratch<T, R>(
    slot: &'static LocalKey<Cell<Vec<Line>>>,
    len: usize,
    f: impl FnOnce(*mut T) -> R,
) -> R {
    let mut buf = slot.with(|c| c.take());
    let lines = (len * std::mem::size_of::<T>()).div_ceil(64).max(1);
    if buf.len() < lines {
        buf = vec![Line([0; 64]); lines];
    }
    let r = f(buf.as_mut_ptr() as *mut T);
    slot.with(|c| c.set(buf));
    r
}

/// Splits `len` into the fewest blocks of at most `max` and returns the (equal, rounded up to
/// a multiple of `unit`) block size, so that the last block is not a sliver.
fn balanced_block(len: usize, max: usize, unit: usize) -> usize {
    let blocks = len.div_ceil(max).max(1);
    len.div_ceil(blocks).div_ceil(unit) * unit
}

/// Packs the `mc × kc` block `a` into MR-row micro-panels: panel q holds rows q·MR.. as kc
/// consecutive groups of MR values (column p of the panel), zero-padded past the last row.
///
/// # Safety
/// `dst` must hold `mc.div_ceil(mr)·mr·kc` values.
unsafe fn pack_a<T: Real>(a: MatRef<'_, T>, mr: usize, dst: *mut T) {
    // A compile-time MR lets the full-panel loops unroll; other values take the generic path.
    match mr {
        4 => pack_a_mr::<T, 4>(a, dst),
        6 => pack_a_mr::<T, 6>(a, dst),
        14 => pack_a_mr::<T, 14>(a, dst),
        _ => pack_a_any(a, mr, dst, 0),
    }
}

unsafe fn pack_a_mr<T: Real, const MR: usize>(a: MatRef<'_, T>, dst: *mut T) {
    let (mc, kc) = (a.rows(), a.cols());
    let (rs, cs) = (a.row_stride(), a.col_stride());
    let src = a.as_ptr();
    let full = mc / MR;
    for q in 0..full {
        let panel = dst.add(q * MR * kc);
        let base = src.offset((q * MR) as isize * rs);
        if rs == 1 {
            // Column-major source (a transposed row-major matrix): MR contiguous values per p.
            for p in 0..kc {
                let col = base.offset(p as isize * cs);
                for i in 0..MR {
                    *panel.add(p * MR + i) = *col.add(i);
                }
            }
        } else if cs == 1 {
            let rows: [*const T; MR] = std::array::from_fn(|i| base.offset(i as isize * rs));
            for p in 0..kc {
                for (i, row) in rows.iter().enumerate() {
                    *panel.add(p * MR + i) = *row.add(p);
                }
            }
        } else {
            for p in 0..kc {
                for i in 0..MR {
                    *panel.add(p * MR + i) = *base.offset(i as isize * rs + p as isize * cs);
                }
            }
        }
    }
    if full * MR < mc {
        pack_a_any(a, MR, dst, full);
    }
}

/// Generic packing of A's micro-panels from panel `first` on, with zero padding.
unsafe fn pack_a_any<T: Real>(a: MatRef<'_, T>, mr: usize, dst: *mut T, first: usize) {
    let (mc, kc) = (a.rows(), a.cols());
    let (rs, cs) = (a.row_stride(), a.col_stride());
    let src = a.as_ptr();
    for q in first..mc.div_ceil(mr) {
        let i0 = q * mr;
        let rows = mr.min(mc - i0);
        let panel = dst.add(q * mr * kc);
        for p in 0..kc {
            for i in 0..mr {
                *panel.add(p * mr + i) = if i < rows {
                    *src.offset((i0 + i) as isize * rs + p as isize * cs)
                } else {
                    T::zero()
                };
            }
        }
    }
}

/// Packs columns `[j0, j0 + panels·NR)` of the `kc × nc` block `b` into NR-column
/// micro-panels: panel q holds kc consecutive rows of NR values, zero-padded past the last
/// column.
///
/// # Safety
/// `dst` must hold `panels·nr·kc` values.
unsafe fn pack_b<T: Real>(b: MatRef<'_, T>, nr: usize, j0: usize, panels: usize, dst: *mut T) {
    match nr {
        4 => pack_b_nr::<T, 4>(b, j0, panels, dst),
        8 => pack_b_nr::<T, 8>(b, j0, panels, dst),
        16 => pack_b_nr::<T, 16>(b, j0, panels, dst),
        32 => pack_b_nr::<T, 32>(b, j0, panels, dst),
        _ => {
            for q in 0..panels {
                pack_b_any(b, nr, j0 + q * nr, dst.add(q * nr * b.rows()));
            }
        }
    }
}

unsafe fn pack_b_nr<T: Real, const NR: usize>(
    b: MatRef<'_, T>,
    j0: usize,
    panels: usize,
    dst: *mut T,
) {
    let (kc, nc) = (b.rows(), b.cols());
    let (rs, cs) = (b.row_stride(), b.col_stride());
    let src = b.as_ptr();
    for q in 0..panels {
        let jq = j0 + q * NR;
        if jq >= nc {
            break;
        }
        let panel = dst.add(q * NR * kc);
        if jq + NR > nc {
            pack_b_any(b, NR, jq, panel);
            continue;
        }
        let base = src.offset(jq as isize * cs);
        if cs == 1 {
            // NR contiguous values per row: one fixed-size copy, which compiles to vector
            // moves (the element loop stayed scalar, through raw pointers that may alias).
            for p in 0..kc {
                let row = base.offset(p as isize * rs);
                std::ptr::copy_nonoverlapping(row, panel.add(p * NR), NR);
            }
        } else if rs == 1 {
            // Column-major source (a transposed row-major matrix, e.g. Wᵀ in a layer's
            // forward pass): a cache-blocked transpose, PB rows of all NR columns at a time,
            // so each column's cache line is read once and the writes stay within PB·NR
            // entries of the panel (a column at a time would stride through the whole panel).
            const PB: usize = 16;
            let mut p0 = 0;
            #[cfg(target_arch = "x86_64")]
            if NR.is_multiple_of(8)
                && std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
                && is_x86_feature_detected!("avx")
            {
                // f32 in 8×8 blocks through AVX registers; the scalar loop below takes the
                // last kc mod 8 rows.
                let (src, dst) = (base as *const f32, panel as *mut f32);
                while p0 + 8 <= kc {
                    for j0 in (0..NR).step_by(8) {
                        transpose8x8_f32(
                            src.offset(j0 as isize * cs + p0 as isize),
                            cs,
                            dst.add(p0 * NR + j0),
                            NR,
                        );
                    }
                    p0 += 8;
                }
            }
            while p0 < kc {
                let pn = PB.min(kc - p0);
                for j in 0..NR {
                    let col = base.offset(j as isize * cs + p0 as isize);
                    for p in 0..pn {
                        *panel.add((p0 + p) * NR + j) = *col.add(p);
                    }
                }
                p0 += PB;
            }
        } else {
            for p in 0..kc {
                for j in 0..NR {
                    *panel.add(p * NR + j) = *base.offset(p as isize * rs + j as isize * cs);
                }
            }
        }
    }
}

/// dst[p·ds + j] = src[j·ss + p] for p, j < 8: an 8×8 f32 transpose in AVX registers
/// (the unpack / shuffle / lane-permute network of Intel's optimisation manual, §11.11).
///
/// # Safety
/// The CPU must have AVX; src must be readable at `j·ss + p` and dst writable at `p·ds + j`
/// for p, j < 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose8x8_f32(src: *const f32, ss: isize, dst: *mut f32, ds: usize) {
    use std::arch::x86_64::*;
    let r: [__m256; 8] = std::array::from_fn(|j| _mm256_loadu_ps(src.offset(j as isize * ss)));
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xee>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xee>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xee>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xee>(t5, t7);
    let out = [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ];
    for (p, v) in out.into_iter().enumerate() {
        _mm256_storeu_ps(dst.add(p * ds), v);
    }
}

/// Generic packing of one B micro-panel starting at column `jq`, with zero padding.
unsafe fn pack_b_any<T: Real>(b: MatRef<'_, T>, nr: usize, jq: usize, panel: *mut T) {
    let (kc, nc) = (b.rows(), b.cols());
    let (rs, cs) = (b.row_stride(), b.col_stride());
    let src = b.as_ptr();
    let cols = nr.min(nc.saturating_sub(jq));
    for p in 0..kc {
        for j in 0..nr {
            *panel.add(p * nr + j) = if j < cols {
                *src.offset(p as isize * rs + (jq + j) as isize * cs)
            } else {
                T::zero()
            };
        }
    }
}

/// C ← αAB + βC through packing and the micro-kernel of `spec`. Shapes must agree and be
/// non-empty, with k ≥ 1; C must not alias A or B.
pub(crate) fn gemm_packed<T: Real>(
    spec: &Spec<T>,
    parallel: bool,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    debug_assert!(m > 0 && n > 0 && k > 0);
    let (mr, nr) = (spec.mr, spec.nr);
    let kc_blk = balanced_block(k, spec.kc, 1);
    let nc_blk = balanced_block(n, spec.nc, nr);
    let threads = if parallel {
        rayon::current_num_threads()
    } else {
        1
    };
    // Row blocks of whole micro-panels, as equal as possible and, when threads share them, a
    // multiple of the thread count so no thread idles at the end. (Where a row falls does not
    // change its arithmetic, so this may depend on the thread count.)
    let m_panels = m.div_ceil(mr);
    let mut m_blocks = m.div_ceil(spec.mc).max(1);
    if threads > 1 {
        m_blocks = m_blocks.div_ceil(threads) * threads;
    }
    let m_blocks = m_blocks.min(m_panels);
    let block_rows = |ib: usize| {
        let start = (ib * m_panels / m_blocks) * mr;
        let end = (((ib + 1) * m_panels / m_blocks) * mr).min(m);
        (start, end - start)
    };
    let (rs_c, cs_c) = (c.row_stride(), c.col_stride());
    let c_ptr = SharedMut(c.as_mut_ptr());
    let ukr = spec.ukr;

    with_scratch::<T, _>(&PACK_B, kc_blk * nc_blk, |bp| {
        let bp = SharedMut(bp);
        for jc in (0..n).step_by(nc_blk) {
            let nc = nc_blk.min(n - jc);
            let b_panels = nc.div_ceil(nr);
            // Enough tasks for every thread: split the jr loop when A has too few blocks.
            let jr_chunks = if threads > 1 {
                threads.div_ceil(m_blocks).min(b_panels)
            } else {
                1
            };
            let panels_per_chunk = b_panels.div_ceil(jr_chunks);
            for (pi, pc) in (0..k).step_by(kc_blk).enumerate() {
                let kc = kc_blk.min(k - pc);
                let coef = [alpha, if pi == 0 { beta } else { T::one() }];
                let b_blk = b.submatrix(pc, jc, kc, nc);

                // Pack B (in parallel chunks of panels when threads are available).
                let pack_chunk = |chunk: usize, per: usize| {
                    let q0 = chunk * per;
                    // SAFETY: chunk ranges of panels are disjoint and inside the buffer.
                    unsafe {
                        pack_b(
                            b_blk,
                            nr,
                            q0 * nr,
                            per.min(b_panels - q0),
                            bp.get().add(q0 * nr * kc),
                        )
                    };
                };
                if threads > 1 && b_panels >= 2 {
                    let per = b_panels.div_ceil(threads * 4).max(1);
                    (0..b_panels.div_ceil(per))
                        .into_par_iter()
                        .for_each(|ch| pack_chunk(ch, per));
                } else {
                    pack_chunk(0, b_panels);
                }

                let task = |t: usize| {
                    let (ib, jb) = (t / jr_chunks, t % jr_chunks);
                    let (ic, mc) = block_rows(ib);
                    let q0 = jb * panels_per_chunk;
                    let q1 = (q0 + panels_per_chunk).min(b_panels);
                    if q0 >= q1 {
                        return;
                    }
                    let a_blk = a.submatrix(ic, pc, mc, kc);
                    with_scratch::<T, _>(&PACK_A, mc.div_ceil(mr) * mr * kc, |ap| {
                        // SAFETY: the buffer holds the whole packed block.
                        unsafe { pack_a(a_blk, mr, ap) };
                        for q in q0..q1 {
                            let j = q * nr;
                            let nn = nr.min(nc - j);
                            // SAFETY: panel q lies inside the packed B block.
                            let bq = unsafe { bp.get().add(q * nr * kc) };
                            for (r, i) in (0..mc).step_by(mr).enumerate() {
                                let mm = mr.min(mc - i);
                                // SAFETY: the tile (ic+i.., jc+j..) of mm×nn lies inside C and
                                // belongs to this task alone; panels hold kc·MR / kc·NR values.
                                unsafe {
                                    let ct = c_ptr.get().offset(
                                        (ic + i) as isize * rs_c + (jc + j) as isize * cs_c,
                                    );
                                    ukr(kc, ap.add(r * mr * kc), bq, &coef, ct, rs_c, cs_c, mm, nn);
                                }
                            }
                        }
                    });
                };
                let tasks = m_blocks * jr_chunks;
                if threads > 1 && tasks > 1 {
                    (0..tasks).into_par_iter().for_each(task);
                } else {
                    (0..tasks).for_each(task);
                }
            }
        }
    });
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    //! The AVX-512 kernels cannot run on every test machine. Their tile body is the same
    //! generic `tile` as the AVX2 kernels; what differs is the geometry (14×16 f64, 14×32 f32
    //! tiles, MC = 168). These tests drive the full loop nest with exactly that geometry,
    //! built from AVX2 vectors, so packing, edge tiles and blocking for the AVX-512 shapes are
    //! exercised wherever AVX2 exists.
    use super::*;
    use crate::gemm::gemm_reference;
    use crate::gemm::kernels::{avx2, avx512, tile};
    use crate::matrix::Matrix;

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn f64_avx512_shape(
        kc: usize,
        a: *const f64,
        b: *const f64,
        coef: *const [f64; 2],
        c: *mut f64,
        rs: isize,
        cs: isize,
        m: usize,
        n: usize,
    ) {
        // NR = 16 = 4 ymm of f64, as 2 zmm in the AVX-512 kernel.
        tile::<avx2::F64x4, { avx512::MR_F64 }, { avx512::NV_F64 * 2 }>(
            kc, a, b, coef, c, rs, cs, m, n,
        )
    }

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn f32_avx512_shape(
        kc: usize,
        a: *const f32,
        b: *const f32,
        coef: *const [f32; 2],
        c: *mut f32,
        rs: isize,
        cs: isize,
        m: usize,
        n: usize,
    ) {
        tile::<avx2::F32x8, { avx512::MR_F32 }, { avx512::NV_F32 * 2 }>(
            kc, a, b, coef, c, rs, cs, m, n,
        )
    }

    fn check<T: Real>(spec: Spec<T>, tol: f64) {
        let shapes = [
            (1, 1, 1),
            (13, 17, 5),
            (29, 33, 300),
            (200, 70, 513),
            (15, 31, 16),
        ];
        for (s, &(m, n, k)) in shapes.iter().enumerate() {
            for trans in [false, true] {
                let a = Matrix::<T>::from_fn(m, k, |i, j| {
                    T::from_f64(((i * 7 + j * 3 + s) % 11) as f64 - 5.0)
                });
                let b = Matrix::<T>::from_fn(k, n, |i, j| {
                    T::from_f64(((i * 5 + j * 2) % 13) as f64 * 0.25 - 1.5)
                });
                let bt = b.transpose();
                let bv = if trans { bt.as_ref().t() } else { b.as_ref() };
                let c0 = Matrix::<T>::from_fn(m, n, |i, j| T::from_f64((i + j) as f64 * 0.5));
                for parallel in [false, true] {
                    let mut got = c0.clone();
                    let mut want = c0.clone();
                    let (alpha, beta) = (T::from_f64(0.5), T::from_f64(-2.0));
                    gemm_packed(&spec, parallel, alpha, a.as_ref(), bv, beta, got.as_mut());
                    gemm_reference(alpha, a.as_ref(), bv, beta, want.as_mut());
                    for i in 0..m {
                        for j in 0..n {
                            let (g, w) = (got.get(i, j).to_f64(), want.get(i, j).to_f64());
                            assert!(
                                (g - w).abs() <= tol * (1.0 + w.abs()),
                                "({m},{n},{k}) [{i},{j}]: {g} vs {w}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn avx512_geometry_through_avx2_vectors() {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            return;
        }
        let real = <f64 as crate::gemm::typed::Packed>::spec(crate::gemm::Kernel::Avx512);
        check(
            Spec {
                ukr: f64_avx512_shape,
                ..real
            },
            1e-12,
        );
        let real = <f32 as crate::gemm::typed::Packed>::spec(crate::gemm::Kernel::Avx512);
        check(
            Spec {
                ukr: f32_avx512_shape,
                ..real
            },
            1e-4,
        );
    }
}
