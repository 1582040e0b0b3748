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
//!   epilogue on each task's finished rows (after the last pc)
//! ```
//!
//! With several threads, consecutive `pc` steps whose packed B fits in [`GROUP_B_BYTES`] share
//! one parallel region (B packed for all of them, then each task runs them in order on its own
//! rows): a network layer's product (k of a few hundred) then forks twice instead of twice per
//! step. Every entry of C belongs to exactly one micro-kernel call per `pc` step, and the
//! steps run in order, so the arithmetic (and hence every bit of the result) is fixed by the
//! shape and the kernel alone: thread count, grouping and task split only decide *who*
//! computes a tile and when.

use super::kernels::MicroKernel;
use super::pack::{pack_a, pack_b};
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

/// What to do with each finished row segment of C: called once per segment, by the thread
/// that computed it, with (row, first column, the segment's values), after the last rank
/// update, while the segment is still in that core's cache.
pub(crate) type Epilogue<'e, T> = Option<&'e (dyn Fn(usize, usize, &mut [T]) + Sync)>;

/// Packed B bytes that one parallel region may hold: with several threads, the rank updates
/// of up to this much B run inside one region, so a product with a small k (a network layer)
/// pays two fork-joins per NC block instead of two per KC step.
const GROUP_B_BYTES: usize = 4 << 20;

/// The blocking of one product: block sizes, the split of A's rows over tasks and how many
/// rank updates share a parallel region.
struct Plan {
    m: usize,
    k: usize,
    n: usize,
    mr: usize,
    nr: usize,
    kc_blk: usize,
    nc_blk: usize,
    threads: usize,
    m_panels: usize,
    m_blocks: usize,
    /// Rank updates (KC steps) per parallel region.
    group: usize,
}

impl Plan {
    fn new<T>(spec: &Spec<T>, parallel: bool, m: usize, k: usize, n: usize) -> Plan {
        let (mr, nr) = (spec.mr, spec.nr);
        let kc_blk = balanced_block(k, spec.kc, 1);
        let nc_blk = balanced_block(n, spec.nc, nr);
        let threads = if parallel {
            rayon::current_num_threads()
        } else {
            1
        };
        // Row blocks of whole micro-panels, as equal as possible and, when threads share them,
        // a multiple of the thread count so no thread idles at the end. (Where a row falls
        // does not change its arithmetic, so this may depend on the thread count.)
        let m_panels = m.div_ceil(mr);
        let mut m_blocks = m.div_ceil(spec.mc).max(1);
        if threads > 1 {
            m_blocks = m_blocks.div_ceil(threads) * threads;
        }
        let step_bytes = kc_blk * nc_blk * std::mem::size_of::<T>();
        let group = if threads > 1 {
            (GROUP_B_BYTES / step_bytes.max(1)).clamp(1, k.div_ceil(kc_blk))
        } else {
            1
        };
        Plan {
            m,
            k,
            n,
            mr,
            nr,
            kc_blk,
            nc_blk,
            threads,
            m_panels,
            m_blocks: m_blocks.min(m_panels),
            group,
        }
    }

    /// First row and row count of row block `ib`.
    fn block_rows(&self, ib: usize) -> (usize, usize) {
        let start = (ib * self.m_panels / self.m_blocks) * self.mr;
        let end = (((ib + 1) * self.m_panels / self.m_blocks) * self.mr).min(self.m);
        (start, end - start)
    }

    /// Runs `f(0..count)` on the pool when there are threads and more than one task.
    fn for_each(&self, count: usize, f: impl Fn(usize) + Sync + Send) {
        if self.threads > 1 && count > 1 {
            (0..count).into_par_iter().for_each(f);
        } else {
            (0..count).for_each(f);
        }
    }
}

/// C ← αAB + βC through packing and the micro-kernel of `spec`, then `epilogue` on every
/// finished row segment. Shapes must agree and be non-empty, with k ≥ 1; C must not alias A
/// or B; with an epilogue, C's rows must be contiguous (column stride 1).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_packed<T: Real>(
    spec: &Spec<T>,
    parallel: bool,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
    epilogue: Epilogue<'_, T>,
) {
    let plan = Plan::new(spec, parallel, a.rows(), a.cols(), b.cols());
    debug_assert!(plan.m > 0 && plan.n > 0 && plan.k > 0);
    debug_assert!(epilogue.is_none() || c.col_stride() == 1);
    let c = Tiles {
        ptr: SharedMut(c.as_mut_ptr()),
        rs: c.row_stride(),
        cs: c.col_stride(),
    };
    let (kc_blk, nc_blk) = (plan.kc_blk, plan.nc_blk);
    let steps: Vec<(usize, usize)> = (0..plan.k)
        .step_by(kc_blk)
        .map(|pc| (pc, kc_blk.min(plan.k - pc)))
        .collect();
    with_scratch::<T, _>(&PACK_B, plan.group * kc_blk * nc_blk, |bp| {
        let bp = SharedMut(bp);
        for jc in (0..plan.n).step_by(nc_blk) {
            let nc = nc_blk.min(plan.n - jc);
            for (g, group) in steps.chunks(plan.group).enumerate() {
                let region = Region {
                    plan: &plan,
                    spec,
                    jc,
                    nc,
                    steps: group,
                    first: g == 0,
                    last: (g + 1) * plan.group >= steps.len(),
                    coef: [alpha, beta],
                    bp,
                };
                region.pack_b(b);
                region.compute(a, &c, epilogue);
            }
        }
    });
}

/// Where C lives: the base pointer and strides, shared by the tasks that write its tiles.
struct Tiles<T> {
    ptr: SharedMut<T>,
    rs: isize,
    cs: isize,
}

/// One parallel region: the rank updates `steps` of the NC block at column `jc`.
struct Region<'p, T> {
    plan: &'p Plan,
    spec: &'p Spec<T>,
    jc: usize,
    nc: usize,
    steps: &'p [(usize, usize)],
    /// Whether the region holds the first rank update (which applies β).
    first: bool,
    /// Whether it holds the last (after which the epilogue runs).
    last: bool,
    coef: [T; 2],
    /// The packed B buffer: step s of the region at offset s·KC·NC.
    bp: SharedMut<T>,
}

impl<T: Real> Region<'_, T> {
    fn b_panels(&self) -> usize {
        self.nc.div_ceil(self.plan.nr)
    }

    /// Packs B for every step of the region, in chunks of panels spread over the threads.
    fn pack_b(&self, b: MatRef<'_, T>) {
        let (plan, nr, panels) = (self.plan, self.plan.nr, self.b_panels());
        let per = if plan.threads > 1 {
            panels.div_ceil(plan.threads * 4).max(1)
        } else {
            panels
        };
        let chunks = panels.div_ceil(per);
        let bp = self.bp;
        plan.for_each(self.steps.len() * chunks, |t| {
            let (s, ch) = (t / chunks, t % chunks);
            let (pc, kc) = self.steps[s];
            let q0 = ch * per;
            let blk = b.submatrix(pc, self.jc, kc, self.nc);
            // SAFETY: (step, chunk) ranges of panels are disjoint and inside the buffer.
            unsafe {
                let dst = bp.get().add(s * plan.kc_blk * plan.nc_blk + q0 * nr * kc);
                pack_b(blk, nr, q0 * nr, per.min(panels - q0), dst)
            };
        });
    }

    /// Every task: its row block × its chunk of B panels, through all steps of the region.
    fn compute(&self, a: MatRef<'_, T>, c: &Tiles<T>, epilogue: Epilogue<'_, T>) {
        let plan = self.plan;
        let panels = self.b_panels();
        // Enough tasks for every thread: split the jr loop when A has too few blocks.
        let jr_chunks = if plan.threads > 1 {
            plan.threads.div_ceil(plan.m_blocks).min(panels)
        } else {
            1
        };
        let per_chunk = panels.div_ceil(jr_chunks);
        plan.for_each(plan.m_blocks * jr_chunks, |t| {
            let (ib, jb) = (t / jr_chunks, t % jr_chunks);
            let q0 = jb * per_chunk;
            let q1 = (q0 + per_chunk).min(panels);
            if q0 < q1 {
                self.task(a, c, ib, q0..q1);
                if let (true, Some(f)) = (self.last, epilogue) {
                    self.finish(c, ib, q0..q1, f);
                }
            }
        });
    }

    /// Row block `ib` against B panels `qs`, for each step of the region in order.
    fn task(&self, a: MatRef<'_, T>, c: &Tiles<T>, ib: usize, qs: std::ops::Range<usize>) {
        let (plan, mr, nr) = (self.plan, self.plan.mr, self.plan.nr);
        let (ic, mc) = plan.block_rows(ib);
        let ukr = self.spec.ukr;
        with_scratch::<T, _>(&PACK_A, mc.div_ceil(mr) * mr * plan.kc_blk, |ap| {
            for (s, &(pc, kc)) in self.steps.iter().enumerate() {
                let coef = [
                    self.coef[0],
                    if self.first && s == 0 {
                        self.coef[1]
                    } else {
                        T::one()
                    },
                ];
                // SAFETY: the buffer holds the whole packed block.
                unsafe { pack_a(a.submatrix(ic, pc, mc, kc), mr, ap) };
                for q in qs.clone() {
                    let j = q * nr;
                    let nn = nr.min(self.nc - j);
                    // SAFETY: panel q of step s lies inside the packed B buffer.
                    let bq = unsafe {
                        self.bp
                            .get()
                            .add(s * plan.kc_blk * plan.nc_blk + q * nr * kc)
                    };
                    for (r, i) in (0..mc).step_by(mr).enumerate() {
                        let mm = mr.min(mc - i);
                        // SAFETY: the tile (ic+i.., jc+j..) of mm×nn lies inside C and belongs
                        // to this task alone; panels hold kc·MR / kc·NR values.
                        unsafe {
                            let ct = c
                                .ptr
                                .get()
                                .offset((ic + i) as isize * c.rs + (self.jc + j) as isize * c.cs);
                            ukr(kc, ap.add(r * mr * kc), bq, &coef, ct, c.rs, c.cs, mm, nn);
                        }
                    }
                }
            }
        });
    }

    /// The epilogue on the task's finished rows (C's column stride is 1).
    fn finish(
        &self,
        c: &Tiles<T>,
        ib: usize,
        qs: std::ops::Range<usize>,
        f: &(dyn Fn(usize, usize, &mut [T]) + Sync),
    ) {
        let (ic, mc) = self.plan.block_rows(ib);
        let j0 = self.jc + qs.start * self.plan.nr;
        let j1 = self.jc + (qs.end * self.plan.nr).min(self.nc);
        for i in ic..ic + mc {
            // SAFETY: row i, columns j0..j1, is this task's and contiguous (column stride 1).
            let row = unsafe {
                std::slice::from_raw_parts_mut(
                    c.ptr.get().offset(i as isize * c.rs + j0 as isize),
                    j1 - j0,
                )
            };
            f(i, j0, row);
        }
    }
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
                    gemm_packed(
                        &spec,
                        parallel,
                        alpha,
                        a.as_ref(),
                        bv,
                        beta,
                        got.as_mut(),
                        None,
                    );
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
