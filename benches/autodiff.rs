//! Autodiff benchmarks: one forward / JVP / VJP, the Jacobian by batched JVP and by batched VJP,
//! and the structured empirical NTK, for the three MLPs the peers README times in JAX
//! (tanh, standard parameterization, f32):
//!
//! * (a) 64-256-256-10, batch 128;
//! * (b) 784-300-100-10, batch 64;
//! * (c) 784-512-512-1, batch 256;
//!
//! and the empirical NTK of 784-512-512-10 on n = 1000 inputs, output-traced and full, with the
//! heap's high-water mark from a counting global allocator.
//!
//! The forward-mode Jacobians of (b) and (c) need 266 610 and 665 089 directions: they are timed
//! on a seeded random 5% of the columns and extrapolated linearly (printed as such).
//!
//! Run: `cargo bench --bench autodiff` (a filter argument selects benchmarks by name).
//! Chunk sizes can be overridden with `TANGENT_JVP_CHUNK` and `TANGENT_VJP_CHUNK`.

use autodiff::mlp::jacobian::{jacobian_by_jvp, jacobian_by_vjp, jacobian_columns_by_jvp};
use autodiff::mlp::ntk::{ntk_structured, ntk_traced};
use autodiff::mlp::{Mlp, NormalStream, Parameterization};
use autodiff::Activation;
use criterion::Criterion;
use linalg::{Matrix, Real};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peak heap bytes while running `f`, over what was live before it.
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed) - before)
}

struct Case {
    name: &'static str,
    input: usize,
    hidden: &'static [usize],
    output: usize,
    batch: usize,
    /// JAX jacrev, f32, 2 threads (peers README), seconds.
    jax_jacrev: f64,
}

const CASES: [Case; 3] = [
    Case {
        name: "a_64-256-256-10_n128",
        input: 64,
        hidden: &[256, 256],
        output: 10,
        batch: 128,
        jax_jacrev: 0.72,
    },
    Case {
        name: "b_784-300-100-10_n64",
        input: 784,
        hidden: &[300, 100],
        output: 10,
        batch: 64,
        jax_jacrev: 0.77,
    },
    Case {
        name: "c_784-512-512-1_n256",
        input: 784,
        hidden: &[512, 512],
        output: 1,
        batch: 256,
        jax_jacrev: 1.37,
    },
];

fn inputs<T: Real>(rows: usize, cols: usize, seed: u64) -> Matrix<T> {
    let mut s = NormalStream::new(seed);
    Matrix::from_fn(rows, cols, |_, _| T::from_f64(s.next_normal()))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median_seconds(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut ts: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    ts[reps / 2]
}

fn selected(filter: &Option<String>, name: &str) -> bool {
    filter.as_deref().is_none_or(|f| name.contains(f))
}

fn mlp_benches<T: Real>(c: &mut Criterion, filter: &Option<String>) {
    let jvp_chunk = env_usize("TANGENT_JVP_CHUNK", 64);
    let vjp_chunk = env_usize("TANGENT_VJP_CHUNK", 64);
    for case in &CASES {
        let net = Mlp::new(
            case.input,
            case.hidden,
            case.output,
            Activation::Tanh,
            Parameterization::Standard,
            1.0,
            0.1,
        )
        .unwrap();
        let theta: Vec<T> = net.init(0);
        let x = inputs::<T>(case.batch, case.input, 1);
        let p = net.num_params();
        let v: Vec<T> = net.init(2);
        let u = inputs::<T>(case.batch, case.output, 3);
        let mut group = c.benchmark_group(format!("{}/{}", case.name, T::NAME));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(2));
        group.bench_function("forward", |b| {
            b.iter(|| black_box(net.forward(&theta, x.as_ref()).unwrap()))
        });
        group.bench_function("jvp", |b| {
            b.iter(|| black_box(net.jvp(&theta, x.as_ref(), &v).unwrap()))
        });
        group.bench_function("vjp", |b| {
            b.iter(|| black_box(net.vjp(&theta, x.as_ref(), u.as_ref()).unwrap()))
        });
        group.bench_function("jacobian_by_vjp", |b| {
            b.iter(|| black_box(jacobian_by_vjp(&net, &theta, x.as_ref(), vjp_chunk).unwrap()))
        });
        group.bench_function("ntk_structured_full", |b| {
            b.iter(|| black_box(ntk_structured(&net, &theta, x.as_ref(), None).unwrap()))
        });
        group.bench_function("ntk_structured_traced", |b| {
            b.iter(|| black_box(ntk_traced(&net, &theta, x.as_ref(), None).unwrap()))
        });
        if p < 100_000 {
            group.bench_function("jacobian_by_jvp", |b| {
                b.iter(|| black_box(jacobian_by_jvp(&net, &theta, x.as_ref(), jvp_chunk).unwrap()))
            });
        }
        group.finish();
        let name = format!(
            "{}/{}/jacobian_by_jvp_5pct_extrapolated",
            case.name,
            T::NAME
        );
        if p >= 100_000 && selected(filter, &name) {
            // A seeded random 5% of the columns, sorted (as a full run would visit them).
            let m = p.div_ceil(20);
            let mut cols = sample(&mut ChaCha8Rng::seed_from_u64(7), p, m).into_vec();
            cols.sort_unstable();
            let t = median_seconds(3, || {
                black_box(
                    jacobian_columns_by_jvp(&net, &theta, x.as_ref(), &cols, jvp_chunk).unwrap(),
                );
            });
            println!(
                "{name}: {m} of {p} columns in {t:.3} s (median of 3) → full Jacobian ≈ {:.2} s \
                 (extrapolated ×{:.1})",
                t * p as f64 / m as f64,
                p as f64 / m as f64
            );
        }
        if selected(filter, case.name) {
            println!(
                "{}: JAX jacrev f32 2 threads = {} s (peers README)",
                case.name, case.jax_jacrev
            );
        }
    }
}

fn ntk_benches(c: &mut Criterion, filter: &Option<String>) {
    let net = Mlp::new(
        784,
        &[512, 512],
        10,
        Activation::Tanh,
        Parameterization::Standard,
        1.0,
        0.1,
    )
    .unwrap();
    let theta: Vec<f32> = net.init(0);
    let x = inputs::<f32>(1000, 784, 1);
    let mut group = c.benchmark_group("ntk_n1000_784-512-512-10/f32");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("traced", |b| {
        b.iter(|| black_box(ntk_traced(&net, &theta, x.as_ref(), None).unwrap()))
    });
    group.bench_function("full", |b| {
        b.iter(|| black_box(ntk_structured(&net, &theta, x.as_ref(), None).unwrap()))
    });
    group.finish();
    for (name, traced, jax_s, jax_gb) in
        [("traced", true, 0.371, 0.66), ("full", false, 4.25, 3.72)]
    {
        let label = format!("ntk_n1000_784-512-512-10/f32/{name}");
        if !selected(filter, &label) {
            continue;
        }
        let (k, peak) = peak_during(|| {
            if traced {
                ntk_traced(&net, &theta, x.as_ref(), None).unwrap()
            } else {
                ntk_structured(&net, &theta, x.as_ref(), None).unwrap()
            }
        });
        println!(
            "{label}: kernel {}×{}, peak heap during the call {:.3} GB \
             (neural-tangents: {jax_s} s, {jax_gb} GB peak)",
            k.rows(),
            k.cols(),
            peak as f64 / 1e9
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .filter(|a| !a.is_empty());
    mlp_benches::<f32>(&mut c, &filter);
    if std::env::var_os("TANGENT_BENCH_F64").is_some() {
        mlp_benches::<f64>(&mut c, &filter);
    }
    ntk_benches(&mut c, &filter);
    c.final_summary();
}
