//! GEMM and matvec against the triple-loop oracle `gemm_reference`, on every kernel the CPU
//! has, with transposed and strided operands, awkward sizes, and bit-for-bit determinism
//! across thread counts.

use linalg::gemm::{available_kernels, gemm_reference, gemm_with_kernel, Kernel};
use linalg::{
    gemm, gemm_op, gemm_with, matmul, matvec, LinalgError, MatMut, MatRef, Matrix, Op, Par, Real,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random<T: Real>(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Matrix<T> {
    Matrix::from_fn(rows, cols, |_, _| T::from_f64(rng.random_range(-1.0..1.0)))
}

/// Ĉ = αAB + βC₀ within Higham's entrywise forward-error bound (`linalg::check::gemm_ratio`,
/// *Accuracy and Stability*, §3.5): the ratio stays below 2 for a correct kernel.
fn assert_close<T: Real>(
    what: &str,
    got: MatRef<'_, T>,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c0: MatRef<'_, T>,
) {
    let (m, n, k) = (a.rows(), b.cols(), a.cols());
    let ratio = linalg::check::gemm_ratio(
        &got.to_owned(),
        alpha.to_f64(),
        &a.to_owned(),
        &b.to_owned(),
        beta.to_f64(),
        &c0.to_owned(),
    );
    assert!(
        ratio <= 2.0,
        "{what}: error/bound ratio {ratio} (m={m} n={n} k={k})"
    );
}

/// A view of an `rows × cols` operand, either plain or as the transpose of a stored
/// `cols × rows` matrix, optionally inside a larger matrix (non-trivial strides and offset).
struct Operand<T> {
    store: Matrix<T>,
    trans: bool,
    off: (usize, usize),
    rows: usize,
    cols: usize,
}

impl<T: Real> Operand<T> {
    fn new(rows: usize, cols: usize, trans: bool, pad: usize, rng: &mut ChaCha8Rng) -> Self {
        let (sr, sc) = if trans { (cols, rows) } else { (rows, cols) };
        Operand {
            store: random(sr + 2 * pad, sc + 3 * pad, rng),
            trans,
            off: (pad, 2 * pad),
            rows,
            cols,
        }
    }
    fn view(&self) -> MatRef<'_, T> {
        let (sr, sc) = if self.trans {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        };
        let v = self
            .store
            .as_ref()
            .submatrix(self.off.0, self.off.1, sr, sc);
        if self.trans {
            v.t()
        } else {
            v
        }
    }
}

const AWKWARD: [usize; 12] = [1, 2, 3, 7, 8, 15, 16, 17, 33, 63, 65, 127];

fn dims() -> impl Strategy<Value = usize> {
    prop_oneof![proptest::sample::select(AWKWARD.to_vec()), 1usize..100]
}

#[allow(clippy::too_many_arguments)]
fn check_case<T: Real>(
    kernel: Kernel,
    par: Par,
    (m, n, k): (usize, usize, usize),
    (ta, tb, tc): (bool, bool, bool),
    pad: usize,
    alpha: f64,
    beta: f64,
    seed: u64,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let a = Operand::<T>::new(m, k, ta, pad, &mut rng);
    let b = Operand::<T>::new(k, n, tb, pad, &mut rng);
    let (alpha, beta) = (T::from_f64(alpha), T::from_f64(beta));
    // C inside a larger matrix whose border must stay untouched; NaN where β = 0 must not leak.
    let (cr, cc) = if tc { (n, m) } else { (m, n) };
    let fill = if beta == T::zero() {
        T::from_f64(f64::NAN)
    } else {
        T::from_f64(0.25)
    };
    let mut big = Matrix::from_fn(cr + 2 * pad, cc + pad, |_, _| fill);
    if beta != T::zero() {
        for i in 0..cr {
            for j in 0..cc {
                big.set(pad + i, pad + j, T::from_f64(rng.random_range(-1.0..1.0)));
            }
        }
    }
    let sentinel = big.clone();
    let c0 = {
        let v = big.as_ref().submatrix(pad, pad, cr, cc);
        if tc { v.t() } else { v }.to_owned()
    };
    {
        let v = big.as_mut().submatrix(pad, pad, cr, cc);
        let v = if tc { v.t() } else { v };
        gemm_with_kernel(kernel, par, alpha, a.view(), b.view(), beta, v).unwrap();
    }
    let got = {
        let v = big.as_ref().submatrix(pad, pad, cr, cc);
        if tc { v.t() } else { v }.to_owned()
    };
    let what = format!(
        "{kernel:?} {} ta={ta} tb={tb} tc={tc} pad={pad} α={alpha} β={beta}",
        T::NAME
    );
    assert_close(
        &what,
        got.as_ref(),
        alpha,
        a.view(),
        b.view(),
        beta,
        c0.as_ref(),
    );
    for i in 0..big.rows() {
        for j in 0..big.cols() {
            let inside = (pad..pad + cr).contains(&i) && (pad..pad + cc).contains(&j);
            if !inside {
                let (x, y) = (big.get(i, j), sentinel.get(i, j));
                assert!(
                    x == y || (x.is_nan() && y.is_nan()),
                    "{what}: wrote outside C at ({i},{j})"
                );
            }
        }
    }
}

fn kernels() -> impl Strategy<Value = Kernel> {
    proptest::sample::select(available_kernels())
}

fn alphas() -> impl Strategy<Value = f64> {
    proptest::sample::select(vec![1.0, -1.0, 0.5, 2.25, -0.375, 0.0])
}

fn betas() -> impl Strategy<Value = f64> {
    proptest::sample::select(vec![0.0, 1.0, -1.0, 0.5, 3.0])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn matches_reference_f64(
        kernel in kernels(), m in dims(), n in dims(), k in dims(),
        ta: bool, tb: bool, tc: bool, pad in 0usize..3,
        alpha in alphas(), beta in betas(), seed: u64,
    ) {
        check_case::<f64>(kernel, Par::Seq, (m, n, k), (ta, tb, tc), pad, alpha, beta, seed);
    }

    #[test]
    fn matches_reference_f32(
        kernel in kernels(), m in dims(), n in dims(), k in dims(),
        ta: bool, tb: bool, tc: bool, pad in 0usize..3,
        alpha in alphas(), beta in betas(), seed: u64,
    ) {
        check_case::<f32>(kernel, Par::Seq, (m, n, k), (ta, tb, tc), pad, alpha, beta, seed);
    }
}

/// Every kernel on every transpose pair at sizes that straddle tile and block edges, with more
/// than one KC block in the depth (so β must apply to the first rank update only).
#[test]
fn every_kernel_every_transpose_larger_sizes() {
    let shapes = [
        (257, 33, 300),
        (65, 257, 17),
        (67, 129, 520),
        (300, 40, 257),
    ];
    for kernel in available_kernels() {
        for (s, &shape) in shapes.iter().enumerate() {
            for (t, &(ta, tb)) in [(false, false), (true, false), (false, true), (true, true)]
                .iter()
                .enumerate()
            {
                let seed = (s * 4 + t) as u64;
                check_case::<f64>(
                    kernel,
                    Par::Rayon,
                    shape,
                    (ta, tb, false),
                    1,
                    1.5,
                    0.0,
                    seed,
                );
                check_case::<f32>(
                    kernel,
                    Par::Rayon,
                    shape,
                    (ta, tb, s % 2 == 1),
                    0,
                    -0.75,
                    1.0,
                    seed,
                );
            }
        }
    }
}

/// The AVX-512 kernels cannot run everywhere: where they can, they get the same checks as the
/// others; where they cannot, asking for them must be an error, not a crash.
#[test]
fn unavailable_kernel_is_an_error() {
    let a = Matrix::<f64>::identity(4);
    let mut c = Matrix::<f64>::zeros(4, 4);
    for kernel in [Kernel::Portable, Kernel::Avx2, Kernel::Avx512] {
        let r = gemm_with_kernel(
            kernel,
            Par::Seq,
            1.0,
            a.as_ref(),
            a.as_ref(),
            0.0,
            c.as_mut(),
        );
        if kernel.is_available() {
            r.unwrap();
            assert_eq!(c, a);
        } else {
            assert!(matches!(r, Err(LinalgError::InvalidArgument { .. })));
        }
    }
    assert!(available_kernels().contains(&Kernel::Portable));
}

#[test]
fn mismatched_shapes_are_errors() {
    let a = Matrix::<f64>::zeros(3, 4);
    let b = Matrix::<f64>::zeros(5, 2);
    let mut c = Matrix::<f64>::zeros(3, 2);
    assert!(matches!(
        gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()),
        Err(LinalgError::DimensionMismatch { .. })
    ));
    let b = Matrix::<f64>::zeros(4, 2);
    let mut c_bad = Matrix::<f64>::zeros(2, 3);
    assert!(gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c_bad.as_mut()).is_err());
    assert!(matmul(a.as_ref(), a.as_ref()).is_err());
    let mut y = vec![0.0; 3];
    assert!(matvec(1.0, a.as_ref(), &[1.0; 3], 0.0, &mut y).is_err());
    assert!(matvec(1.0, a.as_ref(), &[1.0; 4], 0.0, &mut y[..2]).is_err());
}

/// BLAS conventions: β = 0 overwrites C (NaN included); α = 0 or k = 0 leaves βC.
#[test]
fn beta_zero_overwrites_and_alpha_zero_scales() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let a = random::<f64>(70, 0, &mut rng);
    let b = random::<f64>(0, 90, &mut rng);
    let mut c = Matrix::from_fn(70, 90, |_, _| f64::NAN);
    gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap();
    assert!(c.as_slice().iter().all(|&x| x == 0.0));

    let a = random::<f64>(70, 80, &mut rng);
    let b = random::<f64>(80, 90, &mut rng);
    let c0 = random::<f64>(70, 90, &mut rng);
    let mut c = c0.clone();
    gemm(0.0, a.as_ref(), b.as_ref(), -2.0, c.as_mut()).unwrap();
    for (x, y) in c.as_slice().iter().zip(c0.as_slice()) {
        assert_eq!(*x, -2.0 * y);
    }
    let mut c = Matrix::from_fn(70, 90, |_, _| f64::NAN);
    gemm(0.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap();
    assert!(c.as_slice().iter().all(|&x| x == 0.0));
}

#[test]
fn gemm_op_and_matmul_agree_with_views() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let a = random::<f64>(40, 30, &mut rng);
    let b = random::<f64>(50, 40, &mut rng);
    let mut c1 = Matrix::<f64>::zeros(30, 50);
    gemm_op(
        1.0,
        a.as_ref(),
        Op::Trans,
        b.as_ref(),
        Op::Trans,
        0.0,
        c1.as_mut(),
    )
    .unwrap();
    let c2 = matmul(a.as_ref().t(), b.as_ref().t()).unwrap();
    assert_eq!(c1, c2);
    assert_close(
        "gemm_op",
        c1.as_ref(),
        1.0,
        a.as_ref().t(),
        b.as_ref().t(),
        0.0,
        c1.as_ref(),
    );
}

fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Bit-identical results for 1 and 2 rayon threads and for `Par::Seq`, on problems large
/// enough to be split into several tasks and several KC blocks.
#[test]
fn deterministic_across_thread_counts() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for &(m, n, k, tb) in &[
        (300, 520, 600, false),
        (40, 700, 300, true),
        (520, 33, 777, false),
    ] {
        let a = random::<f64>(m, k, &mut rng);
        let b = if tb {
            random::<f64>(n, k, &mut rng)
        } else {
            random::<f64>(k, n, &mut rng)
        };
        let bview = if tb { b.as_ref().t() } else { b.as_ref() };
        let c0 = random::<f64>(m, n, &mut rng);
        for kernel in available_kernels() {
            let run = |par: Par, threads: usize| {
                with_threads(threads, || {
                    let mut c = c0.clone();
                    gemm_with_kernel(kernel, par, 0.7, a.as_ref(), bview, 1.3, c.as_mut()).unwrap();
                    c
                })
            };
            let one = run(Par::Rayon, 1);
            let two = run(Par::Rayon, 2);
            let seq = run(Par::Seq, 2);
            assert!(
                one.as_slice()
                    .iter()
                    .zip(two.as_slice())
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{kernel:?} 1 vs 2 threads"
            );
            assert!(
                one.as_slice()
                    .iter()
                    .zip(seq.as_slice())
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{kernel:?} Seq vs Rayon"
            );
        }
        // f32 through the default path.
        let a32 = Matrix::<f32>::from_fn(m, k, |i, j| a.get(i, j) as f32);
        let b32 = Matrix::<f32>::from_fn(b.rows(), b.cols(), |i, j| b.get(i, j) as f32);
        let bv32 = if tb { b32.as_ref().t() } else { b32.as_ref() };
        let run32 = |par: Par, threads: usize| {
            with_threads(threads, || {
                let mut c = Matrix::<f32>::zeros(m, n);
                gemm_with(par, 1.0, a32.as_ref(), bv32, 0.0, c.as_mut()).unwrap();
                c
            })
        };
        let (x, y, z) = (
            run32(Par::Rayon, 1),
            run32(Par::Rayon, 2),
            run32(Par::Seq, 1),
        );
        assert!(x
            .as_slice()
            .iter()
            .zip(y.as_slice())
            .all(|(p, q)| p.to_bits() == q.to_bits()));
        assert!(x
            .as_slice()
            .iter()
            .zip(z.as_slice())
            .all(|(p, q)| p.to_bits() == q.to_bits()));
    }
}

fn matvec_reference(alpha: f64, a: MatRef<'_, f64>, x: &[f64], beta: f64, y0: &[f64]) -> Vec<f64> {
    let xm = Matrix::from_vec(x.len(), 1, x.to_vec()).unwrap();
    let mut ym = Matrix::from_vec(y0.len(), 1, y0.to_vec()).unwrap();
    gemm_reference(alpha, a, xm.as_ref(), beta, ym.as_mut());
    ym.into_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// matvec on row-major, transposed (column-major) and strided A.
    #[test]
    fn matvec_matches_reference(
        m in dims(), n in dims(), layout in 0usize..3, alpha in alphas(), beta in betas(), seed: u64,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let store = match layout {
            0 => random::<f64>(m, n, &mut rng),
            1 => random::<f64>(n, m, &mut rng),
            _ => random::<f64>(m + 3, 2 * n + 1, &mut rng),
        };
        let a: MatRef<'_, f64> = match layout {
            0 => store.as_ref(),
            1 => store.as_ref().t(),
            // Every other column of a larger matrix: column stride 2.
            _ => unsafe {
                MatRef::from_raw_parts(store.as_ref().as_ptr().add(1), m, n, store.cols() as isize, 2)
            },
        };
        let x: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let y0: Vec<f64> = (0..m)
            .map(|_| if beta == 0.0 { f64::NAN } else { rng.random_range(-1.0..1.0) })
            .collect();
        let mut y = y0.clone();
        matvec(alpha, a, &x, beta, &mut y).unwrap();
        let want = matvec_reference(alpha, a, &x, beta, &y0);
        for i in 0..m {
            let mag: f64 = (0..n).map(|j| (a.get(i, j) * x[j]).abs()).sum::<f64>() * alpha.abs()
                + if beta == 0.0 { 0.0 } else { (beta * y0[i]).abs() };
            let bound = 2.0 * (n as f64 + 2.0) * f64::EPSILON * mag + f64::MIN_POSITIVE;
            prop_assert!((y[i] - want[i]).abs() <= bound, "y[{}] = {} vs {}", i, y[i], want[i]);
        }
    }
}

#[test]
fn matvec_deterministic_across_thread_counts() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let a = random::<f64>(1500, 900, &mut rng);
    let x: Vec<f64> = (0..900).map(|_| rng.random_range(-1.0..1.0)).collect();
    let xt: Vec<f64> = (0..1500).map(|_| rng.random_range(-1.0..1.0)).collect();
    let run = |threads: usize| {
        with_threads(threads, || {
            let mut y = vec![0.0; 1500];
            matvec(1.0, a.as_ref(), &x, 0.0, &mut y).unwrap();
            let mut yt = vec![0.0; 900];
            matvec(1.0, a.as_ref().t(), &xt, 0.0, &mut yt).unwrap();
            (y, yt)
        })
    };
    let (one, two) = (run(1), run(2));
    assert!(one
        .0
        .iter()
        .zip(&two.0)
        .all(|(p, q)| p.to_bits() == q.to_bits()));
    assert!(one
        .1
        .iter()
        .zip(&two.1)
        .all(|(p, q)| p.to_bits() == q.to_bits()));
}

/// A `MatMut` from a column-major buffer (row stride 1) goes through the Cᵀ = BᵀAᵀ path.
#[test]
fn column_major_output() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (m, n, k) = (67, 45, 130);
    let a = random::<f32>(m, k, &mut rng);
    let b = random::<f32>(k, n, &mut rng);
    let mut buf = vec![f32::NAN; m * n];
    let c = unsafe { MatMut::from_raw_parts(buf.as_mut_ptr(), m, n, 1, m as isize) };
    gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c).unwrap();
    let got = Matrix::from_fn(m, n, |i, j| buf[i + j * m]);
    let zero = Matrix::<f32>::zeros(m, n);
    assert_close(
        "column-major C",
        got.as_ref(),
        1.0,
        a.as_ref(),
        b.as_ref(),
        0.0,
        zero.as_ref(),
    );
}
