//! IDX files (LeCun's MNIST format), gzipped or not.
//!
//! Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions k, then
//! k big-endian u32 sizes, then the data in row-major order. Images are `idx3` (n × rows ×
//! cols), labels `idx1` (n).

use super::csv::read_maybe_gz;
use super::{RawData, Targets};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// A parsed IDX array of unsigned bytes.
#[derive(Clone, Debug)]
pub struct IdxArray {
    /// Sizes of each dimension.
    pub dims: Vec<usize>,
    /// The data, row-major.
    pub data: Vec<u8>,
}

/// Parses the bytes of an (already gunzipped) IDX file; `name` is used in errors.
pub fn parse_idx(bytes: &[u8], name: &str) -> Result<IdxArray> {
    if bytes.len() < 4 {
        bail!(
            "{name}: file is {} bytes long, too short for an IDX header (truncated?)",
            bytes.len()
        );
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        bail!(
            "{name}: not an IDX file (the magic number must start with two zero bytes, found {:02x} {:02x})",
            bytes[0],
            bytes[1]
        );
    }
    if bytes[2] != 0x08 {
        bail!(
            "{name}: IDX element type 0x{:02x} is not supported (only 0x08, unsigned byte)",
            bytes[2]
        );
    }
    let k = bytes[3] as usize;
    if k == 0 || k > 4 {
        bail!("{name}: IDX header declares {k} dimensions (expected 1 to 4)");
    }
    let header = 4 + 4 * k;
    if bytes.len() < header {
        bail!(
            "{name}: header declares {k} dimensions but the file ends after {} bytes (truncated)",
            bytes.len()
        );
    }
    let dims: Vec<usize> = (0..k)
        .map(|i| {
            let b = &bytes[4 + 4 * i..8 + 4 * i];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let expected = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let Some(expected) = expected else {
        bail!("{name}: IDX dimensions {dims:?} overflow");
    };
    let got = bytes.len() - header;
    if got < expected {
        bail!(
            "{name}: header promises {dims:?} = {expected} bytes of data but only {got} follow (truncated)"
        );
    }
    if got > expected {
        bail!(
            "{name}: header promises {dims:?} = {expected} bytes of data but {got} follow (corrupt header?)"
        );
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// Loads an images file and a labels file into raw samples (pixels scaled to [0, 1]).
pub fn load_pair(images: &Path, labels: &Path) -> Result<RawData> {
    let img_name = images.display().to_string();
    let lab_name = labels.display().to_string();
    let img = parse_idx(&read_maybe_gz(images)?, &img_name)?;
    let lab = parse_idx(&read_maybe_gz(labels)?, &lab_name)?;
    if img.dims.len() < 2 {
        bail!(
            "{img_name}: an images file needs at least 2 dimensions, found {:?}",
            img.dims
        );
    }
    if lab.dims.len() != 1 {
        bail!(
            "{lab_name}: a labels file must be 1-dimensional, found {:?}",
            lab.dims
        );
    }
    let n = img.dims[0];
    if lab.dims[0] != n {
        bail!(
            "{lab_name} has {} labels but {img_name} has {n} images",
            lab.dims[0]
        );
    }
    if n == 0 {
        bail!("{img_name}: no images");
    }
    let d: usize = img.dims[1..].iter().product();
    let features = img
        .data
        .chunks_exact(d)
        .map(|c| c.iter().map(|&p| p as f64 / 255.0).collect())
        .collect();
    let labels: Vec<usize> = lab.data.iter().map(|&l| l as usize).collect();
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    if classes > 100 {
        bail!(
            "{lab_name}: label {} is implausibly large for a class label",
            classes - 1
        );
    }
    Ok(RawData {
        features,
        targets: Targets::Classes { labels, classes },
    })
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    let candidates = [
        format!("{stem}.gz"),
        stem.to_string(),
        stem.replacen("-idx", ".idx", 1),
    ];
    for c in &candidates {
        let p = dir.join(c);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!(
        "{}: no `{stem}` or `{stem}.gz` in this directory",
        dir.display()
    )
}

/// Loads the standard four files of an MNIST-style directory: (train, test).
pub fn load_mnist_dir(dir: &Path) -> Result<(RawData, RawData)> {
    if !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    let train = load_pair(
        &find(dir, "train-images-idx3-ubyte")?,
        &find(dir, "train-labels-idx1-ubyte")?,
    )?;
    let test = load_pair(
        &find(dir, "t10k-images-idx3-ubyte")?,
        &find(dir, "t10k-labels-idx1-ubyte")?,
    )?;
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx3(n: u32, r: u32, c: u32) -> Vec<u8> {
        let mut v = vec![0, 0, 8, 3];
        for d in [n, r, c] {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend((0..n * r * c).map(|i| (i % 256) as u8));
        v
    }

    #[test]
    fn parses_and_rejects() {
        let ok = idx3(2, 3, 3);
        let a = parse_idx(&ok, "x").unwrap();
        assert_eq!(a.dims, vec![2, 3, 3]);
        let e = parse_idx(&ok[..ok.len() - 1], "x").unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let e = parse_idx(&ok[..6], "x").unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let mut bad = ok.clone();
        bad[0] = 7;
        assert!(parse_idx(&bad, "x")
            .unwrap_err()
            .to_string()
            .contains("not an IDX"));
        let mut bad = ok;
        bad[2] = 0x0d;
        assert!(parse_idx(&bad, "x")
            .unwrap_err()
            .to_string()
            .contains("not supported"));
    }
}
