//! IDX files (LeCun's MNIST format), gzipped or not.
//!
//! Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions k, then
//! k big-endian u32 sizes, then the data in row-major order. Images are `idx3` (n × rows ×
//! cols), labels `idx1` (n).

use super::{RawData, Targets};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
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
    parse_idx_stream(bytes, Some(bytes.len() as u64), name, false)
}

/// Reads an IDX file, gunzipping it on the fly when it starts with the gzip magic. The header
/// is read and checked first: a header that promises more data than the file holds is refused
/// before anything is allocated for the data, and a gzip stream is never inflated beyond what
/// the header promises (the rest is only counted).
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let name = path.display().to_string();
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
    let meta = f
        .metadata()
        .with_context(|| format!("cannot read {name}"))?;
    if meta.is_dir() {
        bail!("{name}: is a directory, not an IDX file");
    }
    let mut magic = Vec::with_capacity(2);
    (&mut f)
        .take(2)
        .read_to_end(&mut magic)
        .with_context(|| format!("cannot read {name}"))?;
    let rest = std::io::Cursor::new(magic.clone()).chain(f);
    if magic == [0x1f, 0x8b] {
        let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(rest));
        parse_idx_stream(gz, None, &name, true)
    } else {
        parse_idx_stream(rest, Some(meta.len()), &name, false)
    }
}

/// Reads as much as `buf` asks for; returns how much was read (less only at the end).
fn fill<R: Read>(r: &mut R, buf: &mut [u8], name: &str, gz: bool) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e, name, gz)),
        }
    }
    Ok(got)
}

fn read_error(e: std::io::Error, name: &str, gz: bool) -> anyhow::Error {
    if gz {
        anyhow!("{name}: the gzip stream is corrupt or truncated ({e})")
    } else {
        anyhow!("cannot read {name}: {e}")
    }
}

/// Parses an IDX stream. `total` is the stream's length when known (a plain file), so that the
/// promised size can be checked before reading the data.
fn parse_idx_stream<R: Read>(
    mut r: R,
    total: Option<u64>,
    name: &str,
    gz: bool,
) -> Result<IdxArray> {
    let mut head = [0u8; 4];
    let got = fill(&mut r, &mut head, name, gz)?;
    if got < 4 {
        bail!("{name}: file is {got} bytes long, too short for an IDX header (truncated)");
    }
    if head[0] != 0 || head[1] != 0 {
        bail!(
            "{name}: not an IDX file (the magic number must start with two zero bytes, found {:02x} {:02x})",
            head[0],
            head[1]
        );
    }
    if head[2] != 0x08 {
        bail!(
            "{name}: IDX element type 0x{:02x} is not supported (only 0x08, unsigned byte)",
            head[2]
        );
    }
    let k = head[3] as usize;
    if k == 0 || k > 4 {
        bail!("{name}: IDX header declares {k} dimensions (expected 1 to 4)");
    }
    let header = 4 + 4 * k;
    let mut raw = [0u8; 16];
    let got = fill(&mut r, &mut raw[..4 * k], name, gz)?;
    if got < 4 * k {
        bail!(
            "{name}: header declares {k} dimensions but the file ends after {} bytes (truncated)",
            4 + got
        );
    }
    let dims: Vec<usize> = raw[..4 * k]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let Some(expected) = expected else {
        bail!("{name}: IDX dimensions {dims:?} overflow");
    };
    if let Some(total) = total {
        let have = total.saturating_sub(header as u64);
        if (expected as u64) > have {
            bail!(
                "{name}: header promises {dims:?} = {expected} bytes of data but only {have} follow (truncated)"
            );
        }
        if (expected as u64) < have {
            bail!(
                "{name}: header promises {dims:?} = {expected} bytes of data but {have} follow (corrupt header?)"
            );
        }
    }
    // With a known length the size is verified; a gzip stream grows the buffer only as data
    // actually arrive, so a lying header cannot make this allocate more than the stream holds.
    let mut data = if total.is_some() {
        Vec::with_capacity(expected)
    } else {
        Vec::new()
    };
    (&mut r)
        .take(expected as u64)
        .read_to_end(&mut data)
        .map_err(|e| read_error(e, name, gz))?;
    let extra = std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| read_error(e, name, gz))?;
    let got = data.len() as u64 + extra;
    if data.len() < expected {
        bail!(
            "{name}: header promises {dims:?} = {expected} bytes of data but only {got} follow (truncated)"
        );
    }
    if extra > 0 {
        bail!(
            "{name}: header promises {dims:?} = {expected} bytes of data but {got} follow (corrupt header?)"
        );
    }
    Ok(IdxArray { dims, data })
}

/// Loads an images file and a labels file into raw samples (pixels scaled to [0, 1]).
pub fn load_pair(images: &Path, labels: &Path) -> Result<RawData> {
    let img_name = images.display().to_string();
    let lab_name = labels.display().to_string();
    let img = read_idx(images)?;
    let lab = read_idx(labels)?;
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
    if d == 0 {
        bail!(
            "{img_name}: images of shape {:?} have no pixels",
            &img.dims[1..]
        );
    }
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
