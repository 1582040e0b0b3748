//! GEMM throughput, C ← AB for square n×n matrices, f32 and f64, n = 256 … 2048, on the
//! default rayon pool and the kernel `linalg::gemm::selected_kernel()` picks. Criterion reports
//! elements/s with 2n³ "elements" per iteration, i.e. flop/s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use linalg::{gemm, Matrix, Real};
use std::time::Duration;

fn bench_type<T: Real>(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("gemm_{}", T::NAME));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for n in [256usize, 512, 1024, 2048] {
        let a = Matrix::<T>::from_fn(n, n, |i, j| {
            T::from_f64(((i * 7 + j * 13) % 17) as f64 - 8.0)
        });
        let b = Matrix::<T>::from_fn(n, n, |i, j| {
            T::from_f64(((i * 3 + j * 5) % 19) as f64 - 9.0)
        });
        let mut out = Matrix::<T>::zeros(n, n);
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                gemm(T::one(), a.as_ref(), b.as_ref(), T::zero(), out.as_mut()).unwrap();
            })
        });
    }
    group.finish();
    eprintln!("gemm kernel: {:?}", linalg::gemm::selected_kernel());
}

fn benches(c: &mut Criterion) {
    bench_type::<f32>(c);
    bench_type::<f64>(c);
}

criterion_group!(gemm_benches, benches);
criterion_main!(gemm_benches);
