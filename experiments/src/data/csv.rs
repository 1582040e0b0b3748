//! CSV loader: one sample per line, numbers only, the last column the target.
//!
//! A first line that does not parse as numbers is taken as a header. The target is a class label
//! when every target is a non-negative integer (at most 1000 classes), otherwise a regression
//! target. Gzipped files are recognised by their magic bytes.

use super::{RawData, Targets};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// Reads a whole file, gunzipping it when it starts with the gzip magic `1f 8b`.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    gunzip_if_needed(bytes, &path.display().to_string())
}

/// Gunzips `bytes` when they start with the gzip magic; `name` is used in the error.
pub fn gunzip_if_needed(bytes: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| anyhow!("{name}: the gzip stream is corrupt or truncated ({e})"))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Loads a CSV file (see the module documentation for the format).
pub fn load_csv(path: &Path) -> Result<RawData> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_csv_bytes(&bytes, &path.display().to_string())
}

/// Parses CSV bytes (gzipped or not); `name` is used in errors.
pub fn parse_csv_bytes(bytes: &[u8], name: &str) -> Result<RawData> {
    let mut text = gunzip_if_needed(bytes.to_vec(), name)?;
    if text.starts_with(b"\xef\xbb\xbf") {
        text.drain(..3); // a UTF-8 byte-order mark
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(&text[..]);
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut width: Option<usize> = None;
    for (line, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| anyhow!("{name}: line {}: {e}", line + 1))?;
        if rec.iter().all(|f| f.is_empty()) {
            continue;
        }
        let parsed: std::result::Result<Vec<f64>, usize> = rec
            .iter()
            .enumerate()
            .map(|(j, f)| f.parse::<f64>().map_err(|_| j))
            .collect();
        let values = match parsed {
            Ok(v) => v,
            // A header line: no field of it is a number.
            Err(_) if line == 0 && rec.iter().all(|f| f.parse::<f64>().is_err()) => continue,
            Err(j) => bail!(
                "{name}: line {}, column {}: `{}` is not a number",
                line + 1,
                j + 1,
                rec.get(j).unwrap_or("")
            ),
        };
        if let Some(j) = values.iter().position(|v| !v.is_finite()) {
            bail!(
                "{name}: line {}, column {}: value is not finite",
                line + 1,
                j + 1
            );
        }
        match width {
            None => {
                if values.len() < 2 {
                    bail!("{name}: line {}: need at least one feature and a target, found {} field(s)", line + 1, values.len());
                }
                width = Some(values.len());
            }
            Some(w) if w != values.len() => bail!(
                "{name}: line {}: expected {w} fields like the lines before, found {} (truncated or ragged file?)",
                line + 1,
                values.len()
            ),
            _ => {}
        }
        rows.push(values);
    }
    if rows.is_empty() {
        bail!("{name}: no data rows (the file is empty or holds only a header)");
    }
    let targets: Vec<f64> = rows
        .iter_mut()
        .map(|r| r.pop().unwrap_or(f64::NAN))
        .collect();
    let is_class = targets
        .iter()
        .all(|&t| t >= 0.0 && t.fract() == 0.0 && t <= 1000.0);
    let targets = if is_class {
        let labels: Vec<usize> = targets.iter().map(|&t| t as usize).collect();
        let classes = labels.iter().max().map_or(0, |m| m + 1);
        if classes < 2 {
            bail!("{name}: every label is 0: a classification task needs at least two classes");
        }
        Targets::Classes { labels, classes }
    } else {
        Targets::Regression(targets.into_iter().map(|t| vec![t]).collect())
    };
    Ok(RawData {
        features: rows,
        targets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_and_labels() {
        let raw = parse_csv_bytes(b"a,b,label\n1,2,0\n3,4,1\n", "t.csv").unwrap();
        assert_eq!(raw.features, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert!(matches!(raw.targets, Targets::Classes { classes: 2, .. }));
        let raw = parse_csv_bytes(b"1,2,0.5\n3,4,1\n", "t.csv").unwrap();
        assert!(matches!(raw.targets, Targets::Regression(_)));
    }

    #[test]
    fn rejects_ragged_and_garbage() {
        let e = parse_csv_bytes(b"1,2,0\n3,4\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.csv") && e.contains("line 2") && e.contains("expected 3"),
            "{e}"
        );
        let e = parse_csv_bytes(b"1,2,0\n3,x,1\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2, column 2") && e.contains("not a number"),
            "{e}"
        );
        let e = parse_csv_bytes(b"", "t.csv").unwrap_err().to_string();
        assert!(e.contains("no data"), "{e}");
    }
}
