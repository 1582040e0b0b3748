//! Settings shared by several experiments, typed: the precision, and serde/clap glue for the
//! autodiff enums (activation, parameterization), which are read and written by their names.

use serde::{Deserialize, Serialize};

/// Floating-point precision of the network and its derivatives. The kernel algebra
/// (Cholesky, eigendecomposition) is always done in f64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// Single precision.
    F32,
    /// Double precision.
    F64,
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        })
    }
}

/// Serde by name for any type with `Display` and `FromStr` (`relu`, `ntk`, …), for
/// `#[serde(with = "by_name")]`.
pub mod by_name {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    /// Writes the value's name.
    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a name; an unknown one is an error that quotes the parser's message.
    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let name = String::deserialize(d)?;
        name.parse().map_err(D::Error::custom)
    }
}

/// clap value parser for the activation name.
pub fn parse_activation(s: &str) -> Result<autodiff::Activation, String> {
    s.parse()
}

/// clap value parser for the initialisation name (glorot-normal, kaiming-normal, sigma).
pub fn parse_init(s: &str) -> Result<autodiff::mlp::Init, String> {
    s.parse()
}

/// clap value parser for the parameterization name.
pub fn parse_parameterization(s: &str) -> Result<autodiff::mlp::Parameterization, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use crate::model::ModelConfig;

    #[test]
    fn model_settings_round_trip_by_name() {
        let m = ModelConfig::default();
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"activation\":\"relu\""), "{text}");
        assert!(text.contains("\"parameterization\":\"ntk\""), "{text}");
        let back: ModelConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        let bad = text.replace("relu", "swish2");
        assert!(serde_json::from_str::<ModelConfig>(&bad).is_err());
    }
}
