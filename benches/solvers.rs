//! Solver benchmarks on the default rayon pool: blocked Cholesky (n = 500 … 4000, throughput
//! in flop/s counting n³/3), triangular solves with 100 right-hand sides, CG on the dense
//! n = 2000 SPD system that `../shared/peers/numpy_linalg.py cg` gives scipy (eigenvalues
//! logspace(0, 4), rtol 1e-8), and the symmetric eigendecomposition at n = 1000.
//!
//! Set `RAYON_NUM_THREADS=1` or `2` to fix the thread count. The CG group also prints the
//! iteration count once, to set beside scipy's 949 iterations.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use linalg::random::SplitMix64;
use linalg::{cg, symmetric_eigen, CgOptions, CgVerdict, Cholesky, Matrix};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Q·diag(λ)·Qᵀ with Q a product of `reflectors` random Householder reflectors: exactly the
/// spectrum λ (up to rounding), built in O(reflectors·n²) instead of the O(n³) of a full QR.
fn with_spectrum(lambda: &[f64], reflectors: usize, seed: u64) -> Matrix<f64> {
    let n = lambda.len();
    let mut rng = SplitMix64::new(seed);
    let mut a = Matrix::from_fn(n, n, |i, j| if i == j { lambda[i] } else { 0.0 });
    for _ in 0..reflectors {
        let mut v: Vec<f64> = (0..n).map(|_| rng.next_symmetric()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        // H A H with H = I − 2vvᵀ: A ← A − v wᵀ − w vᵀ, p = 2Av, w = p − 2(vᵀAv)v.
        let p: Vec<f64> = (0..n)
            .map(|i| 2.0 * a.row(i).iter().zip(&v).map(|(x, y)| x * y).sum::<f64>())
            .collect();
        let vp: f64 = v.iter().zip(&p).map(|(x, y)| x * y).sum();
        let w: Vec<f64> = p.iter().zip(&v).map(|(pi, vi)| pi - vp * vi).collect();
        for i in 0..n {
            let (vi, wi) = (v[i], w[i]);
            for (j, aij) in a.row_mut(i).iter_mut().enumerate() {
                *aij -= vi * w[j] + wi * v[j];
            }
        }
    }
    Matrix::from_fn(n, n, |i, j| if i >= j { a.get(i, j) } else { a.get(j, i) })
}

/// Symmetric, strictly diagonally dominant: SPD, cheap to build at n = 4000.
fn dominant_spd(n: usize, seed: u64) -> Matrix<f64> {
    let mut rng = SplitMix64::new(seed);
    let mut a = Matrix::zeros(n, n);
    for i in 0..n {
        for j in 0..i {
            let v = rng.next_symmetric();
            a.set(i, j, v);
            a.set(j, i, v);
        }
        a.set(i, i, n as f64);
    }
    a
}

fn bench_cholesky(c: &mut Criterion) {
    let mut group = c.benchmark_group("cholesky_f64");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(4));
    for n in [500usize, 1000, 2000, 4000] {
        let a = dominant_spd(n, n as u64);
        group.throughput(Throughput::Elements((n as u64).pow(3) / 3));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(Cholesky::factor(a.as_ref()).unwrap()))
        });
    }
    group.finish();
}

fn bench_triangular(c: &mut Criterion) {
    let mut group = c.benchmark_group("trsm_f64_100rhs");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(2));
    let n = 2000;
    let chol = Cholesky::factor(dominant_spd(n, 3).as_ref()).unwrap();
    let mut rng = SplitMix64::new(4);
    let rhs = Matrix::from_fn(n, 100, |_, _| rng.next_symmetric());
    group.throughput(Throughput::Elements((n * n * 100) as u64));
    group.bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| {
            let mut x = rhs.clone();
            linalg::triangular::solve_lower_in_place(chol.l().as_ref(), x.as_mut()).unwrap();
            black_box(x)
        })
    });
    group.finish();
}

fn bench_cg(c: &mut Criterion) {
    let n = 2000;
    let lambda: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(4.0 * i as f64 / (n - 1) as f64))
        .collect();
    let a = with_spectrum(&lambda, 6, 7);
    let mut rng = SplitMix64::new(8);
    let b: Vec<f64> = (0..n).map(|_| rng.next_symmetric()).collect();
    let opts = CgOptions {
        rtol: 1e-8,
        max_iter: 20_000,
        ..Default::default()
    };
    let start = Instant::now();
    let once = cg(&a, &b, None, &opts).unwrap();
    eprintln!(
        "cg dense n={n} κ=1e4 rtol=1e-8: {} iterations, verdict {:?}, {:.3} s (scipy: 949 it, \
         0.585 s on 2 threads)",
        once.iterations,
        once.verdict,
        start.elapsed().as_secs_f64()
    );
    assert_eq!(once.verdict, CgVerdict::Converged);
    let mut group = c.benchmark_group("cg_dense_f64");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(BenchmarkId::from_parameter(n), |bench| {
        bench.iter(|| black_box(cg(&a, &b, None, &opts).unwrap()))
    });
    group.finish();
}

fn bench_eigen(c: &mut Criterion) {
    let n = 1000;
    let mut rng = SplitMix64::new(9);
    let mut a = Matrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..=i {
            let v = rng.next_symmetric();
            a.set(i, j, v);
            a.set(j, i, v);
        }
    }
    let mut group = c.benchmark_group("symmetric_eigen_f64");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(100));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(BenchmarkId::new("vectors", n), |bench| {
        bench.iter(|| black_box(symmetric_eigen(a.as_ref()).unwrap()))
    });
    group.bench_function(BenchmarkId::new("values", n), |bench| {
        bench.iter(|| black_box(linalg::symmetric_eigenvalues(a.as_ref()).unwrap()))
    });
    group.finish();
}

criterion_group!(
    solver_benches,
    bench_cholesky,
    bench_triangular,
    bench_cg,
    bench_eigen
);
criterion_main!(solver_benches);
