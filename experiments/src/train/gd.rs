//! Gradient descent, as [`Iterative`] methods for [`super::run`].
//!
//! * [`NetworkGd`]: θ ← θ − η∇L(θ) on the real network with L = 1/(2n)‖f(X; θ) − Y‖²_F.
//! * [`QuadraticGd`]: x ← x − η(Hx − c), the gradient step of ½xᵀHx − cᵀx (least squares
//!   with H = AᵀA + λI and c = Aᵀb); along the eigenvector vᵢ of H the error shrinks by
//!   (1 − ηλᵢ) per step, which `tangent::ClosedFormGd` and `newton-vs-gd` compare against.

use super::Iterative;
use anyhow::Result;
use autodiff::mlp::Mlp;
use linalg::{MatRef, Matrix, Real};

/// Full-batch GD on the network's squared error.
pub struct NetworkGd<'a, T: Real> {
    mlp: &'a Mlp,
    x: MatRef<'a, T>,
    y: MatRef<'a, T>,
    lr: T,
    /// The current parameters θ_t.
    pub theta: Vec<T>,
    grad: Option<Vec<T>>,
}

impl<'a, T: Real> NetworkGd<'a, T> {
    /// GD from `theta0` with step `lr` on inputs `x` and targets `y`.
    pub fn new(mlp: &'a Mlp, theta0: Vec<T>, x: MatRef<'a, T>, y: MatRef<'a, T>, lr: f64) -> Self {
        NetworkGd {
            mlp,
            x,
            y,
            lr: T::from_f64(lr),
            theta: theta0,
            grad: None,
        }
    }
}

impl<T: Real> Iterative for NetworkGd<'_, T> {
    fn objective(&mut self) -> Result<f64> {
        let (loss, grad) = self.mlp.mse_value_and_grad(&self.theta, self.x, self.y)?;
        self.grad = Some(grad);
        Ok(loss.to_f64())
    }

    fn step(&mut self) -> Result<()> {
        let grad = match self.grad.take() {
            Some(g) => g,
            None => self.mlp.mse_value_and_grad(&self.theta, self.x, self.y)?.1,
        };
        for (th, g) in self.theta.iter_mut().zip(&grad) {
            *th -= self.lr * *g;
        }
        Ok(())
    }
}

/// GD on ½xᵀHx − cᵀx, with the objective supplied by the caller (a loss, or the distance to
/// a known solution).
pub struct QuadraticGd<'a, F: Fn(&[f64]) -> f64> {
    h: &'a Matrix<f64>,
    c: &'a [f64],
    eta: f64,
    /// The current iterate x_t.
    pub x: Vec<f64>,
    g: Vec<f64>,
    objective: F,
}

impl<'a, F: Fn(&[f64]) -> f64> QuadraticGd<'a, F> {
    /// GD from `x0` with step `eta`.
    pub fn new(h: &'a Matrix<f64>, c: &'a [f64], x0: Vec<f64>, eta: f64, objective: F) -> Self {
        let g = vec![0.0; x0.len()];
        QuadraticGd {
            h,
            c,
            eta,
            x: x0,
            g,
            objective,
        }
    }
}

impl<F: Fn(&[f64]) -> f64> Iterative for QuadraticGd<'_, F> {
    fn objective(&mut self) -> Result<f64> {
        if !self.x.iter().all(|v| v.is_finite()) {
            return Ok(f64::NAN);
        }
        Ok((self.objective)(&self.x))
    }

    fn step(&mut self) -> Result<()> {
        linalg::matvec(1.0, self.h.as_ref(), &self.x, 0.0, &mut self.g)?;
        for ((xi, gi), ci) in self.x.iter_mut().zip(&self.g).zip(self.c) {
            *xi -= self.eta * (gi - ci);
        }
        Ok(())
    }
}

/// GD on the least-squares loss L(x) = 1/(2n)‖Ax − y‖² (n = rows of A), with the gradient
/// Aᵀ(Ax − y)/n formed from A itself (never AᵀA, which may be far larger).
pub struct LeastSquaresGd<'a> {
    a: &'a Matrix<f64>,
    y: &'a [f64],
    eta: f64,
    /// The current iterate x_t.
    pub x: Vec<f64>,
    /// A x_t, kept from the last objective evaluation.
    pub ax: Vec<f64>,
}

impl<'a> LeastSquaresGd<'a> {
    /// GD from `x0` with step `eta`.
    pub fn new(a: &'a Matrix<f64>, y: &'a [f64], x0: Vec<f64>, eta: f64) -> Self {
        LeastSquaresGd {
            ax: vec![0.0; a.rows()],
            a,
            y,
            eta,
            x: x0,
        }
    }
}

impl Iterative for LeastSquaresGd<'_> {
    fn objective(&mut self) -> Result<f64> {
        linalg::matvec(1.0, self.a.as_ref(), &self.x, 0.0, &mut self.ax)?;
        Ok(crate::metrics::squared_loss(
            &self.ax,
            self.y,
            self.a.rows(),
        ))
    }

    fn step(&mut self) -> Result<()> {
        let n = self.a.rows() as f64;
        let r: Vec<f64> = self
            .ax
            .iter()
            .zip(self.y)
            .map(|(f, t)| (f - t) / n)
            .collect();
        let mut g = vec![0.0; self.x.len()];
        linalg::matvec(1.0, self.a.as_ref().t(), &r, 0.0, &mut g)?;
        for (xi, gi) in self.x.iter_mut().zip(&g) {
            *xi -= self.eta * gi;
        }
        Ok(())
    }
}

/// GD on the linearised model f_lin(δ) = f(θ₀) + Jδ with L = 1/(2n)‖f_lin − Y‖²:
/// δ ← δ − η Jᵀ(f₀ + Jδ − Y)/n, one JVP and one VJP per step through autodiff's
/// `Linearized` (the closed form of `tangent::ClosedFormGd` solves the same recursion).
pub struct LinearizedGd<'a, 'b, T: Real> {
    lin: &'b autodiff::mlp::Linearized<'a, T>,
    y: MatRef<'b, T>,
    lr: f64,
    /// The current step δ_t = θ_t − θ₀.
    pub delta: Vec<T>,
    residual: Option<Matrix<T>>,
}

impl<'a, 'b, T: Real> LinearizedGd<'a, 'b, T> {
    /// GD from δ = 0 with step `lr` towards targets `y`.
    pub fn new(lin: &'b autodiff::mlp::Linearized<'a, T>, y: MatRef<'b, T>, lr: f64) -> Self {
        LinearizedGd {
            delta: vec![T::zero(); lin.num_params()],
            lin,
            y,
            lr,
            residual: None,
        }
    }
}

impl<T: Real> LinearizedGd<'_, '_, T> {
    /// The residual f_lin(δ) − Y on the training inputs.
    fn residual(&self) -> Result<Matrix<T>> {
        let f = self.lin.eval(&self.delta)?;
        Ok(Matrix::from_fn(f.rows(), f.cols(), |i, a| {
            f.get(i, a) - self.y.get(i, a)
        }))
    }
}

impl<T: Real> Iterative for LinearizedGd<'_, '_, T> {
    fn objective(&mut self) -> Result<f64> {
        let r = self.residual()?;
        let n = r.rows();
        let loss = r.as_slice().iter().map(|v| v.to_f64().powi(2)).sum::<f64>() / (2 * n) as f64;
        self.residual = Some(r);
        Ok(loss)
    }

    fn step(&mut self) -> Result<()> {
        let r = match self.residual.take() {
            Some(r) => r,
            None => self.residual()?,
        };
        let scale = T::from_f64(self.lr / r.rows() as f64);
        let g = self.lin.vjp(r.as_ref())?;
        for (d, gi) in self.delta.iter_mut().zip(&g) {
            *d -= scale * *gi;
        }
        Ok(())
    }
}
