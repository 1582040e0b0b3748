//! The network's one-call entry points: f(X; θ), J·θ̇, Jᵀu and the MSE loss with its
//! gradient, each one pass of the matching mode of the layer engine over [`mlp`].

use super::eval::{Activations, LayerEval};
use super::forward::{Forward, Seeds};
use super::net::Mlp;
use super::ops::mlp;
use super::reverse::{Cotangents, GradientSink, LayerTape, Reverse};
use crate::error::{AdError, Result};
use linalg::{MatRef, Matrix, Par, Real};

impl Mlp {
    /// f(X; θ): the n×o outputs for the n×d inputs X (one sample per row).
    pub fn forward<T: Real>(&self, theta: &[T], x: MatRef<'_, T>) -> Result<Matrix<T>> {
        self.check_inputs(theta, x)?;
        let input = Activations::Input(x);
        Ok(mlp(&mut LayerEval::new(theta, Par::Rayon), self, input)?.into_owned())
    }

    /// (f, J·θ̇): the outputs and their directional derivative along θ̇ ∈ Rᵖ, both n×o, by one
    /// forward-mode pass.
    pub fn jvp<T: Real>(
        &self,
        theta: &[T],
        x: MatRef<'_, T>,
        dtheta: &[T],
    ) -> Result<(Matrix<T>, Matrix<T>)> {
        let n = self.check_inputs(theta, x)?;
        check_len("θ̇", dtheta.len(), self.num_params())?;
        let seeds = MatRef::from_slice(dtheta, 1, dtheta.len(), dtheta.len())?;
        let x = x.to_owned();
        let mut fw = Forward::new(theta, Seeds::Dense(seeds), n, Par::Rayon);
        let input = fw.input(&x);
        let out = mlp(&mut fw, self, input)?;
        let o = self.output_dim();
        Ok((out.primal.into_owned(), out.tangent.to_dense(1, n, o)))
    }

    /// (f, Jᵀu): the outputs and the vector-Jacobian product with a cotangent u (n×o), by one
    /// reverse-mode pass.
    pub fn vjp<T: Real>(
        &self,
        theta: &[T],
        x: MatRef<'_, T>,
        u: MatRef<'_, T>,
    ) -> Result<(Matrix<T>, Vec<T>)> {
        let tape = self.record(theta, x)?;
        let g = self.vjp_on_tape(&tape, u, Par::Rayon)?;
        Ok((tape.output().clone(), g))
    }

    /// L(θ) = 1/(2n)·‖f(X; θ) − Y‖²_F and ∇L = Jᵀ(f − Y)/n.
    ///
    /// The 1/(2n) scaling makes L the mean over samples of half the squared error, so the
    /// Hessian's Gauss–Newton part is JᵀJ/n and a gradient step's size does not grow with n.
    pub fn mse_value_and_grad<T: Real>(
        &self,
        theta: &[T],
        x: MatRef<'_, T>,
        y: MatRef<'_, T>,
    ) -> Result<(T, Vec<T>)> {
        let n = self.check_inputs(theta, x)?;
        self.check_outputs(n, y, "targets Y")?;
        let tape = self.record(theta, x)?;
        let f = tape.output();
        let inv_n = T::one() / T::from_usize(n);
        let mut loss = 0.0f64;
        let residual = Matrix::from_fn(n, self.output_dim(), |i, a| {
            let r = f.get(i, a) - y.get(i, a);
            loss += r.to_f64() * r.to_f64();
            r * inv_n
        });
        let g = self.vjp_on_tape(&tape, residual.as_ref(), Par::Rayon)?;
        Ok((T::from_f64(loss * 0.5 / n as f64), g))
    }

    /// Runs the network in reverse mode and returns the tape (values of every layer).
    pub fn record<'a, T: Real>(
        &self,
        theta: &'a [T],
        x: MatRef<'_, T>,
    ) -> Result<LayerTape<'a, T>> {
        self.check_inputs(theta, x)?;
        let (mut rev, input) = Reverse::new(theta, x.to_owned(), Par::Rayon);
        mlp(&mut rev, self, input)?;
        Ok(rev.into_tape())
    }

    /// Jᵀu on a recorded tape.
    pub(crate) fn vjp_on_tape<T: Real>(
        &self,
        tape: &LayerTape<'_, T>,
        u: MatRef<'_, T>,
        par: Par,
    ) -> Result<Vec<T>> {
        let n = tape.batch();
        self.check_outputs(n, u, "cotangent u")?;
        let cot = Cotangents {
            data: u.to_owned(),
            sample: (0..n).collect(),
            owners: 1,
        };
        let mut sink = GradientSink {
            grads: Matrix::zeros(1, self.num_params()),
            par,
        };
        tape.backward(tape.nodes().len() - 1, cot, &mut sink, par)?;
        Ok(sink.grads.into_vec())
    }

    /// J·θ̇ (n×o) on a recorded tape.
    pub(crate) fn jvp_on_tape<T: Real>(
        &self,
        tape: &LayerTape<'_, T>,
        dtheta: &[T],
        par: Par,
    ) -> Result<Matrix<T>> {
        check_len("θ̇", dtheta.len(), self.num_params())?;
        let seeds = MatRef::from_slice(dtheta, 1, dtheta.len(), dtheta.len())?;
        let mut fw = Forward::replaying(tape, Seeds::Dense(seeds), par);
        let input = fw.input(&tape.nodes()[0].value);
        let out = mlp(&mut fw, self, input)?;
        Ok(out.tangent.to_dense(1, tape.batch(), self.output_dim()))
    }

    pub(crate) fn check_outputs<T: Real>(
        &self,
        n: usize,
        y: MatRef<'_, T>,
        what: &str,
    ) -> Result<()> {
        if y.rows() != n || y.cols() != self.output_dim() {
            return Err(AdError::Shape {
                what: format!(
                    "{what} is {}×{}, expected {n}×{}",
                    y.rows(),
                    y.cols(),
                    self.output_dim()
                ),
            });
        }
        Ok(())
    }
}

pub(crate) fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(AdError::Shape {
            what: format!("{what} has {got} entries, expected {want}"),
        });
    }
    Ok(())
}

impl Mlp {
    /// A loss ℓ(f(X; θ)) and its gradient Jᵀ∂ℓ/∂f, for any loss of the outputs: `loss` gets
    /// the n×o outputs and returns ℓ with ∂ℓ/∂f (n×o); one forward pass records the tape and
    /// one reverse sweep pulls the cotangent back. Softmax cross-entropy and other losses
    /// living outside this crate use it; [`Mlp::mse_value_and_grad`] is the squared-error case.
    pub fn loss_value_and_grad<T: Real, E: From<AdError>>(
        &self,
        theta: &[T],
        x: MatRef<'_, T>,
        loss: impl FnOnce(MatRef<'_, T>) -> std::result::Result<(f64, Matrix<T>), E>,
    ) -> std::result::Result<(f64, Vec<T>), E> {
        let tape = self.record(theta, x)?;
        let (value, cot) = loss(tape.output().as_ref())?;
        let g = self.vjp_on_tape(&tape, cot.as_ref(), Par::Rayon)?;
        Ok((value, g))
    }
}
