//! Per-layer tangent kernels and chosen Jacobian columns, both from the structured factors.
//!
//! * K_l equals J_l J_lᵀ built from the VJP Jacobian's columns of layer l (full and traced,
//!   symmetric and cross), and Σ_l K_l equals the whole NTK;
//! * `jacobian_columns` equals the same columns of the VJP Jacobian, for weights and biases
//!   of every layer, and refuses an index outside θ.

use autodiff::mlp::{
    jacobian_by_vjp, jacobian_columns, ntk_per_layer, ntk_structured, ntk_traced, Mlp, NtkForm,
    Parameterization,
};
use autodiff::Activation;
use linalg::Matrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn matrix(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Matrix<f64> {
    Matrix::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

fn nets() -> Vec<Mlp> {
    vec![
        Mlp::new(
            3,
            &[5, 4],
            3,
            Activation::Tanh,
            Parameterization::Ntk,
            1.3,
            0.4,
        )
        .unwrap(),
        Mlp::new(
            4,
            &[6],
            2,
            Activation::Relu,
            Parameterization::Standard,
            1.0,
            0.2,
        )
        .unwrap(),
        Mlp::new(
            2,
            &[3, 4, 2],
            1,
            Activation::Gelu,
            Parameterization::Ntk,
            1.1,
            0.0,
        )
        .unwrap(),
    ]
}

/// J_l J'_lᵀ from explicit Jacobians, keeping only layer l's columns; traced over outputs.
fn layer_kernel(
    net: &Mlp,
    j1: &Matrix<f64>,
    j2: &Matrix<f64>,
    l: usize,
    traced: bool,
) -> Matrix<f64> {
    let range = net.layers()[l].param_range();
    let o = net.output_dim();
    let full = Matrix::from_fn(j1.rows(), j2.rows(), |r, c| {
        range.clone().map(|p| j1.get(r, p) * j2.get(c, p)).sum()
    });
    if !traced {
        return full;
    }
    Matrix::from_fn(j1.rows() / o, j2.rows() / o, |i, j| {
        (0..o).map(|a| full.get(i * o + a, j * o + a)).sum::<f64>() / o as f64
    })
}

fn max_diff(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    assert_eq!((a.rows(), a.cols()), (b.rows(), b.cols()));
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn layer_kernels_are_the_layer_blocks_of_j_and_sum_to_the_ntk() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for net in nets() {
        let theta: Vec<f64> = net.init(5);
        let (x1, x2) = (
            matrix(&mut rng, 7, net.input_dim()),
            matrix(&mut rng, 4, net.input_dim()),
        );
        let j1 = jacobian_by_vjp(&net, &theta, x1.as_ref(), 8).unwrap();
        let j2 = jacobian_by_vjp(&net, &theta, x2.as_ref(), 8).unwrap();
        for (form, traced) in [(NtkForm::Full, false), (NtkForm::Traced, true)] {
            let sym = ntk_per_layer(&net, &theta, x1.as_ref(), None, form).unwrap();
            let cross = ntk_per_layer(&net, &theta, x1.as_ref(), Some(x2.as_ref()), form).unwrap();
            assert_eq!(sym.len(), net.layers().len());
            for l in 0..sym.len() {
                let want = layer_kernel(&net, &j1, &j1, l, traced);
                assert!(max_diff(&sym[l], &want) < 1e-12, "layer {l} {form:?}");
                let want = layer_kernel(&net, &j1, &j2, l, traced);
                assert!(
                    max_diff(&cross[l], &want) < 1e-12,
                    "layer {l} {form:?} cross"
                );
            }
            let whole = match form {
                NtkForm::Full => ntk_structured(&net, &theta, x1.as_ref(), None).unwrap(),
                NtkForm::Traced => ntk_traced(&net, &theta, x1.as_ref(), None).unwrap(),
            };
            let sum = Matrix::from_fn(whole.rows(), whole.cols(), |r, c| {
                sym.iter().map(|k| k.get(r, c)).sum()
            });
            assert!(max_diff(&sum, &whole) < 1e-12, "{form:?} sum");
        }
    }
}

#[test]
fn chosen_columns_equal_the_jacobians() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for net in nets() {
        let theta: Vec<f64> = net.init(2);
        let x = matrix(&mut rng, 6, net.input_dim());
        let j = jacobian_by_vjp(&net, &theta, x.as_ref(), 8).unwrap();
        // Every layer's first and last weight and its last bias, plus a few at random.
        let mut cols: Vec<usize> = net
            .layers()
            .iter()
            .flat_map(|l| [l.w_offset, l.b_offset - 1, l.b_offset + l.n_out - 1])
            .collect();
        cols.extend((0..5).map(|_| rng.random_range(0..net.num_params())));
        let got = jacobian_columns(&net, &theta, x.as_ref(), &cols).unwrap();
        let want = Matrix::from_fn(j.rows(), cols.len(), |r, q| j.get(r, cols[q]));
        assert!(max_diff(&got, &want) < 1e-13);
        assert!(jacobian_columns(&net, &theta, x.as_ref(), &[net.num_params()]).is_err());
    }
}
