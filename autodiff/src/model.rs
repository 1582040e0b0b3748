//! The network written once, evaluated three ways.
//!
//! [`mlp`] is the only place the architecture is spelled out. It is generic over the
//! layer-level [`Ops`] trait, and each implementation gives one mode:
//!
//! * [`Eval`]: plain evaluation, values are matrices;
//! * [`Forward`]: forward mode, values are a primal plus a *block* of k tangents, so k JVPs
//!   share one pass and their products become GEMMs;
//! * [`Reverse`]: records the layer ops on a [`Tape`], which then backpropagates a block of
//!   cotangents ([`Tape::backward`]).
//!
//! The rules themselves live in [`crate::ops::affine`] and [`crate::ops::elementwise`]; the
//! implementations here only wire them to values.

use crate::error::{AdError, Result};
use crate::nn::{Layer, Mlp};
use crate::ops::affine::Affine;
use crate::ops::elementwise::{Activation, Unary};
use linalg::{MatMut, MatRef, Matrix, Par, Real};
use rayon::prelude::*;
use std::borrow::Cow;

/// The two layer-level operations a dense network is made of.
pub trait Ops<T: Real> {
    /// What flows between layers (a matrix, a dual block, a tape node).
    type Value;
    /// z = s·a Wᵀ + σ_b·1 bᵀ for `layer`, with θ held by the implementation.
    /// Takes the input by value so that an implementation may reuse its buffers.
    fn affine(&mut self, layer: &Layer, input: Self::Value) -> Result<Self::Value>;
    /// a = φ(z), entry by entry.
    fn unary(&mut self, act: Activation, input: Self::Value) -> Result<Self::Value>;
}

/// The network f(x; θ): affine layers with φ between them and none after the last.
pub fn mlp<T: Real, O: Ops<T>>(o: &mut O, net: &Mlp, x: O::Value) -> Result<O::Value> {
    let mut h = x;
    for layer in net.layers() {
        h = o.affine(layer, h)?;
        if !layer.is_last {
            h = o.unary(net.activation(), h)?;
        }
    }
    Ok(h)
}

/// Entries per rayon task in elementwise maps: transcendental activations (tanh, erf) cost
/// tens of nanoseconds each, so large maps are worth splitting; each entry is computed by one
/// task, so the result does not depend on the thread count.
const MAP_GRAIN: usize = 1 << 14;

/// Applies φ to every entry of `x`.
fn map_activation<T: Real>(act: Activation, x: &Matrix<T>) -> Matrix<T> {
    let mut y = x.clone();
    map_in_place(y.as_mut_slice(), |v| act.value(v));
    y
}

/// v ← g(v) for every entry, in parallel chunks when the slice is large.
fn map_in_place<T: Real>(data: &mut [T], g: impl Fn(T) -> T + Sync) {
    if data.len() <= MAP_GRAIN {
        data.iter_mut().for_each(|v| *v = g(*v));
    } else {
        data.par_chunks_mut(MAP_GRAIN)
            .for_each(|c| c.iter_mut().for_each(|v| *v = g(*v)));
    }
}

fn affine_forward<T: Real>(aff: &Affine<'_, T>, a: &Matrix<T>, par: Par) -> Result<Matrix<T>> {
    let mut h = Matrix::zeros(a.rows(), aff.n_out());
    aff.forward(a.as_ref(), h.as_mut(), par)?;
    Ok(h)
}

// ---------------------------------------------------------------------------------------
// Plain evaluation.

/// Plain evaluation: values are n×width matrices.
pub struct Eval<'a, T> {
    theta: &'a [T],
    par: Par,
}

impl<'a, T: Real> Eval<'a, T> {
    /// Evaluation at θ; `par` says whether the GEMMs may use the rayon pool.
    pub fn new(theta: &'a [T], par: Par) -> Self {
        Eval { theta, par }
    }
}

impl<T: Real> Ops<T> for Eval<'_, T> {
    type Value = Matrix<T>;
    fn affine(&mut self, layer: &Layer, input: Matrix<T>) -> Result<Matrix<T>> {
        affine_forward(&layer.affine(self.theta)?, &input, self.par)
    }
    fn unary(&mut self, act: Activation, mut input: Matrix<T>) -> Result<Matrix<T>> {
        map_in_place(input.as_mut_slice(), |v| act.value(v));
        Ok(input)
    }
}

// ---------------------------------------------------------------------------------------
// Forward mode.

/// The directions θ̇ that a [`Forward`] pass pushes through the network.
#[derive(Clone, Copy)]
pub enum Seeds<'a, T> {
    /// k dense directions, the rows of a k×p matrix.
    Dense(MatRef<'a, T>),
    /// k coordinate directions e_j, one parameter index each. A coordinate direction enters
    /// the network only at its own layer, and there as a single activation column (see
    /// [`Affine::jvp_seed_weight`]): the seed is a scatter, not a dense tangent.
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
pub struct Dual<'p, T: Real> {
    /// The value itself (borrowed when replayed from a [`Tape`]).
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
    replay: Option<&'a Tape<'a, T>>,
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
    /// [`Reverse`] on the same θ and inputs) instead of recomputing them.
    pub fn replaying(tape: &'a Tape<'a, T>, seeds: Seeds<'a, T>, par: Par) -> Self {
        Forward {
            theta: tape.theta,
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
    pub fn input<'p>(&self, x: &'p Matrix<T>) -> Dual<'p, T> {
        Dual {
            primal: Cow::Borrowed(x),
            tangent: Tangent::Zero,
        }
    }

    fn k(&self) -> usize {
        self.seeds.len()
    }

    fn next_node(&mut self) -> Option<&'a Node<T>> {
        self.step += 1;
        self.replay.map(|t| &t.nodes[self.step])
    }

    fn push(&mut self, t: &Tangent<T>) {
        if self.keep {
            self.kept.push(t.clone());
        }
    }
}

impl<'a, T: Real> Ops<T> for Forward<'a, T> {
    type Value = Dual<'a, T>;

    fn affine(&mut self, layer: &Layer, input: Dual<'a, T>) -> Result<Dual<'a, T>> {
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
        Ok(Dual { primal, tangent })
    }

    fn unary(&mut self, act: Activation, input: Dual<'a, T>) -> Result<Dual<'a, T>> {
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
        Ok(Dual { primal, tangent })
    }
}

/// φ'(z) entry by entry, given z and y = φ(z).
pub(crate) fn slopes<T: Real>(act: Activation, x: &Matrix<T>, y: &Matrix<T>) -> Matrix<T> {
    let mut d = y.clone();
    let xs = x.as_slice();
    if xs.len() <= MAP_GRAIN {
        for (dv, &xv) in d.as_mut_slice().iter_mut().zip(xs) {
            *dv = act.slope(xv, *dv);
        }
    } else {
        d.as_mut_slice()
            .par_chunks_mut(MAP_GRAIN)
            .zip(xs.par_chunks(MAP_GRAIN))
            .for_each(|(dc, xc)| {
                for (dv, &xv) in dc.iter_mut().zip(xc) {
                    *dv = act.slope(xv, *dv);
                }
            });
    }
    d
}

// ---------------------------------------------------------------------------------------
// Reverse mode.

/// What produced a tape node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeOp {
    /// The network input x.
    Input,
    /// An affine layer applied to the previous node.
    Affine(Layer),
    /// An activation applied to the previous node.
    Unary(Activation),
}

/// One recorded value: the op that made it and its primal value.
#[derive(Clone)]
pub struct Node<T> {
    /// The op.
    pub op: NodeOp,
    /// Index of the node it was computed from (its only input).
    pub input: usize,
    /// The primal value, n×width.
    pub value: Matrix<T>,
    /// For an activation node, φ'(z) at every entry: both modes reuse it, so it is computed
    /// once when the tape is recorded.
    pub slope: Option<Matrix<T>>,
}

/// A Wengert list of layer ops with their saved values, owned by the caller.
///
/// Dense networks are chains, so every node has exactly one input and backpropagation is a
/// walk down the list.
#[derive(Clone)]
pub struct Tape<'a, T> {
    theta: &'a [T],
    nodes: Vec<Node<T>>,
}

impl<'a, T: Real> Tape<'a, T> {
    /// The recorded nodes, input first.
    pub fn nodes(&self) -> &[Node<T>] {
        &self.nodes
    }
    /// The batch size n.
    pub fn batch(&self) -> usize {
        self.nodes[0].value.rows()
    }
    /// θ the tape was recorded at.
    pub fn theta(&self) -> &'a [T] {
        self.theta
    }
    /// The value of the last node (the network output, after [`mlp`]).
    pub fn output(&self) -> &Matrix<T> {
        &self.nodes.last().expect("tape has an input node").value
    }
}

/// Reverse mode: builds a [`Tape`]. Values are node indices.
pub struct Reverse<'a, T> {
    tape: Tape<'a, T>,
    par: Par,
}

impl<'a, T: Real> Reverse<'a, T> {
    /// A tape at θ whose first node is the input x.
    pub fn new(theta: &'a [T], x: Matrix<T>, par: Par) -> (Self, usize) {
        let tape = Tape {
            theta,
            nodes: vec![Node {
                op: NodeOp::Input,
                input: 0,
                value: x,
                slope: None,
            }],
        };
        (Reverse { tape, par }, 0)
    }
    /// The finished tape.
    pub fn into_tape(self) -> Tape<'a, T> {
        self.tape
    }
}

impl<T: Real> Ops<T> for Reverse<'_, T> {
    type Value = usize;
    fn affine(&mut self, layer: &Layer, input: usize) -> Result<usize> {
        let aff = layer.affine(self.tape.theta)?;
        let value = affine_forward(&aff, &self.tape.nodes[input].value, self.par)?;
        self.tape.nodes.push(Node {
            op: NodeOp::Affine(*layer),
            input,
            value,
            slope: None,
        });
        Ok(self.tape.nodes.len() - 1)
    }
    fn unary(&mut self, act: Activation, input: usize) -> Result<usize> {
        let value = map_activation(act, &self.tape.nodes[input].value);
        let slope = slopes(act, &self.tape.nodes[input].value, &value);
        self.tape.nodes.push(Node {
            op: NodeOp::Unary(act),
            input,
            value,
            slope: Some(slope),
        });
        Ok(self.tape.nodes.len() - 1)
    }
}

/// A block of cotangent rows. Row r belongs to sample `sample[r]`; the rows are grouped by
/// owner (cotangent): owner t has rows `t·m … t·m + m − 1` with m = rows/owners.
///
/// A full VJP of k cotangents u_t ∈ R^{n×o} has m = n rows per owner, sample[r] = r mod n.
/// Because output row i of the network depends on input row i only (batch independence), a
/// one-hot cotangent at (i, a) needs only sample i's backward pass: m = 1, one row.
#[derive(Clone)]
pub struct Cotangents<T> {
    /// R×width.
    pub data: Matrix<T>,
    /// Sample index of each row.
    pub sample: Vec<usize>,
    /// Number of owners (cotangents) k; R must be a multiple of k.
    pub owners: usize,
}

/// Receives, for each affine layer on the way down, the cotangent h̄ of its output and the
/// saved input a, to turn them into parameter cotangents (a gradient, Jacobian rows, or the
/// per-layer factors of the NTK).
pub trait ParamSink<T: Real> {
    /// Called once per affine layer, output side first. `h_bar` is R×n_out (the rows of the
    /// cotangent block), `sample[r]` the sample of row r, `a` the layer's full n×n_in input.
    fn layer(
        &mut self,
        layer: &Layer,
        aff: &Affine<'_, T>,
        h_bar: MatRef<'_, T>,
        sample: &[usize],
        owners: usize,
        a: &Matrix<T>,
    ) -> Result<()>;
}

impl<T: Real> Tape<'_, T> {
    /// Backpropagates a block of cotangents of node `output` down to the input, handing each
    /// affine layer's (h̄, a) to `sink`. The input x needs no cotangent, so the first layer's
    /// ā = s·h̄W is never formed.
    pub fn backward(
        &self,
        output: usize,
        cot: Cotangents<T>,
        sink: &mut impl ParamSink<T>,
        par: Par,
    ) -> Result<()> {
        let rows = cot.data.rows();
        if cot.sample.len() != rows || cot.owners == 0 || !rows.is_multiple_of(cot.owners) {
            return Err(AdError::Shape {
                what: format!(
                    "cotangent block of {rows} rows with {} sample indices and {} owners",
                    cot.sample.len(),
                    cot.owners
                ),
            });
        }
        let n = self.batch();
        if let Some(&s) = cot.sample.iter().find(|&&s| s >= n) {
            return Err(AdError::Shape {
                what: format!("cotangent row for sample {s}, batch has {n}"),
            });
        }
        if cot.data.cols() != self.nodes[output].value.cols() {
            return Err(AdError::Shape {
                what: format!(
                    "cotangent has {} columns, the value has {}",
                    cot.data.cols(),
                    self.nodes[output].value.cols()
                ),
            });
        }
        let sample = cot.sample;
        let mut bar = cot.data;
        let mut node = output;
        loop {
            let nd = &self.nodes[node];
            match nd.op {
                NodeOp::Input => return Ok(()),
                NodeOp::Affine(layer) => {
                    let aff = layer.affine(self.theta)?;
                    let a = &self.nodes[nd.input].value;
                    sink.layer(&layer, &aff, bar.as_ref(), &sample, cot.owners, a)?;
                    if self.nodes[nd.input].op == NodeOp::Input {
                        return Ok(());
                    }
                    let mut a_bar = Matrix::zeros(rows, layer.n_in);
                    aff.vjp_input(bar.as_ref(), T::zero(), a_bar.as_mut(), par)?;
                    bar = a_bar;
                }
                NodeOp::Unary(_) => {
                    let slope = nd.slope.as_ref().expect("activation nodes carry φ'");
                    for (r, &s) in sample.iter().enumerate() {
                        for (b, &d) in bar.row_mut(r).iter_mut().zip(slope.row(s)) {
                            *b *= d;
                        }
                    }
                }
            }
            node = nd.input;
        }
    }
}

/// Sums parameter cotangents per owner: owner t's gradient Σ over its rows, as row t of a
/// k×p matrix. With the rows of owner t being the n samples in order, W̄ = s·h̄ᵀa is one GEMM.
pub struct GradientSink<T> {
    /// k×p: one gradient per owner.
    pub grads: Matrix<T>,
    /// Parallelism of the GEMMs.
    pub par: Par,
}

impl<T: Real> ParamSink<T> for GradientSink<T> {
    fn layer(
        &mut self,
        layer: &Layer,
        aff: &Affine<'_, T>,
        h_bar: MatRef<'_, T>,
        sample: &[usize],
        owners: usize,
        a: &Matrix<T>,
    ) -> Result<()> {
        let m = h_bar.rows() / owners;
        let in_order = m == a.rows() && (0..sample.len()).all(|r| sample[r] == r % m);
        for t in 0..owners {
            let hb = h_bar.submatrix(t * m, 0, m, layer.n_out);
            let gathered;
            let a_t = if in_order {
                a.as_ref()
            } else {
                gathered = Matrix::from_fn(m, layer.n_in, |r, c| a.get(sample[t * m + r], c));
                gathered.as_ref()
            };
            let g = self.grads.row_mut(t);
            let (w_part, rest) = g[layer.w_offset..].split_at_mut(layer.n_out * layer.n_in);
            let w_bar = MatMut::from_slice(w_part, layer.n_out, layer.n_in, layer.n_in)?;
            aff.vjp_weight(hb, a_t, T::one(), w_bar, self.par)?;
            aff.vjp_bias(hb, &mut rest[..layer.n_out])?;
        }
        Ok(())
    }
}

/// A raw pointer that rayon tasks may share, each writing a disjoint part of the buffer.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut<T>(pub *mut T);
// SAFETY: used only to hand disjoint regions of one buffer to different tasks; every use site
// documents why the regions are disjoint.
unsafe impl<T: Send> Send for SharedMut<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// The pointer. A method, so that closures capture the whole (Send + Sync) wrapper.
    #[inline]
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}

/// A zeroed rows×cols matrix for a large result (a Jacobian, a kernel).
///
/// Such buffers are written once, sample block by sample block, and their cost is dominated by
/// the first touch of every page: 4 KiB page faults cost more than the arithmetic that fills
/// them. On Linux the buffer is therefore advised as transparent-huge-page memory before the
/// first touch (`madvise(MADV_HUGEPAGE)`, a hint the kernel may ignore), so one fault maps
/// 2 MiB. The memory comes from `calloc` and is not touched here, so the advice takes effect.
pub(crate) fn zeroed_large<T: Real>(rows: usize, cols: usize) -> Matrix<T> {
    let mut m = Matrix::zeros(rows, cols);
    advise_huge_pages(m.as_mut_slice());
    m
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(buf: &mut [T]) {
    const HUGE: usize = 2 << 20;
    const MADV_HUGEPAGE: i32 = 14;
    extern "C" {
        fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
    }
    let bytes = std::mem::size_of_val(buf);
    if bytes < 4 * HUGE {
        return;
    }
    let start = buf.as_mut_ptr() as usize;
    let first = start.div_ceil(HUGE) * HUGE;
    let end = (start + bytes) / HUGE * HUGE;
    if end > first {
        // SAFETY: [first, end) lies inside `buf`, which we borrow mutably; MADV_HUGEPAGE only
        // changes how the kernel backs the pages, never their contents. The result is ignored:
        // the advice is an optimisation.
        unsafe {
            madvise(first as *mut std::ffi::c_void, end - first, MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_buf: &mut [T]) {}
