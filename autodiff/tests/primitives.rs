//! Every primitive against finite differences, the adjoint identity, and the other mode.
//!
//! For each primitive, random shapes and values (kept away from kinks and domain edges):
//! * forward-mode JVP vs central differences: relative error ≤ 1e-6;
//! * ⟨u, Jv⟩ = ⟨Jᵀu, v⟩ with forward-mode JVP and tape VJP: ≤ 1e-10 relative;
//! * the Jacobian built from one block JVP (all n directions in one pass) equals the one
//!   built from one block VJP (all m cotangents in one sweep), transposed, and both equal
//!   the Jacobians built one direction at a time;
//! * f32 values, JVPs and VJPs agree with f64 to f32 precision.

use autodiff::graph::audit::{
    catalogue, directions, draw, primitive_figures, PrimitiveCase, Values, ADJOINT_TOL, F32_TOL,
    FD_TOL, MODES_TOL,
};
use autodiff::graph::check::{check_jvp_fd, compare_jacobians, FlatFunction};
use autodiff::graph::prims::{
    prim, Add, BatchMatMul, Binary, Concat, Div, Elementwise, LogSoftmax, MatMul, Mean, MeanAxis,
    Mse, Mul, Neg, Permute, Prim, Primitive, Reshape, Scale, Slice, Softmax, SoftmaxCrossEntropy,
    Sub, Sum, SumAxis,
};
use autodiff::graph::{self, Graph, Tape};
use autodiff::unary::{Exp, Log, Softsign, Square};
use autodiff::{Activation, AdError, Tensor, Var};
use linalg::random::SplitMix64;
use linalg::Real;
use proptest::prelude::*;

fn apply<T: Real>(
    prim: &Prim<T>,
) -> impl Fn(&mut dyn Graph<T>, &[Var]) -> autodiff::Result<Var> + '_ {
    move |g: &mut dyn Graph<T>, x: &[Var]| g.apply(prim.clone(), x)
}

/// A primitive that serves both precisions (every primitive does).
trait AnyPrecision: Primitive<f32> + Primitive<f64> + Clone + 'static {}
impl<P: Primitive<f32> + Primitive<f64> + Clone + 'static> AnyPrecision for P {}

/// All checks for one primitive at one random point: the library's certificate
/// (`autodiff::graph::audit`, the figures `tangent selfcheck` prints) within its thresholds.
fn check_primitive<P: AnyPrecision>(prim: &P, operands: &[(Vec<usize>, Values)], seed: u64) {
    let case = PrimitiveCase::new(prim, operands);
    let shapes: Vec<&Vec<usize>> = operands.iter().map(|(s, _)| s).collect();
    let f = primitive_figures(&case, seed).unwrap();
    let ctx = format!("{} on {shapes:?}", case.name);
    assert!(
        f.fd <= FD_TOL,
        "{ctx}: JVP vs finite differences {:e}",
        f.fd
    );
    assert!(
        f.adjoint <= ADJOINT_TOL,
        "{ctx}: adjoint identity {:e}",
        f.adjoint
    );
    assert!(
        f.modes <= MODES_TOL,
        "{ctx}: Jacobian by JVP vs by VJP {:e}",
        f.modes
    );
    assert!(f.f32 <= F32_TOL, "{ctx}: f32 against f64 {:e}", f.f32);
}

#[test]
fn every_primitive_in_the_catalogue_passes() {
    let cases = catalogue();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for (k, case) in cases.iter().enumerate() {
        let f = primitive_figures(case, k as u64).unwrap();
        assert!(f.passes(), "{}: {f:?}", case.name);
    }
}

/// Modest case counts, a fixed seed (the same cases on every run, whatever the machine) and
/// no failure files written into the source tree.
fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 32,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x7a6e_9e17),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn matmul(m in 1usize..5, p in 1usize..5, n in 1usize..5, seed in any::<u64>()) {
        check_primitive(&MatMul, &[(vec![m, p], Values::Any), (vec![p, n], Values::Any)], seed);
    }

    #[test]
    fn batch_matmul(b in 1usize..4, m in 1usize..4, p in 1usize..4, n in 1usize..4, seed in any::<u64>()) {
        check_primitive(
            &BatchMatMul,
            &[(vec![b, m, p], Values::Any), (vec![b, p, n], Values::Any)],
            seed,
        );
    }

    #[test]
    fn binary_ops(op in 0usize..4, bcast in 0usize..3, r in 1usize..4, c in 1usize..5, seed in any::<u64>()) {
        let rhs = match bcast {
            0 => vec![r, c],    // same shape
            1 => vec![c],       // bias row
            _ => vec![],        // scalar
        };
        let ops = |kind| [(vec![r, c], Values::Any), (rhs.clone(), kind)];
        match op {
            0 => check_primitive(&Binary(Add), &ops(Values::Any), seed),
            1 => check_primitive(&Binary(Sub), &ops(Values::Any), seed),
            2 => check_primitive(&Binary(Mul), &ops(Values::Any), seed),
            _ => check_primitive(&Binary(Div), &ops(Values::AwayFromZero), seed),
        }
    }

    #[test]
    fn neg_and_scale(which in 0usize..2, c in -3.0f64..3.0, r in 1usize..4, k in 1usize..5, seed in any::<u64>()) {
        if which == 0 {
            check_primitive(&Neg, &[(vec![r, k], Values::Any)], seed);
        } else {
            check_primitive(&Scale(c), &[(vec![r, k], Values::Any)], seed);
        }
    }

    #[test]
    fn elementwise(which in 0usize..11, r in 1usize..4, c in 1usize..5, seed in any::<u64>()) {
        let shape = vec![r, c];
        match which {
            8 => check_primitive(&Elementwise(Exp), &[(shape, Values::Any)], seed),
            9 => check_primitive(&Elementwise(Log), &[(shape, Values::Positive)], seed),
            10 => check_primitive(&Elementwise(Square), &[(shape, Values::Any)], seed),
            _ => {
                let (act, kind) = [
                    (Activation::Identity, Values::Any),
                    (Activation::Relu, Values::AwayFromZero),
                    (Activation::LeakyRelu(0.1), Values::AwayFromZero),
                    (Activation::Tanh, Values::Any),
                    (Activation::Sigmoid, Values::Any),
                    (Activation::Softplus, Values::Any),
                    (Activation::Erf, Values::Any),
                    (Activation::Gelu, Values::Any),
                ][which];
                check_primitive(&Elementwise(act), &[(shape, kind)], seed);
            }
        }
    }

    #[test]
    fn softsign(r in 1usize..4, c in 1usize..5, seed in any::<u64>()) {
        // FD, adjoint, block and precision checks, then the forward rule by its definition.
        check_primitive(&Elementwise(Softsign), &[(vec![r, c], Values::Any)], seed);
        let mut rng = SplitMix64::new(seed);
        let x = Tensor::from_vec(&[r, c], draw(&mut rng, r * c, Values::Any)).unwrap();
        let y = graph::eval(apply(&prim(Elementwise(Softsign))), std::slice::from_ref(&x)).unwrap();
        for (yi, xi) in y.data().iter().zip(x.data()) {
            prop_assert_eq!(*yi, xi / (1.0 + xi.abs()));
        }
    }

    #[test]
    fn reductions(which in 0usize..4, shape in prop::collection::vec(1usize..4, 1..5), axis in 0usize..4, seed in any::<u64>()) {
        let axis = axis % shape.len();
        let ops = [(shape, Values::Any)];
        match which {
            0 => check_primitive(&Sum, &ops, seed),
            1 => check_primitive(&Mean, &ops, seed),
            2 => check_primitive(&SumAxis(axis), &ops, seed),
            _ => check_primitive(&MeanAxis(axis), &ops, seed),
        }
    }

    #[test]
    fn reshape(a in 1usize..4, b in 1usize..4, c in 1usize..4, seed in any::<u64>()) {
        check_primitive(&Reshape(vec![c, a * b]), &[(vec![a, b, c], Values::Any)], seed);
        check_primitive(&Reshape(vec![a * b * c]), &[(vec![a, b, c], Values::Any)], seed);
    }

    #[test]
    fn permute(shape in prop::collection::vec(1usize..4, 2..5), rot in 0usize..4, swap in any::<bool>(), seed in any::<u64>()) {
        let d = shape.len();
        let mut perm: Vec<usize> = (0..d).map(|a| (a + rot) % d).collect();
        if swap {
            perm.swap(0, d - 1);
        }
        check_primitive(&Permute(perm), &[(shape, Values::Any)], seed);
    }

    #[test]
    fn concat(pieces in prop::collection::vec(1usize..4, 1..4), other in 1usize..4, axis in 0usize..2, seed in any::<u64>()) {
        let ops: Vec<(Vec<usize>, Values)> = pieces
            .iter()
            .map(|&p| (if axis == 0 { vec![p, other] } else { vec![other, p] }, Values::Any))
            .collect();
        check_primitive(&Concat(axis), &ops, seed);
    }

    #[test]
    fn slice(shape in prop::collection::vec(1usize..5, 1..4), axis in 0usize..3, a in 0usize..5, b in 0usize..5, seed in any::<u64>()) {
        let axis = axis % shape.len();
        let extent = shape[axis];
        let start = a % extent;
        let len = 1 + b % (extent - start);
        check_primitive(&Slice { axis, start, len }, &[(shape, Values::Any)], seed);
    }

    #[test]
    fn losses(which in 0usize..4, r in 1usize..4, c in 1usize..5, seed in any::<u64>()) {
        match which {
            0 => check_primitive(&Mse, &[(vec![r, c], Values::Any), (vec![r, c], Values::Any)], seed),
            1 => check_primitive(&Softmax, &[(vec![r, c], Values::Any)], seed),
            2 => check_primitive(&LogSoftmax, &[(vec![r, c], Values::Any)], seed),
            _ => check_primitive(
                &SoftmaxCrossEntropy,
                &[(vec![r, c], Values::Any), (vec![r, c], Values::Positive)],
                seed,
            ),
        }
    }
}

/// A small network written once: h = tanh(X W₁ + b₁), logits = h W₂, loss = CE(logits, T).
fn tiny_net<T: Real>(g: &mut dyn Graph<T>, x: &[Var]) -> autodiff::Result<Var> {
    let h = g.matmul(x[0], x[1])?;
    let h = g.add(h, x[2])?;
    let h = g.tanh(h)?;
    let z = g.matmul(h, x[3])?;
    g.softmax_cross_entropy(z, x[4])
}

#[test]
fn composite_network_all_entry_points_agree() {
    let mut rng = SplitMix64::new(7);
    let shapes = [vec![4, 3], vec![3, 5], vec![5], vec![5, 2], vec![4, 2]];
    let inputs: Vec<Tensor<f64>> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let n = s.iter().product();
            let kind = if i == 4 {
                Values::Positive
            } else {
                Values::Any
            };
            Tensor::from_vec(s, draw(&mut rng, n, kind)).unwrap()
        })
        .collect();
    let flat = FlatFunction::<f64, _>::new(tiny_net::<f64>, &shapes);
    let x: Vec<f64> = inputs.iter().flat_map(|t| t.data().to_vec()).collect();
    let v = directions(&mut rng, x.len());
    let fd = check_jvp_fd(
        |x| flat.eval(x).unwrap(),
        |x, v| flat.jvp(x, v).unwrap(),
        &x,
        &v,
        1e-5,
    );
    assert!(fd <= 1e-6, "{fd:e}");

    let (value, grads) = graph::value_and_grad(tiny_net::<f64>, &inputs).unwrap();
    assert_eq!(
        value,
        graph::eval(tiny_net::<f64>, &inputs)
            .unwrap()
            .item()
            .unwrap()
    );
    let g_flat: Vec<f64> = grads.iter().flat_map(|t| t.data().to_vec()).collect();
    // ⟨∇L, v⟩ = L̇ along v.
    let tangents: Vec<Tensor<f64>> = {
        let mut off = 0;
        shapes
            .iter()
            .map(|s| {
                let n: usize = s.iter().product();
                off += n;
                Tensor::from_vec(s, v[off - n..off].to_vec()).unwrap()
            })
            .collect()
    };
    let (y, ydot) = graph::jvp(tiny_net::<f64>, &inputs, &tangents).unwrap();
    assert_eq!(y.item().unwrap(), value);
    let gv: f64 = g_flat.iter().zip(&v).map(|(a, b)| a * b).sum();
    let e = (gv - ydot.item().unwrap()).abs() / gv.abs().max(1e-300);
    assert!(e <= 1e-12, "{e:e}");
    // vjp with cotangent 1 is the gradient; block versions with k = 1 agree.
    let (_, vj) = graph::vjp(tiny_net::<f64>, &inputs, &Tensor::scalar(1.0)).unwrap();
    let (_, vjb) = graph::vjp_block(tiny_net::<f64>, &inputs, &Tensor::vector(vec![1.0])).unwrap();
    for ((a, b), c) in grads.iter().zip(&vj).zip(&vjb) {
        assert_eq!(a.data(), b.data());
        assert_eq!(a.data(), c.data());
    }
    let g2 = graph::grad(tiny_net::<f64>, &inputs).unwrap();
    assert_eq!(g2[1].data(), grads[1].data());
}

fn hostile_logits<T: Real>() -> Tensor<T> {
    Tensor::from_f64(&[2, 3], &[1e4, -1e4, 0.0, -1e4, -1e4, 1e4]).unwrap()
}

fn hostile_checks<T: Real>() {
    let z = hostile_logits::<T>();
    let t = Tensor::<T>::from_f64(&[2, 3], &[0.0, 1.0, 0.0, 0.5, 0.0, 0.5]).unwrap();
    for prim in [prim::<T, _>(Softmax), prim(LogSoftmax)] {
        let f = |g: &mut dyn Graph<T>, x: &[Var]| g.apply(prim.clone(), x);
        let y = graph::eval(f, std::slice::from_ref(&z)).unwrap();
        assert!(y.is_finite(), "{prim:?} value {y:?}");
        let u = Tensor::<T>::from_f64(&[2, 3], &[0.3, -1.0, 2.0, 1.0, 0.5, -0.7]).unwrap();
        let (_, g) = graph::vjp(f, std::slice::from_ref(&z), &u).unwrap();
        assert!(g[0].is_finite(), "{prim:?} VJP {:?}", g[0]);
        let (_, jv) = graph::jvp(f, std::slice::from_ref(&z), std::slice::from_ref(&u)).unwrap();
        assert!(jv.is_finite(), "{prim:?} JVP {jv:?}");
    }
    let s = graph::eval(
        |g: &mut dyn Graph<T>, x: &[Var]| g.softmax(x[0]),
        std::slice::from_ref(&z),
    )
    .unwrap();
    let want = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    for (a, b) in s.to_f64_vec().iter().zip(want) {
        assert!((a - b).abs() < 1e-6);
    }
    let ls = graph::eval(
        |g: &mut dyn Graph<T>, x: &[Var]| g.log_softmax(x[0]),
        std::slice::from_ref(&z),
    )
    .unwrap();
    assert!((ls.to_f64_vec()[1] + 2e4).abs() < 1e-2);
    let ce = |g: &mut dyn Graph<T>, x: &[Var]| g.softmax_cross_entropy(x[0], x[1]);
    let (value, grads) = graph::value_and_grad(ce, &[z.clone(), t.clone()]).unwrap();
    // Row 1: −ℓ₁ = 2·10⁴; row 2: −(½ℓ₀ + ½ℓ₂) = −(½(−2·10⁴) + 0) = 10⁴; mean 1.5·10⁴.
    let want = (2e4 + 0.5 * 2e4) / 2.0;
    assert!(
        (value.to_f64() - want).abs() / want < 1e-6,
        "CE {value} vs {want}"
    );
    assert!(grads.iter().all(|g| g.is_finite()));
    // dL/dz = (T p − t)/R: row 1 → (1, −1, 0)/2.
    let gz = grads[0].to_f64_vec();
    assert!((gz[0] - 0.5).abs() < 1e-6 && (gz[1] + 0.5).abs() < 1e-6 && gz[2].abs() < 1e-6);
}

#[test]
fn softmax_family_survives_logits_of_1e4() {
    hostile_checks::<f64>();
    hostile_checks::<f32>();
}

#[test]
fn non_finite_logits_are_a_domain_error() {
    let z = Tensor::<f64>::from_f64(&[1, 2], &[f64::INFINITY, 0.0]).unwrap();
    let r = graph::eval(|g: &mut dyn Graph<f64>, x: &[Var]| g.softmax(x[0]), &[z]);
    assert!(matches!(r, Err(AdError::Domain { .. })), "{r:?}");
}

#[test]
fn log_domain_rule() {
    let log_sum = |g: &mut dyn Graph<f64>, x: &[Var]| {
        let l = g.log(x[0])?;
        g.sum(l)
    };
    // Negative (and NaN) input: a domain error in every mode.
    for bad in [-1e-300, -2.0, f64::NAN] {
        let x = Tensor::vector(vec![1.0, bad]);
        let v = Tensor::vector(vec![1.0, 1.0]);
        assert!(matches!(
            graph::eval(log_sum, std::slice::from_ref(&x)),
            Err(AdError::Domain { .. })
        ));
        assert!(matches!(
            graph::jvp(log_sum, std::slice::from_ref(&x), &[v]),
            Err(AdError::Domain { .. })
        ));
        assert!(matches!(
            graph::grad(log_sum, &[x]),
            Err(AdError::Domain { .. })
        ));
    }
    // Zero: value −∞, derivative +∞ where the direction moves the zero entry, 0 where it
    // does not — never NaN.
    let x = Tensor::vector(vec![0.0, 2.0]);
    let (value, g) = graph::value_and_grad(log_sum, std::slice::from_ref(&x)).unwrap();
    assert_eq!(value, f64::NEG_INFINITY);
    assert_eq!(g[0].data(), &[f64::INFINITY, 0.5]);
    let (_, jv) = graph::jvp(
        log_sum,
        std::slice::from_ref(&x),
        &[Tensor::vector(vec![0.0, 1.0])],
    )
    .unwrap();
    assert_eq!(jv.item().unwrap(), 0.5);
    let (_, jv) = graph::jvp(log_sum, &[x], &[Tensor::vector(vec![-1.0, 1.0])]).unwrap();
    assert_eq!(jv.item().unwrap(), f64::NEG_INFINITY);
    // ln(−0) is ln(0).
    let y = graph::eval(log_sum, &[Tensor::vector(vec![-0.0])]).unwrap();
    assert_eq!(y.item().unwrap(), f64::NEG_INFINITY);
}

#[test]
fn division_by_zero_is_a_domain_error() {
    let div = |g: &mut dyn Graph<f64>, x: &[Var]| g.div(x[0], x[1]);
    let a = Tensor::from_f64(&[2, 2], &[1.0, 2.0, 3.0, 4.0]).unwrap();
    let b = Tensor::vector(vec![1.0, 0.0]);
    assert!(matches!(
        graph::eval(div, &[a.clone(), b.clone()]),
        Err(AdError::Domain { .. })
    ));
    assert!(matches!(
        graph::grad(
            |g: &mut dyn Graph<f64>, x: &[Var]| {
                let q = div(g, x)?;
                g.sum(q)
            },
            &[a, b]
        ),
        Err(AdError::Domain { .. })
    ));
}

#[test]
fn bad_shapes_and_handles_are_errors() {
    let a = Tensor::<f64>::zeros(&[2, 3]).unwrap();
    let b = Tensor::<f64>::zeros(&[2, 3]).unwrap();
    let r = graph::eval(
        |g: &mut dyn Graph<f64>, x: &[Var]| g.matmul(x[0], x[1]),
        &[a.clone(), b.clone()],
    );
    assert!(matches!(r, Err(AdError::Shape { .. })));
    let r = graph::eval(
        |g: &mut dyn Graph<f64>, x: &[Var]| g.add(x[0], x[1]),
        &[a.clone(), Tensor::vector(vec![1.0, 2.0])],
    );
    assert!(matches!(r, Err(AdError::Shape { .. })));
    let r = graph::eval(
        |g: &mut dyn Graph<f64>, x: &[Var]| g.slice(x[0], 1, 2, 2),
        std::slice::from_ref(&a),
    );
    assert!(matches!(r, Err(AdError::Shape { .. })));
    let r = graph::eval(
        |g: &mut dyn Graph<f64>, x: &[Var]| g.permute(x[0], &[0, 0]),
        std::slice::from_ref(&a),
    );
    assert!(matches!(r, Err(AdError::Shape { .. })));
    // A handle from a bigger graph.
    let mut tape = Tape::new();
    let x = tape.leaf(a.clone());
    let mut other = Tape::<f64>::new();
    let far = (0..6)
        .map(|_| other.leaf(Tensor::scalar(0.0)))
        .last()
        .unwrap();
    assert!(tape.apply(prim(Neg), &[far]).is_err());
    let y = tape.apply(prim(Sum), &[x]).unwrap();
    assert!(tape.vjp(y, &Tensor::vector(vec![1.0])).is_err());
    assert!(tape.grad(x).is_err(), "gradient of a non-scalar output");
    // Wrong tangent block shape.
    let r = graph::jvp_block(
        |g: &mut dyn Graph<f64>, x: &[Var]| g.sum(x[0]),
        &[a],
        &[Tensor::zeros(&[2, 3, 2]).unwrap()],
    );
    assert!(matches!(r, Err(AdError::Shape { .. })));
}

#[test]
fn constants_get_no_gradient_and_cost_no_tangent() {
    let mut tape = Tape::<f64>::new();
    let w = tape.leaf(Tensor::from_f64(&[2, 2], &[1.0, 2.0, 3.0, 4.0]).unwrap());
    let x = tape.constant(Tensor::from_f64(&[1, 2], &[0.5, -1.0]).unwrap());
    let y = tape.matmul(x, w).unwrap();
    let l = tape.sum(y).unwrap();
    let g = tape.grad(l).unwrap();
    // dL/dW = xᵀ 1.
    assert_eq!(g.wrt(w).unwrap().data(), &[0.5, 0.5, -1.0, -1.0]);
    assert!(g.get(x).is_none());
    assert_eq!(g.wrt(x).unwrap().data(), &[0.0, 0.0]);
}

// Forward rules against naive definitions: the derivative checks above only show that the
// three rules agree with each other and with the forward rule, so the forward rule itself
// is pinned down here by explicit indexing.

fn tensor(rng: &mut SplitMix64, shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(shape, draw(rng, shape.iter().product(), Values::Any)).unwrap()
}

fn run(prim: Prim<f64>, xs: &[Tensor<f64>]) -> Tensor<f64> {
    graph::eval(apply(&prim), xs).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-13 * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn forward_products_and_axes_match_index_loops(
        dims in prop::collection::vec(1usize..4, 4),
        axis in 0usize..3,
        rot in 0usize..3,
        seed in any::<u64>(),
    ) {
        let mut rng = SplitMix64::new(seed);
        let (b, m, p, n) = (dims[0], dims[1], dims[2], dims[3]);
        let a = tensor(&mut rng, &[b, m, p]);
        let c = tensor(&mut rng, &[b, p, n]);
        let y = run(prim(BatchMatMul), &[a.clone(), c.clone()]);
        for s in 0..b {
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..p).map(|l| a.get(&[s, i, l]).unwrap() * c.get(&[s, l, j]).unwrap()).sum();
                    prop_assert!(close(y.get(&[s, i, j]).unwrap(), want));
                }
            }
        }
        let a2 = tensor(&mut rng, &[m, p]);
        let c2 = tensor(&mut rng, &[p, n]);
        let y2 = run(prim(MatMul), &[a2.clone(), c2.clone()]);
        let want = linalg::matmul(a2.as_mat().unwrap(), c2.as_mat().unwrap()).unwrap();
        prop_assert_eq!(y2.data(), want.as_slice());

        // Sum along an axis of a 3-D tensor, and the permutation (a, b, c) → rotated.
        let x = tensor(&mut rng, &[m, p, n]);
        let s = run(prim(SumAxis(axis)), std::slice::from_ref(&x));
        let ext = [m, p, n];
        let mut idx = [0usize; 3];
        for i in 0..ext[(axis + 1) % 3] {
            for j in 0..ext[(axis + 2) % 3] {
                let mut total = 0.0;
                for l in 0..ext[axis] {
                    idx[axis] = l;
                    idx[(axis + 1) % 3] = i;
                    idx[(axis + 2) % 3] = j;
                    total += x.get(&idx).unwrap();
                }
                let mut out_idx = [(axis + 1) % 3, (axis + 2) % 3].map(|a| idx[a]);
                if axis == 1 {
                    out_idx.swap(0, 1);
                }
                prop_assert!(close(s.get(&out_idx).unwrap(), total));
            }
        }
        let perm: Vec<usize> = (0..3).map(|a| (a + rot) % 3).collect();
        let t = run(prim(Permute(perm.clone())), std::slice::from_ref(&x));
        for i in 0..m {
            for j in 0..p {
                for k in 0..n {
                    let src = [i, j, k];
                    let dst: Vec<usize> = perm.iter().map(|&q| src[q]).collect();
                    prop_assert_eq!(t.get(&dst).unwrap(), x.get(&src).unwrap());
                }
            }
        }
    }
}

#[test]
fn forward_values_of_the_other_primitives() {
    let mut rng = SplitMix64::new(11);
    let a = tensor(&mut rng, &[3, 4]);
    let b = Tensor::from_vec(&[4], draw(&mut rng, 4, Values::AwayFromZero)).unwrap();
    for (prim, f) in [
        (prim(Binary(Add)), (|x, y| x + y) as fn(f64, f64) -> f64),
        (prim(Binary(Sub)), |x, y| x - y),
        (prim(Binary(Mul)), |x, y| x * y),
        (prim(Binary(Div)), |x, y| x / y),
    ] {
        let y = run(prim.clone(), &[a.clone(), b.clone()]);
        for i in 0..3 {
            for j in 0..4 {
                let want = f(a.get(&[i, j]).unwrap(), b.data()[j]);
                assert_eq!(y.get(&[i, j]).unwrap(), want, "{prim:?}");
            }
        }
    }
    // Concat then slice gives the pieces back.
    let c = tensor(&mut rng, &[3, 2]);
    let cat = run(prim(Concat(1)), &[a.clone(), c.clone()]);
    assert_eq!(cat.shape(), &[3, 6]);
    assert_eq!(cat.get(&[2, 5]).unwrap(), c.get(&[2, 1]).unwrap());
    assert_eq!(cat.get(&[1, 3]).unwrap(), a.get(&[1, 3]).unwrap());
    let back = run(
        prim(Slice {
            axis: 1,
            start: 4,
            len: 2,
        }),
        &[cat],
    );
    assert_eq!(back, c);
    // Softmax rows sum to one with ratios e^{xᵢ − xⱼ}; log-softmax is its logarithm.
    let s = run(prim(Softmax), std::slice::from_ref(&a));
    let ls = run(prim(LogSoftmax), std::slice::from_ref(&a));
    for i in 0..3 {
        let row: f64 = (0..4).map(|j| s.get(&[i, j]).unwrap()).sum();
        assert!(close(row, 1.0));
        let ratio = s.get(&[i, 0]).unwrap() / s.get(&[i, 1]).unwrap();
        assert!(close(
            ratio,
            (a.get(&[i, 0]).unwrap() - a.get(&[i, 1]).unwrap()).exp()
        ));
        for j in 0..4 {
            assert!(close(
                ls.get(&[i, j]).unwrap(),
                s.get(&[i, j]).unwrap().ln()
            ));
        }
    }
    // Cross-entropy and mse by their definitions.
    let t = Tensor::from_vec(&[3, 4], draw(&mut rng, 12, Values::Positive)).unwrap();
    let ce = run(prim(SoftmaxCrossEntropy), &[a.clone(), t.clone()])
        .item()
        .unwrap();
    let want = -ls.dot(&t).unwrap() / 3.0;
    assert!(close(ce, want));
    let mse = run(prim(Mse), &[a.clone(), t.clone()]).item().unwrap();
    let want: f64 = a
        .data()
        .iter()
        .zip(t.data())
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        / 12.0;
    assert!(close(mse, want));
    let mean = run(prim(MeanAxis(0)), std::slice::from_ref(&a));
    let want: f64 = (0..3).map(|i| a.get(&[i, 2]).unwrap()).sum::<f64>() / 3.0;
    assert!(close(mean.data()[2], want));
    assert!(close(
        run(prim(Mean), std::slice::from_ref(&a)).item().unwrap(),
        a.data().iter().sum::<f64>() / 12.0
    ));
    let r = run(prim(Reshape(vec![2, 6])), std::slice::from_ref(&a));
    assert_eq!(r.data(), a.data());
    assert_eq!(r.shape(), &[2, 6]);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut rng = SplitMix64::new(3);
    let a = tensor(&mut rng, &[48, 96]);
    let w = tensor(&mut rng, &[96, 80]);
    let t = Tensor::from_vec(&[48, 80], draw(&mut rng, 48 * 80, Values::Positive)).unwrap();
    let inputs = [a, w, t];
    let f = |g: &mut dyn Graph<f64>, x: &[Var]| {
        let h = g.matmul(x[0], x[1])?;
        let h = g.gelu(h)?;
        g.softmax_cross_entropy(h, x[2])
    };
    let tangents: Vec<Tensor<f64>> = inputs
        .iter()
        .map(|x| {
            let mut s = vec![5];
            s.extend_from_slice(x.shape());
            Tensor::from_vec(&s, directions(&mut rng, 5 * x.len())).unwrap()
        })
        .collect();
    let run_with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (v, g) = graph::value_and_grad(f, &inputs).unwrap();
            let (_, jv) = graph::jvp_block(f, &inputs, &tangents).unwrap();
            (v, g, jv)
        })
    };
    let (v1, g1, j1) = run_with(1);
    let (v2, g2, j2) = run_with(2);
    assert_eq!(v1.to_bits(), v2.to_bits());
    for (a, b) in g1.iter().zip(&g2) {
        assert!(a
            .data()
            .iter()
            .zip(b.data())
            .all(|(x, y)| x.to_bits() == y.to_bits()));
    }
    assert!(j1
        .data()
        .iter()
        .zip(j2.data())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn non_finite_targets_and_predictions_are_domain_errors() {
    let z = Tensor::<f64>::from_f64(&[1, 2], &[0.5, 0.0]).unwrap();
    let bad = Tensor::<f64>::from_f64(&[1, 2], &[f64::NAN, 1.0]).unwrap();
    for prim in [prim(SoftmaxCrossEntropy), prim(Mse)] {
        let r = graph::eval(apply(&prim), &[z.clone(), bad.clone()]);
        assert!(matches!(r, Err(AdError::Domain { .. })), "{prim:?}: {r:?}");
    }
    let r = graph::eval(apply(&prim(Mse)), &[bad, z]);
    assert!(matches!(r, Err(AdError::Domain { .. })), "{r:?}");
}

#[test]
fn jacobians_by_forward_and_reverse_chunks_match_differences() {
    use autodiff::graph::check::jacobian_fd;
    use autodiff::graph::{jacobian, JacobianMode};
    let mut rng = SplitMix64::new(5);
    let x = tensor(&mut rng, &[3, 4]);
    let w = tensor(&mut rng, &[4, 2]);
    let f = |g: &mut dyn Graph<f64>, v: &[Var]| {
        let h = g.matmul(v[0], v[1])?;
        let h = g.softplus(h)?;
        g.log_softmax(h)
    };
    let inputs = [x.clone(), w.clone()];
    let flat: Vec<f64> = x.data().iter().chain(w.data()).copied().collect();
    let fd = jacobian_fd(
        |z: &[f64]| {
            let xs = [
                Tensor::from_vec(&[3, 4], z[..12].to_vec()).unwrap(),
                Tensor::from_vec(&[4, 2], z[12..].to_vec()).unwrap(),
            ];
            graph::eval(f, &xs).unwrap().into_vec()
        },
        &flat,
        1e-5,
    );
    for chunk in [1, 3, 7, 100] {
        let jf = jacobian(f, &inputs, JacobianMode::Forward, chunk).unwrap();
        let jr = jacobian(f, &inputs, JacobianMode::Reverse, chunk).unwrap();
        assert_eq!(jf.shape(), (6, 20));
        let e = compare_jacobians(&jf, &jr).unwrap();
        assert!(e <= 1e-13, "chunk {chunk}: forward vs reverse {e:e}");
        let e = compare_jacobians(&jf, &fd).unwrap();
        assert!(e <= 1e-8, "chunk {chunk}: forward vs differences {e:e}");
    }
    assert!(jacobian(f, &inputs, JacobianMode::Reverse, 0).is_err());
}
