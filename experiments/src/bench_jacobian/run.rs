//! The measurements of `bench-jacobian`: for each precision and network, one forward pass, J by
//! forward mode (on a subset of columns, scaled to p), J by reverse mode and the structured NTK,
//! each timed over the configured repetitions.

use super::{Case, Config, Shape, Summary};
use crate::alloc;
use crate::config::Dtype;
use crate::progress::Observer;
use anyhow::Result;
use autodiff::mlp::{Mlp, Parameterization};
use autodiff::Activation;
use linalg::{Matrix, Real};
use rand::SeedableRng;
use std::time::Instant;

/// A network to benchmark.
struct Network {
    /// `a`, `b`, `c` or `sweep-<o>x<width>`.
    name: String,
    /// Layer widths from input to output.
    widths: Vec<usize>,
    /// Batch size n.
    batch: usize,
    activation: Activation,
}

/// The median time and the peak heap bytes of one timed call.
#[derive(Clone, Copy)]
struct Timing {
    /// Median wall time over the repetitions, in seconds.
    median_s: f64,
    /// Largest peak heap bytes above the live bytes at the call (None without the counting
    /// allocator).
    peak_bytes: Option<usize>,
}

/// A network set up for timing: the MLP, θ₀, a batch of inputs, and the columns of J that
/// forward mode computes.
struct Bench<T: Real> {
    mlp: Mlp,
    theta: Vec<T>,
    x: Matrix<T>,
    cols: Vec<usize>,
    /// n·o, the rows of J.
    rows: usize,
}

/// Every case, precision by precision; the shapes are those of the last precision (they do
/// not depend on it).
pub(super) fn run_all(cfg: &Config, obs: &mut dyn Observer) -> Result<Summary> {
    let mut cases = Vec::new();
    let mut shapes = Vec::new();
    for &dt in &cfg.dtypes {
        shapes.clear();
        match dt {
            Dtype::F32 => run_typed::<f32>(cfg, dt, obs, &mut cases, &mut shapes)?,
            Dtype::F64 => run_typed::<f64>(cfg, dt, obs, &mut cases, &mut shapes)?,
        }
    }
    Ok(Summary {
        memory_estimate_bytes: 0,
        config: cfg.clone(),
        cases,
        shapes,
    })
}

/// The memory plan: for each precision and network, θ, J by reverse mode ((n·o) × p), the
/// forward-mode block ((n·o) × columns) and the structured NTK ((n·o)²), the largest of which
/// is the peak (the cases run one after another and free their buffers).
pub(super) fn memory_plan(cfg: &Config) -> crate::memory::MemoryPlan {
    use crate::memory::mat;
    let mut plan = crate::memory::MemoryPlan::default();
    for &dt in &cfg.dtypes {
        let s = match dt {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        };
        for net in networks(cfg) {
            let p: usize = net.widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
            let rows = net.batch * net.widths.last().copied().unwrap_or(1);
            let cols = cfg.jvp_max_columns.min(p);
            plan.phase(
                &format!("network {} in {dt}", net.name),
                vec![
                    (format!("J ({rows}×{p}, {dt})"), mat(rows, p, s)),
                    (
                        format!("forward-mode block ({rows}×{cols})"),
                        mat(rows, cols, s),
                    ),
                    (format!("NTK ({rows}×{rows})"), mat(rows, rows, s)),
                    ("θ and its gradient".to_string(), mat(p, 2, s)),
                ],
            );
        }
    }
    plan
}

fn networks(cfg: &Config) -> Vec<Network> {
    let net = |name: String, widths: Vec<usize>, batch: usize| Network {
        name,
        widths,
        batch,
        activation: Activation::Tanh,
    };
    let mut v = Vec::new();
    if cfg.reference {
        v.push(net("a".to_string(), vec![64, 256, 256, 10], 128));
        v.push(net("b".to_string(), vec![784, 300, 100, 10], 64));
        v.push(net("c".to_string(), vec![784, 512, 512, 1], 256));
    }
    if cfg.sweep {
        // From many outputs and few parameters (p/(n·o) ≈ 0.3) to few outputs and many
        // parameters (≈ 640); 8 inputs, one hidden layer, batch 32.
        for (o, w) in [(256, 8), (128, 16), (32, 64), (8, 256), (1, 2048)] {
            v.push(net(format!("sweep-{o}x{w}"), vec![8, w, o], 32));
        }
    }
    v
}

fn run_typed<T: Real>(
    cfg: &Config,
    dtype: Dtype,
    obs: &mut dyn Observer,
    cases: &mut Vec<Case>,
    shapes: &mut Vec<Shape>,
) -> Result<()> {
    let threads = rayon::current_num_threads();
    for net in networks(cfg) {
        let bench = setup::<T>(cfg, &net)?;
        shapes.push(Shape {
            model: net.name.clone(),
            widths: net.widths.clone(),
            batch: net.batch,
            num_params: bench.mlp.num_params(),
            jacobian_rows: bench.rows,
            jvp_columns: bench.cols.len(),
        });
        obs.begin(&format!("{} {dtype}", net.name), 4);
        let timings = measure(cfg, &bench, obs)?;
        obs.end();
        cases.extend(timings.into_iter().map(|(method, t)| Case {
            model: net.name.clone(),
            dtype: dtype.to_string(),
            threads,
            method: method.into(),
            median_s: t.median_s,
            peak_bytes: t.peak_bytes,
        }));
    }
    Ok(())
}

/// The MLP (standard parameterization), θ₀ (seed 0) and n standard-normal inputs (seed 1).
fn setup<T: Real>(cfg: &Config, net: &Network) -> Result<Bench<T>> {
    let widths = &net.widths;
    let (d, o) = (widths[0], *widths.last().unwrap_or(&1));
    let hidden = &widths[1..widths.len() - 1];
    let mlp = Mlp::new(
        d,
        hidden,
        o,
        net.activation,
        Parameterization::Standard,
        1.0,
        0.1,
    )?;
    let theta: Vec<T> = mlp.init(0);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let x = Matrix::from_fn(net.batch, d, |_, _| {
        T::from_f64(crate::data::synthetic::normal(&mut rng))
    });
    let cols = jvp_columns(mlp.num_params(), cfg.jvp_max_columns);
    Ok(Bench {
        mlp,
        theta,
        x,
        cols,
        rows: net.batch * o,
    })
}

/// All p columns, or `max` evenly spaced ones when p is larger.
fn jvp_columns(p: usize, max: usize) -> Vec<usize> {
    if p > max {
        (0..max).map(|k| k * p / max).collect()
    } else {
        (0..p).collect()
    }
}

/// The four methods in order, advancing the observer after each of the first three.
fn measure<T: Real>(
    cfg: &Config,
    b: &Bench<T>,
    obs: &mut dyn Observer,
) -> Result<[(&'static str, Timing); 4]> {
    let (mlp, theta, x) = (&b.mlp, &b.theta, b.x.as_ref());
    let forward = time(cfg.reps, || {
        mlp.forward(theta, x).map(drop).map_err(anyhow::Error::from)
    })?;
    obs.advance(1);
    let jvp = time_jvp(cfg, b)?;
    obs.advance(2);
    let vjp = time(cfg.reps, || {
        autodiff::mlp::jacobian::jacobian_by_vjp(mlp, theta, x, cfg.chunk)
            .map(drop)
            .map_err(anyhow::Error::from)
    })?;
    obs.advance(3);
    let structured = time(cfg.reps, || {
        autodiff::mlp::ntk::ntk_structured(mlp, theta, x, None)
            .map(drop)
            .map_err(anyhow::Error::from)
    })?;
    Ok([
        ("forward", forward),
        ("jvp", jvp),
        ("vjp", vjp),
        ("structured", structured),
    ])
}

/// Forward mode on the chosen columns, scaled to all p: its time and its output J grow
/// linearly with the number of columns; its working memory (one chunk of tangents) does not.
fn time_jvp<T: Real>(cfg: &Config, b: &Bench<T>) -> Result<Timing> {
    let measured = time(cfg.reps, || {
        autodiff::mlp::jacobian::jacobian_columns_by_jvp(
            &b.mlp,
            &b.theta,
            b.x.as_ref(),
            &b.cols,
            cfg.chunk,
        )
        .map(drop)
        .map_err(anyhow::Error::from)
    })?;
    let p = b.mlp.num_params();
    let scale = p as f64 / b.cols.len() as f64;
    let j_bytes = |c: usize| b.rows * c * std::mem::size_of::<T>();
    Ok(Timing {
        median_s: measured.median_s * scale,
        peak_bytes: measured
            .peak_bytes
            .map(|pk| pk.saturating_sub(j_bytes(b.cols.len())) + j_bytes(p)),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs `f` `reps` times: the median wall time and the largest peak above the live bytes.
fn time<F: FnMut() -> Result<()>>(reps: usize, mut f: F) -> Result<Timing> {
    let counting = alloc::installed();
    let mut times = Vec::with_capacity(reps);
    let mut peak = 0usize;
    for _ in 0..reps {
        let base = alloc::reset_peak();
        let t0 = Instant::now();
        f()?;
        times.push(t0.elapsed().as_secs_f64());
        peak = peak.max(alloc::peak().saturating_sub(base));
    }
    Ok(Timing {
        median_s: median(times),
        peak_bytes: counting.then_some(peak),
    })
}
