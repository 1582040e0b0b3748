//! Matrix products: C = A B, and the batched Cᵦ = Aᵦ Bᵦ.
//!
//! | rule    | formula                    | as GEMMs over a block of k directions            |
//! |---------|----------------------------|--------------------------------------------------|
//! | forward | C = A B                    | one GEMM                                         |
//! | JVP     | Ċ = Ȧ B + A Ḃ              | [k·m, p]·B in one GEMM; A·Ḃᵣ per direction       |
//! | VJP     | Ā = C̄ Bᵀ,  B̄ = Aᵀ C̄        | [k·m, n]·Bᵀ in one GEMM; Aᵀ·C̄ᵣ per direction      |
//!
//! Stacking the k directions of Ȧ (or C̄) on top of each other turns k matrix products with
//! the same right factor into one tall GEMM, which is where batching pays. For the products
//! with a fixed *left* factor (A Ḃᵣ, Aᵀ C̄ᵣ) the k directions are laid side by side,
//! [p, k·n], so those too are one wide GEMM (the two copies cost O(k(pn + mn)) against the
//! GEMM's O(kmpn)).

use super::operands::two_operand_primitive;
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use linalg::{gemm, MatMut, MatRef, Real};

/// C = A B for A: [m, p], B: [p, n].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatMul;

/// Cᵦ = Aᵦ Bᵦ for A: [b, m, p], B: [b, p, n].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchMatMul;

two_operand_primitive!(
    MatMul => matmul_forward, matmul_jvp, matmul_vjp;
    BatchMatMul => batch_matmul_forward, batch_matmul_jvp, batch_matmul_vjp;
);

fn view<T: Real>(data: &[T], r: usize, c: usize) -> Result<MatRef<'_, T>> {
    Ok(MatRef::from_slice(data, r, c, c)?)
}

fn view_mut<T: Real>(data: &mut [T], r: usize, c: usize) -> Result<MatMut<'_, T>> {
    Ok(MatMut::from_slice(data, r, c, c)?)
}

fn dims(a: &Tensor<impl Real>, b: &Tensor<impl Real>) -> Result<(usize, usize, usize)> {
    match (a.shape(), b.shape()) {
        ([m, p], [q, n]) if p == q => Ok((*m, *p, *n)),
        (sa, sb) => Err(AdError::Shape {
            what: format!("matmul of {sa:?} and {sb:?} (need [m, p] and [p, n])"),
        }),
    }
}

fn batch_dims(
    a: &Tensor<impl Real>,
    b: &Tensor<impl Real>,
) -> Result<(usize, usize, usize, usize)> {
    match (a.shape(), b.shape()) {
        ([ba, m, p], [bb, q, n]) if p == q && ba == bb => Ok((*ba, *m, *p, *n)),
        (sa, sb) => Err(AdError::Shape {
            what: format!("batch matmul of {sa:?} and {sb:?} (need [b, m, p] and [b, p, n])"),
        }),
    }
}

/// C ← α·A·B + β·C on row-major buffers: A m×p, B p×n, C m×n, with optional transposes
/// (`ta`: A is stored as p×m and used transposed, likewise `tb`).
#[allow(clippy::too_many_arguments)]
fn gemm_slices<T: Real>(
    alpha: T,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    beta: T,
    c: &mut [T],
    (m, p, n): (usize, usize, usize),
) -> Result<()> {
    let av = if ta {
        view(a, p, m)?.t()
    } else {
        view(a, m, p)?
    };
    let bv = if tb {
        view(b, n, p)?.t()
    } else {
        view(b, p, n)?
    };
    gemm(alpha, av, bv, beta, view_mut(c, m, n)?)?;
    Ok(())
}

/// [k, r, c] → [r, k·c]: direction t of the block becomes columns t·c..(t+1)·c.
fn side_by_side<T: Real>(block: &[T], k: usize, r: usize, c: usize) -> Vec<T> {
    let mut out = vec![T::zero(); k * r * c];
    for t in 0..k {
        for i in 0..r {
            out[i * k * c + t * c..i * k * c + (t + 1) * c]
                .copy_from_slice(&block[(t * r + i) * c..(t * r + i + 1) * c]);
        }
    }
    out
}

/// [r, k·c] → [k, r, c], the inverse of [`side_by_side`], added into `out`.
fn add_from_side_by_side<T: Real>(side: &[T], k: usize, r: usize, c: usize, out: &mut [T]) {
    for t in 0..k {
        for i in 0..r {
            let src = &side[i * k * c + t * c..i * k * c + (t + 1) * c];
            for (o, &v) in out[(t * r + i) * c..(t * r + i + 1) * c]
                .iter_mut()
                .zip(src)
            {
                *o += v;
            }
        }
    }
}

/// Forward rule: C = A B.
fn matmul_forward<T: Real>(a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<T>> {
    let (m, p, n) = dims(a, b)?;
    let mut c = vec![T::zero(); m * n];
    gemm_slices(
        T::one(),
        a.data(),
        false,
        b.data(),
        false,
        T::zero(),
        &mut c,
        (m, p, n),
    )?;
    Ok(Tensor::from_parts(vec![m, n], c))
}

/// JVP rule: Ċ = Ȧ B + A Ḃ for k directions.
fn matmul_jvp<T: Real>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    da: Option<&Tensor<T>>,
    db: Option<&Tensor<T>>,
    k: usize,
) -> Result<Tensor<T>> {
    let (m, p, n) = dims(a, b)?;
    let mut out = vec![T::zero(); k * m * n];
    if let Some(da) = da {
        // All k directions stacked: [k·m, p] · [p, n].
        gemm_slices(
            T::one(),
            da.data(),
            false,
            b.data(),
            false,
            T::zero(),
            &mut out,
            (k * m, p, n),
        )?;
    }
    if let Some(db) = db {
        // A · [Ḃ₁ … Ḃ_k] in one GEMM: [m, p] · [p, k·n].
        let wide = side_by_side(db.data(), k, p, n);
        let mut prod = vec![T::zero(); m * k * n];
        gemm_slices(
            T::one(),
            a.data(),
            false,
            &wide,
            false,
            T::zero(),
            &mut prod,
            (m, p, k * n),
        )?;
        add_from_side_by_side(&prod, k, m, n, &mut out);
    }
    Ok(Tensor::from_parts(vec![k, m, n], out))
}

/// VJP rule: Ā = C̄ Bᵀ, B̄ = Aᵀ C̄ for k cotangents.
fn matmul_vjp<T: Real>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    dc: &Tensor<T>,
    needs: &[bool],
    k: usize,
) -> Result<Vec<Option<Tensor<T>>>> {
    let (m, p, n) = dims(a, b)?;
    let ga = if needs[0] {
        let mut g = vec![T::zero(); k * m * p];
        // [k·m, n] · Bᵀ in one GEMM.
        gemm_slices(
            T::one(),
            dc.data(),
            false,
            b.data(),
            true,
            T::zero(),
            &mut g,
            (k * m, n, p),
        )?;
        Some(Tensor::from_parts(vec![k, m, p], g))
    } else {
        None
    };
    let gb = if needs[1] {
        // Aᵀ · [C̄₁ … C̄_k] in one GEMM: [p, m] · [m, k·n].
        let wide = side_by_side(dc.data(), k, m, n);
        let mut prod = vec![T::zero(); p * k * n];
        gemm_slices(
            T::one(),
            a.data(),
            true,
            &wide,
            false,
            T::zero(),
            &mut prod,
            (p, m, k * n),
        )?;
        let mut g = vec![T::zero(); k * p * n];
        add_from_side_by_side(&prod, k, p, n, &mut g);
        Some(Tensor::from_parts(vec![k, p, n], g))
    } else {
        None
    };
    Ok(vec![ga, gb])
}

/// Forward rule: Cᵦ = Aᵦ Bᵦ for each batch entry β.
fn batch_matmul_forward<T: Real>(a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<T>> {
    let (nb, m, p, n) = batch_dims(a, b)?;
    let mut c = vec![T::zero(); nb * m * n];
    for s in 0..nb {
        gemm_slices(
            T::one(),
            &a.data()[s * m * p..(s + 1) * m * p],
            false,
            &b.data()[s * p * n..(s + 1) * p * n],
            false,
            T::zero(),
            &mut c[s * m * n..(s + 1) * m * n],
            (m, p, n),
        )?;
    }
    Ok(Tensor::from_parts(vec![nb, m, n], c))
}

/// JVP rule: Ċᵦ = Ȧᵦ Bᵦ + Aᵦ Ḃᵦ for k directions.
fn batch_matmul_jvp<T: Real>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    da: Option<&Tensor<T>>,
    db: Option<&Tensor<T>>,
    k: usize,
) -> Result<Tensor<T>> {
    let (nb, m, p, n) = batch_dims(a, b)?;
    let (sa, sb, sc) = (m * p, p * n, m * n);
    let mut out = vec![T::zero(); k * nb * sc];
    for r in 0..k {
        for s in 0..nb {
            let c = &mut out[(r * nb + s) * sc..(r * nb + s + 1) * sc];
            if let Some(da) = da {
                let d = &da.data()[(r * nb + s) * sa..(r * nb + s + 1) * sa];
                gemm_slices(
                    T::one(),
                    d,
                    false,
                    &b.data()[s * sb..(s + 1) * sb],
                    false,
                    T::one(),
                    c,
                    (m, p, n),
                )?;
            }
            if let Some(db) = db {
                let d = &db.data()[(r * nb + s) * sb..(r * nb + s + 1) * sb];
                gemm_slices(
                    T::one(),
                    &a.data()[s * sa..(s + 1) * sa],
                    false,
                    d,
                    false,
                    T::one(),
                    c,
                    (m, p, n),
                )?;
            }
        }
    }
    Ok(Tensor::from_parts(vec![k, nb, m, n], out))
}

/// VJP rule: Āᵦ = C̄ᵦ Bᵦᵀ, B̄ᵦ = Aᵦᵀ C̄ᵦ for k cotangents.
fn batch_matmul_vjp<T: Real>(
    a: &Tensor<T>,
    b: &Tensor<T>,
    dc: &Tensor<T>,
    needs: &[bool],
    k: usize,
) -> Result<Vec<Option<Tensor<T>>>> {
    let (nb, m, p, n) = batch_dims(a, b)?;
    let (sa, sb, sc) = (m * p, p * n, m * n);
    let mut ga = needs[0].then(|| vec![T::zero(); k * nb * sa]);
    let mut gb = needs[1].then(|| vec![T::zero(); k * nb * sb]);
    for r in 0..k {
        for s in 0..nb {
            let c = &dc.data()[(r * nb + s) * sc..(r * nb + s + 1) * sc];
            if let Some(g) = ga.as_mut() {
                let o = &mut g[(r * nb + s) * sa..(r * nb + s + 1) * sa];
                gemm_slices(
                    T::one(),
                    c,
                    false,
                    &b.data()[s * sb..(s + 1) * sb],
                    true,
                    T::zero(),
                    o,
                    (m, n, p),
                )?;
            }
            if let Some(g) = gb.as_mut() {
                let o = &mut g[(r * nb + s) * sb..(r * nb + s + 1) * sb];
                gemm_slices(
                    T::one(),
                    &a.data()[s * sa..(s + 1) * sa],
                    true,
                    c,
                    false,
                    T::zero(),
                    o,
                    (p, m, n),
                )?;
            }
        }
    }
    Ok(vec![
        ga.map(|g| Tensor::from_parts(vec![k, nb, m, p], g)),
        gb.map(|g| Tensor::from_parts(vec![k, nb, p, n], g)),
    ])
}
