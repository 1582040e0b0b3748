//! Memory helpers for the large buffers of the workspace: a pointer that parallel tasks may
//! share to write disjoint parts of one buffer ([`SharedMut`]), and zeroed matrices advised as
//! transparent huge pages ([`zeroed_large`], [`advise_huge_pages`]).

use crate::matrix::Matrix;
use crate::real::Real;

/// A raw pointer that rayon tasks may share, each task writing a disjoint part of the buffer
/// it points into.
///
/// Rust's borrow rules cannot express "task t owns columns [c₀, c₁) of every row" (a
/// strided partition), so such loops split the buffer by hand: the owner of a `&mut [T]`
/// wraps its pointer once, the tasks each rebuild their own region from it.
///
/// # Safety (for users)
/// Creating and sharing a `SharedMut` is safe; dereferencing [`get`](Self::get) is not. Every
/// use site must guarantee that (1) the buffer outlives all tasks (a `rayon::scope`/`join` or
/// a parallel iterator that finishes before the owner's borrow ends), (2) the regions that
/// different tasks read or write through it are disjoint, and (3) nothing else accesses the
/// buffer while the tasks run. Each call site should say in its `// SAFETY:` comment why its
/// regions are disjoint.
#[derive(Debug)]
pub struct SharedMut<T>(
    /// The wrapped pointer (public so that `SharedMut(ptr)` reads like the tuple it is).
    pub *mut T,
);

impl<T> Clone for SharedMut<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SharedMut<T> {}

// SAFETY: a SharedMut only carries the address; the obligations of moving the accesses to
// other threads are the use site's (see the type's docs): disjoint regions, buffer alive.
// `T: Send` because each region's values are in effect handed to another thread.
unsafe impl<T: Send> Send for SharedMut<T> {}
// SAFETY: as above; shared access to the wrapper gives only the pointer value.
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// Wraps `ptr`, typically `slice.as_mut_ptr()` of a buffer the caller borrows mutably.
    #[inline(always)]
    pub fn new(ptr: *mut T) -> Self {
        SharedMut(ptr)
    }

    /// The pointer. A method, so that closures capture the whole (Send + Sync) wrapper rather
    /// than its raw-pointer field (edition-2021 closures capture disjoint fields).
    #[inline(always)]
    pub fn get(self) -> *mut T {
        self.0
    }
}

/// A zeroed rows×cols matrix for a large result (a Jacobian, a kernel matrix).
///
/// Such buffers are written once, block by block, and their cost is dominated by the first
/// touch of every page: 4 KiB page faults cost more than the arithmetic that fills them. On
/// Linux the buffer is therefore advised as transparent-huge-page memory before the first
/// touch ([`advise_huge_pages`]), so one fault maps 2 MiB. The memory comes from the
/// allocator's zeroed path (`calloc`, fresh pages from the kernel for large sizes) and is not
/// touched here, so the advice can take effect.
pub fn zeroed_large<T: Real>(rows: usize, cols: usize) -> Matrix<T> {
    let mut m = Matrix::zeros(rows, cols);
    advise_huge_pages(m.as_mut_slice());
    m
}

/// Advises the kernel to back the 2 MiB-aligned interior of `buf` with transparent huge
/// pages (`madvise(MADV_HUGEPAGE)`; a hint the kernel may ignore, and the return value is
/// ignored too: it is an optimisation). Does nothing for buffers under 8 MiB, which gain too
/// little, and on other operating systems. The contents of `buf` are never changed.
#[cfg(target_os = "linux")]
pub fn advise_huge_pages<T>(buf: &mut [T]) {
    const HUGE: usize = 2 << 20;
    const MADV_HUGEPAGE: i32 = 14;
    extern "C" {
        fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
    }
    let bytes = std::mem::size_of_val(buf);
    if bytes < 4 * HUGE {
        return;
    }
    let start = buf.as_mut_ptr() as usize;
    let first = start.div_ceil(HUGE) * HUGE;
    let end = (start + bytes) / HUGE * HUGE;
    if end > first {
        // SAFETY: [first, end) lies inside `buf`, which we borrow mutably; MADV_HUGEPAGE only
        // changes how the kernel backs the pages, never their contents.
        unsafe {
            madvise(first as *mut std::ffi::c_void, end - first, MADV_HUGEPAGE);
        }
    }
}

/// Advises huge pages for `buf` where the OS supports it; elsewhere does nothing.
#[cfg(not(target_os = "linux"))]
pub fn advise_huge_pages<T>(_buf: &mut [T]) {}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn shared_mut_lets_tasks_fill_disjoint_columns() {
        let (rows, cols, width) = (5, 64, 16);
        let mut buf = vec![0.0f64; rows * cols];
        let ptr = SharedMut::new(buf.as_mut_ptr());
        (0..cols / width).into_par_iter().for_each(|blk| {
            for r in 0..rows {
                for c in blk * width..(blk + 1) * width {
                    // SAFETY: column block `blk` of every row belongs to this task alone, and
                    // `buf` outlives the parallel loop.
                    unsafe { *ptr.get().add(r * cols + c) = (r * cols + c) as f64 };
                }
            }
        });
        assert!(buf.iter().enumerate().all(|(i, &v)| v == i as f64));
    }

    #[test]
    fn zeroed_large_is_zero_and_shaped() {
        let m = zeroed_large::<f64>(1100, 1000); // 8.8 MB: advised on Linux
        assert_eq!(m.shape(), (1100, 1000));
        assert!(m.as_slice().iter().all(|&v| v == 0.0));
        let small = zeroed_large::<f32>(3, 2);
        assert_eq!(small.as_slice(), &[0.0; 6]);
    }
}
