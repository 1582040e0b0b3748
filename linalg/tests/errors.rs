//! Structured errors: each routine names itself, the operand and the sizes in fields, and the
//! message reads as a sentence.

use linalg::triangular::solve_lower_in_place;
use linalg::{
    cg, gemm, lanczos_extremes, matvec, tridiagonal_eigen, CgOptions, Cholesky, Dims, LinalgError,
    MatMut, MatRef, Matrix, Preconditioner,
};

#[test]
fn gemm_names_the_operand_and_shapes() {
    let a = Matrix::<f64>::zeros(3, 4);
    let b = Matrix::<f64>::zeros(5, 2);
    let mut c = Matrix::<f64>::zeros(3, 2);
    let e = gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap_err();
    assert_eq!(
        e,
        LinalgError::DimensionMismatch {
            op: "gemm",
            operand: "B",
            expected: Dims::Shape(4, 2),
            got: Dims::Shape(5, 2),
        }
    );
    assert_eq!(
        e.to_string(),
        "dimension mismatch in gemm: B is 5×2, expected 4×2"
    );
    let b = Matrix::<f64>::zeros(4, 2);
    let mut c = Matrix::<f64>::zeros(2, 2);
    let e = gemm(1.0, a.as_ref(), b.as_ref(), 0.0, c.as_mut()).unwrap_err();
    assert_eq!(e, LinalgError::shape_mismatch("gemm", "C", (3, 2), (2, 2)));
}

#[test]
fn vectors_report_lengths() {
    let a = Matrix::<f64>::zeros(3, 4);
    let mut y = vec![0.0; 3];
    let e = matvec(1.0, a.as_ref(), &[1.0; 5], 0.0, &mut y).unwrap_err();
    assert_eq!(e, LinalgError::len_mismatch("matvec", "x", 4, 5));
    let mut y = vec![0.0; 2];
    let e = matvec(1.0, a.as_ref(), &[1.0; 4], 0.0, &mut y).unwrap_err();
    assert_eq!(e, LinalgError::len_mismatch("matvec", "y", 3, 2));
    assert_eq!(
        e.to_string(),
        "dimension mismatch in matvec: y is length 2, expected length 3"
    );
    let i = Matrix::<f64>::identity(3);
    let e = cg(&i, &[1.0; 2], None, &CgOptions::default()).unwrap_err();
    assert_eq!(e, LinalgError::len_mismatch("cg", "b", 3, 2));
    let e = cg(&i, &[1.0; 3], Some(&[0.0; 4]), &CgOptions::default()).unwrap_err();
    assert_eq!(e, LinalgError::len_mismatch("cg", "x0", 3, 4));
    let e = tridiagonal_eigen(&[1.0, 2.0, 3.0], &[0.5], false).unwrap_err();
    assert_eq!(
        e,
        LinalgError::len_mismatch("tridiagonal_eigen", "off", 2, 1)
    );
}

#[test]
fn solves_report_the_right_hand_side() {
    let a = Matrix::<f64>::identity(4);
    let chol = Cholesky::factor(a.as_ref()).unwrap();
    let b = Matrix::<f64>::zeros(3, 2);
    let e = chol.solve(b.as_ref()).unwrap_err();
    assert_eq!(
        e,
        LinalgError::shape_mismatch("Cholesky::solve", "B", (4, 2), (3, 2))
    );
    let mut b = Matrix::<f64>::zeros(5, 7);
    let e = solve_lower_in_place(a.as_ref(), b.as_mut()).unwrap_err();
    assert_eq!(
        e,
        LinalgError::shape_mismatch("solve_lower_in_place", "B", (4, 7), (5, 7))
    );
}

#[test]
fn buffers_and_strides() {
    let e = Matrix::from_vec(2, 3, vec![0.0f64; 5]).unwrap_err();
    assert_eq!(
        e,
        LinalgError::len_mismatch("Matrix::from_vec", "data", 6, 5)
    );
    let data = [0.0f64; 10];
    let e = MatRef::from_slice(&data, 3, 4, 4).unwrap_err();
    assert_eq!(
        e,
        LinalgError::DimensionMismatch {
            op: "MatRef::from_slice",
            operand: "data",
            expected: Dims::MinLen(12),
            got: Dims::Len(10),
        }
    );
    assert_eq!(
        e.to_string(),
        "dimension mismatch in MatRef::from_slice: data is length 10, expected length ≥ 12"
    );
    let mut data = [0.0f64; 10];
    let e = MatMut::from_slice(&mut data, 2, 4, 3).unwrap_err();
    assert!(matches!(
        e,
        LinalgError::InvalidArgument { op: "MatMut::from_slice", arg: "row_stride", value: Some(v), .. }
            if v == 3.0
    ));
}

#[test]
fn invalid_arguments_name_the_parameter() {
    let i = Matrix::<f64>::identity(3);
    let opts = CgOptions {
        rtol: -1.0,
        ..Default::default()
    };
    let e = cg(&i, &[1.0; 3], None, &opts).unwrap_err();
    assert_eq!(
        e,
        LinalgError::InvalidArgument {
            op: "cg",
            arg: "rtol",
            value: Some(-1.0),
            reason: "must be positive and finite",
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid argument to cg: rtol = -1.0: must be positive and finite"
    );

    struct NoDiagonal;
    impl linalg::LinearOperator<f64> for NoDiagonal {
        fn dim(&self) -> usize {
            2
        }
        fn apply(&self, x: &[f64], y: &mut [f64]) {
            y.copy_from_slice(x);
        }
    }
    let jacobi = CgOptions {
        preconditioner: Preconditioner::Jacobi,
        ..Default::default()
    };
    let e = cg(&NoDiagonal, &[1.0; 2], None, &jacobi).unwrap_err();
    assert!(matches!(
        e,
        LinalgError::InvalidArgument {
            op: "cg",
            arg: "preconditioner",
            value: None,
            ..
        }
    ));

    let e = lanczos_extremes(&i, 0, 1e-8, 1).unwrap_err();
    assert!(matches!(
        e,
        LinalgError::InvalidArgument {
            op: "lanczos_extremes",
            arg: "max_iter",
            ..
        }
    ));
    let e = lanczos_extremes(&i, 10, f64::NAN, 1).unwrap_err();
    assert!(matches!(
        e,
        LinalgError::InvalidArgument { op: "lanczos_extremes", arg: "tol", value: Some(v), .. }
            if v.is_nan()
    ));
    let empty = Matrix::<f64>::zeros(0, 0);
    let e = lanczos_extremes(&empty, 10, 1e-8, 1).unwrap_err();
    assert!(matches!(
        e,
        LinalgError::InvalidArgument {
            op: "lanczos_extremes",
            arg: "op",
            ..
        }
    ));
}
