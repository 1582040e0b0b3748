//! Forward mode on the layer engine: every value carries a block of k tangents.
//!
//! For the affine layer h = s·a Wᵀ + σ_b·1 bᵀ the tangent is ḣ = s·(ȧ Wᵀ + a Ẇᵀ) + σ_b·1 ḃᵀ,
//! and through φ it is ȧ = φ'(z) ⊙ ż (Griewank & Walther, *Evaluating Derivatives*, 2nd ed.,
//! §3.1, "vector forward mode"). The k tangents of an n×w value are stacked as a (k·n)×w
//! matrix, so the input part s·ȧ Wᵀ of all k is one GEMM. Coordinate directions
//! ([`Seeds::OneHot`]) enter the network as single activation columns ([`Tangent::Columns`])
//! and become dense only after the next layer, which is what makes Jacobians by JVP cheap.

use super::net::Layer;
use super::ops::{affine_forward, map_activation, slopes, Ops};
use super::reverse::{LayerTape, Node};
use crate::error::Result;
use crate::unary::Activation;
use linalg::{MatRef, Matrix, Par, Real};
use std::borrow::Cow;

/// The directions θ̇ that a [`Forward`] pass pushes through the network.
#[derive(Clone, Copy)]
pub enum Seeds<'a, T> {
    /// k dense directions, the rows of a k×p matrix.
    Dense(MatRef<'a, T>),
    /// k coordinate directions e_j, one parameter index each. A coordinate direction enters
    /// the network only at its own layer, and there as a single activation column (see
    /// [`super::affine::Affine::jvp_seed_weight`]): the seed is a scatter, not a dense tangent.
    OneHot(&'a [usize]),
}

impl<T: Real> Seeds<'_, T> {
    /// Number of directions k.
    pub fn len(&self) -> usize {
        match self {
            Seeds::Dense(m) => m.rows(),
            Seeds::OneHot(ix) => ix.len(),
        }
    }
    /// Whether there are no directions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A block of k tangents of an n×w value, in the cheapest exact form.
#[derive(Clone)]
pub enum Tangent<T> {
    /// All k tangents are zero (the value does not depend on θ along any direction yet).
    Zero,
    /// Tangent t is zero except in column `col[t]`, where it holds row t of `val` (k×n).
    /// This is what a coordinate direction looks like right after its own layer.
    Columns {
        /// The nonzero column of each tangent.
        col: Vec<usize>,
        /// k×n: the values of that column, per sample.
        val: Matrix<T>,
    },
    /// The general form: a (k·n)×w matrix, tangent t in rows t·n … t·n + n − 1.
    Dense(Matrix<T>),
}

impl<T: Real> Tangent<T> {
    /// The (k·n)×w dense form.
    pub fn to_dense(&self, k: usize, n: usize, w: usize) -> Matrix<T> {
        match self {
            Tangent::Zero => Matrix::zeros(k * n, w),
            Tangent::Dense(m) => m.clone(),
            Tangent::Columns { col, val } => {
                let mut m = Matrix::zeros(k * n, w);
                for (t, &c) in col.iter().enumerate() {
                    for i in 0..n {
                        m.set(t * n + i, c, val.get(t, i));
                    }
                }
                m
            }
        }
    }
}

/// A primal n×w value with a block of k tangents.
#[derive(Clone)]
pub struct LayerDual<'p, T: Real> {
    /// The value itself (borrowed when replayed from a [`LayerTape`]).
    pub primal: Cow<'p, Matrix<T>>,
    /// Its k tangents.
    pub tangent: Tangent<T>,
}

/// Forward mode over a block of k directions.
///
/// When built with [`Forward::replaying`], the primal values come from a recorded tape and
/// are not recomputed: a Jacobian by JVP evaluates the network once, not once per block.
pub struct Forward<'a, T: Real> {
    theta: &'a [T],
    seeds: Seeds<'a, T>,
    n: usize,
    par: Par,
    replay: Option<&'a LayerTape<'a, T>>,
    step: usize,
    keep: bool,
    kept: Vec<Tangent<T>>,
}

impl<'a, T: Real> Forward<'a, T> {
    /// Forward mode at θ along `seeds`, for a batch of n inputs.
    pub fn new(theta: &'a [T], seeds: Seeds<'a, T>, n: usize, par: Par) -> Self {
        Forward {
            theta,
            seeds,
            n,
            par,
            replay: None,
            step: 0,
            keep: false,
            kept: Vec::new(),
        }
    }

    /// Like [`Forward::new`] but reading the primal values from `tape` (recorded by
    /// [`super::reverse::Reverse`] on the same θ and inputs) instead of recomputing them.
    pub fn replaying(tape: &'a LayerTape<'a, T>, seeds: Seeds<'a, T>, par: Par) -> Self {
        Forward {
            theta: tape.theta(),
            seeds,
            n: tape.batch(),
            par,
            replay: Some(tape),
            step: 0,
            keep: false,
            kept: Vec::new(),
        }
    }

    /// Keep a copy of every intermediate tangent (for forward-over-reverse); read them back
    /// with [`Forward::into_kept`], one per op in order (affine, φ, affine, …).
    pub fn keep_tangents(mut self) -> Self {
        self.keep = true;
        self
    }

    /// The kept tangents, one per op.
    pub fn into_kept(self) -> Vec<Tangent<T>> {
        self.kept
    }

    /// The input as a dual value with zero tangents (x does not depend on θ).
    pub fn input<'p>(&self, x: &'p Matrix<T>) -> LayerDual<'p, T> {
        LayerDual {
            primal: Cow::Borrowed(x),
            tangent: Tangent::Zero,
        }
    }

    fn k(&self) -> usize {
        self.seeds.len()
    }

    fn next_node(&mut self) -> Option<&'a Node<T>> {
        self.step += 1;
        self.replay.map(|t| &t.nodes()[self.step])
    }

    fn push(&mut self, t: &Tangent<T>) {
        if self.keep {
            self.kept.push(t.clone());
        }
    }
}

impl<'a, T: Real> Ops<T> for Forward<'a, T> {
    type Value = LayerDual<'a, T>;

    fn affine(&mut self, layer: &Layer, input: LayerDual<'a, T>) -> Result<LayerDual<'a, T>> {
        let aff = layer.affine(self.theta)?;
        let (k, n, n_out) = (self.k(), self.n, layer.n_out);
        let a = input.primal.as_ref();
        let primal = match self.next_node() {
            Some(node) => Cow::Borrowed(&node.value),
            None => Cow::Owned(affine_forward(&aff, a, self.par)?),
        };
        // ȧ part: s·ȧ Wᵀ.
        let mut tangent = match &input.tangent {
            Tangent::Zero => Tangent::Zero,
            Tangent::Columns { col, val } => {
                let mut d = Matrix::zeros(k * n, n_out);
                for (t, &c) in col.iter().enumerate() {
                    let block = d.as_mut().submatrix(t * n, 0, n, n_out);
                    aff.jvp_input_column(c, val.row(t), block);
                }
                Tangent::Dense(d)
            }
            Tangent::Dense(a_dot) => {
                let mut d = Matrix::zeros(k * n, n_out);
                aff.jvp_input(a_dot.as_ref(), T::zero(), d.as_mut(), self.par)?;
                Tangent::Dense(d)
            }
        };
        // θ̇ part: s·a Ẇᵀ + σ_b ḃ, for the directions that touch this layer.
        match self.seeds {
            Seeds::Dense(dtheta) => {
                let mut d = match tangent {
                    Tangent::Dense(d) => d,
                    other => other.to_dense(k, n, n_out),
                };
                for t in 0..k {
                    let row = dtheta.submatrix(t, 0, 1, dtheta.cols());
                    let row = row.row_slice(0).map(Cow::Borrowed).unwrap_or_else(|| {
                        Cow::Owned((0..row.cols()).map(|j| row.get(0, j)).collect())
                    });
                    let w_dot = MatRef::from_slice(
                        &row[layer.w_offset..layer.w_offset + n_out * layer.n_in],
                        n_out,
                        layer.n_in,
                        layer.n_in,
                    )?;
                    let b_dot = &row[layer.b_offset..layer.b_offset + n_out];
                    let block = d.as_mut().submatrix(t * n, 0, n, n_out);
                    aff.jvp_params(a.as_ref(), w_dot, b_dot, block, self.par)?;
                }
                tangent = Tangent::Dense(d);
            }
            Seeds::OneHot(indices) => {
                let range = layer.param_range();
                let mine = indices.iter().filter(|j| range.contains(j)).count();
                if mine > 0 {
                    let mut column = vec![T::zero(); n];
                    let seed_column = |j: usize, column: &mut [T]| -> usize {
                        if j >= layer.b_offset {
                            aff.jvp_seed_bias(column);
                            j - layer.b_offset
                        } else {
                            let local = j - layer.w_offset;
                            aff.jvp_seed_weight(a.as_ref(), local % layer.n_in, column);
                            local / layer.n_in
                        }
                    };
                    tangent = match tangent {
                        Tangent::Zero => {
                            let mut col = vec![0usize; k];
                            let mut val = Matrix::zeros(k, n);
                            for (t, &j) in indices.iter().enumerate() {
                                if range.contains(&j) {
                                    col[t] = seed_column(j, val.row_mut(t));
                                }
                            }
                            Tangent::Columns { col, val }
                        }
                        other => {
                            let mut d = match other {
                                Tangent::Dense(d) => d,
                                o => o.to_dense(k, n, n_out),
                            };
                            for (t, &j) in indices.iter().enumerate() {
                                if range.contains(&j) {
                                    let r = seed_column(j, &mut column);
                                    for (i, &v) in column.iter().enumerate() {
                                        let e = d.get(t * n + i, r);
                                        d.set(t * n + i, r, e + v);
                                    }
                                }
                            }
                            Tangent::Dense(d)
                        }
                    };
                }
            }
        }
        self.push(&tangent);
        Ok(LayerDual { primal, tangent })
    }

    fn unary(&mut self, act: Activation, input: LayerDual<'a, T>) -> Result<LayerDual<'a, T>> {
        let x = input.primal.as_ref();
        let (primal, slope) = match self.next_node() {
            Some(node) => (
                Cow::Borrowed(&node.value),
                Cow::Borrowed(node.slope.as_ref().expect("activation nodes carry φ'")),
            ),
            None => {
                let y = map_activation(act, x);
                let slope = slopes(act, x, &y);
                (Cow::Owned(y), Cow::Owned(slope))
            }
        };
        let n = self.n;
        // ȧ = φ'(z) ⊙ ż, the diagonal Jacobian applied to each tangent.
        let tangent = match input.tangent {
            Tangent::Zero => Tangent::Zero,
            Tangent::Columns { col, mut val } => {
                let w = slope.cols();
                for (t, &c) in col.iter().enumerate() {
                    for (i, v) in val.row_mut(t).iter_mut().enumerate() {
                        *v *= slope.as_slice()[i * w + c];
                    }
                }
                Tangent::Columns { col, val }
            }
            Tangent::Dense(mut d) => {
                let w = x.cols();
                for block in d.as_mut_slice().chunks_exact_mut(n * w) {
                    for (v, &s) in block.iter_mut().zip(slope.as_slice()) {
                        *v *= s;
                    }
                }
                Tangent::Dense(d)
            }
        };
        self.push(&tangent);
        Ok(LayerDual { primal, tangent })
    }
}
