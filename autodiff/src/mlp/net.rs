//! Dense networks (multi-layer perceptrons) with a flat parameter vector.
//!
//! For widths n₀ (input), n₁, …, n_L (output) and activation φ, layer l (counted from 0)
//! maps its input a_{l−1} (a_{−1} = x) to the pre-activation
//!
//! * NTK parameterization: z_l = σ_w/√n_l_in · W_l a_{l−1} + σ_b · b_l, with W, b ~ N(0, 1)
//!   (Jacot et al., "Neural Tangent Kernel", NeurIPS 2018);
//! * standard parameterization: z_l = W_l a_{l−1} + b_l, with W ~ N(0, σ_w²/n_l_in) and
//!   b ~ N(0, σ_b²),
//!
//! and a_l = φ(z_l) for every layer but the last, whose output z_{L−1} is the network's output
//! f(x; θ). Both give the same distribution of functions at initialisation; they differ in how
//! gradient descent moves θ (Lee et al., NeurIPS 2019, appendix).

use super::affine::Affine;
use super::init::{BiasDraw, Init, NormalStream};
use super::layout::ParamLayout;
use crate::error::{AdError, Result};
use crate::unary::Activation;
use linalg::Real;

/// How the weights are scaled; see the module documentation for the two formulas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parameterization {
    /// z = W a + b, W ~ N(0, σ_w²/n_in), b ~ N(0, σ_b²).
    Standard,
    /// z = σ_w/√n_in · W a + σ_b · b, W, b ~ N(0, 1).
    Ntk,
}

impl std::fmt::Display for Parameterization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Parameterization::Standard => write!(f, "standard"),
            Parameterization::Ntk => write!(f, "ntk"),
        }
    }
}

impl std::str::FromStr for Parameterization {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "standard" => Ok(Parameterization::Standard),
            "ntk" => Ok(Parameterization::Ntk),
            other => Err(format!(
                "unknown parameterization '{other}' (expected standard or ntk)"
            )),
        }
    }
}

/// One dense layer of an [`Mlp`]: its shape, where its parameters sit in θ, and its scales.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layer {
    /// Position, counted from 0 (the layer fed by the input).
    pub index: usize,
    /// Input width.
    pub n_in: usize,
    /// Output width.
    pub n_out: usize,
    /// Offset of W (n_out × n_in, row-major) in θ.
    pub w_offset: usize,
    /// Offset of b (n_out entries) in θ.
    pub b_offset: usize,
    /// s, the factor in front of W: σ_w/√n_in (NTK) or 1 (standard).
    pub w_scale: f64,
    /// The factor in front of b: σ_b (NTK) or 1 (standard).
    pub b_scale: f64,
    /// Whether this is the output layer (no activation after it).
    pub is_last: bool,
}

impl Layer {
    /// The layer's affine map, borrowing W and b from θ.
    pub fn affine<'a, T: Real>(&self, theta: &'a [T]) -> Result<Affine<'a, T>> {
        Affine::from_theta(
            theta,
            self.w_offset,
            self.b_offset,
            self.n_in,
            self.n_out,
            T::from_f64(self.w_scale),
            T::from_f64(self.b_scale),
        )
    }

    /// Number of parameters of this layer, n_out·(n_in + 1).
    pub fn num_params(&self) -> usize {
        self.n_out * (self.n_in + 1)
    }

    /// The range of θ this layer owns (W then b).
    pub fn param_range(&self) -> std::ops::Range<usize> {
        self.w_offset..self.b_offset + self.n_out
    }
}

/// A fully connected network: widths, activation, parameterization and the σ's.
///
/// θ is kept outside, as one flat vector laid out by [`Mlp::layout`], so that the same network
/// can be evaluated at θ₀, at a trained θ, or differentiated with respect to θ.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    widths: Vec<usize>,
    activation: Activation,
    parameterization: Parameterization,
    sigma_w: f64,
    sigma_b: f64,
    layout: ParamLayout,
    layers: Vec<Layer>,
}

impl Mlp {
    /// A network `input_dim → hidden[0] → … → output_dim`.
    ///
    /// Errors on a zero width, on σ_w or σ_b negative or not finite, and on a LeakyRelu slope
    /// that is not finite.
    pub fn new(
        input_dim: usize,
        hidden: &[usize],
        output_dim: usize,
        activation: Activation,
        parameterization: Parameterization,
        sigma_w: f64,
        sigma_b: f64,
    ) -> Result<Mlp> {
        for (name, v) in [("sigma_w", sigma_w), ("sigma_b", sigma_b)] {
            if !v.is_finite() || v < 0.0 {
                return Err(AdError::InvalidArgument {
                    what: format!("{name} = {v}: must be finite and ≥ 0"),
                });
            }
        }
        if let Activation::LeakyRelu(a) = activation {
            if !a.is_finite() {
                return Err(AdError::InvalidArgument {
                    what: format!("leaky-relu slope {a} is not finite"),
                });
            }
        }
        let mut widths = Vec::with_capacity(hidden.len() + 2);
        widths.push(input_dim);
        widths.extend_from_slice(hidden);
        widths.push(output_dim);
        let layout = ParamLayout::new(&widths)?;
        let num_layers = widths.len() - 1;
        let layers = (0..num_layers)
            .map(|l| {
                let n_in = widths[l];
                let (w_scale, b_scale) = match parameterization {
                    Parameterization::Ntk => (sigma_w / (n_in as f64).sqrt(), sigma_b),
                    Parameterization::Standard => (1.0, 1.0),
                };
                Layer {
                    index: l,
                    n_in,
                    n_out: widths[l + 1],
                    w_offset: layout.weight(l).offset,
                    b_offset: layout.bias(l).offset,
                    w_scale,
                    b_scale,
                    is_last: l + 1 == num_layers,
                }
            })
            .collect();
        Ok(Mlp {
            widths,
            activation,
            parameterization,
            sigma_w,
            sigma_b,
            layout,
            layers,
        })
    }

    /// p, the length of θ.
    pub fn num_params(&self) -> usize {
        self.layout.total()
    }
    /// n₀.
    pub fn input_dim(&self) -> usize {
        self.widths[0]
    }
    /// o = n_L.
    pub fn output_dim(&self) -> usize {
        *self.widths.last().expect("at least two widths")
    }
    /// All widths `[n₀, n₁, …, n_L]`, input and output included.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }
    /// φ.
    pub fn activation(&self) -> Activation {
        self.activation
    }
    /// Standard or NTK.
    pub fn parameterization(&self) -> Parameterization {
        self.parameterization
    }
    /// σ_w.
    pub fn sigma_w(&self) -> f64 {
        self.sigma_w
    }
    /// σ_b.
    pub fn sigma_b(&self) -> f64 {
        self.sigma_b
    }
    /// Where each parameter lives in θ.
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    /// The L dense layers, input side first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// A seeded draw of θ₀ (ChaCha8 stream, Box–Muller normals), in layout order.
    ///
    /// NTK parameterization: every entry ~ N(0, 1). Standard: W_l entries ~ N(0, σ_w²/n_in),
    /// b_l entries ~ N(0, σ_b²). Identical for a seed on every machine and thread count.
    pub fn init<T: Real>(&self, seed: u64) -> Vec<T> {
        let mut stream = NormalStream::new(seed);
        let mut theta = Vec::with_capacity(self.num_params());
        for layer in &self.layers {
            let (w_std, b_std) = match self.parameterization {
                Parameterization::Ntk => (1.0, 1.0),
                Parameterization::Standard => {
                    (self.sigma_w / (layer.n_in as f64).sqrt(), self.sigma_b)
                }
            };
            for _ in 0..layer.n_out * layer.n_in {
                theta.push(T::from_f64(w_std * stream.next_normal()));
            }
            for _ in 0..layer.n_out {
                theta.push(T::from_f64(b_std * stream.next_normal()));
            }
        }
        theta
    }

    /// θ₀ drawn by a named scheme ([`Init`]); `Init::Sigma` is [`Mlp::init`].
    ///
    /// Weights are drawn in layout order from one seeded stream (W row-major, then b, layer by
    /// layer), so a seed gives the same θ₀ on every machine and thread count. Errors when a
    /// Glorot or Kaiming draw is asked of an NTK-parameterized network, whose weights carry
    /// their scale outside θ.
    pub fn init_with<T: Real>(&self, init: Init, seed: u64) -> Result<Vec<T>> {
        if init == Init::Sigma {
            return Ok(self.init(seed));
        }
        if self.parameterization != Parameterization::Standard {
            return Err(AdError::InvalidArgument {
                what: format!(
                    "the {init} initialisation sets the variance of W itself and needs the standard parameterization"
                ),
            });
        }
        let mut stream = NormalStream::new(seed);
        let mut theta = Vec::with_capacity(self.num_params());
        for layer in &self.layers {
            let (w_std, bias) = init.layer_draw(layer.n_in, layer.n_out);
            for _ in 0..layer.n_out * layer.n_in {
                theta.push(T::from_f64(w_std * stream.next_normal()));
            }
            for _ in 0..layer.n_out {
                theta.push(T::from_f64(match bias {
                    BiasDraw::Zero => 0.0,
                    BiasDraw::Uniform(h) => h * stream.next_symmetric_uniform(),
                }));
            }
        }
        Ok(theta)
    }

    /// Checks θ's length and x's width; returns the batch size n.
    pub(crate) fn check_inputs<T: Real>(
        &self,
        theta: &[T],
        x: linalg::MatRef<'_, T>,
    ) -> Result<usize> {
        if theta.len() != self.num_params() {
            return Err(AdError::Shape {
                what: format!(
                    "θ has {} entries, the network {:?} has {} parameters",
                    theta.len(),
                    self.widths,
                    self.num_params()
                ),
            });
        }
        if x.cols() != self.input_dim() {
            return Err(AdError::Shape {
                what: format!(
                    "inputs have {} columns, the network expects {}",
                    x.cols(),
                    self.input_dim()
                ),
            });
        }
        if x.rows() == 0 {
            return Err(AdError::InvalidArgument {
                what: "empty batch (0 inputs)".into(),
            });
        }
        Ok(x.rows())
    }
}
