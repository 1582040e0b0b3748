//! Newton's method in function space for a convex pointwise loss on the linearised model.
//!
//! The linearised model f_lin = f₀ + Jδ with δ = Jᵀα (the representer form: the minimiser of a
//! ridge-regularised loss of Jδ lies in the row space of J) gives, on the training inputs,
//! u = Kα with K = JJᵀ the full (n·o)×(n·o) NTK and logits z = f₀ + u. The objective is
//!
//!   F(α) = (1/n)·[Σᵢ ℓ(zᵢ, yᵢ) + (λ/2)·αᵀKα]   (= (1/n)Σℓ + (λ/2n)‖δ‖²),
//!
//! convex in α. Its parameter-space gradient is ∇_δ F = (1/n)·Jᵀ(g + λα), g = ∂ℓ/∂z, so
//! ‖∇_δ F‖² = (g + λα)ᵀK(g + λα)/n², computable from K alone.
//!
//! **The Newton system.** With W = blockdiag(Wᵢ) the per-sample Hessians ∂²ℓ/∂zᵢ² (o×o,
//! PSD) and S = W^{1/2} blockwise, the Newton step on u (minimising Σℓ(f₀ + u) + (λ/2)uᵀK⁻¹u)
//! is u⁺ = (W + λK⁻¹)⁻¹(Wu − g). By the Woodbury identity, with b = Wu − g,
//!
//!   α⁺ = (b − S·B⁻¹·S·K·b)/λ,   B = λI + S K S,
//!
//! (Rasmussen & Williams 2006, §3.4, Algorithm 3.1, in its ridge form). B is symmetric and
//! positive definite for every λ > 0 — S K S is PSD because K is — and its eigenvalues lie in
//! [λ, λ + ‖W‖‖K‖], so its Cholesky factorisation exists even where W is singular (softmax
//! Hessians diag(p) − ppᵀ always are: 1 is in their null space). The step d = α⁺ − α is
//! damped by backtracking until F(α + t·d) ≤ F(α) + c·t·⟨∇_α F, d⟩ (Armijo, c = 1e-4).
//!
//! For squared error ℓ = ½‖z − y‖², W = I and one full step solves (K + λI)α = Y − f₀: the
//! one-step kernel regression, through the same code.

use anyhow::{bail, Result};
use linalg::{gemm, symmetric_eigen, Cholesky, Matrix};
use serde::Serialize;

/// A loss of one sample's outputs z ∈ Rᵒ, convex in z.
pub trait PointwiseLoss {
    /// ℓ(z, y_i), its gradient (written to `g`) and Hessian (o×o row-major, to `h`).
    fn eval(&self, i: usize, z: &[f64], g: &mut [f64], h: &mut [f64]) -> f64;
}

/// Softmax cross-entropy ℓ = −log softmax(z)_y: g = p − e_y, H = diag(p) − ppᵀ.
pub struct CrossEntropy<'a> {
    /// Class of every training sample.
    pub labels: &'a [usize],
}

impl PointwiseLoss for CrossEntropy<'_> {
    fn eval(&self, i: usize, z: &[f64], g: &mut [f64], h: &mut [f64]) -> f64 {
        let o = z.len();
        let y = self.labels[i];
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
        for a in 0..o {
            let pa = (z[a] - m).exp() / sum;
            g[a] = pa - if a == y { 1.0 } else { 0.0 };
        }
        for a in 0..o {
            let pa = g[a] + if a == y { 1.0 } else { 0.0 };
            for b in 0..o {
                let pb = g[b] + if b == y { 1.0 } else { 0.0 };
                h[a * o + b] = if a == b { pa - pa * pb } else { -pa * pb };
            }
        }
        (m - z[y]) + sum.ln()
    }
}

/// Squared error ℓ = ½‖z − y‖²: g = z − y, H = I.
pub struct SquaredError<'a> {
    /// Targets, n×o.
    pub targets: &'a Matrix<f64>,
}

impl PointwiseLoss for SquaredError<'_> {
    fn eval(&self, i: usize, z: &[f64], g: &mut [f64], h: &mut [f64]) -> f64 {
        let o = z.len();
        let y = self.targets.row(i);
        h.iter_mut().for_each(|v| *v = 0.0);
        let mut l = 0.0;
        for a in 0..o {
            g[a] = z[a] - y[a];
            l += 0.5 * g[a] * g[a];
            h[a * o + a] = 1.0;
        }
        l
    }
}

/// Stopping rule and safeguards.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct NewtonOptions {
    /// Stop when ‖∇_δ F‖ ≤ tol.
    pub tol: f64,
    /// Most Newton iterations.
    pub max_iter: usize,
    /// Most halvings of one step.
    pub max_backtracks: usize,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        NewtonOptions {
            tol: 1e-10,
            max_iter: 100,
            max_backtracks: 40,
        }
    }
}

/// One Newton iteration.
#[derive(Clone, Debug, Serialize)]
pub struct Iterate {
    /// F(α) after the step.
    pub objective: f64,
    /// ‖∇_δ F‖ after the step.
    pub grad_norm: f64,
    /// The accepted step length t.
    pub step: f64,
}

/// How the iteration ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// ‖∇_δ F‖ reached the tolerance.
    Converged,
    /// The iteration cap was reached first.
    MaxIterations,
    /// No step length gave sufficient decrease (rounding dominates the decrease).
    LineSearchFailed,
}

/// The result of [`newton`].
#[derive(Clone, Debug)]
pub struct NewtonSolve {
    /// α, n×o (row i, column a).
    pub alpha: Matrix<f64>,
    /// z = f₀ + Kα on the training inputs, n×o.
    pub outputs: Matrix<f64>,
    /// One entry per iteration.
    pub history: Vec<Iterate>,
    /// How it ended.
    pub verdict: Verdict,
}

/// The objective, g + λα and W (blocks) at α.
struct State {
    objective: f64,
    outputs: Matrix<f64>,
    resid: Vec<f64>,
    hess: Vec<f64>,
}

/// Σᵢ ℓ(zᵢ, yᵢ), the gradients g (n·o) and the Hessian blocks Wᵢ (n·o·o) at outputs z.
pub(crate) fn evaluate(
    loss: &dyn PointwiseLoss,
    z: &Matrix<f64>,
) -> Result<(f64, Vec<f64>, Vec<f64>)> {
    let (n, o) = (z.rows(), z.cols());
    let mut g = vec![0.0; n * o];
    let mut hess = vec![0.0; n * o * o];
    let mut total = 0.0;
    for i in 0..n {
        let zi = z.row(i);
        if zi.iter().any(|v| !v.is_finite()) {
            bail!("the linearised outputs of sample {i} are not finite");
        }
        total += loss.eval(
            i,
            zi,
            &mut g[i * o..(i + 1) * o],
            &mut hess[i * o * o..(i + 1) * o * o],
        );
    }
    Ok((total, g, hess))
}

fn state(
    k: &Matrix<f64>,
    f0: &Matrix<f64>,
    loss: &dyn PointwiseLoss,
    lambda: f64,
    alpha: &[f64],
) -> Result<State> {
    let (n, o) = (f0.rows(), f0.cols());
    let ka = matvec(k, alpha)?;
    let outputs = Matrix::from_fn(n, o, |i, a| f0.get(i, a) + ka[i * o + a]);
    let (total, mut resid, hess) = evaluate(loss, &outputs)?;
    let quad = 0.5 * lambda * linalg::vec::dot(alpha, &ka);
    for (r, &a) in resid.iter_mut().zip(alpha) {
        *r += lambda * a;
    }
    Ok(State {
        objective: (total + quad) / n as f64,
        outputs,
        resid,
        hess,
    })
}

fn matvec(k: &Matrix<f64>, v: &[f64]) -> Result<Vec<f64>> {
    let mut out = Matrix::zeros(k.rows(), 1);
    let vm = Matrix::from_vec(v.len(), 1, v.to_vec())?;
    gemm(1.0, k.as_ref(), vm.as_ref(), 0.0, out.as_mut())?;
    Ok(out.as_slice().to_vec())
}

/// ‖∇_δ F‖ = √((g + λα)ᵀK(g + λα))/n.
fn grad_norm(k: &Matrix<f64>, resid: &[f64], n: usize) -> Result<f64> {
    let kr = matvec(k, resid)?;
    Ok(linalg::vec::dot(resid, &kr).max(0.0).sqrt() / n as f64)
}

/// S = W^{1/2} per o×o block, by its eigendecomposition (eigenvalues below 0 by rounding are
/// treated as 0).
fn sqrt_blocks(hess: &[f64], o: usize) -> Result<Vec<f64>> {
    let mut out = vec![0.0; hess.len()];
    for (h, s) in hess.chunks_exact(o * o).zip(out.chunks_exact_mut(o * o)) {
        let e = symmetric_eigen(Matrix::from_vec(o, o, h.to_vec())?.as_ref())?;
        for a in 0..o {
            for b in 0..o {
                s[a * o + b] = (0..o)
                    .map(|q| {
                        e.vectors.get(a, q) * e.values[q].max(0.0).sqrt() * e.vectors.get(b, q)
                    })
                    .sum();
            }
        }
    }
    Ok(out)
}

/// v ↦ S v with S block-diagonal.
pub(crate) fn apply_blocks(s: &[f64], v: &[f64], o: usize) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    for ((blk, x), y) in s
        .chunks_exact(o * o)
        .zip(v.chunks_exact(o))
        .zip(out.chunks_exact_mut(o))
    {
        for a in 0..o {
            y[a] = (0..o).map(|b| blk[a * o + b] * x[b]).sum();
        }
    }
    out
}

/// The Newton target α⁺ = (b − S B⁻¹ S K b)/λ, b = W·Kα − g, B = λI + SKS (module doc).
fn newton_target(
    k: &Matrix<f64>,
    st: &State,
    alpha: &[f64],
    lambda: f64,
    o: usize,
) -> Result<Vec<f64>> {
    let nk = k.rows();
    let s = sqrt_blocks(&st.hess, o)?;
    let u = matvec(k, alpha)?;
    let wu = apply_blocks(&st.hess, &u, o);
    // st.resid = g + λα, so g = resid − λα.
    let b: Vec<f64> = (0..nk)
        .map(|r| wu[r] - (st.resid[r] - lambda * alpha[r]))
        .collect();
    // B = λI + S K S: S applied to the rows, then to the columns of K.
    let mut sk = Matrix::zeros(nk, nk);
    for j in 0..nk {
        let col: Vec<f64> = (0..nk).map(|i| k.get(i, j)).collect();
        for (i, v) in apply_blocks(&s, &col, o).into_iter().enumerate() {
            sk.set(i, j, v);
        }
    }
    let mut bmat = Matrix::zeros(nk, nk);
    for i in 0..nk {
        for (j, v) in apply_blocks(&s, sk.row(i), o).into_iter().enumerate() {
            bmat.set(i, j, v + if i == j { lambda } else { 0.0 });
        }
    }
    let chol = Cholesky::factor(bmat.as_ref())?;
    let skb = apply_blocks(&s, &matvec(k, &b)?, o);
    let w = chol.solve_vec(&skb)?;
    let sw = apply_blocks(&s, &w, o);
    Ok(b.iter()
        .zip(&sw)
        .map(|(bi, si)| (bi - si) / lambda)
        .collect())
}

/// Minimises F(α) for `loss` by damped Newton from α = 0. `k` is the full NTK on the
/// training inputs ((n·o)², rows i·o + a), `f0` the network's outputs there (n×o), λ > 0.
pub fn newton(
    k: &Matrix<f64>,
    f0: &Matrix<f64>,
    loss: &dyn PointwiseLoss,
    lambda: f64,
    opts: NewtonOptions,
) -> Result<NewtonSolve> {
    let (n, o) = (f0.rows(), f0.cols());
    if k.rows() != n * o || k.cols() != n * o {
        bail!(
            "the kernel is {}×{}, expected {}² for {n} samples × {o} outputs",
            k.rows(),
            k.cols(),
            n * o
        );
    }
    if !(lambda.is_finite() && lambda > 0.0) {
        bail!("λ = {lambda} must be positive: at λ = 0 a separable training set has no finite minimiser (see continuation)");
    }
    let mut alpha = vec![0.0; n * o];
    let mut st = state(k, f0, loss, lambda, &alpha)?;
    let mut history = Vec::new();
    let mut verdict = Verdict::MaxIterations;
    for _ in 0..opts.max_iter {
        if grad_norm(k, &st.resid, n)? <= opts.tol {
            verdict = Verdict::Converged;
            break;
        }
        let target = newton_target(k, &st, &alpha, lambda, o)?;
        let d: Vec<f64> = target.iter().zip(&alpha).map(|(t, a)| t - a).collect();
        // ⟨∇_α F, d⟩ = (g + λα)ᵀK d / n.
        let slope = linalg::vec::dot(&st.resid, &matvec(k, &d)?) / n as f64;
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..=opts.max_backtracks {
            let trial: Vec<f64> = alpha.iter().zip(&d).map(|(a, di)| a + t * di).collect();
            let ts = state(k, f0, loss, lambda, &trial)?;
            if ts.objective <= st.objective + 1e-4 * t * slope {
                accepted = Some((trial, ts));
                break;
            }
            t *= 0.5;
        }
        let Some((a, s)) = accepted else {
            verdict = Verdict::LineSearchFailed;
            break;
        };
        alpha = a;
        st = s;
        history.push(Iterate {
            objective: st.objective,
            grad_norm: grad_norm(k, &st.resid, n)?,
            step: t,
        });
    }
    if verdict == Verdict::MaxIterations && grad_norm(k, &st.resid, n)? <= opts.tol {
        verdict = Verdict::Converged;
    }
    Ok(NewtonSolve {
        alpha: Matrix::from_vec(n, o, alpha)?,
        outputs: st.outputs,
        history,
        verdict,
    })
}

/// One ridge of a [`continuation`].
#[derive(Clone, Debug, Serialize)]
pub struct RidgeStep {
    /// λ of this solve.
    pub lambda: f64,
    /// Newton iterations it took.
    pub iterations: usize,
    /// ‖u‖ = ‖Kα‖, the size of the change the tangent model makes to f₀.
    pub norm_u: f64,
    /// The smallest training margin z_y − max_{a≠y} z_a.
    pub min_margin: f64,
}

/// What the ridge path says about λ → 0.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "limit", rename_all = "kebab-case")]
pub enum Limit {
    /// u settled: the unregularised problem has a finite minimiser (relative change of u
    /// over the last decade of λ below 1e-6).
    Finite {
        /// The last λ solved.
        lambda: f64,
    },
    /// Every training margin is positive and ‖u‖ keeps growing by a steady amount per decade
    /// of λ (the ‖u*(λ)‖ ∝ log(1/λ) of separable data): there is no finite minimiser; the
    /// logits run off along a max-margin direction (Soudry et al. 2018; Rosset et al. 2004).
    NoFiniteMinimiser {
        /// The last λ solved.
        lambda: f64,
        /// The smallest margin there.
        min_margin: f64,
    },
    /// Neither within the decades allowed.
    Undecided {
        /// The last λ solved.
        lambda: f64,
    },
}

/// The ridge path of a [`continuation`] and its verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Continuation {
    /// One entry per λ.
    pub steps: Vec<RidgeStep>,
    /// The verdict on λ → 0.
    pub limit: Limit,
}

/// Every sample's margin z_y − max_{a≠y} z_a (positive: classified right).
pub fn margins(z: &Matrix<f64>, labels: &[usize]) -> Vec<f64> {
    (0..z.rows())
        .map(|i| {
            let row = z.row(i);
            let y = labels[i];
            let other = (0..row.len())
                .filter(|&a| a != y)
                .map(|a| row[a])
                .fold(f64::NEG_INFINITY, f64::max);
            row[y] - other
        })
        .collect()
}

fn min_margin(z: &Matrix<f64>, labels: &[usize]) -> f64 {
    margins(z, labels).into_iter().fold(f64::INFINITY, f64::min)
}

/// Cross-entropy solved at λ₀, λ₀/10, … for up to `decades` decades, stopping as soon as
/// the path shows a finite limit or none ([`Limit`]): how to answer "λ = 0" without
/// iterating forever on separable data.
pub fn continuation(
    k: &Matrix<f64>,
    f0: &Matrix<f64>,
    labels: &[usize],
    lambda0: f64,
    decades: usize,
    opts: NewtonOptions,
) -> Result<Continuation> {
    let loss = CrossEntropy { labels };
    let mut steps: Vec<RidgeStep> = Vec::new();
    let mut last_u: Option<Vec<f64>> = None;
    let mut lambda = lambda0;
    for _ in 0..decades {
        let sol = newton(k, f0, &loss, lambda, opts)?;
        let u: Vec<f64> = sol
            .outputs
            .as_slice()
            .iter()
            .zip(f0.as_slice())
            .map(|(z, f)| z - f)
            .collect();
        let norm_u = linalg::vec::nrm2(&u);
        steps.push(RidgeStep {
            lambda,
            iterations: sol.history.len(),
            norm_u,
            min_margin: min_margin(&sol.outputs, labels),
        });
        if let Some(prev) = &last_u {
            if linalg::vec::rel_diff(prev, &u) <= 1e-6 {
                return Ok(Continuation {
                    steps,
                    limit: Limit::Finite { lambda },
                });
            }
        }
        if let [.., a, b, c, d] = steps.as_slice() {
            let separated = [b, c, d].iter().all(|s| s.min_margin > 0.0);
            let (g1, g2, g3) = (
                b.norm_u - a.norm_u,
                c.norm_u - b.norm_u,
                d.norm_u - c.norm_u,
            );
            if separated && g1 > 0.0 && g2 >= 0.5 * g1 && g3 >= 0.5 * g2 {
                return Ok(Continuation {
                    limit: Limit::NoFiniteMinimiser {
                        lambda,
                        min_margin: d.min_margin,
                    },
                    steps,
                });
            }
        }
        last_u = Some(u);
        lambda /= 10.0;
    }
    Ok(Continuation {
        limit: Limit::Undecided {
            lambda: lambda * 10.0,
        },
        steps,
    })
}
