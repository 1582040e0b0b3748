//! The FMA throughput the cores really reach: 12 independent multiply-add chains on the widest
//! vector the CPU has (the same experiment as `shared/peers/fma_peak.c`), on one thread and on
//! two threads at once. Twelve chains cover latency × throughput (4 × 2 on current x86) with
//! room to spare, so the loop is bound by the FMA ports alone.

use std::time::Instant;

/// Measured f64 peak in GFLOP/s (f32 is twice that on every x86 vector unit).
pub struct Peak {
    pub isa: &'static str,
    pub f64_1: f64,
    pub f64_2: f64,
}

const ITERS: u64 = 50_000_000;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn chains_avx512(iters: u64) -> f64 {
    use std::arch::x86_64::*;
    let m = _mm512_set1_pd(0.999_999_9);
    let a = _mm512_set1_pd(1e-9);
    let mut x = [_mm512_set1_pd(1.0); 12];
    for _ in 0..iters {
        for xi in x.iter_mut() {
            *xi = _mm512_fmadd_pd(*xi, m, a);
        }
    }
    let mut s = 0.0;
    for xi in x {
        s += _mm512_reduce_add_pd(xi);
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chains_avx2(iters: u64) -> f64 {
    use std::arch::x86_64::*;
    let m = _mm256_set1_pd(0.999_999_9);
    let a = _mm256_set1_pd(1e-9);
    let mut x = [_mm256_set1_pd(1.0); 12];
    for _ in 0..iters {
        for xi in x.iter_mut() {
            *xi = _mm256_fmadd_pd(*xi, m, a);
        }
    }
    let mut buf = [0.0f64; 4];
    let mut s = 0.0;
    for xi in x {
        _mm256_storeu_pd(buf.as_mut_ptr(), xi);
        s += buf.iter().sum::<f64>();
    }
    s
}

/// (name, f64 lanes, run) for the widest available FMA.
fn widest() -> (&'static str, f64, fn(u64) -> f64) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return ("AVX-512, 12 chains", 8.0, |n| unsafe { chains_avx512(n) });
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA.
            return ("AVX2+FMA, 12 chains", 4.0, |n| unsafe { chains_avx2(n) });
        }
    }
    ("scalar, 12 chains", 1.0, |n| {
        let mut x = [1.0f64; 12];
        for _ in 0..n {
            for xi in x.iter_mut() {
                *xi = xi.mul_add(0.999_999_9, 1e-9);
            }
        }
        x.iter().sum()
    })
}

fn gflops(lanes: f64, iters: u64, secs: f64) -> f64 {
    12.0 * 2.0 * lanes * iters as f64 / secs * 1e-9
}

pub fn measure() -> Peak {
    let (isa, lanes, run) = widest();
    std::hint::black_box(run(ITERS / 10));
    let best_of = |threads: usize| {
        (0..3)
            .map(|_| {
                let s = Instant::now();
                std::thread::scope(|sc| {
                    for _ in 0..threads {
                        sc.spawn(|| std::hint::black_box(run(std::hint::black_box(ITERS))));
                    }
                });
                threads as f64 * gflops(lanes, ITERS, s.elapsed().as_secs_f64())
            })
            .fold(0.0, f64::max)
    };
    Peak {
        isa,
        f64_1: best_of(1),
        f64_2: best_of(2),
    }
}
