//! Tangent's `linalg` against faer 0.24 on the same matrices in the same run.
//!
//! Prints one line per case, for example
//!
//! ```text
//! gemm f64 n=2048 threads=2 tangent_gflops=101.2 faer_gflops=98.7 ratio=1.025
//! cholesky f64 n=4000 threads=2 tangent_gflops=80.1 faer_gflops=84.7 ratio=0.946
//! ```
//!
//! (ratio = tangent / faer; GEMM counts 2n³ flops, Cholesky n³/3), each figure the median of
//! `--runs` timed runs after one warm-up, the two libraries alternating run by run so that
//! drift on a shared machine hits both alike. Lines starting with `#` are commentary: the
//! measured FMA peak and tangent's fraction of it per case.
//!
//! Options: `--only gemm|cholesky`, `--quick` (no n = 4096 GEMM, 3 runs), `--runs N`,
//! `--threads T` (only that thread count), `--n N` (only that size), `--dtype f32|f64`,
//! `--profile tangent|faer` (GEMM only: run just that library `--runs` times, no comparison,
//! for `perf stat` / `perf record`).

use std::time::Instant;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat};
use linalg::{MatRef, Matrix};

mod peak;

#[derive(Clone)]
struct Options {
    only: Option<String>,
    runs: usize,
    quick: bool,
    threads: Option<usize>,
    n: Option<usize>,
    dtype: Option<String>,
    profile: Option<String>,
}

fn parse_args() -> Options {
    let mut o = Options {
        only: None,
        runs: 7,
        quick: false,
        threads: None,
        n: None,
        dtype: None,
        profile: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match a.as_str() {
            "--only" => o.only = Some(value("--only")),
            "--runs" => o.runs = value("--runs").parse().expect("--runs N"),
            "--threads" => o.threads = Some(value("--threads").parse().expect("--threads T")),
            "--n" => o.n = Some(value("--n").parse().expect("--n N")),
            "--dtype" => o.dtype = Some(value("--dtype")),
            "--quick" => o.quick = true,
            "--profile" => o.profile = Some(value("--profile")),
            "-h" | "--help" => {
                println!(
                    "usage: tangent-peers [--only gemm|cholesky] [--quick] [--runs N] \
                     [--threads T] [--n N] [--dtype f32|f64]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other:?} (try --help)"),
        }
    }
    if o.quick {
        o.runs = o.runs.min(3);
    }
    o.runs = o.runs.max(1);
    o
}

/// Deterministic pseudo-random numbers in [-1, 1) (xorshift64*), so both libraries see the
/// same matrices without pulling in a random-number crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Times `tangent` and `faer` alternately: one warm-up each, then `runs` timed runs each.
/// Returns the median seconds (tangent, faer).
fn time_pair(runs: usize, mut tangent: impl FnMut(), mut faer: impl FnMut()) -> (f64, f64) {
    tangent();
    faer();
    let (mut t, mut f) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let s = Instant::now();
        tangent();
        t.push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        faer();
        f.push(s.elapsed().as_secs_f64());
    }
    (median(t), median(f))
}

trait Scalar: linalg::Real + faer::traits::ComplexField + Copy {
    fn of(x: f64) -> Self;
}
impl Scalar for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
}
impl Scalar for f64 {
    fn of(x: f64) -> Self {
        x
    }
}

struct Row {
    kind: &'static str,
    dtype: &'static str,
    n: usize,
    threads: usize,
    tangent: f64,
    faer: f64,
}

fn faer_par(threads: usize) -> faer::Par {
    if threads == 1 {
        faer::Par::Seq
    } else {
        faer::Par::rayon(threads)
    }
}

fn profile_gemm<T: Scalar>(lib: &str, n: usize, threads: usize, runs: usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let a = Matrix::<T>::from_fn(n, n, |_, _| T::of(rng.next()));
    let b = Matrix::<T>::from_fn(n, n, |_, _| T::of(rng.next()));
    let mut c = Matrix::<T>::zeros(n, n);
    let fa = Mat::<T>::from_fn(n, n, |i, j| a.get(i, j));
    let fb = Mat::<T>::from_fn(n, n, |i, j| b.get(i, j));
    let mut fc = Mat::<T>::zeros(n, n);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool");
    let par = faer_par(threads);
    let cpu0 = process_cpu_seconds();
    let times: Vec<f64> = pool.install(|| {
        (0..runs)
            .map(|_| {
                let s = Instant::now();
                if lib == "faer" {
                    matmul(
                        fc.as_mut(),
                        Accum::Replace,
                        fa.as_ref(),
                        fb.as_ref(),
                        T::of(1.0),
                        par,
                    );
                } else {
                    linalg::gemm(T::of(1.0), a.as_ref(), b.as_ref(), T::of(0.0), c.as_mut())
                        .expect("gemm");
                }
                s.elapsed().as_secs_f64()
            })
            .collect()
    });
    let cpu = process_cpu_seconds() - cpu0;
    let flops = 2.0 * (n as f64).powi(3);
    println!(
        "# profile {lib} gemm {} n={n} threads={threads}: median {:.1} GFLOP/s, best {:.1}, \
         {:.1} GFLOP per CPU-second",
        T::NAME,
        flops / median(times.clone()) * 1e-9,
        flops / times.iter().cloned().fold(f64::INFINITY, f64::min) * 1e-9,
        flops * runs as f64 / cpu * 1e-9
    );
}

/// User + system CPU time of this process from /proc/self/stat (Linux; 0 elsewhere), so that
/// kernel efficiency can be judged on a machine shared with other jobs.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap_or(0.0) + f[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

fn bench_gemm<T: Scalar>(n: usize, threads: usize, runs: usize) -> Row {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let a = Matrix::<T>::from_fn(n, n, |_, _| T::of(rng.next()));
    let b = Matrix::<T>::from_fn(n, n, |_, _| T::of(rng.next()));
    let mut c = Matrix::<T>::zeros(n, n);
    let fa = Mat::<T>::from_fn(n, n, |i, j| a.get(i, j));
    let fb = Mat::<T>::from_fn(n, n, |i, j| b.get(i, j));
    let mut fc = Mat::<T>::zeros(n, n);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool");
    let par = faer_par(threads);
    let (tt, tf) = pool.install(|| {
        time_pair(
            runs,
            || {
                linalg::gemm(T::of(1.0), a.as_ref(), b.as_ref(), T::of(0.0), c.as_mut())
                    .expect("gemm")
            },
            || {
                matmul(
                    fc.as_mut(),
                    Accum::Replace,
                    fa.as_ref(),
                    fb.as_ref(),
                    T::of(1.0),
                    par,
                )
            },
        )
    });
    // Both computed the same product: a cheap cross-check that the timings are of real work.
    let mut worst = 0.0f64;
    for i in (0..n).step_by(n / 16 + 1) {
        for j in (0..n).step_by(n / 16 + 1) {
            let d = (c.get(i, j).to_f64() - fc[(i, j)].to_f64()).abs();
            worst = worst.max(d);
        }
    }
    let tol = (n as f64).sqrt() * 1e3 * T::EPSILON.to_f64();
    assert!(worst <= tol, "gemm results disagree: {worst} > {tol}");
    let flops = 2.0 * (n as f64).powi(3);
    Row {
        kind: "gemm",
        dtype: T::NAME,
        n,
        threads,
        tangent: flops / tt * 1e-9,
        faer: flops / tf * 1e-9,
    }
}

fn bench_cholesky(n: usize, threads: usize, runs: usize) -> Row {
    // Symmetric and strictly diagonally dominant, hence positive definite.
    let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ n as u64);
    let mut a = Matrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..i {
            let v = rng.next();
            a.set(i, j, v);
            a.set(j, i, v);
        }
        a.set(i, i, n as f64);
    }
    let fa = Mat::<f64>::from_fn(n, n, |i, j| a.get(i, j));
    let mut work = fa.clone();
    let par = faer_par(threads);
    let scratch = faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
        n,
        par,
        Default::default(),
    );
    let mut mem = MemBuffer::new(scratch);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool");
    let mut tangent_times = Vec::new();
    let mut faer_times = Vec::new();
    pool.install(|| {
        for run in 0..=runs {
            let s = Instant::now();
            let f = tangent_cholesky(a.as_ref());
            let t = s.elapsed().as_secs_f64();
            std::hint::black_box(&f);
            // Reset outside the timed region: faer factors in place.
            work.copy_from(&fa);
            let s = Instant::now();
            faer::linalg::cholesky::llt::factor::cholesky_in_place(
                work.as_mut(),
                Default::default(),
                par,
                MemStack::new(&mut mem),
                Default::default(),
            )
            .expect("faer: matrix is positive definite");
            let tf = s.elapsed().as_secs_f64();
            if run > 0 {
                tangent_times.push(t);
                faer_times.push(tf);
            }
        }
    });
    let flops = (n as f64).powi(3) / 3.0;
    Row {
        kind: "cholesky",
        dtype: "f64",
        n,
        threads,
        tangent: flops / median(tangent_times) * 1e-9,
        faer: flops / median(faer_times) * 1e-9,
    }
}

fn tangent_cholesky(a: MatRef<'_, f64>) -> impl Sized {
    linalg::cholesky::Cholesky::<f64>::factor(a).expect("tangent: matrix is positive definite")
}

fn main() {
    let o = parse_args();
    let threads_list: Vec<usize> = match o.threads {
        Some(t) => vec![t],
        None => vec![1, 2],
    };
    let want = |kind: &str| o.only.as_deref().is_none_or(|w| w == kind);
    let want_dtype = |d: &str| o.dtype.as_deref().is_none_or(|w| w == d);
    let want_n = |n: usize| o.n.is_none_or(|w| w == n);

    if let Some(lib) = o.profile.as_deref() {
        let n = o.n.unwrap_or(1024);
        for &t in &threads_list {
            if want_dtype("f32") {
                profile_gemm::<f32>(lib, n, t, o.runs);
            }
            if want_dtype("f64") {
                profile_gemm::<f64>(lib, n, t, o.runs);
            }
        }
        return;
    }
    let peak = peak::measure();
    println!(
        "# kernel: tangent {:?}; FMA peak measured in-process ({}): f64 {:.1} GFLOP/s on 1 core, \
         {:.1} on 2 threads; f32 {:.1} / {:.1}",
        linalg::gemm::selected_kernel(),
        peak.isa,
        peak.f64_1,
        peak.f64_2,
        2.0 * peak.f64_1,
        2.0 * peak.f64_2,
    );
    let peak_for = |dtype: &str, threads: usize| {
        let p = if threads == 1 { peak.f64_1 } else { peak.f64_2 };
        if dtype == "f32" {
            2.0 * p
        } else {
            p
        }
    };

    let mut rows = Vec::new();
    let mut emit = |r: Row| {
        println!(
            "{} {} n={} threads={} tangent_gflops={:.1} faer_gflops={:.1} ratio={:.3}",
            r.kind,
            r.dtype,
            r.n,
            r.threads,
            r.tangent,
            r.faer,
            r.tangent / r.faer
        );
        rows.push(r);
    };
    if want("gemm") {
        let sizes: &[usize] = if o.quick {
            &[512, 1024, 2048]
        } else {
            &[512, 1024, 2048, 4096]
        };
        for &n in sizes.iter().filter(|&&n| want_n(n)) {
            for &t in &threads_list {
                if want_dtype("f32") {
                    emit(bench_gemm::<f32>(n, t, o.runs));
                }
                if want_dtype("f64") {
                    emit(bench_gemm::<f64>(n, t, o.runs));
                }
            }
        }
    }
    if want("cholesky") && want_dtype("f64") {
        for &n in [1000usize, 2000, 4000].iter().filter(|&&n| want_n(n)) {
            for &t in &threads_list {
                emit(bench_cholesky(n, t, o.runs));
            }
        }
    }
    for r in &rows {
        println!(
            "# {} {} n={} threads={} tangent_fraction_of_peak={:.3} faer_fraction_of_peak={:.3}",
            r.kind,
            r.dtype,
            r.n,
            r.threads,
            r.tangent / peak_for(r.dtype, r.threads),
            r.faer / peak_for(r.dtype, r.threads)
        );
    }
}
