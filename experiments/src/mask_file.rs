//! Pruning masks on disk: `<stem>.npy` holds the mask m as a 1-D array of p = `layout.total()`
//! bytes (0 = pruned, 1 = kept, in θ order), and `<stem>.layout.json` beside it says which
//! layout θ has (widths, and per block: name, kind, layer, shape, offset, len), so a mask is
//! never read against a network it was not made for.
//!
//! Saving writes `|u1` (uint8, which NumPy reads as `np.load(path).astype(bool)`); loading also
//! accepts `|b1` (bool, `np.save(path, m)` for a bool m). Both files are written atomically
//! (temporary sibling, then rename), the layout first: the mask file is the commit point, so a
//! mask that exists always has its layout beside it.

use anyhow::{anyhow, bail, Context, Result};
use autodiff::mlp::{Mask, ParamKind, ParamLayout};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::data::npy::{parse_header, ElemKind, MAX_HEADER_BYTES};

/// The `format` tag of a layout file.
const FORMAT: &str = "tangent mask layout";
/// The version of the layout file's schema.
const VERSION: u32 = 1;

/// `<stem>.layout.json` for `<stem>.npy` (the layout file beside a mask).
pub fn layout_path(path_npy: &Path) -> PathBuf {
    path_npy.with_extension("layout.json")
}

/// The layout as written to JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct LayoutFile {
    format: String,
    version: u32,
    /// n₀ (input), n₁, …, n_L (output).
    widths: Vec<usize>,
    /// p.
    total: usize,
    entries: Vec<EntryFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct EntryFile {
    name: String,
    kind: Kind,
    layer: usize,
    shape: Vec<usize>,
    offset: usize,
    len: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Weight,
    Bias,
}

impl LayoutFile {
    fn of(layout: &ParamLayout) -> LayoutFile {
        // W_l is [n_{l+1}, n_l], so the input width is W1's second dimension.
        let mut widths = vec![layout.weight(0).shape[1]];
        widths.extend((0..layout.num_layers()).map(|l| layout.weight(l).shape[0]));
        let entries = layout
            .entries()
            .iter()
            .map(|e| EntryFile {
                name: e.name.clone(),
                kind: match e.kind {
                    ParamKind::Weight => Kind::Weight,
                    ParamKind::Bias => Kind::Bias,
                },
                layer: e.layer,
                shape: e.shape.clone(),
                offset: e.offset,
                len: e.len,
            })
            .collect();
        LayoutFile {
            format: FORMAT.into(),
            version: VERSION,
            widths,
            total: layout.total(),
            entries,
        }
    }

    /// What differs between this (read from a file) and the expected layout, if anything.
    fn difference(&self, want: &LayoutFile) -> Option<String> {
        if self.format != want.format || self.version != want.version {
            return Some(format!(
                "format {:?} version {}, expected {:?} version {}",
                self.format, self.version, want.format, want.version
            ));
        }
        if self.widths != want.widths {
            return Some(format!(
                "widths {:?} in the file, {:?} expected",
                self.widths, want.widths
            ));
        }
        if self.total != want.total {
            return Some(format!(
                "p = {} in the file, {} expected",
                self.total, want.total
            ));
        }
        if self.entries.len() != want.entries.len() {
            return Some(format!(
                "{} parameter blocks in the file, {} expected",
                self.entries.len(),
                want.entries.len()
            ));
        }
        let (got, exp) = self
            .entries
            .iter()
            .zip(&want.entries)
            .find(|(a, b)| a != b)?;
        Some(format!(
            "block {} in the file, {} expected",
            got.describe(),
            exp.describe()
        ))
    }
}

impl EntryFile {
    fn describe(&self) -> String {
        let dims: Vec<String> = self.shape.iter().map(|d| d.to_string()).collect();
        format!(
            "{} ({} of layer {}, {}, offset {}, len {})",
            self.name,
            match self.kind {
                Kind::Weight => "weight",
                Kind::Bias => "bias",
            },
            self.layer,
            dims.join("×"),
            self.offset,
            self.len
        )
    }
}

/// Writes `mask` to `path_npy` as a 1-D uint8 `.npy` of p bytes (1 = kept) and its layout to
/// [`layout_path`]`(path_npy)`, each atomically, the layout first.
pub fn save_mask(path_npy: &Path, mask: &Mask) -> Result<()> {
    let [(_, layout), (_, npy)] =
        mask_file_bytes(mask).with_context(|| format!("cannot encode {}", path_npy.display()))?;
    crate::report::write_atomic(&layout_path(path_npy), &layout)?;
    crate::report::write_atomic(path_npy, &npy)
}

/// The two files of a mask as (suffix, bytes), the layout first: (`.layout.json`, JSON) and
/// (`.npy`, a 1-D `|u1` array of p bytes), for callers that write them elsewhere (the saved
/// tickets of a run directory).
pub fn mask_file_bytes(mask: &Mask) -> Result<[(&'static str, Vec<u8>); 2]> {
    let mut json = serde_json::to_string_pretty(&LayoutFile::of(mask.layout()))?;
    json.push('\n');
    let data: Vec<u8> = mask.keep().iter().map(|&k| u8::from(k)).collect();
    let npy = crate::report::npy::npy_bytes(&[data.len()], &data)?;
    Ok([(".layout.json", json.into_bytes()), (".npy", npy)])
}

/// Reads a mask saved by [`save_mask`] (or any 1-D `|b1`/`|u1` array of 0s and 1s) for a
/// network with `layout`.
///
/// Errors, naming the file, on: a missing, truncated or corrupt file; a dtype other than bool
/// or uint8; a shape other than (p,); a value other than 0 or 1; a layout file beside it
/// (when there is one) that describes another layout (saying what differs); a mask that
/// prunes a bias.
pub fn load_mask(path_npy: &Path, layout: &ParamLayout) -> Result<Mask> {
    let name = path_npy.display().to_string();
    check_layout_file(path_npy, layout)?;
    let p = layout.total();
    let size = std::fs::metadata(path_npy)
        .with_context(|| format!("cannot read the mask {name}"))?
        .len();
    // A header is at most MAX_HEADER_BYTES after a 12-byte preamble; refusing anything longer
    // before reading keeps a wrong path (a dataset, say) from being loaded whole.
    if size > (12 + MAX_HEADER_BYTES + p) as u64 {
        bail!("{name}: {size} bytes is too long for a mask of p = {p} entries (not a mask file?)");
    }
    let bytes = std::fs::read(path_npy).with_context(|| format!("cannot read the mask {name}"))?;
    let keep = decode(&bytes, p, &name)?;
    Mask::from_keep(layout, keep).map_err(|e| anyhow!("{name}: {e}"))
}

/// The 0/1 flags of a 1-D `|b1` or `|u1` `.npy` of length p.
fn decode(bytes: &[u8], p: usize, name: &str) -> Result<Vec<bool>> {
    // The shared .npy parser checks everything the header says (magic, version, lengths with
    // overflow checks, truncation, trailing bytes) but knows no bool dtype. A bool array is
    // byte for byte a uint8 array whose values are 0 or 1, so its header is shown to the
    // parser as `|u1` (same length, offsets unchanged) and the values are checked below.
    let head_len = bytes.len().min(12 + MAX_HEADER_BYTES);
    let mut head = bytes[..head_len].to_vec();
    let bool_at = ["'|b1'", "\"|b1\""]
        .iter()
        .filter_map(|pat| find(&head, pat.as_bytes()))
        .min();
    if let Some(i) = bool_at {
        head[i + 2] = b'u';
    }
    let header = parse_header(&head, bytes.len() as u64, name)?;
    let is_bool = bool_at.is_some_and(|i| i < header.data_offset);
    if header.dtype.kind != ElemKind::UInt || header.dtype.size != 1 {
        bail!(
            "{name}: dtype `{}` is not a mask dtype (expected bool |b1 or uint8 |u1)",
            header.descr
        );
    }
    if header.shape.len() != 1 {
        bail!(
            "{name}: a mask is a 1-D array of p = {p} entries, this one has shape {:?}",
            header.shape
        );
    }
    if header.shape[0] != p {
        bail!(
            "{name}: the mask has {} entries but the network's layout has p = {p} parameters (wrong length: another network?)",
            header.shape[0]
        );
    }
    let data = &bytes[header.data_offset..];
    if let Some(i) = data.iter().position(|&b| b > 1) {
        let what = if is_bool { "bool" } else { "uint8" };
        bail!(
            "{name}: entry {i} of the {what} mask is {}; a mask holds only 0 (pruned) and 1 (kept)",
            data[i]
        );
    }
    Ok(data.iter().map(|&b| b == 1).collect())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Errors when a layout file exists beside the mask and disagrees with `layout`.
fn check_layout_file(path_npy: &Path, layout: &ParamLayout) -> Result<()> {
    let json = layout_path(path_npy);
    let text = match std::fs::read_to_string(&json) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", json.display())),
    };
    let found: LayoutFile = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{}: corrupt mask layout file ({e}); it describes the layout of {}",
            json.display(),
            path_npy.display()
        )
    })?;
    if let Some(diff) = found.difference(&LayoutFile::of(layout)) {
        bail!(
            "{}: the mask was saved for another layout than this network's: {diff}",
            json.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(widths: &[usize]) -> ParamLayout {
        ParamLayout::new(widths).unwrap()
    }

    /// Prunes every third weight (biases kept).
    fn some_mask(layout: &ParamLayout) -> Mask {
        let mut keep = vec![true; layout.total()];
        for l in 0..layout.num_layers() {
            let w = layout.weight(l);
            for i in (w.offset..w.offset + w.len).step_by(3) {
                keep[i] = false;
            }
        }
        Mask::from_keep(layout, keep).unwrap()
    }

    /// A version 1.0 `.npy` written byte by byte: magic, version, header length, the header
    /// dictionary padded with spaces to a multiple of 64 and ended by a newline, the data.
    fn npy_by_hand(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut dict =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + dict.len() + 1) % 64 != 0 {
            dict.push(' ');
        }
        dict.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn flags(mask: &Mask) -> Vec<u8> {
        mask.keep().iter().map(|&k| u8::from(k)).collect()
    }

    /// The error of loading `bytes` (as `name`.npy, without a layout file) for `layout`.
    fn load_err(bytes: &[u8], layout: &ParamLayout) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.npy");
        std::fs::write(&p, bytes).unwrap();
        let e = load_mask(&p, layout).expect_err("must be rejected");
        let msg = format!("{e:#}");
        assert!(msg.contains("bad.npy"), "the message names the file: {msg}");
        msg
    }

    #[test]
    fn u8_round_trip_with_the_layout_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let lay = layout(&[3, 4, 2]);
        let mask = some_mask(&lay);
        let path = dir.path().join("ticket.npy");
        save_mask(&path, &mask).unwrap();
        assert_eq!(load_mask(&path, &lay).unwrap(), mask);
        let bytes = std::fs::read(&path).unwrap();
        let head = String::from_utf8_lossy(&bytes[10..128]);
        assert!(head.contains("'|u1'") && head.contains("(26,"), "{head}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(layout_path(&path)).unwrap()).unwrap();
        assert_eq!(json["widths"], serde_json::json!([3, 4, 2]));
        assert_eq!(json["entries"][1]["kind"], "bias");
        assert_eq!(json["entries"][2]["offset"], 16);
        // Only the two files: no temporary left behind.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["ticket.layout.json", "ticket.npy"]);
        // Saving over an existing mask replaces it.
        let dense = Mask::dense(&lay);
        save_mask(&path, &dense).unwrap();
        assert_eq!(load_mask(&path, &lay).unwrap(), dense);
    }

    #[test]
    fn bool_file_written_by_hand_loads() {
        let dir = tempfile::tempdir().unwrap();
        let lay = layout(&[2, 3, 1]);
        let mask = some_mask(&lay);
        let path = dir.path().join("m.npy");
        std::fs::write(&path, npy_by_hand("|b1", "(13,)", &flags(&mask))).unwrap();
        assert_eq!(load_mask(&path, &lay).unwrap(), mask);
    }

    #[test]
    fn wrong_length_dtype_shape_and_values_are_rejected() {
        let lay = layout(&[2, 3, 1]);
        let ok = flags(&some_mask(&lay));
        let e = load_err(&npy_by_hand("|u1", "(12,)", &ok[..12]), &lay);
        assert!(e.contains("length") && e.contains("p = 13"), "{e}");
        let mut two = ok.clone();
        two[4] = 2;
        let e = load_err(&npy_by_hand("|b1", "(13,)", &two), &lay);
        assert!(
            e.contains("entry 4") && e.contains("0 (pruned) and 1"),
            "{e}"
        );
        let e = load_err(&npy_by_hand("<f8", "(13,)", &[0; 13 * 8]), &lay);
        assert!(e.contains("dtype"), "{e}");
        let e = load_err(&npy_by_hand("<i2", "(13,)", &[0; 26]), &lay);
        assert!(e.contains("dtype") && e.contains("<i2"), "{e}");
        let e = load_err(&npy_by_hand("|u1", "(13, 1)", &ok), &lay);
        assert!(e.contains("1-D"), "{e}");
    }

    #[test]
    fn truncated_and_corrupt_files_are_rejected() {
        let lay = layout(&[2, 3, 1]);
        let good = npy_by_hand("|u1", "(13,)", &flags(&some_mask(&lay)));
        let e = load_err(&good[..good.len() - 3], &lay);
        assert!(e.contains("truncated"), "{e}");
        let e = load_err(&good[..20], &lay);
        assert!(e.contains("truncated"), "{e}");
        let mut extra = good.clone();
        extra.push(1);
        let e = load_err(&extra, &lay);
        assert!(e.contains("trailing"), "{e}");
        let e = load_err(b"W1,b1\n1,0,1\n", &lay);
        assert!(e.contains("not a .npy"), "{e}");
        let e = load_err(&vec![7u8; 100_000], &lay);
        assert!(e.contains("too long"), "{e}");
        let mut header = good.clone();
        header[20] = b'}';
        let e = load_err(&header, &lay);
        assert!(e.contains("malformed"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = load_mask(&dir.path().join("none.npy"), &lay).unwrap_err();
        assert!(format!("{e:#}").contains("cannot read the mask"), "{e:#}");
    }

    #[test]
    fn a_layout_file_that_disagrees_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        // 2-3-1 and 1-4-1 both have p = 13: only the layout file tells them apart.
        let (saved, other) = (layout(&[2, 3, 1]), layout(&[1, 4, 1]));
        assert_eq!(saved.total(), other.total());
        let path = dir.path().join("t.npy");
        save_mask(&path, &some_mask(&saved)).unwrap();
        let e = format!("{:#}", load_mask(&path, &other).unwrap_err());
        assert!(
            e.contains("t.layout.json") && e.contains("widths [2, 3, 1] in the file, [1, 4, 1]"),
            "{e}"
        );
        let bigger = layout(&[2, 4, 1]);
        let e = format!("{:#}", load_mask(&path, &bigger).unwrap_err());
        assert!(e.contains("another layout"), "{e}");
        // A tampered block, and a file that is not JSON.
        let json = layout_path(&path);
        let text = std::fs::read_to_string(&json).unwrap();
        std::fs::write(&json, text.replace("\"offset\": 9", "\"offset\": 8")).unwrap();
        let e = format!("{:#}", load_mask(&path, &saved).unwrap_err());
        assert!(e.contains("block W2") && e.contains("offset 8"), "{e}");
        std::fs::write(&json, "{\"widths\": [2, 3").unwrap();
        let e = format!("{:#}", load_mask(&path, &saved).unwrap_err());
        assert!(
            e.contains("corrupt mask layout file") && e.contains("t.npy"),
            "{e}"
        );
        // Without a layout file the mask is read on its length alone.
        std::fs::remove_file(&json).unwrap();
        assert!(load_mask(&path, &saved).is_ok());
    }

    #[test]
    fn a_mask_that_prunes_a_bias_is_rejected() {
        let lay = layout(&[2, 3, 1]);
        let mut data = vec![1u8; 13];
        data[lay.bias(0).offset + 1] = 0;
        let e = load_err(&npy_by_hand("|u1", "(13,)", &data), &lay);
        assert!(e.contains("bias b1[1]"), "{e}");
    }
}
