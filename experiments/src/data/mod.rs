//! Data sets: the embedded UCI digits (default), IDX files (MNIST, Fashion-MNIST), CSV files and
//! seeded synthetic tasks, all turned into one [`Dataset`] shape that the experiments consume.
//!
//! Every loader returns `anyhow::Result` with an error that names the file and what is wrong
//! with it; nothing here panics on bad input.

pub mod cache;
pub mod csv;
pub mod fetch;
pub mod idx;
pub mod npy;
pub mod synthetic;

use anyhow::{bail, Context, Result};
use linalg::{Matrix, Real};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The UCI optical handwritten digits (8×8, 1797 samples, 10 classes), scikit-learn's copy.
/// Alpaydin & Kaynak (1998); see `data/uci-digits/README.md` for origin and license.
pub const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/uci-digits/digits.csv.gz");

/// Which data set to use, parsed from `--data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataSpec {
    /// The embedded UCI digits.
    Digits,
    /// MNIST in a directory holding the four standard IDX files (gzipped or not).
    Mnist {
        /// Directory with `train-images-idx3-ubyte[.gz]` and friends; `None`: the cache.
        dir: Option<PathBuf>,
    },
    /// Fashion-MNIST, same layout as MNIST.
    FashionMnist {
        /// Directory with the four IDX files; `None` reads the cache.
        dir: Option<PathBuf>,
    },
    /// One pair of IDX files (images, labels); split into train and test by the seeded split.
    Idx {
        /// The idx3 images file.
        images: PathBuf,
        /// The idx1 labels file.
        labels: PathBuf,
    },
    /// A CSV file of numbers, one sample per line, the last column the target (an integer class
    /// label when every target is a non-negative integer, else a real regression target).
    Csv {
        /// Path of the file (gzipped when it ends in `.gz` or starts with the gzip magic).
        path: PathBuf,
    },
    /// A pair of NumPy `.npy` files: inputs X (n, d) of float32/float64 and targets Y, either
    /// (n,) integer class labels or (n,) / (n, o) real targets; split by the seeded split.
    Npy {
        /// The (n, d) inputs.
        x: PathBuf,
        /// The (n,) labels or (n, o) targets.
        y: PathBuf,
    },
    /// Teacher–student regression: y = teacher(x) + noise with a random one-hidden-layer tanh
    /// teacher.
    Teacher,
    /// Two interleaved spirals in the plane, two classes.
    Spirals,
    /// y = sin(x) + noise on x ∈ [−π, π].
    Sine,
}

impl DataSpec {
    /// Parses `digits`, `mnist[:DIR]`, `fashion-mnist[:DIR]`, `idx:IMAGES,LABELS`, `csv:PATH`,
    /// `npy:X,Y`, `teacher`, `spirals` or `sine`.
    pub fn parse(s: &str) -> Result<Self> {
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (s, None),
        };
        let need = |what: &str| -> Result<&str> {
            match arg {
                Some(a) if !a.is_empty() => Ok(a),
                _ => bail!(
                    "--data {kind} needs {what}, e.g. `{kind}:{}`",
                    example(kind)
                ),
            }
        };
        let no_arg = |spec: DataSpec| -> Result<DataSpec> {
            if arg.is_some() {
                bail!("--data {kind} takes no argument (got `{s}`)");
            }
            Ok(spec)
        };
        match kind {
            "digits" => no_arg(DataSpec::Digits),
            "teacher" => no_arg(DataSpec::Teacher),
            "spirals" => no_arg(DataSpec::Spirals),
            "sine" => no_arg(DataSpec::Sine),
            "mnist" => Ok(DataSpec::Mnist {
                dir: arg.map(|_| need("a directory")).transpose()?.map(Into::into),
            }),
            "fashion-mnist" => Ok(DataSpec::FashionMnist {
                dir: arg.map(|_| need("a directory")).transpose()?.map(Into::into),
            }),
            "csv" => Ok(DataSpec::Csv {
                path: need("a file")?.into(),
            }),
            "idx" => {
                let a = need("two files")?;
                let Some((images, labels)) = a.split_once(',') else {
                    bail!("--data idx needs two files separated by a comma: `idx:IMAGES,LABELS`");
                };
                if images.is_empty() || labels.is_empty() {
                    bail!("--data idx needs two files separated by a comma: `idx:IMAGES,LABELS` (got `{s}`)");
                }
                Ok(DataSpec::Idx {
                    images: images.into(),
                    labels: labels.into(),
                })
            }
            "npy" => {
                let a = need("two files")?;
                let Some((x, y)) = a.split_once(',') else {
                    bail!("--data npy needs two files separated by a comma: `npy:X.npy,Y.npy`");
                };
                if x.is_empty() || y.is_empty() {
                    bail!("--data npy needs two files separated by a comma: `npy:X.npy,Y.npy` (got `{s}`)");
                }
                Ok(DataSpec::Npy {
                    x: x.into(),
                    y: y.into(),
                })
            }
            other => bail!(
                "unknown data set `{other}`: expected one of digits, mnist[:DIR], fashion-mnist[:DIR], \
                 idx:IMAGES,LABELS, csv:PATH, npy:X,Y, teacher, spirals, sine"
            ),
        }
    }

    /// Images (the 8×8 digits, IDX, MNIST, Fashion-MNIST) are standardised with one σ pooled
    /// over the pixels: a pixel almost never lit in a small training subset would otherwise get
    /// a tiny σ and blow up on the test set.
    pub fn is_image(&self) -> bool {
        matches!(
            self,
            DataSpec::Digits
                | DataSpec::Idx { .. }
                | DataSpec::Mnist { .. }
                | DataSpec::FashionMnist { .. }
        )
    }

    /// A short human-readable name (for tables and file names).
    pub fn name(&self) -> String {
        match self {
            DataSpec::Digits => "digits".into(),
            DataSpec::Mnist { .. } => "mnist".into(),
            DataSpec::FashionMnist { .. } => "fashion-mnist".into(),
            DataSpec::Idx { images, .. } => format!("idx:{}", images.display()),
            DataSpec::Csv { path } => format!("csv:{}", path.display()),
            DataSpec::Npy { x, .. } => format!("npy:{}", x.display()),
            DataSpec::Teacher => "teacher".into(),
            DataSpec::Spirals => "spirals".into(),
            DataSpec::Sine => "sine".into(),
        }
    }
}

fn example(kind: &str) -> &'static str {
    match kind {
        "mnist" | "fashion-mnist" => "path/to/mnist",
        "idx" => "images-idx3-ubyte.gz,labels-idx1-ubyte.gz",
        "npy" => "x.npy,y.npy",
        _ => "data.csv",
    }
}

impl std::str::FromStr for DataSpec {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        DataSpec::parse(s)
    }
}

/// Raw samples as read from a source, before splitting and scaling.
#[derive(Clone, Debug)]
pub struct RawData {
    /// Features, one row per sample.
    pub features: Vec<Vec<f64>>,
    /// Targets.
    pub targets: Targets,
}

/// Targets of a raw data set.
#[derive(Clone, Debug)]
pub enum Targets {
    /// Integer class labels in `0..classes`.
    Classes {
        /// One label per sample.
        labels: Vec<usize>,
        /// Number of classes.
        classes: usize,
    },
    /// Real targets, one row of `o` values per sample.
    Regression(Vec<Vec<f64>>),
}

impl RawData {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.len()
    }
    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
    fn select(&self, idx: &[usize]) -> RawData {
        RawData {
            features: idx.iter().map(|&i| self.features[i].clone()).collect(),
            targets: match &self.targets {
                Targets::Classes { labels, classes } => Targets::Classes {
                    labels: idx.iter().map(|&i| labels[i]).collect(),
                    classes: *classes,
                },
                Targets::Regression(t) => {
                    Targets::Regression(idx.iter().map(|&i| t[i].clone()).collect())
                }
            },
        }
    }
}

/// A ready-to-use data set: standardised inputs and squared-error targets, in f64.
///
/// Inputs are standardised feature by feature with the *training* mean and standard deviation
/// (a feature constant on the training set is only centred). Classification targets are
/// centred one-hot vectors, `1 − 1/C` for the true class and `−1/C` elsewhere, so that every
/// target row sums to zero and the zero function is the natural starting point.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Name of the source (`digits`, `mnist`, …).
    pub name: String,
    /// Training inputs, n × d.
    pub x_train: Matrix<f64>,
    /// Training targets, n × o.
    pub y_train: Matrix<f64>,
    /// Test inputs, m × d.
    pub x_test: Matrix<f64>,
    /// Test targets, m × o.
    pub y_test: Matrix<f64>,
    /// Training labels (classification only).
    pub labels_train: Option<Vec<usize>>,
    /// Test labels (classification only).
    pub labels_test: Option<Vec<usize>>,
}

impl Dataset {
    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        self.x_train.cols()
    }
    /// The largest |x| over the standardised test inputs: how far the test set strays from
    /// the training statistics (a tiny training σ shows up here as a huge value).
    pub fn max_abs_test_input(&self) -> f64 {
        self.x_test.norm_max()
    }
    /// Output dimension o.
    pub fn output_dim(&self) -> usize {
        self.y_train.cols()
    }
    /// Number of training samples.
    pub fn n_train(&self) -> usize {
        self.x_train.rows()
    }
    /// Number of test samples.
    pub fn n_test(&self) -> usize {
        self.x_test.rows()
    }
    /// True for a classification task (accuracy is defined).
    pub fn is_classification(&self) -> bool {
        self.labels_train.is_some()
    }
}

/// How to load: which source, how many samples, which seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataConfig {
    /// The source.
    pub spec: DataSpec,
    /// Training samples (a seeded subset when the source has more).
    pub n_train: usize,
    /// Test samples.
    pub n_test: usize,
    /// Seed of the split and of synthetic tasks (independent of the model seed, so that a seed
    /// sweep over networks sees the same data).
    pub seed: u64,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            spec: DataSpec::Digits,
            n_train: 256,
            n_test: 512,
            seed: 0,
        }
    }
}

/// Most samples a synthetic task generates (train and test together).
pub const MAX_SYNTHETIC_SAMPLES: usize = 1_000_000;

/// Loads, splits, subsets and scales the data set described by `cfg`.
pub fn load(cfg: &DataConfig) -> Result<Dataset> {
    if cfg.n_train == 0 {
        bail!("--n-train must be at least 1");
    }
    if cfg.n_test == 0 {
        bail!("--n-test must be at least 1 (test losses and accuracies need a test set)");
    }
    let Some(total) = cfg.n_train.checked_add(cfg.n_test) else {
        bail!(
            "--n-train {} + --n-test {} is too large",
            cfg.n_train,
            cfg.n_test
        );
    };
    let synthetic = matches!(
        cfg.spec,
        DataSpec::Teacher | DataSpec::Spirals | DataSpec::Sine
    );
    if synthetic && total > MAX_SYNTHETIC_SAMPLES {
        bail!(
            "--n-train {} + --n-test {} = {total} synthetic samples: at most {MAX_SYNTHETIC_SAMPLES} are generated",
            cfg.n_train,
            cfg.n_test
        );
    }
    let name = cfg.spec.name();
    let pair = match &cfg.spec {
        DataSpec::Digits => {
            let raw = csv::parse_csv_bytes(DIGITS_CSV_GZ, "embedded digits.csv.gz")
                .context("the embedded digits data set is corrupt")?;
            split(raw, cfg)?
        }
        DataSpec::Csv { path } => split(csv::load_csv(path)?, cfg)?,
        DataSpec::Npy { x, y } => split(npy::load_pair(x, y)?, cfg)?,
        DataSpec::Idx { images, labels } => split(idx::load_pair(images, labels)?, cfg)?,
        DataSpec::Mnist { dir } | DataSpec::FashionMnist { dir } => {
            let dir = cache::resolve(&name, dir.as_deref())?;
            let (train, test) = idx::load_mnist_dir(&dir)?;
            (
                subset(train, cfg.n_train, cfg.seed, "training")?,
                subset(test, cfg.n_test, cfg.seed ^ 0x5eed, "test")?,
            )
        }
        DataSpec::Teacher => split(synthetic::teacher(total, 8, 64, 0.05, cfg.seed), cfg)?,
        DataSpec::Spirals => split(synthetic::two_spirals(total, 0.05, cfg.seed), cfg)?,
        DataSpec::Sine => split(synthetic::sine(total, 0.05, cfg.seed), cfg)?,
    };
    let scaling = if cfg.spec.is_image() {
        Scaling::Global
    } else {
        Scaling::PerFeature
    };
    finish(name, pair, scaling)
}

/// How inputs are standardised (always with training statistics only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scaling {
    /// Each feature to mean 0 and variance 1 (a constant feature is only centred).
    PerFeature,
    /// Each feature centred, all divided by one standard deviation pooled over features: for
    /// images (IDX, MNIST, the 8×8 digits), whose rarely-lit border pixels would otherwise be
    /// blown up on the test set by a tiny training standard deviation.
    Global,
}

fn subset(raw: RawData, n: usize, seed: u64, what: &str) -> Result<RawData> {
    if n > raw.len() {
        bail!(
            "asked for {n} {what} samples but the data set has only {}",
            raw.len()
        );
    }
    let mut idx: Vec<usize> = (0..raw.len()).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    idx.truncate(n);
    Ok(raw.select(&idx))
}

/// Seeded split of one pool into train and test.
fn split(raw: RawData, cfg: &DataConfig) -> Result<(RawData, RawData)> {
    let total = raw.len();
    if cfg.n_train.saturating_add(cfg.n_test) > total {
        bail!(
            "asked for {} training + {} test samples but `{}` has only {total}",
            cfg.n_train,
            cfg.n_test,
            cfg.spec.name()
        );
    }
    let mut idx: Vec<usize> = (0..total).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed));
    let train = raw.select(&idx[..cfg.n_train]);
    let test = raw.select(&idx[cfg.n_train..cfg.n_train + cfg.n_test]);
    Ok((train, test))
}

fn finish(name: String, (train, test): (RawData, RawData), scaling: Scaling) -> Result<Dataset> {
    let d = train.features.first().map_or(0, Vec::len);
    if d == 0 {
        bail!("{name}: samples have no features");
    }
    if let Some(bad) = test.features.iter().find(|r| r.len() != d) {
        bail!(
            "{name}: test samples have {} features but training samples have {d}",
            bad.len()
        );
    }
    // Standardise with training statistics only: the test set must not leak into the scaling.
    let n = train.len() as f64;
    let mut mean = vec![0.0; d];
    for r in &train.features {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += v / n;
        }
    }
    let mut std = vec![0.0; d];
    for r in &train.features {
        for ((s, v), m) in std.iter_mut().zip(r).zip(&mean) {
            *s += (v - m) * (v - m) / n;
        }
    }
    if let Some(j) = (0..d).find(|&j| !(mean[j].is_finite() && std[j].is_finite())) {
        let big = train
            .features
            .iter()
            .map(|r| r[j].abs())
            .fold(0.0, f64::max);
        bail!(
            "{name}: feature {} cannot be standardised: its values (up to {big:e} in magnitude) overflow the mean or variance",
            j + 1
        );
    }
    match scaling {
        Scaling::PerFeature => {
            for s in &mut std {
                *s = s.sqrt();
                if *s < 1e-12 {
                    *s = 1.0;
                }
            }
        }
        Scaling::Global => {
            let pooled = (std.iter().sum::<f64>() / d as f64).sqrt();
            let pooled = if pooled < 1e-12 { 1.0 } else { pooled };
            std.iter_mut().for_each(|s| *s = pooled);
        }
    }
    let scale =
        |rows: &[Vec<f64>]| Matrix::from_fn(rows.len(), d, |i, j| (rows[i][j] - mean[j]) / std[j]);
    let x_train = scale(&train.features);
    let x_test = scale(&test.features);
    let (y_train, labels_train, y_test, labels_test) = match (train.targets, test.targets) {
        (
            Targets::Classes {
                labels: lt,
                classes,
            },
            Targets::Classes {
                labels: ls,
                classes: c2,
            },
        ) => {
            let c = classes.max(c2);
            (
                one_hot_centred(&lt, c),
                Some(lt),
                one_hot_centred(&ls, c),
                Some(ls),
            )
        }
        (Targets::Regression(a), Targets::Regression(b)) => {
            let o = a.first().map_or(1, Vec::len);
            let to_m = |t: &[Vec<f64>]| Matrix::from_fn(t.len(), o, |i, j| t[i][j]);
            (to_m(&a), None, to_m(&b), None)
        }
        _ => bail!("{name}: training and test targets are of different kinds"),
    };
    for (what, m) in [
        ("training inputs", &x_train),
        ("test inputs", &x_test),
        ("training targets", &y_train),
        ("test targets", &y_test),
    ] {
        if let Some((i, j)) = m.find_non_finite() {
            bail!("{name}: {what} contain a non-finite value at sample {i}, column {j}");
        }
    }
    Ok(Dataset {
        name,
        x_train,
        y_train,
        x_test,
        y_test,
        labels_train,
        labels_test,
    })
}

/// Centred one-hot targets: `1 − 1/C` on the true class, `−1/C` elsewhere.
pub fn one_hot_centred(labels: &[usize], classes: usize) -> Matrix<f64> {
    let off = -1.0 / classes as f64;
    Matrix::from_fn(labels.len(), classes, |i, j| {
        if labels[i] == j {
            1.0 + off
        } else {
            off
        }
    })
}

/// Converts an f64 matrix to the working precision.
pub fn cast<T: Real>(m: &Matrix<f64>) -> Matrix<T> {
    Matrix::from_fn(m.rows(), m.cols(), |i, j| T::from_f64(m.get(i, j)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_load_with_standard_split() {
        let ds = load(&DataConfig::default()).unwrap();
        assert_eq!(ds.x_train.shape(), (256, 64));
        assert_eq!(ds.y_train.shape(), (256, 10));
        assert_eq!(ds.x_test.shape(), (512, 64));
        for i in 0..ds.n_train() {
            let s: f64 = ds.y_train.row(i).iter().sum();
            assert!(s.abs() < 1e-12, "centred targets sum to zero");
        }
        // Standardised on the training set with one pooled σ (images): every column has
        // mean 0, and the variances average to 1 over the columns.
        let mut total_var = 0.0;
        for j in 0..64 {
            let col: Vec<f64> = (0..256).map(|i| ds.x_train.get(i, j)).collect();
            let m = col.iter().sum::<f64>() / 256.0;
            assert!(m.abs() < 1e-9);
            total_var += col.iter().map(|x| x * x).sum::<f64>() / 256.0;
        }
        assert!(
            (total_var / 64.0 - 1.0).abs() < 1e-9,
            "{}",
            total_var / 64.0
        );
    }

    #[test]
    fn split_is_seeded_and_disjoint_sizes_checked() {
        let a = load(&DataConfig {
            n_train: 50,
            n_test: 20,
            ..Default::default()
        })
        .unwrap();
        let b = load(&DataConfig {
            n_train: 50,
            n_test: 20,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(a.x_train.as_slice(), b.x_train.as_slice());
        let c = load(&DataConfig {
            n_train: 50,
            n_test: 20,
            seed: 1,
            ..Default::default()
        })
        .unwrap();
        assert_ne!(a.labels_train, c.labels_train);
        let err = load(&DataConfig {
            n_train: 1700,
            n_test: 200,
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("only 1797"), "{err}");
    }

    #[test]
    fn spec_parsing() {
        assert_eq!(DataSpec::parse("digits").unwrap(), DataSpec::Digits);
        for (s, dir) in [("mnist:/d", Some("/d".into())), ("mnist", None)] {
            assert_eq!(DataSpec::parse(s).unwrap(), DataSpec::Mnist { dir });
        }
        assert!(DataSpec::parse("mnist:")
            .unwrap_err()
            .to_string()
            .contains("needs a directory"));
        assert!(DataSpec::parse("idx:a").is_err());
        assert!(DataSpec::parse("cifar")
            .unwrap_err()
            .to_string()
            .contains("unknown data set"));
        assert!(DataSpec::parse("digits:x").is_err());
    }
}
