//! Seeded initialisation: the normal stream and the named schemes.
//!
//! Normal samples come from the Box–Muller transform (Box & Muller, "A note on the generation
//! of random normal deviates", Ann. Math. Stat. 29, 1958) fed by ChaCha8 (rand_chacha), so a
//! seed gives the same θ on every platform and thread count.
//!
//! [`Init`] names how W and b are drawn for a layer with fan-in n_in and fan-out n_out:
//!
//! | scheme | W | b | source |
//! |---|---|---|---|
//! | `Sigma` | N(0, 1) (NTK) or N(0, σ_w²/n_in) (standard) | N(0, 1) (NTK) or N(0, σ_b²) | the σ's of [`super::Mlp`] |
//! | `GlorotNormal` | N(0, 2/(n_in + n_out)) | 0 | Glorot & Bengio, AISTATS 2010; TensorFlow's zero biases, as in Frankle & Carbin 2019 |
//! | `KaimingNormal` | N(0, 2/n_in) | U(−1/√n_in, 1/√n_in) | He et al., ICCV 2015 (fan-in, ReLU gain √2); biases as PyTorch's `nn.Linear`, which open_lth leaves in place |
//!
//! Glorot and Kaiming are variances of the weights themselves, so they need the standard
//! parameterization (z = W a + b); with the NTK parameterization the scale sits in front of W.

use std::fmt;

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

    /// The next sample of U(−1, 1), from the same ChaCha8 stream.
    pub fn next_symmetric_uniform(&mut self) -> f64 {
        2.0 * self.uniform_open0() - 1.0
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

/// How θ₀ is drawn; see the table in the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Init {
    /// From the network's σ_w and σ_b (the NTK or standard draw of [`super::Mlp::init`]).
    #[default]
    Sigma,
    /// Glorot (Xavier) normal weights, zero biases.
    GlorotNormal,
    /// Kaiming (He) normal weights, PyTorch-default uniform biases.
    KaimingNormal,
}

impl Init {
    /// (weight standard deviation, bias draw) of a standard-parameterized layer.
    pub(crate) fn layer_draw(self, n_in: usize, n_out: usize) -> (f64, BiasDraw) {
        match self {
            Init::Sigma => (f64::NAN, BiasDraw::Zero),
            Init::GlorotNormal => ((2.0 / (n_in + n_out) as f64).sqrt(), BiasDraw::Zero),
            Init::KaimingNormal => (
                (2.0 / n_in as f64).sqrt(),
                BiasDraw::Uniform(1.0 / (n_in as f64).sqrt()),
            ),
        }
    }
}

/// How a scheme draws a bias.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum BiasDraw {
    /// b = 0.
    Zero,
    /// b ~ U(−h, h).
    Uniform(f64),
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Init::Sigma => "sigma",
            Init::GlorotNormal => "glorot-normal",
            Init::KaimingNormal => "kaiming-normal",
        })
    }
}

impl std::str::FromStr for Init {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "sigma" | "ntk" | "default" => Ok(Init::Sigma),
            "glorot-normal" | "glorot" | "xavier" => Ok(Init::GlorotNormal),
            "kaiming-normal" | "kaiming" | "he" => Ok(Init::KaimingNormal),
            other => Err(format!(
                "unknown initialisation '{other}' (expected sigma, glorot-normal or kaiming-normal)"
            )),
        }
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

    /// Sample variances of each layer's weights match the scheme's formula (to 4 standard
    /// errors of a variance estimate, √(2/N)), biases are 0 or inside ±1/√n_in, and NTK
    /// networks refuse the schemes.
    #[test]
    fn named_schemes_draw_their_variances() {
        use crate::mlp::{Mlp, Parameterization};
        use crate::Activation;
        let net = Mlp::new(
            784,
            &[300, 100],
            10,
            Activation::Relu,
            Parameterization::Standard,
            1.0,
            0.0,
        )
        .unwrap();
        for init in [Init::GlorotNormal, Init::KaimingNormal] {
            let theta: Vec<f64> = net.init_with(init, 3).unwrap();
            for layer in net.layers() {
                let w = &theta[layer.w_offset..layer.w_offset + layer.n_in * layer.n_out];
                let var = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
                let want = match init {
                    Init::GlorotNormal => 2.0 / (layer.n_in + layer.n_out) as f64,
                    _ => 2.0 / layer.n_in as f64,
                };
                let se = want * (2.0 / w.len() as f64).sqrt();
                assert!(
                    (var - want).abs() < 4.0 * se,
                    "{init} layer {}: {var} vs {want}",
                    layer.index
                );
                let b = &theta[layer.b_offset..layer.b_offset + layer.n_out];
                let h = 1.0 / (layer.n_in as f64).sqrt();
                match init {
                    Init::GlorotNormal => assert!(b.iter().all(|&x| x == 0.0)),
                    _ => {
                        assert!(b.iter().all(|&x| x.abs() <= h));
                        assert!(b.iter().any(|&x| x != 0.0));
                    }
                }
            }
            let again: Vec<f64> = net.init_with(init, 3).unwrap();
            assert_eq!(theta, again);
        }
        let sigma: Vec<f64> = net.init_with(Init::Sigma, 5).unwrap();
        assert_eq!(sigma, net.init::<f64>(5));
        let ntk = Mlp::new(
            4,
            &[3],
            2,
            Activation::Relu,
            Parameterization::Ntk,
            1.0,
            0.1,
        )
        .unwrap();
        assert!(ntk.init_with::<f64>(Init::GlorotNormal, 0).is_err());
        assert_eq!("xavier".parse::<Init>(), Ok(Init::GlorotNormal));
        assert!("uniform".parse::<Init>().is_err());
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
