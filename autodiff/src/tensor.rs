//! `Tensor<T>`: a shape and a contiguous row-major buffer.
//!
//! Entry (i₀, …, i_{d−1}) of a tensor with shape (n₀, …, n_{d−1}) sits at
//! Σ_a i_a·s_a with strides s_{d−1} = 1, s_a = n_{a+1}·s_{a+1} (C order). A tensor with shape
//! `[]` is a scalar holding one entry. Values in this crate use up to four axes; a *block* of k
//! tangents or cotangents of a value with shape S is a tensor with shape [k, S…], so one more
//! axis is allowed (at most [`MAX_AXES`]).

use crate::error::{AdError, Result};
use linalg::{MatMut, MatRef, Matrix, Real};

/// Most axes a tensor may have: four for values, plus a leading block axis.
pub const MAX_AXES: usize = 5;

/// A dense tensor: shape plus row-major (C order) data.
#[derive(Clone, PartialEq)]
pub struct Tensor<T> {
    shape: Vec<usize>,
    data: Vec<T>,
}

impl<T: Real> std::fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: Vec<String> = self
            .data
            .iter()
            .take(8)
            .map(|x| format!("{:.4e}", x.to_f64()))
            .collect();
        let more = if self.data.len() > 8 { ", …" } else { "" };
        write!(f, "Tensor{:?}[{}{more}]", self.shape, head.join(", "))
    }
}

fn check_axes(shape: &[usize]) -> Result<()> {
    if shape.len() > MAX_AXES {
        return Err(AdError::Shape {
            what: format!("shape {shape:?} has more than {MAX_AXES} axes"),
        });
    }
    Ok(())
}

/// Number of entries of a shape: the product of its extents (1 for a scalar).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides of a shape: s_{d−1} = 1, s_a = n_{a+1}·s_{a+1}.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

impl<T: Real> Tensor<T> {
    /// The zero tensor of a shape.
    pub fn zeros(shape: &[usize]) -> Result<Self> {
        check_axes(shape)?;
        Ok(Tensor {
            shape: shape.to_vec(),
            data: vec![T::zero(); numel(shape)],
        })
    }

    /// The tensor of a shape with every entry equal to `value`.
    pub fn full(shape: &[usize], value: T) -> Result<Self> {
        check_axes(shape)?;
        Ok(Tensor {
            shape: shape.to_vec(),
            data: vec![value; numel(shape)],
        })
    }

    /// A scalar (shape `[]`).
    pub fn scalar(value: T) -> Self {
        Tensor {
            shape: Vec::new(),
            data: vec![value],
        }
    }

    /// A vector (shape `[n]`).
    pub fn vector(data: Vec<T>) -> Self {
        Tensor {
            shape: vec![data.len()],
            data,
        }
    }

    /// Wraps a row-major buffer; errors if its length is not the product of the shape.
    pub fn from_vec(shape: &[usize], data: Vec<T>) -> Result<Self> {
        check_axes(shape)?;
        if data.len() != numel(shape) {
            return Err(AdError::Shape {
                what: format!(
                    "buffer of {} entries for shape {shape:?} ({} entries)",
                    data.len(),
                    numel(shape)
                ),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// Builds a tensor whose entry at flat (row-major) position i is `f(i)`.
    pub fn from_fn(shape: &[usize], f: impl FnMut(usize) -> T) -> Result<Self> {
        check_axes(shape)?;
        Ok(Tensor {
            shape: shape.to_vec(),
            data: (0..numel(shape)).map(f).collect(),
        })
    }

    /// Converts every entry through f64 (exact from f32, rounded to nearest into f32).
    pub fn from_f64(shape: &[usize], data: &[f64]) -> Result<Self> {
        Self::from_vec(shape, data.iter().map(|&x| T::from_f64(x)).collect())
    }

    /// Copies the entries out as f64.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.data.iter().map(|x| x.to_f64()).collect()
    }

    /// Casts to another precision through f64.
    pub fn cast<U: Real>(&self) -> Tensor<U> {
        Tensor {
            shape: self.shape.clone(),
            data: self.data.iter().map(|x| U::from_f64(x.to_f64())).collect(),
        }
    }

    /// Builds without checks; the caller guarantees `data.len() == numel(&shape)`.
    pub(crate) fn from_parts(shape: Vec<usize>, data: Vec<T>) -> Self {
        debug_assert_eq!(data.len(), numel(&shape));
        Tensor { shape, data }
    }

    /// The extents of the axes.
    #[inline]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of axes.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no entries (some extent is zero).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The row-major buffer.
    #[inline]
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The row-major buffer, mutable (the shape stays fixed).
    #[inline]
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Consumes the tensor, returning its buffer.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Consumes the tensor, returning shape and buffer.
    pub fn into_parts(self) -> (Vec<usize>, Vec<T>) {
        (self.shape, self.data)
    }

    /// The same entries under another shape with the same number of entries (no copy).
    pub fn reshape(self, shape: &[usize]) -> Result<Self> {
        check_axes(shape)?;
        if numel(shape) != self.data.len() {
            return Err(AdError::Shape {
                what: format!(
                    "cannot reshape {:?} ({} entries) to {shape:?} ({} entries)",
                    self.shape,
                    self.data.len(),
                    numel(shape)
                ),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data: self.data,
        })
    }

    /// Flat row-major offset of a multi-index; errors when the index has the wrong length or
    /// lies out of bounds.
    pub fn offset(&self, index: &[usize]) -> Result<usize> {
        if index.len() != self.shape.len() || index.iter().zip(&self.shape).any(|(i, n)| i >= n) {
            return Err(AdError::Shape {
                what: format!("index {index:?} out of bounds for shape {:?}", self.shape),
            });
        }
        Ok(index
            .iter()
            .zip(strides(&self.shape))
            .map(|(i, s)| i * s)
            .sum())
    }

    /// The entry at a multi-index.
    pub fn get(&self, index: &[usize]) -> Result<T> {
        Ok(self.data[self.offset(index)?])
    }

    /// Sets the entry at a multi-index.
    pub fn set(&mut self, index: &[usize], value: T) -> Result<()> {
        let o = self.offset(index)?;
        self.data[o] = value;
        Ok(())
    }

    /// The single entry of a one-entry tensor (a scalar, or any shape of size 1).
    pub fn item(&self) -> Result<T> {
        if self.data.len() != 1 {
            return Err(AdError::Shape {
                what: format!("item() of a tensor with shape {:?}", self.shape),
            });
        }
        Ok(self.data[0])
    }

    /// Applies `f` to every entry.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Tensor {
            shape: self.shape.clone(),
            data: self.data.iter().map(|&x| f(x)).collect(),
        }
    }

    /// ⟨a, b⟩ = Σ aᵢbᵢ over the flat buffers; errors when the lengths differ.
    pub fn dot(&self, other: &Self) -> Result<T> {
        if self.data.len() != other.data.len() {
            return Err(AdError::Shape {
                what: format!("dot of {:?} and {:?}", self.shape, other.shape),
            });
        }
        Ok(self
            .data
            .iter()
            .zip(&other.data)
            .map(|(&a, &b)| a * b)
            .sum())
    }

    /// Euclidean norm of the flat buffer, accumulated in f64.
    pub fn norm(&self) -> f64 {
        self.data
            .iter()
            .map(|x| {
                let v = x.to_f64();
                v * v
            })
            .sum::<f64>()
            .sqrt()
    }

    /// True when every entry is finite.
    pub fn is_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }

    /// Adds `other` (same number of entries) into `self`.
    pub(crate) fn add_assign(&mut self, other: &Self) {
        debug_assert_eq!(self.data.len(), other.data.len());
        for (a, &b) in self.data.iter_mut().zip(&other.data) {
            *a += b;
        }
    }

    /// A 2-D tensor from a matrix (copies).
    pub fn from_matrix(m: &Matrix<T>) -> Self {
        Tensor {
            shape: vec![m.rows(), m.cols()],
            data: m.as_slice().to_vec(),
        }
    }

    /// A 2-D tensor from any strided view (copies).
    pub fn from_mat_ref(m: MatRef<'_, T>) -> Self {
        Self::from_matrix(&m.to_owned())
    }

    /// The 2-D tensor as a matrix (moves the buffer); errors unless it has two axes.
    pub fn into_matrix(self) -> Result<Matrix<T>> {
        let (r, c) = self.dims2()?;
        Ok(Matrix::from_vec(r, c, self.data)?)
    }

    /// (rows, cols) of a 2-D tensor.
    pub fn dims2(&self) -> Result<(usize, usize)> {
        match self.shape[..] {
            [r, c] => Ok((r, c)),
            _ => Err(AdError::Shape {
                what: format!("expected a 2-D tensor, found shape {:?}", self.shape),
            }),
        }
    }

    /// A borrowed matrix view of a 2-D tensor.
    pub fn as_mat(&self) -> Result<MatRef<'_, T>> {
        let (r, c) = self.dims2()?;
        Ok(MatRef::from_slice(&self.data, r, c, c)?)
    }

    /// A mutable matrix view of a 2-D tensor.
    pub fn as_mat_mut(&mut self) -> Result<MatMut<'_, T>> {
        let (r, c) = self.dims2()?;
        Ok(MatMut::from_slice(&mut self.data, r, c, c)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_row_major() {
        let t = Tensor::<f64>::from_fn(&[2, 3, 4], |i| i as f64).unwrap();
        assert_eq!(t.get(&[1, 2, 3]).unwrap(), 23.0);
        assert_eq!(t.get(&[0, 1, 0]).unwrap(), 4.0);
        assert!(t.get(&[2, 0, 0]).is_err());
        assert!(t.get(&[0, 0]).is_err());
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
    }

    #[test]
    fn reshape_and_matrix_round_trip() {
        let t = Tensor::<f32>::from_fn(&[6], |i| i as f32).unwrap();
        assert!(t.clone().reshape(&[4, 2]).is_err());
        let m = t.reshape(&[2, 3]).unwrap().into_matrix().unwrap();
        assert_eq!(m.get(1, 0), 3.0);
        let back = Tensor::from_matrix(&m);
        assert_eq!(back.shape(), &[2, 3]);
        assert_eq!(back.as_mat().unwrap().get(1, 2), 5.0);
        assert!(Tensor::<f32>::zeros(&[1, 1, 1, 1, 1, 1]).is_err());
        assert!(Tensor::<f32>::from_vec(&[2, 2], vec![0.0; 3]).is_err());
    }
}
