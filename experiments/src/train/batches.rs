//! Seeded minibatches, and the minibatch loss of a network as a stochastic gradient source.
//!
//! The order of epoch e is a Fisher–Yates shuffle of 0..n drawn from ChaCha8 seeded with the
//! run's seed on stream e (`set_stream`), so every epoch has its own independent order, any
//! epoch can be regenerated without replaying the earlier ones, and nothing depends on the
//! thread count (the order is drawn on one thread before any parallel work).

use super::loss::{Loss, Targets};
use anyhow::{bail, Result};
use autodiff::mlp::Mlp;
use linalg::{MatRef, Matrix, Real};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The minibatch order of a training set of n samples.
#[derive(Clone, Debug)]
pub struct Batches {
    n: usize,
    batch_size: usize,
    seed: u64,
    drop_last: bool,
    epoch: u64,
    order: Vec<usize>,
    next: usize,
}

impl Batches {
    /// Batches of `batch_size` samples out of n, reshuffled each epoch from (`seed`, epoch).
    /// With `drop_last` the final partial batch of an epoch is skipped (PyTorch's
    /// `DataLoader(drop_last=True)`), otherwise it is served as a smaller batch.
    ///
    /// Errors on n = 0, a batch size of 0, or `drop_last` with a batch larger than n (no
    /// batch would ever be served).
    pub fn new(n: usize, batch_size: usize, seed: u64, drop_last: bool) -> Result<Self> {
        if n == 0 || batch_size == 0 {
            bail!("minibatches need samples and a batch size ≥ 1 (n = {n}, batch = {batch_size})");
        }
        if drop_last && batch_size > n {
            bail!("batch size {batch_size} > {n} samples with the last partial batch dropped");
        }
        Ok(Batches {
            n,
            batch_size,
            seed,
            drop_last,
            epoch: 0,
            order: epoch_order(n, seed, 0),
            next: 0,
        })
    }

    /// Batches served per epoch.
    pub fn per_epoch(&self) -> usize {
        if self.drop_last {
            self.n / self.batch_size
        } else {
            self.n.div_ceil(self.batch_size)
        }
    }

    /// The epoch the next batch comes from (0-based).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The sample indices of the next batch.
    pub fn next_batch(&mut self) -> Vec<usize> {
        let left = self.n - self.next;
        if left == 0 || (self.drop_last && left < self.batch_size) {
            self.epoch += 1;
            self.order = epoch_order(self.n, self.seed, self.epoch);
            self.next = 0;
        }
        let end = (self.next + self.batch_size).min(self.n);
        let batch = self.order[self.next..end].to_vec();
        self.next = end;
        batch
    }
}

/// The rows `rows` of x as a new matrix, a slice copy per row when x's rows are contiguous
/// (the minibatch gather runs once per training step).
pub fn gather_rows<T: Real>(x: MatRef<'_, T>, rows: &[usize]) -> Matrix<T> {
    let d = x.cols();
    let mut out = Matrix::zeros(rows.len(), d);
    for (i, &r) in rows.iter().enumerate() {
        match x.row_slice(r) {
            Some(src) => out.row_mut(i).copy_from_slice(src),
            None => {
                for (j, o) in out.row_mut(i).iter_mut().enumerate() {
                    *o = x.get(r, j);
                }
            }
        }
    }
    out
}

/// The sample order of `epoch`: a permutation of 0..n from ChaCha8(seed) on stream `epoch`.
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    order
}

/// A stochastic objective: a value and gradient at θ on the current sample (a minibatch),
/// and a move to the next sample. The optimisers ([`super::sgd::Sgd`],
/// [`super::adam::Adam`]) only see this, so they run on a network or on a test quadratic.
pub trait GradientSource<T: Real> {
    /// Length of θ.
    fn num_params(&self) -> usize;
    /// (L, ∇L) at θ on the current sample; repeated calls without [`GradientSource::advance`]
    /// see the same sample.
    fn value_and_grad(&mut self, theta: &[T]) -> Result<(f64, Vec<T>)>;
    /// Moves on to the next sample.
    fn advance(&mut self);
}

/// The loss of a network on seeded minibatches of a training set.
pub struct MinibatchLoss<'a, T: Real> {
    mlp: &'a Mlp,
    x: MatRef<'a, T>,
    targets: Targets<'a, T>,
    loss: Loss,
    batches: Batches,
    current: Option<Vec<usize>>,
}

impl<'a, T: Real> MinibatchLoss<'a, T> {
    /// `loss` of `mlp` on inputs `x` (n×d) with `targets`, batched by `batches`.
    ///
    /// Errors when x, the targets and the batch order disagree on n, or x's width is not the
    /// network's input width.
    pub fn new(
        mlp: &'a Mlp,
        x: MatRef<'a, T>,
        targets: Targets<'a, T>,
        loss: Loss,
        batches: Batches,
    ) -> Result<Self> {
        if x.rows() != targets.len() || x.rows() != batches.n {
            bail!(
                "{} inputs, {} targets and a batch order over {} samples",
                x.rows(),
                targets.len(),
                batches.n
            );
        }
        if x.cols() != mlp.input_dim() {
            bail!(
                "inputs have {} columns, the network takes {}",
                x.cols(),
                mlp.input_dim()
            );
        }
        Ok(MinibatchLoss {
            mlp,
            x,
            targets,
            loss,
            batches,
            current: None,
        })
    }

    /// The sample indices of the current minibatch (drawn on first use).
    pub fn current_batch(&mut self) -> &[usize] {
        self.current
            .get_or_insert_with(|| self.batches.next_batch())
    }
}

impl<T: Real> GradientSource<T> for MinibatchLoss<'_, T> {
    fn num_params(&self) -> usize {
        self.mlp.num_params()
    }

    fn value_and_grad(&mut self, theta: &[T]) -> Result<(f64, Vec<T>)> {
        let rows = self.current_batch().to_vec();
        let xb = gather_rows(self.x, &rows);
        self.loss
            .network_value_and_grad(self.mlp, theta, xb.as_ref(), &self.targets, &rows)
    }

    fn advance(&mut self) {
        self.current = None;
    }
}
