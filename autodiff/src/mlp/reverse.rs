//! Reverse mode on the layer engine: a caller-owned tape of layer ops and one backward sweep.
//!
//! [`Reverse`] records each op with its value (and φ'(z) for activations) on a [`LayerTape`];
//! [`LayerTape::backward`] walks it from the output down, carrying a block of cotangent rows,
//! ā = s·h̄ W through affine layers and z̄ = ā ⊙ φ'(z) through φ (Griewank & Walther,
//! *Evaluating Derivatives*, 2nd ed., §3.2), and hands each affine layer's (h̄, a) to a
//! [`ParamSink`] that turns them into a gradient, Jacobian rows or NTK factors.

use super::affine::Affine;
use super::net::Layer;
use super::ops::{
    affine_forward, map_activation, map_activation_in_place, slopes, slopes_in_place, Ops,
};
use crate::error::{AdError, Result};
use crate::unary::Activation;
use linalg::mem::SharedMut;
use linalg::{MatMut, MatRef, Matrix, Par, Real};

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
pub struct LayerTape<'a, T> {
    theta: &'a [T],
    nodes: Vec<Node<T>>,
}

impl<'a, T: Real> LayerTape<'a, T> {
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
    /// The value of the last node (the network output, after [`super::ops::mlp`]).
    pub fn output(&self) -> &Matrix<T> {
        &self.nodes.last().expect("tape has an input node").value
    }
}

/// Reverse mode: builds a [`LayerTape`]. Values are node indices.
pub struct Reverse<'a, T> {
    tape: LayerTape<'a, T>,
    par: Par,
}

impl<'a, T: Real> Reverse<'a, T> {
    /// A tape at θ whose first node is the input x.
    pub fn new(theta: &'a [T], x: Matrix<T>, par: Par) -> (Self, usize) {
        let tape = LayerTape {
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
    pub fn into_tape(self) -> LayerTape<'a, T> {
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
    /// z, φ(z) and φ'(z) from one GEMM: bias, φ and φ' run in its epilogue on each finished
    /// row segment of z, which then goes to memory once instead of being read back twice.
    fn affine_unary(&mut self, layer: &Layer, act: Activation, input: usize) -> Result<usize> {
        let aff = layer.affine(self.tape.theta)?;
        let x = &self.tape.nodes[input].value;
        let (n, w) = (x.rows(), aff.n_out());
        let mut z = Matrix::<T>::zeros(n, w);
        let mut a = Matrix::<T>::zeros(n, w);
        let mut d = Matrix::<T>::zeros(n, w);
        let (ap, dp) = (
            SharedMut::new(a.as_mut_slice().as_mut_ptr()),
            SharedMut::new(d.as_mut_slice().as_mut_ptr()),
        );
        let post = |i: usize, j0: usize, row: &mut [T]| {
            // SAFETY: a and d are n×w like z, and the epilogue hands out each (i, j0..) run of
            // z once, so the same runs of a and d are written by one thread only.
            let (a_row, d_row) = unsafe {
                (
                    std::slice::from_raw_parts_mut(ap.get().add(i * w + j0), row.len()),
                    std::slice::from_raw_parts_mut(dp.get().add(i * w + j0), row.len()),
                )
            };
            a_row.copy_from_slice(row);
            map_activation_in_place(act, a_row);
            d_row.copy_from_slice(a_row);
            slopes_in_place(act, d_row, row);
        };
        aff.forward_mapped(x.as_ref(), z.as_mut(), self.par, &post)?;
        self.tape.nodes.push(Node {
            op: NodeOp::Affine(*layer),
            input,
            value: z,
            slope: None,
        });
        let z_node = self.tape.nodes.len() - 1;
        self.tape.nodes.push(Node {
            op: NodeOp::Unary(act),
            input: z_node,
            value: a,
            slope: Some(d),
        });
        Ok(self.tape.nodes.len() - 1)
    }
}

/// A block of cotangent rows. Row r belongs to sample `sample[r]`; the rows are grouped by
/// owner (cotangent): owner t has rows `t·m … t·m + m − 1` with m = rows/owners.
///
/// A full VJP of k cotangents u_t ∈ R^{n×o} has m = n rows per owner, sample\[r\] = r mod n.
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

impl<T: Real> Cotangents<T> {
    /// The one-hot cotangents of the flat output rows r0 … r0 + k − 1 (row r = (sample r / o,
    /// output r mod o)), one row and one owner each: the rows of J by batch independence.
    pub fn one_hot_rows(r0: usize, k: usize, o: usize) -> Self {
        Cotangents {
            data: Matrix::from_fn(k, o, |t, a| {
                if (r0 + t) % o == a {
                    T::one()
                } else {
                    T::zero()
                }
            }),
            sample: (r0..r0 + k).map(|r| r / o).collect(),
            owners: k,
        }
    }
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

impl<T: Real> LayerTape<'_, T> {
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
