//! `Par`: every routine that parallelises gives the same bits under `Par::Seq`, and under
//! `Par::Rayon` in 1- and 2-thread pools (and its plain wrapper agrees). Sizes are chosen so
//! that each parallel path is actually taken: Cholesky above the 64-row base case (SYRK
//! recursion, off-diagonal GEMMs), more than 64 right-hand sides for the triangular solves,
//! more than 128 eigenvector columns for the QL rotations, matvec above its 2¹⁶ threshold.

mod solvers_common;

use linalg::triangular::{
    solve_lower_in_place_with, solve_lower_transpose_in_place_with, solve_lower_vec_with,
    solve_upper_in_place_with, solve_upper_transpose_in_place_with,
};
use linalg::{
    cg, cholesky_in_place_with, gemm_op_with, lanczos_extremes, matmul_with, matvec_with,
    symmetric_eigen_with, symmetric_eigenvalues_with, tridiagonal_eigen_with, CgOptions, Cholesky,
    DenseOperator, Matrix, Op, Par, Preconditioner, Real,
};
use solvers_common::*;

/// The bit patterns of a slice, widened to f64 (exact for f32).
fn bits<T: Real>(xs: &[T]) -> Vec<u64> {
    xs.iter().map(|v| v.to_f64().to_bits()).collect()
}

/// Runs `f` under Seq (inside a 2-thread pool, so parallelism was available and declined),
/// and under Rayon with 1 and 2 threads, and asserts the three results are bit-identical.
/// Returns the 2-thread result for further checks.
fn same_under_every_par(what: &str, f: impl Fn(Par) -> Vec<u64> + Sync) -> Vec<u64> {
    let seq = with_threads(2, || f(Par::Seq));
    let one = with_threads(1, || f(Par::Rayon));
    let two = with_threads(2, || f(Par::Rayon));
    assert!(!seq.is_empty(), "{what}: nothing compared");
    assert!(
        seq == one,
        "{what}: Par::Seq and Par::Rayon (1 thread) differ"
    );
    assert!(one == two, "{what}: 1 and 2 rayon threads differ");
    two
}

fn lower_triangle(a: &Matrix<f64>) -> Matrix<f64> {
    let mut l = Cholesky::factor(a.as_ref()).unwrap().into_l();
    // A unit-ish lower triangle with the factor's (well-conditioned) entries.
    for i in 0..l.rows() {
        let d = l.get(i, i);
        l.set(i, i, d + 1.0);
    }
    l
}

#[test]
fn cholesky_factor_solve_and_in_place() {
    for n in [50usize, 300] {
        let a = random_spd(n, 1e3, 17 + n as u64);
        let b = random_matrix(n, 90, &mut rng(3));
        let l = same_under_every_par("Cholesky::factor_with", |par| {
            bits(
                Cholesky::factor_with(par, a.as_ref())
                    .unwrap()
                    .l()
                    .as_slice(),
            )
        });
        // The wrapper uses the default (Rayon) and agrees.
        let wrapper = with_threads(2, || Cholesky::factor(a.as_ref()).unwrap());
        assert_eq!(bits(wrapper.l().as_slice()), l);
        same_under_every_par("cholesky_in_place_with", |par| {
            let mut c = a.clone();
            cholesky_in_place_with(par, c.as_mut()).unwrap();
            assert_eq!(bits(c.as_slice()), l, "in place differs from factor");
            bits(c.as_slice())
        });
        let chol = Cholesky::factor(a.as_ref()).unwrap();
        let x = same_under_every_par("Cholesky::solve_with", |par| {
            bits(chol.solve_with(par, b.as_ref()).unwrap().as_slice())
        });
        assert_eq!(bits(chol.solve(b.as_ref()).unwrap().as_slice()), x);
        let bv: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        same_under_every_par("Cholesky::solve_vec_with", |par| {
            bits(&chol.solve_vec_with(par, &bv).unwrap())
        });
    }
}

#[test]
fn cholesky_f32() {
    let a = cast::<f32>(&random_spd(200, 1e2, 5));
    same_under_every_par("Cholesky::factor_with (f32)", |par| {
        bits(
            Cholesky::factor_with(par, a.as_ref())
                .unwrap()
                .l()
                .as_slice(),
        )
    });
}

#[test]
fn triangular_solves() {
    let n = 200;
    let l = lower_triangle(&random_spd(n, 1e2, 23));
    let u = l.transpose();
    let b = random_matrix(n, 150, &mut rng(8));
    type Solve = fn(Par, linalg::MatRef<'_, f64>, linalg::MatMut<'_, f64>) -> linalg::Result<()>;
    let cases: [(&str, &Matrix<f64>, Solve); 4] = [
        ("solve_lower_in_place_with", &l, solve_lower_in_place_with),
        (
            "solve_lower_transpose_in_place_with",
            &l,
            solve_lower_transpose_in_place_with,
        ),
        ("solve_upper_in_place_with", &u, solve_upper_in_place_with),
        (
            "solve_upper_transpose_in_place_with",
            &u,
            solve_upper_transpose_in_place_with,
        ),
    ];
    for (name, t, solve) in cases {
        same_under_every_par(name, |par| {
            let mut x = b.clone();
            solve(par, t.as_ref(), x.as_mut()).unwrap();
            bits(x.as_slice())
        });
        // A column-major right-hand side (the Cholesky panel's layout) as well.
        same_under_every_par(name, |par| {
            let mut xt = b.transpose();
            solve(par, t.as_ref(), xt.as_mut().t()).unwrap();
            bits(xt.as_slice())
        });
    }
    let bv: Vec<f64> = b.as_slice()[..n].to_vec();
    same_under_every_par("solve_lower_vec_with", |par| {
        let mut x = bv.clone();
        solve_lower_vec_with(par, l.as_ref(), &mut x).unwrap();
        bits(&x)
    });
}

#[test]
fn symmetric_eigen_values_and_vectors() {
    for n in [40usize, 300] {
        let a = random_spd(n, 1e4, 31 + n as u64);
        let v = same_under_every_par("symmetric_eigen_with", |par| {
            let e = symmetric_eigen_with(par, a.as_ref()).unwrap();
            let mut out = bits(&e.values);
            out.extend(bits(e.vectors.as_slice()));
            out
        });
        let values = same_under_every_par("symmetric_eigenvalues_with", |par| {
            bits(&symmetric_eigenvalues_with(par, a.as_ref()).unwrap())
        });
        assert_eq!(
            &v[..n],
            &values[..],
            "values alone differ from values with vectors"
        );
    }
    let a32 = cast::<f32>(&random_spd(200, 1e2, 77));
    same_under_every_par("symmetric_eigen_with (f32)", |par| {
        let e = symmetric_eigen_with(par, a32.as_ref()).unwrap();
        bits(e.vectors.as_slice())
    });
}

#[test]
fn tridiagonal_eigen_vectors() {
    let n = 400;
    let diag: Vec<f64> = (0..n).map(|i| 2.0 + (i as f64 * 0.1).cos()).collect();
    let off: Vec<f64> = (0..n - 1)
        .map(|i| 0.5 + 0.3 * (i as f64 * 0.7).sin())
        .collect();
    same_under_every_par("tridiagonal_eigen_with", |par| {
        let e = tridiagonal_eigen_with(par, &diag, &off, true).unwrap();
        let mut out = bits(&e.values);
        out.extend(bits(e.vectors.as_slice()));
        out
    });
}

#[test]
fn matvec_matmul_gemm_op() {
    let a = random_matrix(400, 300, &mut rng(41));
    let b = random_matrix(300, 250, &mut rng(42));
    let x: Vec<f64> = (0..300).map(|i| (i as f64).sqrt()).collect();
    same_under_every_par("matvec_with", |par| {
        let mut y = vec![0.0; 400];
        matvec_with(par, 1.0, a.as_ref(), &x, 0.0, &mut y).unwrap();
        bits(&y)
    });
    let ab = same_under_every_par("matmul_with", |par| {
        bits(matmul_with(par, a.as_ref(), b.as_ref()).unwrap().as_slice())
    });
    let bt = b.transpose();
    same_under_every_par("gemm_op_with", |par| {
        let mut c = Matrix::zeros(400, 250);
        gemm_op_with(
            par,
            1.0,
            a.as_ref(),
            Op::NoTrans,
            bt.as_ref(),
            Op::Trans,
            0.0,
            c.as_mut(),
        )
        .unwrap();
        assert_eq!(bits(c.as_slice()), ab, "gemm_op(B') differs from matmul(B)");
        bits(c.as_slice())
    });
}

/// CG runs on the calling thread; its dense operator's products follow the `Par` of
/// [`DenseOperator`], and plain and Jacobi CG give the same bits either way.
#[test]
fn cg_on_a_dense_operator() {
    let n = 300;
    let a = random_spd(n, 1e3, 55);
    let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
    for preconditioner in [Preconditioner::None, Preconditioner::Jacobi] {
        let opts = CgOptions {
            rtol: 1e-10,
            preconditioner,
            ..Default::default()
        };
        let x = same_under_every_par("cg (DenseOperator)", |par| {
            let res = cg(&DenseOperator::new(a.as_ref(), par), &b, None, &opts).unwrap();
            let mut out = bits(&res.x);
            out.extend(bits(&res.residual_history));
            out
        });
        let plain = with_threads(2, || cg(&a, &b, None, &opts).unwrap());
        assert_eq!(
            bits(&plain.x),
            x[..n],
            "Matrix operator differs from DenseOperator"
        );
    }
}

/// Lanczos has no parallel work of its own; through a `DenseOperator` it is the same under
/// every `Par` too.
#[test]
fn lanczos_on_a_dense_operator() {
    let a = random_spd(250, 1e3, 66);
    same_under_every_par("lanczos_extremes (DenseOperator)", |par| {
        let r = lanczos_extremes(&DenseOperator::new(a.as_ref(), par), 100, 1e-10, 5).unwrap();
        let mut out = bits(&r.ritz_values);
        out.push(r.iterations as u64);
        out
    });
}
