//! The linearised network: the first-order Taylor model of f around θ₀ on a fixed batch X,
//!
//!   f_lin(δ) = f(X; θ₀) + J δ,   J = ∂f(X; θ)/∂θ at θ₀ ((n·o)×p, rows i·o + a),
//!
//! which is exactly linear in δ (Lee et al., "Wide neural networks of any depth evolve as
//! linear models under gradient descent", NeurIPS 2019). The anchor is neural-tangents'
//! `nt.linearize(f, params)` (Novak et al., "Neural Tangents", ICLR 2020): a function of the
//! parameter offset whose value at 0 is f(θ₀) and whose derivative is J, computed by a JVP.
//!
//! [`Linearized`] records the forward pass at θ₀ once and answers everything else by replaying
//! it: J·v (forward mode), Jᵀu (reverse mode), and its two faces,
//!
//! * function space: the empirical NTK K = J Jᵀ ([`Linearized::ntk`], full or output-traced,
//!   and the matrix-free K + λI, [`Linearized::ntk_operator`]);
//! * parameter space: the Gauss–Newton matrix JᵀJ + λI ([`Linearized::gauss_newton`]),
//!
//! with λ validated once ([`Ridge`]). A ridge solve in either face is one Newton step of the
//! squared loss on f_lin: (K + λI)α = r with δ = Jᵀα, or (JᵀJ + λI)δ = Jᵀr, the same δ.
//!
//! A [`Mask`] m ([`Linearized::with_mask`]) restricts δ to the support S = {j : m_j = 1}: J
//! becomes J_S = J·diag(m) in every face, f_lin(δ) = f(θ₀) + J_S δ, K_S = J_S J_Sᵀ and
//! J_SᵀJ_S + λI (see [`super::masked`] for how K_S is computed without forming J). J is taken
//! at θ₀ as given: for the linearisation of the pruned subnetwork pass θ₀ with the mask
//! applied ([`Mask::apply`]); with an unpruned θ₀ it is the dense network with only S free.

use super::api::check_len;
use super::mask::Mask;
use super::masked::{
    check_mask, kernel_masked, zero_pruned, MaskedGaussNewtonOperator, MaskedNtkOperator,
};
use super::net::Mlp;
use super::ntk::{factors, factors_on, kernel_from_factors, NtkForm};
use super::operators::Ridge;
use super::reverse::LayerTape;
use crate::error::Result;
use linalg::{MatRef, Matrix, Par, Real};
use std::borrow::Cow;

/// f_lin(δ) = f(X; θ₀) + J δ for a network, a base point θ₀ and a batch X (one sample per row),
/// or f(X; θ₀) + J_S δ with J_S = J·diag(m) once a mask is set.
///
/// Holds the forward pass at θ₀ (θ₀ itself, X and every layer's value and φ'), so f(θ₀) is
/// read, not recomputed, and each J·v or Jᵀu is one replayed pass.
#[derive(Clone)]
pub struct Linearized<'a, T: Real> {
    net: &'a Mlp,
    tape: LayerTape<'a, T>,
    mask: Option<Mask>,
    // Whether the mask prunes anything: a dense mask takes the unmasked routes, so its
    // results are those of the unmasked model bit for bit.
    sparse: bool,
}

impl<'a, T: Real> Linearized<'a, T> {
    /// The linearisation of `net` around θ₀ on the inputs X; errors when θ₀'s length or X's
    /// width does not fit the network, or X is empty.
    pub fn new(net: &'a Mlp, theta0: &'a [T], x: MatRef<'_, T>) -> Result<Self> {
        Ok(Linearized {
            net,
            tape: net.record(theta0, x)?,
            mask: None,
            sparse: false,
        })
    }

    /// The same linearisation with δ restricted to the support of `mask`: J_S = J·diag(m) in
    /// [`Linearized::jvp`], [`Linearized::vjp`], [`Linearized::eval`] and every face. Replaces
    /// an earlier mask. Errors ([`crate::AdError::Shape`]) when the mask is laid out for
    /// another network.
    pub fn with_mask(self, mask: Mask) -> Result<Self> {
        check_mask(self.net, &mask)?;
        let sparse = mask.keep().iter().any(|&k| !k);
        Ok(Linearized {
            mask: Some(mask),
            sparse,
            ..self
        })
    }

    /// The mask δ is restricted to, if any.
    pub fn mask(&self) -> Option<&Mask> {
        self.mask.as_ref()
    }

    /// The mask's flags when it prunes something (else the unmasked routes are exact).
    fn support(&self) -> Option<&[bool]> {
        match &self.mask {
            Some(m) if self.sparse => Some(m.keep()),
            _ => None,
        }
    }

    /// The network.
    pub fn net(&self) -> &'a Mlp {
        self.net
    }

    /// θ₀, the point of linearisation.
    pub fn theta0(&self) -> &'a [T] {
        self.tape.theta()
    }

    /// The inputs X (n×d).
    pub fn x(&self) -> &Matrix<T> {
        &self.tape.nodes()[0].value
    }

    /// The batch size n.
    pub fn batch(&self) -> usize {
        self.tape.batch()
    }

    /// n·o, the number of outputs (rows of J).
    pub fn num_outputs(&self) -> usize {
        self.batch() * self.net.output_dim()
    }

    /// p, the number of parameters (columns of J).
    pub fn num_params(&self) -> usize {
        self.net.num_params()
    }

    /// f(X; θ₀) = f_lin(0), n×o.
    pub fn output0(&self) -> &Matrix<T> {
        self.tape.output()
    }

    /// f_lin(δ) = f(X; θ₀) + J_S δ (n×o), for δ ∈ Rᵖ (J_S = J without a mask; pruned entries
    /// of δ are ignored).
    pub fn eval(&self, delta: &[T]) -> Result<Matrix<T>> {
        let mut f = self.jvp(delta)?;
        for (fi, &f0) in f.as_mut_slice().iter_mut().zip(self.output0().as_slice()) {
            *fi += f0;
        }
        Ok(f)
    }

    /// J_S v = J (m ⊙ v) (n×o) for v ∈ Rᵖ: one forward-mode pass replaying the values at θ₀
    /// (m = 1 without a mask).
    pub fn jvp(&self, v: &[T]) -> Result<Matrix<T>> {
        check_len("v", v.len(), self.num_params())?;
        match self.support() {
            Some(keep) => {
                let mut v = v.to_vec();
                zero_pruned(keep, &mut v);
                self.net.jvp_on_tape(&self.tape, &v, Par::Rayon)
            }
            None => self.net.jvp_on_tape(&self.tape, v, Par::Rayon),
        }
    }

    /// J_Sᵀ u = m ⊙ (Jᵀ u) ∈ Rᵖ for a cotangent u (n×o): one backward sweep over the values
    /// at θ₀; pruned entries are exactly 0.
    pub fn vjp(&self, u: MatRef<'_, T>) -> Result<Vec<T>> {
        let mut g = self.net.vjp_on_tape(&self.tape, u, Par::Rayon)?;
        if let Some(keep) = self.support() {
            zero_pruned(keep, &mut g);
        }
        Ok(g)
    }

    /// The empirical NTK K = J Jᵀ (K_S = J_S J_Sᵀ with a mask) at θ₀ on X, full
    /// ((n·o)×(n·o)) or output-traced (n×n), without forming J: by per-layer structured
    /// products (see [`super::ntk`]), or with a mask by per-unit masked Grams (see
    /// [`super::masked`]).
    pub fn ntk(&self, form: NtkForm) -> Result<Matrix<T>> {
        let f = factors_on(self.net, Cow::Borrowed(&self.tape))?;
        match self.support() {
            Some(keep) => kernel_masked(self.net, &f, None, keep, form),
            None => kernel_from_factors(self.net, &f, None, form),
        }
    }

    /// The cross kernel J(X) J(X₂)ᵀ (J_S(X) J_S(X₂)ᵀ with a mask) at θ₀ between X and other
    /// inputs X₂ ((n·o)×(n₂·o) full, n×n₂ traced): the kernel that carries a kernel-space
    /// solution to new inputs.
    pub fn ntk_cross(&self, x2: MatRef<'_, T>, form: NtkForm) -> Result<Matrix<T>> {
        self.net.check_inputs(self.theta0(), x2)?;
        let f1 = factors_on(self.net, Cow::Borrowed(&self.tape))?;
        let f2 = factors(self.net, self.theta0(), x2)?;
        match self.support() {
            Some(keep) => kernel_masked(self.net, &f1, Some(&f2), keep, form),
            None => kernel_from_factors(self.net, &f1, Some(&f2), form),
        }
    }

    /// The function-space face, matrix-free: v ↦ (K_S + λI) v on Rⁿᵒ (K without a mask),
    /// replaying this linearisation's forward pass. Errors when λ is negative or not finite.
    pub fn ntk_operator(&self, lambda: f64) -> Result<MaskedNtkOperator<'_, T>> {
        let ridge = Ridge::new(lambda)?;
        Ok(MaskedNtkOperator::on_tape(
            self.net,
            &self.tape,
            self.support(),
            ridge,
        ))
    }

    /// The parameter-space face, matrix-free: v ↦ (J_SᵀJ_S + λI) v on Rᵖ (JᵀJ without a
    /// mask), replaying this linearisation's forward pass. Errors when λ is negative or not
    /// finite.
    pub fn gauss_newton(&self, lambda: f64) -> Result<MaskedGaussNewtonOperator<'_, T>> {
        let ridge = Ridge::new(lambda)?;
        Ok(MaskedGaussNewtonOperator::on_tape(
            self.net,
            &self.tape,
            self.support(),
            ridge,
        ))
    }
}
