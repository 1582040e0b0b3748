//! Plain evaluation on the reference engine: values only, nothing recorded for derivatives.

use super::backend::{bad_var, Graph, Var};
use super::prims::primitive::{forward, Prim};
use crate::error::Result;
use crate::tensor::Tensor;
use linalg::Real;

/// Plain evaluation: values only, nothing recorded for derivatives.
#[derive(Clone, Debug, Default)]
pub struct Eval<T: Real> {
    values: Vec<Tensor<T>>,
}

impl<T: Real> Eval<T> {
    /// An empty evaluator.
    pub fn new() -> Self {
        Eval { values: Vec::new() }
    }

    /// Moves a value out (leaving an empty placeholder in the graph).
    pub fn take(&mut self, v: Var) -> Result<Tensor<T>> {
        let n = self.values.len();
        let slot = self.values.get_mut(v.0).ok_or_else(|| bad_var(v, n))?;
        Ok(std::mem::replace(
            slot,
            Tensor::from_parts(vec![0], Vec::new()),
        ))
    }
}

impl<T: Real> Graph<T> for Eval<T> {
    fn constant(&mut self, value: Tensor<T>) -> Var {
        self.values.push(value);
        Var(self.values.len() - 1)
    }
    fn value(&self, v: Var) -> Result<&Tensor<T>> {
        self.values
            .get(v.0)
            .ok_or_else(|| bad_var(v, self.values.len()))
    }
    fn apply(&mut self, prim: Prim<T>, inputs: &[Var]) -> Result<Var> {
        let xs = inputs
            .iter()
            .map(|&v| self.value(v))
            .collect::<Result<Vec<_>>>()?;
        let y = forward(&*prim, &xs)?;
        Ok(self.constant(y))
    }
}
