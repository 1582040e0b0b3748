//! Forward mode: every value carries a block of k tangents.
//!
//! A [`Dual`] is a primal x with tangents Ẋ = [ẋ₁ … ẋ_k] stored as one tensor [k, shape(x)…].
//! Each primitive maps (x, Ẋ) to (f(x), J_f(x)·Ẋ) with its block JVP rule, so k
//! Jacobian–vector products share one pass over the function, and linear maps act on the k
//! directions as matrix–matrix products (Griewank & Walther, *Evaluating Derivatives*, 2nd
//! ed., §3.1 "vector forward mode").

use super::backend::{bad_var, Graph, Var};
use super::prims::block::{check_block, zeros_block};
use super::prims::primitive::{forward, jvp, Prim};
use crate::error::{AdError, Result};
use crate::tensor::Tensor;
use linalg::Real;

/// A primal value and a block of k tangents.
#[derive(Clone, Debug)]
pub struct Dual<T: Real> {
    /// The value x.
    pub primal: Tensor<T>,
    /// The tangents [k, shape(x)…]; `None` means all zero (a constant), which rules skip.
    pub tangents: Option<Tensor<T>>,
}

impl<T: Real> Dual<T> {
    /// The tangents, materialising zeros for a constant.
    pub fn tangents_or_zeros(&self, k: usize) -> Tensor<T> {
        match &self.tangents {
            Some(t) => t.clone(),
            None => zeros_block(self.primal.shape(), k),
        }
    }
}

/// The forward-mode backend of [`Graph`]: values are [`Dual`]s with k tangents each.
#[derive(Clone, Debug)]
pub struct DualGraph<T: Real> {
    k: usize,
    nodes: Vec<Dual<T>>,
}

impl<T: Real> DualGraph<T> {
    /// A graph whose values carry k tangents each.
    pub fn new(k: usize) -> Self {
        DualGraph {
            k,
            nodes: Vec::new(),
        }
    }

    /// Number of tangent directions k.
    pub fn directions(&self) -> usize {
        self.k
    }

    /// Adds an input x with its tangent block [k, shape(x)…].
    pub fn input(&mut self, primal: Tensor<T>, tangents: Tensor<T>) -> Result<Var> {
        check_block(&tangents, primal.shape(), self.k, "input tangent")?;
        self.nodes.push(Dual {
            primal,
            tangents: Some(tangents),
        });
        Ok(Var(self.nodes.len() - 1))
    }

    /// The dual number behind a handle.
    pub fn dual(&self, v: Var) -> Result<&Dual<T>> {
        self.nodes
            .get(v.0)
            .ok_or_else(|| bad_var(v, self.nodes.len()))
    }

    /// The tangent block [k, shape…] of a value (zeros for a constant).
    pub fn tangents(&self, v: Var) -> Result<Tensor<T>> {
        Ok(self.dual(v)?.tangents_or_zeros(self.k))
    }

    /// Moves a dual number out (leaving an empty placeholder).
    pub fn take(&mut self, v: Var) -> Result<Dual<T>> {
        let n = self.nodes.len();
        let slot = self.nodes.get_mut(v.0).ok_or_else(|| bad_var(v, n))?;
        Ok(std::mem::replace(
            slot,
            Dual {
                primal: Tensor::from_parts(vec![0], Vec::new()),
                tangents: None,
            },
        ))
    }
}

impl<T: Real> Graph<T> for DualGraph<T> {
    fn constant(&mut self, value: Tensor<T>) -> Var {
        self.nodes.push(Dual {
            primal: value,
            tangents: None,
        });
        Var(self.nodes.len() - 1)
    }

    fn value(&self, v: Var) -> Result<&Tensor<T>> {
        Ok(&self.dual(v)?.primal)
    }

    fn apply(&mut self, prim: Prim<T>, inputs: &[Var]) -> Result<Var> {
        let ds = inputs
            .iter()
            .map(|&v| self.dual(v))
            .collect::<Result<Vec<_>>>()?;
        let xs: Vec<&Tensor<T>> = ds.iter().map(|d| &d.primal).collect();
        let y = forward(&*prim, &xs)?;
        let dx: Vec<Option<&Tensor<T>>> = ds.iter().map(|d| d.tangents.as_ref()).collect();
        let tangents = if dx.iter().any(Option::is_some) {
            let t = jvp(&*prim, &xs, &y, &dx, self.k)?;
            if t.shape()[0] != self.k {
                return Err(AdError::Shape {
                    what: format!("{}: JVP returned {:?}", prim.name(), t.shape()),
                });
            }
            Some(t)
        } else {
            None
        };
        self.nodes.push(Dual {
            primal: y,
            tangents,
        });
        Ok(Var(self.nodes.len() - 1))
    }
}
