//! Seeded Gaussian initialisation.
//!
//! Normal samples come from the Box–Muller transform (Box & Muller, "A note on the generation
//! of random normal deviates", Ann. Math. Stat. 29, 1958) fed by ChaCha8 (rand_chacha), so a
//! seed gives the same θ on every platform and thread count.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A stream of independent N(0, 1) samples, deterministic for a seed.
pub struct NormalStream {
    rng: ChaCha8Rng,
    spare: Option<f64>,
}

impl NormalStream {
    /// A new stream seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        NormalStream {
            rng: ChaCha8Rng::seed_from_u64(seed),
            spare: None,
        }
    }

    /// Uniform on (0, 1]: 53 random bits, shifted off zero so that ln u is finite.
    fn uniform_open0(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64)
    }

    /// The next N(0, 1) sample: z₀ = √(−2 ln u₁)·cos 2πu₂, z₁ = √(−2 ln u₁)·sin 2πu₂.
    pub fn next_normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = self.uniform_open0();
        let u2 = self.uniform_open0();
        let (z0, z1) = linalg::random::box_muller_pair(u1, u2);
        self.spare = Some(z1);
        z0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared transform reproduces the stream this module drew before it used
    /// `linalg::random::box_muller_pair`, bit for bit, so every θ₀ stays the same.
    #[test]
    fn shared_box_muller_keeps_the_stream() {
        let mut s = NormalStream::new(11);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut u = || ((rng.next_u64() >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64);
        for _ in 0..500 {
            let (u1, u2) = (u(), u());
            let r = (-2.0 * u1.ln()).sqrt();
            let (sn, c) = (std::f64::consts::TAU * u2).sin_cos();
            assert_eq!(s.next_normal().to_bits(), (r * c).to_bits());
            assert_eq!(s.next_normal().to_bits(), (r * sn).to_bits());
        }
    }

    #[test]
    fn moments_are_standard_normal() {
        let mut s = NormalStream::new(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| s.next_normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let kurt = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64 / (var * var);
        // Standard errors: mean 1/√n ≈ 0.0022, variance √(2/n) ≈ 0.0032, kurtosis ≈ 0.011.
        assert!(mean.abs() < 0.012, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        assert!((kurt - 3.0).abs() < 0.08, "kurtosis {kurt}");
        let within1 = xs.iter().filter(|x| x.abs() < 1.0).count() as f64 / n as f64;
        assert!((within1 - 0.682_689).abs() < 0.01, "P(|z|<1) = {within1}");
    }

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<f64> = {
            let mut s = NormalStream::new(3);
            (0..10).map(|_| s.next_normal()).collect()
        };
        let b: Vec<f64> = {
            let mut s = NormalStream::new(3);
            (0..10).map(|_| s.next_normal()).collect()
        };
        let c: Vec<f64> = {
            let mut s = NormalStream::new(4);
            (0..10).map(|_| s.next_normal()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
