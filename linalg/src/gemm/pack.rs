//! Packing: copying a block of A or B into the contiguous micro-panels the micro-kernels
//! read (Goto & van de Geijn, "Anatomy of high-performance matrix multiplication", ACM TOMS
//! 34(3), 2008, §4). Packing reads through the views' row and column strides, which is how
//! transposed and strided operands enter the same kernels.

use crate::matrix::MatRef;
use crate::real::Real;

/// Packs the `mc × kc` block `a` into MR-row micro-panels: panel q holds rows q·MR.. as kc
/// consecutive groups of MR values (column p of the panel), zero-padded past the last row.
///
/// # Safety
/// `dst` must hold `mc.div_ceil(mr)·mr·kc` values.
pub(super) unsafe fn pack_a<T: Real>(a: MatRef<'_, T>, mr: usize, dst: *mut T) {
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
pub(super) unsafe fn pack_b<T: Real>(
    b: MatRef<'_, T>,
    nr: usize,
    j0: usize,
    panels: usize,
    dst: *mut T,
) {
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
