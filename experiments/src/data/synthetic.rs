//! Seeded synthetic tasks: teacher–student regression, two spirals, 1-D sine.

use super::{RawData, Targets};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The experiments' one seeded normal stream: two uniforms from the ChaCha stream through the
/// workspace's single Box–Muller transform ([`linalg::random::box_muller`]).
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random();
    let u2: f64 = rng.random();
    linalg::random::box_muller(u1, u2)
}

/// Teacher–student regression: x ~ N(0, I_d), y = Σ_k a_k tanh(w_k·x/√d)/√m + noise·N(0,1),
/// with w_k ~ N(0, I_d), a_k ~ N(0, 1) drawn from the same seed.
pub fn teacher(n: usize, d: usize, m: usize, noise: f64, seed: u64) -> RawData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x07ea_c4e2);
    let w: Vec<Vec<f64>> = (0..m)
        .map(|_| (0..d).map(|_| normal(&mut rng)).collect())
        .collect();
    let a: Vec<f64> = (0..m).map(|_| normal(&mut rng)).collect();
    let mut features = Vec::with_capacity(n);
    let mut targets = Vec::with_capacity(n);
    for _ in 0..n {
        let x: Vec<f64> = (0..d).map(|_| normal(&mut rng)).collect();
        let y: f64 = w
            .iter()
            .zip(&a)
            .map(|(wk, ak)| {
                ak * (wk.iter().zip(&x).map(|(p, q)| p * q).sum::<f64>() / (d as f64).sqrt()).tanh()
            })
            .sum::<f64>()
            / (m as f64).sqrt();
        targets.push(vec![y + noise * normal(&mut rng)]);
        features.push(x);
    }
    RawData {
        features,
        targets: Targets::Regression(targets),
    }
}

/// Two interleaved spirals (classes 0 and 1), radius growing with the angle, Gaussian jitter.
pub fn two_spirals(n: usize, noise: f64, seed: u64) -> RawData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005b_17a1);
    let mut features = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 2;
        let t: f64 = rng.random::<f64>().sqrt() * 3.0 * std::f64::consts::PI;
        let sign = if class == 0 { 1.0 } else { -1.0 };
        let r = t / (3.0 * std::f64::consts::PI);
        features.push(vec![
            sign * r * t.cos() + noise * normal(&mut rng),
            sign * r * t.sin() + noise * normal(&mut rng),
        ]);
        labels.push(class);
    }
    RawData {
        features,
        targets: Targets::Classes { labels, classes: 2 },
    }
}

/// y = sin(x) + noise·N(0,1), x uniform on [−π, π].
pub fn sine(n: usize, noise: f64, seed: u64) -> RawData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x51e);
    let mut features = Vec::with_capacity(n);
    let mut targets = Vec::with_capacity(n);
    for _ in 0..n {
        let x = (rng.random::<f64>() * 2.0 - 1.0) * std::f64::consts::PI;
        features.push(vec![x]);
        targets.push(vec![x.sin() + noise * normal(&mut rng)]);
    }
    RawData {
        features,
        targets: Targets::Regression(targets),
    }
}
