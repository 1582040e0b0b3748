//! The local cache of downloadable data sets (MNIST, Fashion-MNIST), laid out like
//! torchvision's and tfds's: one folder per data set under a cache root, holding the four
//! standard IDX `.gz` files.
//!
//! Each file is pinned by the SHA-256 and the size of its *decompressed* content. Pinning the raw
//! IDX bytes rather than the `.gz` bytes lets any faithful copy pass (the official mirrors' gzip
//! files and recompressed copies of the same data decompress to the same bytes), while a wrong or
//! damaged file still fails.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// One pinned file of a data set.
#[derive(Clone, Copy, Debug)]
pub struct PinnedFile {
    /// The file name, as served by the mirrors and stored in the cache (`…-ubyte.gz`).
    pub name: &'static str,
    /// Size of the decompressed content in bytes.
    pub raw_len: u64,
    /// SHA-256 of the decompressed content, lowercase hex.
    pub raw_sha256: &'static str,
}

/// A data set that `tangent data fetch` knows how to download.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KnownSet {
    /// MNIST (LeCun, Cortes & Burges): 60000 + 10000 handwritten digits, 28×28.
    Mnist,
    /// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60000 + 10000 clothing images, 28×28.
    FashionMnist,
}

/// Where MNIST is downloaded from by default (the mirror torchvision uses, since the original
/// yann.lecun.com site refuses automated downloads).
pub const MNIST_URL: &str = "https://ossci-datasets.s3.amazonaws.com/mnist/";
/// Where Fashion-MNIST is downloaded from by default (Zalando's own bucket, as in its README).
pub const FASHION_MNIST_URL: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

// The digests are the widely published raw-file ones (their md5s match LeCun's and Zalando's
// tables), and they match the decompressed files of the official mirrors.
const MNIST_FILES: [PinnedFile; 4] = [
    pin(
        "train-images-idx3-ubyte.gz",
        47_040_016,
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    pin(
        "train-labels-idx1-ubyte.gz",
        60_008,
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    pin(
        "t10k-images-idx3-ubyte.gz",
        7_840_016,
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    pin(
        "t10k-labels-idx1-ubyte.gz",
        10_008,
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

const FASHION_MNIST_FILES: [PinnedFile; 4] = [
    pin(
        "train-images-idx3-ubyte.gz",
        47_040_016,
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    pin(
        "train-labels-idx1-ubyte.gz",
        60_008,
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    pin(
        "t10k-images-idx3-ubyte.gz",
        7_840_016,
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    pin(
        "t10k-labels-idx1-ubyte.gz",
        10_008,
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
];

const fn pin(name: &'static str, raw_len: u64, raw_sha256: &'static str) -> PinnedFile {
    PinnedFile {
        name,
        raw_len,
        raw_sha256,
    }
}

impl KnownSet {
    /// Every known data set, in the order `data list` shows them.
    pub const ALL: [KnownSet; 2] = [KnownSet::Mnist, KnownSet::FashionMnist];

    /// The name used on the command line and as the cache folder (`mnist`, `fashion-mnist`).
    pub fn name(self) -> &'static str {
        match self {
            KnownSet::Mnist => "mnist",
            KnownSet::FashionMnist => "fashion-mnist",
        }
    }

    /// The default download location (a directory URL ending in `/`).
    pub fn default_url(self) -> &'static str {
        match self {
            KnownSet::Mnist => MNIST_URL,
            KnownSet::FashionMnist => FASHION_MNIST_URL,
        }
    }

    /// The four pinned files.
    pub fn files(self) -> &'static [PinnedFile; 4] {
        match self {
            KnownSet::Mnist => &MNIST_FILES,
            KnownSet::FashionMnist => &FASHION_MNIST_FILES,
        }
    }

    /// The data set called `name`, if known.
    pub fn from_name(name: &str) -> Option<KnownSet> {
        KnownSet::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The cache root: `$TANGENT_DATA`, else `$XDG_CACHE_HOME/tangent`, else `~/.cache/tangent`.
pub fn cache_root() -> Result<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = var("TANGENT_DATA") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = var("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(d).join("tangent"));
    }
    match var("HOME") {
        Some(h) => Ok(PathBuf::from(h).join(".cache").join("tangent")),
        None => bail!(
            "cannot find a cache directory: set TANGENT_DATA (or XDG_CACHE_HOME, or HOME), \
             or pass --dir"
        ),
    }
}

/// The folder of `set` under `root` (the cache root when `root` is `None`).
pub fn set_dir(set: KnownSet, root: Option<&Path>) -> Result<PathBuf> {
    let root = match root {
        Some(r) => r.to_path_buf(),
        None => cache_root()?,
    };
    Ok(root.join(set.name()))
}

/// Checks that `path` gunzips to exactly `pin.raw_len` bytes with SHA-256 `pin.raw_sha256`.
pub fn verify(path: &Path, pin: &PinnedFile) -> Result<()> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    verify_gz(f, pin)
        .with_context(|| format!("{} is not the expected {}", path.display(), pin.name))
}

/// Checks that the gzip stream `gz` decompresses to exactly `pin.raw_len` bytes with SHA-256
/// `pin.raw_sha256`.
///
/// The content is streamed through the hash (never held in memory), and at most one byte past
/// the pinned size is inflated, so that a hostile file cannot make this read forever.
pub fn verify_gz<R: Read>(gz: R, pin: &PinnedFile) -> Result<()> {
    let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(gz));
    let mut hasher = Sha256(ring::digest::Context::new(&ring::digest::SHA256));
    let n = std::io::copy(&mut gz.take(pin.raw_len + 1), &mut hasher)
        .context("not a valid gzip file (corrupt or truncated)")?;
    if n != pin.raw_len {
        bail!(
            "it decompresses to {n}{} bytes, expected {}",
            if n > pin.raw_len { "+" } else { "" },
            pin.raw_len
        );
    }
    let got: String = hasher
        .0
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got != pin.raw_sha256 {
        bail!(
            "checksum mismatch: the decompressed content has SHA-256 {got}, expected {}",
            pin.raw_sha256
        );
    }
    Ok(())
}

/// A SHA-256 context as an `io::Write` sink, so that `io::copy` can stream into it.
struct Sha256(ring::digest::Context);

impl Write for Sha256 {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the cache holds of one pinned file.
#[derive(Clone, Debug)]
pub struct CachedFile {
    /// The pinned file.
    pub pin: PinnedFile,
    /// Size on disk (of the `.gz`), `None` when the file is absent.
    pub size: Option<u64>,
    /// Whether its content matches the pin (false when absent).
    pub verified: bool,
}

/// The state of every file of `set` in `dir` (verifying those present).
pub fn inspect(set: KnownSet, dir: &Path) -> Vec<CachedFile> {
    set.files()
        .iter()
        .map(|pin| {
            let path = dir.join(pin.name);
            let size = std::fs::metadata(&path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            let verified = size.is_some() && verify(&path, pin).is_ok();
            CachedFile {
                pin: *pin,
                size,
                verified,
            }
        })
        .collect()
}

/// The directory to read `name` (`mnist` or `fashion-mnist`) from: `dir` when given, else the
/// data set's cache folder, which must hold all four files; when it does not, the error says
/// how to fetch them.
pub fn resolve(name: &str, dir: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = dir {
        return Ok(d.to_path_buf());
    }
    let Some(set) = KnownSet::from_name(name) else {
        bail!("internal: `{name}` is not a downloadable data set");
    };
    let d = set_dir(set, None)?;
    let missing: Vec<&str> = set
        .files()
        .iter()
        .filter(|p| !d.join(p.name).is_file())
        .map(|p| p.name)
        .collect();
    if !missing.is_empty() {
        bail!(
            "{name} is not in the cache ({}: missing {}): download it with `tangent data fetch {name}`, \
             or pass a directory holding the IDX files with `--data {name}:DIR`",
            d.display(),
            missing.join(", ")
        );
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(raw: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = e.write_all(raw);
        e.finish().unwrap_or_default()
    }

    #[test]
    fn verify_checks_size_and_digest_of_the_content() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let abc = pin(
            "abc.gz",
            3,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        );
        assert!(verify_gz(&gz(b"abc")[..], &abc).is_ok());
        let err = |bytes: &[u8]| format!("{:#}", verify_gz(bytes, &abc).unwrap_err());
        assert!(err(&gz(b"abd")).contains("checksum mismatch"));
        assert!(err(&gz(b"ab")).contains("decompresses to 2 bytes"));
        assert!(err(&gz(b"abcd")).contains("decompresses to 4+ bytes"));
        assert!(err(b"abc").contains("not a valid gzip"));
        let g = gz(b"abc");
        assert!(err(&g[..g.len() - 4]).contains("not a valid gzip"));
    }

    #[test]
    fn known_sets_are_named_and_pinned_in_hex() {
        for set in KnownSet::ALL {
            assert_eq!(KnownSet::from_name(set.name()), Some(set));
            for p in set.files() {
                assert_eq!(p.raw_sha256.len(), 64);
                assert!(p.raw_sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        }
    }
}
