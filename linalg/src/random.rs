//! The workspace's one small deterministic generator, [`SplitMix64`], and the Box–Muller
//! transform ([`box_muller`]) that turns two uniforms into a standard normal.
//!
//! SplitMix64 is not a cryptographic generator, and it is not meant to compete with ChaCha:
//! it is for seeded test data and start vectors (Lanczos) that must be reproducible bit for
//! bit from a `u64` seed, with no dependency.

/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014; the constants are those of Vigna's public-domain `splitmix64.c`): a 64-bit
/// state advanced by the golden-ratio increment 0x9e3779b97f4a7c15 and passed through a
/// variant of the MurmurHash3 finaliser. Period 2⁶⁴; every seed, 0 included, is fine.
///
/// ```
/// use linalg::random::SplitMix64;
/// let mut rng = SplitMix64::new(42);
/// let u = rng.next_f64();
/// assert!((0.0..1.0).contains(&u));
/// assert_eq!(SplitMix64::new(42).next_f64(), u); // same seed, same stream
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream is determined by `seed` alone.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform on [0, 1): the top 53 bits of [`next_u64`](Self::next_u64) times 2⁻⁵³, so every
    /// value is a multiple of 2⁻⁵³.
    pub fn next_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [−1, 1): the top 53 bits times 2⁻⁵² minus 1 (Lanczos' start vector).
    pub fn next_symmetric(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64) * (2.0 / (1u64 << 53) as f64) - 1.0
    }

    /// A standard normal draw, N(0, 1): [`box_muller`] of two consecutive
    /// [`next_f64`](Self::next_f64) values (the sine half is discarded, so each draw uses
    /// exactly two uniforms and the stream never depends on how many draws came before).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_f64();
        let u2 = self.next_f64();
        box_muller(u1, u2)
    }
}

/// The Box–Muller transform (Box & Muller, "A note on the generation of random normal
/// deviates", Ann. Math. Statist. 29(2), 1958): for independent u₁, u₂ uniform on [0, 1),
///
/// z = √(−2 ln u₁) · cos(2π u₂)
///
/// is standard normal. u₁ is floored at 1e-300 so that u₁ = 0 gives a large finite value
/// (≈ 37.2) instead of +inf. Any uniform source works:
/// `box_muller(rng.random(), rng.random())` reproduces the workspace's earlier ChaCha-based
/// `normal` bit for bit (arguments are evaluated left to right).
pub fn box_muller(u1: f64, u2: f64) -> f64 {
    box_muller_pair(u1, u2).0
}

/// Both outputs of the Box–Muller transform, (√(−2 ln u₁)·cos 2πu₂, √(−2 ln u₁)·sin 2πu₂):
/// two independent standard normals from one pair of uniforms (u₁ floored at 1e-300 as in
/// [`box_muller`], whose value is the first of the two).
pub fn box_muller_pair(u1: f64, u2: f64) -> (f64, f64) {
    let r = (-2.0 * u1.max(1e-300).ln()).sqrt();
    let (s, c) = (2.0 * std::f64::consts::PI * u2).sin_cos();
    (r * c, r * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first outputs for seed 1234567 of the reference C implementation
    /// (Vigna, <https://prng.di.unimi.it/splitmix64.c>).
    #[test]
    fn matches_the_reference_stream() {
        let mut rng = SplitMix64::new(1234567);
        let want = [
            6457827717110365317u64,
            3203168211198807973,
            9817491932198370423,
            4593380528125082431,
            16408922859458223821,
        ];
        for w in want {
            assert_eq!(rng.next_u64(), w);
        }
    }

    #[test]
    fn uniforms_are_in_range_and_normals_have_unit_variance() {
        let mut rng = SplitMix64::new(7);
        let n = 200_000;
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let u = rng.next_f64();
            assert!((0.0..1.0).contains(&u));
            let v = rng.next_symmetric();
            assert!((-1.0..1.0).contains(&v));
            let z = rng.normal();
            s1 += z;
            s2 += z * z;
        }
        let mean = s1 / n as f64;
        let var = s2 / n as f64 - mean * mean;
        // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
        assert!(mean.abs() < 0.012, "mean {mean}");
        assert!((var - 1.0).abs() < 0.016, "variance {var}");
        assert!(box_muller(0.0, 0.0).is_finite());
    }
}
