//! Reverse mode: a caller-owned tape (Wengert list).
//!
//! Each entry records the primitive, the handles of its operands and its value (the saved
//! values the VJP rules read). Entries are appended in evaluation order, so the list is
//! already topologically sorted; the backward sweep walks it once from the output down,
//! accumulating adjoints x̄ᵢ += (∂f/∂xᵢ)ᵀ ȳ (Griewank & Walther, *Evaluating Derivatives*,
//! 2nd ed., §3.2). The sweep carries a block of k cotangents [k, shape…] per value, so k
//! vector–Jacobian products cost one sweep and matmul adjoints become GEMMs.
//!
//! There is no global state and no shared ownership: a [`Var`] is an index into the tape,
//! and the tape is an ordinary value the caller owns and drops.

use super::backend::{bad_var, Graph, Var};
use super::prims::block::{block_shape, check_block, zeros_block};
use super::prims::primitive::{forward, vjp, Prim};
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use linalg::Real;

#[derive(Clone, Debug)]
struct Node<T: Real> {
    /// `None` for a leaf (an input or a constant).
    prim: Option<Prim<T>>,
    inputs: Vec<Var>,
    value: Tensor<T>,
    /// Whether any differentiable leaf reaches this entry: only such entries get adjoints.
    needs_grad: bool,
}

/// A Wengert list recording values and primitives for reverse mode.
#[derive(Clone, Debug, Default)]
pub struct Tape<T: Real> {
    nodes: Vec<Node<T>>,
}

/// Adjoints of the differentiable leaves after a backward sweep.
///
/// After [`Tape::vjp`] each adjoint has its leaf's shape; after [`Tape::vjp_block`] it has
/// shape [k, shape…].
#[derive(Clone, Debug)]
pub struct Gradients<T: Real> {
    adjoints: Vec<Option<Tensor<T>>>,
    shapes: Vec<Vec<usize>>,
    block: Option<usize>,
}

impl<T: Real> Gradients<T> {
    /// The adjoint of a leaf, or `None` when the output does not depend on it.
    pub fn get(&self, v: Var) -> Option<&Tensor<T>> {
        self.adjoints.get(v.0).and_then(Option::as_ref)
    }

    /// The adjoint of a leaf, zeros when the output does not depend on it; errors for a
    /// handle not on the tape.
    pub fn wrt(&self, v: Var) -> Result<Tensor<T>> {
        if let Some(t) = self.get(v) {
            return Ok(t.clone());
        }
        let shape = self
            .shapes
            .get(v.0)
            .ok_or_else(|| bad_var(v, self.shapes.len()))?;
        Ok(match self.block {
            Some(k) => zeros_block(shape, k),
            None => Tensor::zeros(shape)?,
        })
    }

    /// Moves the adjoint of a leaf out (zeros when the output does not depend on it).
    pub fn take(&mut self, v: Var) -> Result<Tensor<T>> {
        match self.adjoints.get_mut(v.0).and_then(Option::take) {
            Some(t) => Ok(t),
            None => self.wrt(v),
        }
    }
}

impl<T: Real> Tape<T> {
    /// An empty tape.
    pub fn new() -> Self {
        Tape { nodes: Vec::new() }
    }

    /// An empty tape with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Tape {
            nodes: Vec::with_capacity(n),
        }
    }

    /// Forgets every entry but keeps the allocation, so a training loop can record each step
    /// on the same tape. Handles from before the call become invalid (they error or point at
    /// new entries, never at freed memory).
    pub fn clear(&mut self) {
        self.nodes.clear();
    }

    /// Number of recorded entries.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds a differentiable input (its adjoint is reported by the backward sweep).
    pub fn leaf(&mut self, value: Tensor<T>) -> Var {
        self.push(None, Vec::new(), value, true)
    }

    fn push(
        &mut self,
        prim: Option<Prim<T>>,
        inputs: Vec<Var>,
        value: Tensor<T>,
        needs_grad: bool,
    ) -> Var {
        self.nodes.push(Node {
            prim,
            inputs,
            value,
            needs_grad,
        });
        Var(self.nodes.len() - 1)
    }

    fn node(&self, v: Var) -> Result<&Node<T>> {
        self.nodes
            .get(v.0)
            .ok_or_else(|| bad_var(v, self.nodes.len()))
    }

    /// One VJP: adjoints x̄ = (∂y/∂x)ᵀ u of every leaf for a cotangent u shaped like y.
    pub fn vjp(&self, output: Var, cotangent: &Tensor<T>) -> Result<Gradients<T>> {
        let shape = self.node(output)?.value.shape().to_vec();
        if cotangent.shape() != shape.as_slice() {
            return Err(AdError::Shape {
                what: format!(
                    "cotangent {:?} for an output of shape {shape:?}",
                    cotangent.shape()
                ),
            });
        }
        let block = cotangent.clone().reshape(&block_shape(&shape, 1))?;
        let mut g = self.vjp_block(output, &block)?;
        for (a, s) in g.adjoints.iter_mut().zip(&g.shapes) {
            if let Some(t) = a.take() {
                *a = Some(t.reshape(s)?);
            }
        }
        g.block = None;
        Ok(g)
    }

    /// k VJPs in one sweep: `cotangents` is [k, shape(y)…]; each leaf's adjoint is
    /// [k, shape(x)…] with row r = (∂y/∂x)ᵀ uᵣ.
    pub fn vjp_block(&self, output: Var, cotangents: &Tensor<T>) -> Result<Gradients<T>> {
        let out = self.node(output)?;
        let k = cotangents.shape().first().copied().unwrap_or(0);
        check_block(cotangents, out.value.shape(), k, "cotangent")?;
        let mut adj: Vec<Option<Tensor<T>>> = vec![None; output.0 + 1];
        if out.needs_grad {
            adj[output.0] = Some(cotangents.clone());
        }
        let mut leaves: Vec<Option<Tensor<T>>> = vec![None; self.nodes.len()];
        for i in (0..=output.0).rev() {
            let Some(ybar) = adj[i].take() else { continue };
            let node = &self.nodes[i];
            let Some(prim) = &node.prim else {
                leaves[i] = Some(ybar);
                continue;
            };
            let needs: Vec<bool> = node
                .inputs
                .iter()
                .map(|v| self.nodes[v.0].needs_grad)
                .collect();
            let xs: Vec<&Tensor<T>> = node.inputs.iter().map(|v| &self.nodes[v.0].value).collect();
            let xbars = vjp(&**prim, &xs, &node.value, &ybar, &needs)?;
            for ((v, xbar), need) in node.inputs.iter().zip(xbars).zip(needs) {
                let Some(xbar) = xbar.filter(|_| need) else {
                    continue;
                };
                match &mut adj[v.0] {
                    Some(acc) => acc.add_assign(&xbar),
                    slot => *slot = Some(xbar),
                }
            }
        }
        Ok(Gradients {
            adjoints: leaves,
            shapes: self
                .nodes
                .iter()
                .map(|n| n.value.shape().to_vec())
                .collect(),
            block: Some(k),
        })
    }

    /// ∇y for a scalar output (one entry): the VJP with cotangent 1.
    pub fn grad(&self, output: Var) -> Result<Gradients<T>> {
        Ok(self.value_and_grad(output)?.1)
    }

    /// (y, ∇y) for a scalar output (one entry).
    pub fn value_and_grad(&self, output: Var) -> Result<(T, Gradients<T>)> {
        let y = &self.node(output)?.value;
        if y.len() != 1 {
            return Err(AdError::Shape {
                what: format!("gradient of a non-scalar output of shape {:?}", y.shape()),
            });
        }
        let value = y.data()[0];
        let one = Tensor::full(y.shape(), T::one())?;
        Ok((value, self.vjp(output, &one)?))
    }
}

impl<T: Real> Graph<T> for Tape<T> {
    fn constant(&mut self, value: Tensor<T>) -> Var {
        self.push(None, Vec::new(), value, false)
    }

    fn value(&self, v: Var) -> Result<&Tensor<T>> {
        Ok(&self.node(v)?.value)
    }

    fn apply(&mut self, prim: Prim<T>, inputs: &[Var]) -> Result<Var> {
        let nodes = inputs
            .iter()
            .map(|&v| self.node(v))
            .collect::<Result<Vec<_>>>()?;
        let xs: Vec<&Tensor<T>> = nodes.iter().map(|n| &n.value).collect();
        let needs_grad = nodes.iter().any(|n| n.needs_grad);
        let y = forward(&*prim, &xs)?;
        Ok(self.push(Some(prim), inputs.to_vec(), y, needs_grad))
    }
}
