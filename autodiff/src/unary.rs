//! Scalar functions applied entry by entry, each with its rules side by side: the value
//! y = g(x), the *slope* g'(x) and the *curvature* g''(x).
//!
//! Both engines read these rules. The Jacobian of an elementwise map is diagonal, so the one
//! slope serves both modes: JVP ẏ = g'(x)·ẋ and VJP x̄ = g'(x)·ȳ; the curvature is what
//! forward-over-reverse needs for Hessian-vector products. The reference engine turns any
//! [`Unary`] into a tensor primitive (`graph::prims::Elementwise`), the layer engine applies
//! an [`Activation`] between its affine layers. Adding an elementwise primitive is one
//! `impl Unary` in this file.

use linalg::Real;

/// A scalar function with its first and second derivatives.
///
/// `slope` and `curvature` receive both the input x and the already computed output y = g(x),
/// so rules such as tanh' = 1 − y² reuse the forward value.
pub trait Unary: Copy + Send + Sync {
    /// y = g(x).
    fn value<T: Real>(&self, x: T) -> T;
    /// g'(x), given y = g(x).
    fn slope<T: Real>(&self, x: T, y: T) -> T;
    /// g''(x), given y = g(x).
    fn curvature<T: Real>(&self, x: T, y: T) -> T;
    /// Whether x lies in the domain of g. The tensor primitive checks every entry before
    /// computing anything and reports the first one outside as a domain error; the default
    /// is the whole real line (NaN included, which then simply propagates).
    fn in_domain<T: Real>(&self, _x: T) -> bool {
        true
    }
}

/// Identity: y = x, g' = 1, g'' = 0.
#[derive(Clone, Copy, Debug)]
pub struct Identity;
impl Unary for Identity {
    fn value<T: Real>(&self, x: T) -> T {
        x
    }
    fn slope<T: Real>(&self, _x: T, _y: T) -> T {
        T::one()
    }
    fn curvature<T: Real>(&self, _x: T, _y: T) -> T {
        T::zero()
    }
}

/// ReLU: y = max(x, 0); g'(x) = 1 for x > 0 and 0 otherwise (the subgradient 0 at x = 0, as
/// JAX and PyTorch take it); g'' = 0 almost everywhere.
#[derive(Clone, Copy, Debug)]
pub struct Relu;
impl Unary for Relu {
    fn value<T: Real>(&self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            T::zero()
        }
    }
    fn slope<T: Real>(&self, x: T, _y: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            T::zero()
        }
    }
    fn curvature<T: Real>(&self, _x: T, _y: T) -> T {
        T::zero()
    }
}

/// Leaky ReLU: y = x for x > 0, a·x otherwise; g' = 1 or a; g'' = 0 almost everywhere.
#[derive(Clone, Copy, Debug)]
pub struct LeakyRelu(pub f64);
impl Unary for LeakyRelu {
    fn value<T: Real>(&self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            T::from_f64(self.0) * x
        }
    }
    fn slope<T: Real>(&self, x: T, _y: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            T::from_f64(self.0)
        }
    }
    fn curvature<T: Real>(&self, _x: T, _y: T) -> T {
        T::zero()
    }
}

/// tanh: y = tanh x, g' = 1 − y², g'' = −2y(1 − y²).
#[derive(Clone, Copy, Debug)]
pub struct Tanh;
impl Unary for Tanh {
    fn value<T: Real>(&self, x: T) -> T {
        x.tanh()
    }
    fn slope<T: Real>(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
    fn curvature<T: Real>(&self, _x: T, y: T) -> T {
        -(y + y) * (T::one() - y * y)
    }
}

/// Logistic sigmoid: y = 1/(1 + e⁻ˣ), g' = y(1 − y), g'' = y(1 − y)(1 − 2y).
/// Evaluated as e^x/(1 + e^x) for x < 0 so that neither branch overflows.
#[derive(Clone, Copy, Debug)]
pub struct Sigmoid;
impl Unary for Sigmoid {
    fn value<T: Real>(&self, x: T) -> T {
        if x >= T::zero() {
            T::one() / (T::one() + (-x).exp())
        } else {
            let e = x.exp();
            e / (T::one() + e)
        }
    }
    fn slope<T: Real>(&self, _x: T, y: T) -> T {
        y * (T::one() - y)
    }
    fn curvature<T: Real>(&self, _x: T, y: T) -> T {
        y * (T::one() - y) * (T::one() - (y + y))
    }
}

/// Softplus: y = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) so it never overflows;
/// g' = σ(x), g'' = σ(x)(1 − σ(x)).
#[derive(Clone, Copy, Debug)]
pub struct Softplus;
impl Unary for Softplus {
    fn value<T: Real>(&self, x: T) -> T {
        x.max(T::zero()) + (-x.abs()).exp().ln_1p()
    }
    fn slope<T: Real>(&self, x: T, _y: T) -> T {
        Sigmoid.value(x)
    }
    fn curvature<T: Real>(&self, x: T, _y: T) -> T {
        let s = Sigmoid.value(x);
        s * (T::one() - s)
    }
}

/// Error function: y = erf x, g' = (2/√π) e^(−x²), g'' = −2x·g'.
#[derive(Clone, Copy, Debug)]
pub struct Erf;
impl Unary for Erf {
    fn value<T: Real>(&self, x: T) -> T {
        T::from_f64(erf(x.to_f64()))
    }
    fn slope<T: Real>(&self, x: T, _y: T) -> T {
        T::from_f64(std::f64::consts::FRAC_2_SQRT_PI) * (-x * x).exp()
    }
    fn curvature<T: Real>(&self, x: T, y: T) -> T {
        -(x + x) * self.slope(x, y)
    }
}

/// GELU in its exact (erf) form: y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));
/// g' = Φ(x) + x·φ(x), g'' = φ(x)(2 − x²), with φ the standard normal density
/// (Hendrycks & Gimpel, "Gaussian Error Linear Units", 2016).
#[derive(Clone, Copy, Debug)]
pub struct Gelu;
impl Gelu {
    fn cdf<T: Real>(x: T) -> T {
        T::from_f64(0.5 * (1.0 + erf(x.to_f64() * std::f64::consts::FRAC_1_SQRT_2)))
    }
    fn pdf<T: Real>(x: T) -> T {
        T::from_f64(0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2)
            * (-(x * x) * T::from_f64(0.5)).exp()
    }
}
impl Unary for Gelu {
    fn value<T: Real>(&self, x: T) -> T {
        x * Self::cdf(x)
    }
    fn slope<T: Real>(&self, x: T, _y: T) -> T {
        Self::cdf(x) + x * Self::pdf(x)
    }
    fn curvature<T: Real>(&self, x: T, _y: T) -> T {
        Self::pdf(x) * (T::from_f64(2.0) - x * x)
    }
}

/// Exponential: y = eˣ, g' = g'' = y. Overflows to +∞ above ln(MAX) (≈ 709.78 in f64, 88.72
/// in f32), where the 0·∞ = 0 convention of the derivative rules still keeps zero directions
/// at zero.
#[derive(Clone, Copy, Debug)]
pub struct Exp;
impl Unary for Exp {
    fn value<T: Real>(&self, x: T) -> T {
        x.exp()
    }
    fn slope<T: Real>(&self, _x: T, y: T) -> T {
        y
    }
    fn curvature<T: Real>(&self, _x: T, y: T) -> T {
        y
    }
}

/// Natural logarithm: y = ln x, g' = 1/x, g'' = −1/x².
///
/// Domain rule ([`Unary::in_domain`]): x ≥ 0 (either sign of zero). At x = 0 the value is −∞
/// and the slope +∞; by the 0·∞ = 0 convention of the derivative rules a direction that does
/// not move that entry contributes 0 and one that does gives ±∞, never NaN. x < 0 and NaN are
/// outside the domain, so the tensor primitive reports them as an error before computing.
#[derive(Clone, Copy, Debug)]
pub struct Log;
impl Unary for Log {
    fn in_domain<T: Real>(&self, x: T) -> bool {
        x >= T::zero()
    }
    fn value<T: Real>(&self, x: T) -> T {
        x.ln()
    }
    fn slope<T: Real>(&self, x: T, _y: T) -> T {
        T::one() / x
    }
    fn curvature<T: Real>(&self, x: T, _y: T) -> T {
        -T::one() / (x * x)
    }
}

/// Square: y = x², g' = 2x, g'' = 2.
#[derive(Clone, Copy, Debug)]
pub struct Square;
impl Unary for Square {
    fn value<T: Real>(&self, x: T) -> T {
        x * x
    }
    fn slope<T: Real>(&self, x: T, _y: T) -> T {
        x + x
    }
    fn curvature<T: Real>(&self, _x: T, _y: T) -> T {
        T::from_f64(2.0)
    }
}

/// Softsign: y = x/(1 + |x|), a rational squashing function in (−1, 1) (Bergstra et al.,
/// "Quadratic polynomials learn better image features", 2009; compared with tanh in Glorot &
/// Bengio, "Understanding the difficulty of training deep feedforward neural networks",
/// AISTATS 2010). Its three rules, with d = 1 + |x|:
///
/// * forward: y = x/d;
/// * JVP: ẏ = ẋ/d² (g' = 1/d² = (1 − |y|)², continuous at 0);
/// * VJP: x̄ = ȳ/d², the same diagonal Jacobian;
///
/// and the curvature g'' = −2·sign(x)/d³, which jumps from +2 to −2 at 0, where it is taken as
/// 0 (the mean of the one-sided limits, as ReLU's slope takes a one-sided value at its kink).
/// As a tensor primitive it is `graph::prims::Elementwise(Softsign)`.
#[derive(Clone, Copy, Debug)]
pub struct Softsign;
impl Unary for Softsign {
    fn value<T: Real>(&self, x: T) -> T {
        x / (T::one() + x.abs())
    }
    fn slope<T: Real>(&self, x: T, _y: T) -> T {
        let d = T::one() + x.abs();
        T::one() / (d * d)
    }
    fn curvature<T: Real>(&self, x: T, _y: T) -> T {
        let d = T::one() + x.abs();
        let two = T::one() + T::one();
        if x > T::zero() {
            -two / (d * d * d)
        } else if x < T::zero() {
            two / (d * d * d)
        } else {
            T::zero()
        }
    }
}

/// The activation functions a network may use, as one value that dispatches to the rules
/// above (so models can choose an activation at run time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// y = x.
    Identity,
    /// max(x, 0).
    Relu,
    /// x for x > 0, a·x otherwise.
    LeakyRelu(f64),
    /// tanh x.
    Tanh,
    /// 1/(1 + e⁻ˣ).
    Sigmoid,
    /// ln(1 + eˣ).
    Softplus,
    /// erf x.
    Erf,
    /// x·Φ(x).
    Gelu,
}

impl Activation {
    /// Every activation once, the leaky ReLU with slope 0.1 (a slope that keeps its two sides
    /// easy to tell apart): what the derivative tests and `tangent selfcheck` sweep over.
    pub const EVERY: [Activation; 8] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu(0.1),
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Softplus,
        Activation::Erf,
        Activation::Gelu,
    ];
}

macro_rules! dispatch {
    ($self:expr, $method:ident ( $($arg:expr),* )) => {
        match *$self {
            Activation::Identity => Identity.$method($($arg),*),
            Activation::Relu => Relu.$method($($arg),*),
            Activation::LeakyRelu(a) => LeakyRelu(a).$method($($arg),*),
            Activation::Tanh => Tanh.$method($($arg),*),
            Activation::Sigmoid => Sigmoid.$method($($arg),*),
            Activation::Softplus => Softplus.$method($($arg),*),
            Activation::Erf => Erf.$method($($arg),*),
            Activation::Gelu => Gelu.$method($($arg),*),
        }
    };
}

/// Code generic over one elementwise function, run by [`Activation::visit`] with the concrete
/// function: a loop inside `visit` is monomorphised per function, so the choice of activation
/// is made once per call instead of once per entry (which also lets ReLU's loop vectorise).
pub trait UnaryVisitor {
    /// What the visit returns.
    type Output;
    /// Runs with the concrete function `u`.
    fn visit<U: Unary + Copy + Sync>(self, u: U) -> Self::Output;
}

impl Activation {
    /// Calls `v.visit` with the concrete function this activation names.
    pub fn visit<V: UnaryVisitor>(&self, v: V) -> V::Output {
        match *self {
            Activation::Identity => v.visit(Identity),
            Activation::Relu => v.visit(Relu),
            Activation::LeakyRelu(a) => v.visit(LeakyRelu(a)),
            Activation::Tanh => v.visit(Tanh),
            Activation::Sigmoid => v.visit(Sigmoid),
            Activation::Softplus => v.visit(Softplus),
            Activation::Erf => v.visit(Erf),
            Activation::Gelu => v.visit(Gelu),
        }
    }
}

impl Unary for Activation {
    fn value<T: Real>(&self, x: T) -> T {
        dispatch!(self, value(x))
    }
    fn slope<T: Real>(&self, x: T, y: T) -> T {
        dispatch!(self, slope(x, y))
    }
    fn curvature<T: Real>(&self, x: T, y: T) -> T {
        dispatch!(self, curvature(x, y))
    }
}

impl std::str::FromStr for Activation {
    type Err = String;
    /// Parses the names `Display` writes, `leaky-relu(a)` included, so the two round-trip.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        if let Some(inner) = lower
            .strip_prefix("leaky-relu(")
            .or_else(|| lower.strip_prefix("leaky_relu("))
            .and_then(|r| r.strip_suffix(')'))
        {
            return match inner.trim().parse::<f64>() {
                Ok(a) if a.is_finite() => Ok(Activation::LeakyRelu(a)),
                _ => Err(format!("leaky-relu slope '{inner}' is not a finite number")),
            };
        }
        match lower.as_str() {
            "identity" | "linear" => Ok(Activation::Identity),
            "relu" => Ok(Activation::Relu),
            "leaky-relu" | "leaky_relu" => Ok(Activation::LeakyRelu(0.01)),
            "tanh" => Ok(Activation::Tanh),
            "sigmoid" => Ok(Activation::Sigmoid),
            "softplus" => Ok(Activation::Softplus),
            "erf" => Ok(Activation::Erf),
            "gelu" => Ok(Activation::Gelu),
            other => Err(format!(
                "unknown activation '{other}' (expected identity, relu, leaky-relu, leaky-relu(a), \
                 tanh, sigmoid, softplus, erf or gelu)"
            )),
        }
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Activation::Identity => write!(f, "identity"),
            Activation::Relu => write!(f, "relu"),
            Activation::LeakyRelu(a) => write!(f, "leaky-relu({a})"),
            Activation::Tanh => write!(f, "tanh"),
            Activation::Sigmoid => write!(f, "sigmoid"),
            Activation::Softplus => write!(f, "softplus"),
            Activation::Erf => write!(f, "erf"),
            Activation::Gelu => write!(f, "gelu"),
        }
    }
}

/// erf x to full double precision.
///
/// For |x| < 6 it sums erf x = (2/√π) e^(−x²) Σₙ 2ⁿ x^(2n+1) / (1·3···(2n+1))
/// (Abramowitz & Stegun 7.1.6), whose terms are all positive, so there is no cancellation;
/// for |x| ≥ 6, erf x = ±1 to double precision (erfc 6 ≈ 2·10⁻¹⁷).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    if a >= 6.0 {
        return x.signum();
    }
    let x2 = a * a;
    let mut term = a;
    let mut sum = a;
    let mut n = 0.0;
    loop {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
        if term <= sum * 1e-17 {
            break;
        }
    }
    let r = std::f64::consts::FRAC_2_SQRT_PI * (-x2).exp() * sum;
    r.min(1.0).copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // Values from Abramowitz & Stegun table 7.1 / high-precision references.
        let cases = [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
            (-1.5, -0.966_105_146_475_310_7),
        ];
        for (x, want) in cases {
            let got = erf(x);
            assert!(
                (got - want).abs() <= 4e-16 * want.abs().max(1e-300) + 1e-300,
                "erf({x}) = {got}, want {want}"
            );
        }
        assert_eq!(erf(10.0), 1.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn slopes_match_finite_differences() {
        let acts = [
            Activation::Identity,
            Activation::LeakyRelu(0.1),
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Softplus,
            Activation::Erf,
            Activation::Gelu,
        ];
        let h = 1e-5;
        for act in acts {
            for &x in &[-2.3f64, -0.7, 0.4, 1.9] {
                let y = act.value(x);
                let fd = (act.value(x + h) - act.value(x - h)) / (2.0 * h);
                let s = act.slope(x, y);
                assert!((fd - s).abs() < 1e-8, "{act} slope at {x}: fd {fd} vs {s}");
                let fd2 = (act.slope(x + h, act.value(x + h)) - act.slope(x - h, act.value(x - h)))
                    / (2.0 * h);
                let c = act.curvature(x, y);
                assert!(
                    (fd2 - c).abs() < 1e-7,
                    "{act} curvature at {x}: fd {fd2} vs {c}"
                );
            }
        }
    }

    #[test]
    fn softsign_rules_match_its_definition_and_differences() {
        let h = 1e-5;
        for &x in &[-3.1f64, -0.9, -1e-3, 0.0, 2e-3, 0.6, 4.2] {
            let y = Softsign.value(x);
            assert_eq!(y, x / (1.0 + x.abs()));
            assert_eq!(Softsign.value(-x), -y, "odd");
            let s = Softsign.slope(x, y);
            assert!(
                (s - (1.0 - y.abs()).powi(2)).abs() < 1e-15,
                "slope = (1 − |y|)²"
            );
            // At 0 the central difference is 1/(1 + h): O(h) off, because g'' jumps there.
            let tol = if x == 0.0 { 2.0 * h } else { 1e-8 };
            let fd = (Softsign.value(x + h) - Softsign.value(x - h)) / (2.0 * h);
            assert!(
                (fd - s).abs() < tol,
                "softsign slope at {x}: fd {fd} vs {s}"
            );
            if x.abs() > 1e-2 {
                // g'' jumps at 0, so its difference quotient is only checked away from 0.
                let fd2 = (Softsign.slope(x + h, 0.0) - Softsign.slope(x - h, 0.0)) / (2.0 * h);
                let c = Softsign.curvature(x, y);
                assert!(
                    (fd2 - c).abs() < 1e-7,
                    "softsign curvature at {x}: fd {fd2} vs {c}"
                );
            }
        }
        assert_eq!(Softsign.curvature(0.0, 0.0), 0.0);
        assert_eq!(Softsign.value(f32::MAX), 1.0, "no overflow: y → ±1");
        assert_eq!(Softsign.slope(1e300, 1.0), 0.0);
    }

    #[test]
    fn activation_names_round_trip() {
        for a in [
            Activation::Identity,
            Activation::Relu,
            Activation::LeakyRelu(0.01),
            Activation::LeakyRelu(0.2),
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Softplus,
            Activation::Erf,
            Activation::Gelu,
        ] {
            assert_eq!(a.to_string().parse::<Activation>(), Ok(a));
        }
        assert!("leaky-relu(x)".parse::<Activation>().is_err());
        assert!("leaky-relu(inf)".parse::<Activation>().is_err());
        assert!("swish".parse::<Activation>().is_err());
    }
}
