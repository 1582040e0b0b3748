//! Plain evaluation and the reverse-mode tape fuse bias, φ (and, on the tape, φ') into each
//! hidden layer's GEMM as its epilogue. Both must give the bits of the separate passes —
//! `Affine::forward` (product, then bias) and φ, φ' entry by entry — for every activation,
//! both parameterizations and both precisions, on 1 and 2 threads, at sizes where the products
//! are packed and split over the threads.

use autodiff::mlp::{Mlp, Parameterization};
use autodiff::unary::Unary;
use autodiff::Activation;
use linalg::{Matrix, Par, Real};

fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn bits<T: Real>(m: &Matrix<T>) -> Vec<u64> {
    m.as_slice().iter().map(|v| v.to_f64().to_bits()).collect()
}

/// The values of every layer, in tape order (input, then z and φ(z) per hidden layer, then
/// the output), and φ'(z) per hidden layer, by separate passes.
fn separate_passes<T: Real>(
    net: &Mlp,
    theta: &[T],
    x: &Matrix<T>,
) -> (Vec<Matrix<T>>, Vec<Matrix<T>>) {
    let act = net.activation();
    let (mut values, mut slopes) = (vec![x.clone()], Vec::new());
    for layer in net.layers() {
        let aff = layer.affine(theta).unwrap();
        let input = values.last().unwrap();
        let mut z = Matrix::zeros(input.rows(), aff.n_out());
        aff.forward(input.as_ref(), z.as_mut(), Par::Seq).unwrap();
        if !layer.is_last {
            let a = Matrix::from_fn(z.rows(), z.cols(), |i, j| act.value(z.get(i, j)));
            let d = Matrix::from_fn(z.rows(), z.cols(), |i, j| {
                act.slope(z.get(i, j), a.get(i, j))
            });
            values.push(z);
            values.push(a);
            slopes.push(d);
        } else {
            values.push(z);
        }
    }
    (values, slopes)
}

fn check<T: Real>(act: Activation, param: Parameterization) {
    let net = Mlp::new(300, &[260, 140], 3, act, param, 1.3, 0.2).unwrap();
    let theta: Vec<T> = net.init(7);
    let x = Matrix::<T>::from_fn(90, 300, |i, j| {
        T::from_f64(((i * 37 + j * 11) % 101) as f64 / 50.0 - 1.0)
    });
    let (values, slopes) = separate_passes(&net, &theta, &x);
    let what = format!("{act} {param:?} {}", std::any::type_name::<T>());
    for threads in [1, 2] {
        let fused = with_threads(threads, || net.forward(&theta, x.as_ref()).unwrap());
        assert!(
            bits(&fused) == bits(values.last().unwrap()),
            "{what}: forward on {threads} threads differs from the separate passes"
        );
        let tape = with_threads(threads, || net.record(&theta, x.as_ref()).unwrap());
        let taped: Vec<_> = tape.nodes().iter().map(|node| bits(&node.value)).collect();
        let want: Vec<_> = values.iter().map(bits).collect();
        assert!(
            taped == want,
            "{what}: tape values on {threads} threads differ"
        );
        let taped_slopes: Vec<_> = tape
            .nodes()
            .iter()
            .filter_map(|node| node.slope.as_ref().map(bits))
            .collect();
        let want_slopes: Vec<_> = slopes.iter().map(bits).collect();
        assert!(
            taped_slopes == want_slopes,
            "{what}: tape slopes on {threads} threads differ"
        );
    }
}

#[test]
fn fused_forward_has_the_bits_of_the_separate_passes() {
    for act in Activation::EVERY {
        for param in [Parameterization::Standard, Parameterization::Ntk] {
            check::<f32>(act, param);
            check::<f64>(act, param);
        }
    }
}
