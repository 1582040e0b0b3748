//! The kernels of `probe` at one point θ, and the ridge solves and alignments made with them.
//!
//! Every kernel is output-traced, n×n over samples (neural-tangents' default `trace_axes`): one
//! kernel serves all o outputs, so the conjugate kernel, the layer kernels and the NTK are
//! compared on the same footing. With K the kernel on the training inputs, K* its cross
//! kernel test × train and f the network at θ,
//!
//! * Newton (tangent step at θ): f(X*) + K*(K + λI)⁻¹(Y − f(X));
//! * from zero (the kernel alone, Long 2021 "after kernel"): K*(K + λI)⁻¹Y;
//! * alignment A(K, YYᵀ) = ⟨K, YYᵀ⟩_F / (‖K‖_F ‖YYᵀ‖_F) (Cristianini et al. 2001), with Y the
//!   centred one-hot training targets, and the centred alignment A(HKH, HYYᵀH), H = I − 11ᵀ/n
//!   (Cortes et al., JMLR 2012), which the kernel's constant mode (large for ReLU features,
//!   all of whose entries are positive) does not dilute.
//!
//! λ = ρ·λ_max(K) for each kernel: ρ = 1/(c·T) makes each solve the ridge that T steps of GD
//! in that kernel's own space approximate (`tickets::newton::matched_lambda`).

use crate::tangent::kernel_ridge::{self, RidgeSolver};
use crate::tickets::newton::largest_eigenvalue;
use anyhow::{anyhow, Result};
use autodiff::mlp::{ntk_per_layer, Mlp, NtkForm};
use linalg::{gemm, MatRef, Matrix};
use serde::Serialize;

/// Which kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelKind {
    /// s²·ΦΦᵀ, Φ the last hidden layer's activations: a readout of the existing units.
    Conjugate,
    /// K_l, the tangent kernel of layer l's weights and bias alone (0-based).
    Layer(usize),
    /// Σ_l K_l, the whole empirical NTK.
    Ntk,
}

impl KernelKind {
    /// The name used in tables (layers counted from 1).
    pub fn name(self) -> String {
        match self {
            KernelKind::Conjugate => "CK (last hidden layer)".into(),
            KernelKind::Layer(l) => format!("K_{} (layer {} alone)", l + 1, l + 1),
            KernelKind::Ntk => "NTK (all layers)".into(),
        }
    }
}

/// One kernel on the training inputs and its test × train cross kernel.
pub struct Kernel {
    /// Which kernel.
    pub kind: KernelKind,
    /// n×n.
    pub train: Matrix<f64>,
    /// m×n.
    pub cross: Matrix<f64>,
}

/// The last hidden layer's activations φ(z) at θ, samples × units (the readout's input).
pub fn last_hidden(net: &Mlp, theta: &[f64], x: MatRef<'_, f64>) -> Result<Matrix<f64>> {
    crate::probe::detectors::hidden_activations(net, theta, x)?
        .pop()
        .ok_or_else(|| anyhow!("the network has no hidden layer"))
}

/// s²·A Bᵀ for two feature matrices.
fn gram(a: &Matrix<f64>, b: &Matrix<f64>, s2: f64) -> Result<Matrix<f64>> {
    let mut k = Matrix::zeros(a.rows(), b.rows());
    gemm(s2, a.as_ref(), b.as_ref().t(), 0.0, k.as_mut())?;
    Ok(k)
}

/// The conjugate kernel, every layer's kernel and their sum, at θ.
pub fn kernels_at(
    net: &Mlp,
    theta: &[f64],
    x: MatRef<'_, f64>,
    x_test: MatRef<'_, f64>,
) -> Result<Vec<Kernel>> {
    let err = |e: autodiff::AdError| anyhow!("{e}");
    let train = ntk_per_layer(net, theta, x, None, NtkForm::Traced).map_err(err)?;
    let cross = ntk_per_layer(net, theta, x_test, Some(x), NtkForm::Traced).map_err(err)?;
    let sum = |ks: &[Matrix<f64>]| {
        let mut s = ks[0].clone();
        for k in &ks[1..] {
            s.as_mut_slice()
                .iter_mut()
                .zip(k.as_slice())
                .for_each(|(a, b)| *a += b);
        }
        s
    };
    let s = net.layers().last().map_or(1.0, |l| l.w_scale);
    let (phi, phi_test) = (
        last_hidden(net, theta, x)?,
        last_hidden(net, theta, x_test)?,
    );
    let mut out = vec![Kernel {
        kind: KernelKind::Conjugate,
        train: gram(&phi, &phi, s * s)?,
        cross: gram(&phi_test, &phi, s * s)?,
    }];
    let ntk = Kernel {
        kind: KernelKind::Ntk,
        train: sum(&train),
        cross: sum(&cross),
    };
    out.extend(
        train
            .into_iter()
            .zip(cross)
            .enumerate()
            .map(|(l, (train, cross))| Kernel {
                kind: KernelKind::Layer(l),
                train,
                cross,
            }),
    );
    out.push(ntk);
    Ok(out)
}

/// The two predictions of one kernel on the test inputs.
pub struct Solve {
    /// f(X*) + K*(K + λI)⁻¹(Y − f(X)).
    pub newton: Matrix<f64>,
    /// K*(K + λI)⁻¹Y.
    pub from_zero: Matrix<f64>,
    /// λ used.
    pub lambda: f64,
    /// How the system was solved.
    pub solver: RidgeSolver,
}

/// Both ridge solves of `k` with λ = `ridge`·λ_max(K); `f` and `f_test` are the network's
/// outputs at θ on the training and test inputs.
pub fn solve(
    k: &Kernel,
    y: &Matrix<f64>,
    f: &Matrix<f64>,
    f_test: &Matrix<f64>,
    ridge: f64,
) -> Result<Solve> {
    let (n, o) = (y.rows(), y.cols());
    let lambda = ridge * largest_eigenvalue(&k.train)?;
    let rhs = Matrix::from_fn(n, 2 * o, |i, c| {
        if c < o {
            y.get(i, c) - f.get(i, c)
        } else {
            y.get(i, c - o)
        }
    });
    let (alpha, solver) = kernel_ridge::solve(&k.train, lambda, &rhs, &mut None)?;
    let mut pred = Matrix::zeros(k.cross.rows(), 2 * o);
    gemm(1.0, k.cross.as_ref(), alpha.as_ref(), 0.0, pred.as_mut())?;
    let m = pred.rows();
    Ok(Solve {
        newton: Matrix::from_fn(m, o, |i, c| f_test.get(i, c) + pred.get(i, c)),
        from_zero: Matrix::from_fn(m, o, |i, c| pred.get(i, c + o)),
        lambda,
        solver,
    })
}

/// A(K, YYᵀ) = ⟨K, YYᵀ⟩_F / (‖K‖_F ‖YYᵀ‖_F), using ⟨K, YYᵀ⟩ = tr(YᵀKY) and
/// ‖YYᵀ‖_F = ‖YᵀY‖_F so that no n×n matrix besides K is formed.
pub fn alignment(k: &Matrix<f64>, y: &Matrix<f64>) -> Result<f64> {
    let mut ky = Matrix::zeros(k.rows(), y.cols());
    gemm(1.0, k.as_ref(), y.as_ref(), 0.0, ky.as_mut())?;
    let inner = linalg::vec::dot(ky.as_slice(), y.as_slice());
    let mut yty = Matrix::zeros(y.cols(), y.cols());
    gemm(1.0, y.as_ref().t(), y.as_ref(), 0.0, yty.as_mut())?;
    let norms = linalg::vec::nrm2(k.as_slice()) * linalg::vec::nrm2(yty.as_slice());
    Ok(if norms > 0.0 { inner / norms } else { 0.0 })
}

/// The centred alignment A(HKH, HYYᵀH), H = I − 11ᵀ/n: (HKH)[i, j] = K[i, j] − r_i − r_j + m
/// with r the row means and m the grand mean of K, and HY the column-centred targets.
pub fn centred_alignment(k: &Matrix<f64>, y: &Matrix<f64>) -> Result<f64> {
    let n = k.rows();
    let r: Vec<f64> = (0..n)
        .map(|i| k.row(i).iter().sum::<f64>() / n as f64)
        .collect();
    let m = r.iter().sum::<f64>() / n.max(1) as f64;
    let kc = Matrix::from_fn(n, n, |i, j| k.get(i, j) - r[i] - r[j] + m);
    let col_mean: Vec<f64> = (0..y.cols())
        .map(|c| (0..n).map(|i| y.get(i, c)).sum::<f64>() / n.max(1) as f64)
        .collect();
    let yc = Matrix::from_fn(n, y.cols(), |i, c| y.get(i, c) - col_mean[c]);
    alignment(&kc, &yc)
}
