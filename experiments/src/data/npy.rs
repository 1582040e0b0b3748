//! NumPy `.npy` inputs: `--data npy:X.npy,Y.npy`.
//!
//! * `X`: an (n, d) array of float32 or float64 (`<f4`, `<f8`), little-endian, C order.
//! * `Y`: either (n,) integers (`|i1`, `|u1`, `<i2` … `<u8`): class labels `0..C` (2 ≤ C ≤ 1000),
//!   or (n,) / (n, o) numbers (floats, or integers with two dimensions): real regression targets.
//!
//! Everything the header says is checked before the data are read: the magic string, the
//! format version (1.0, 2.0 or 3.0), the header dictionary (`descr`, `fortran_order`, `shape`
//! and nothing else), the dtype, the byte size the shape implies (computed with overflow checks)
//! against the length of the file. A header that promises terabytes is refused before anything
//! is allocated for it. Values must be finite.

use super::{RawData, Targets};
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// The magic string every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Largest header accepted, in bytes (NumPy itself refuses headers above 10 000 bytes by
/// default).
pub const MAX_HEADER_BYTES: usize = 1 << 16;

/// Kind of the elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemKind {
    /// IEEE float (`f`).
    Float,
    /// Signed integer (`i`).
    Int,
    /// Unsigned integer (`u`).
    UInt,
}

/// A supported element type: little-endian (or single-byte) float or integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dtype {
    /// Float, signed or unsigned integer.
    pub kind: ElemKind,
    /// Bytes per element.
    pub size: usize,
}

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Element type.
    pub dtype: Dtype,
    /// The `descr` string as written in the file.
    pub descr: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Byte offset of the data (magic, version, length field and header included).
    pub data_offset: usize,
    /// Bytes of data the shape and dtype imply.
    pub data_bytes: usize,
}

/// The values of a `.npy` array.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Float data, widened to f64.
    Float(Vec<f64>),
    /// Integer data (unsigned values above `i64::MAX` are refused).
    Int(Vec<i64>),
}

/// A loaded `.npy` array: shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The header.
    pub header: Header,
    /// The data.
    pub values: Values,
}

/// Parses the fixed preamble: returns (version major, header length, bytes of the preamble).
fn preamble(bytes: &[u8], name: &str) -> Result<(u8, usize, usize)> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        bail!("{name}: a gzipped file is not a .npy file (gunzip it first)");
    }
    if bytes.len() < 10 {
        if !MAGIC.starts_with(&bytes[..bytes.len().min(6)]) {
            bail!("{name}: not a .npy file (it does not start with \\x93NUMPY)");
        }
        bail!(
            "{name}: file is {} bytes long, too short for a .npy header (truncated?)",
            bytes.len()
        );
    }
    if &bytes[..6] != MAGIC {
        bail!("{name}: not a .npy file (it does not start with \\x93NUMPY)");
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len, pre) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                bail!(
                    "{name}: file ends inside the .npy {major}.{minor} header length (truncated)"
                );
            }
            let l = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (l as usize, 12)
        }
        _ => bail!(
            "{name}: .npy format version {major}.{minor} is not supported (only 1.0, 2.0 and 3.0)"
        ),
    };
    if minor != 0 {
        bail!(
            "{name}: .npy format version {major}.{minor} is not supported (only 1.0, 2.0 and 3.0)"
        );
    }
    if len > MAX_HEADER_BYTES {
        bail!("{name}: .npy header claims to be {len} bytes long (at most {MAX_HEADER_BYTES} accepted; corrupt file?)");
    }
    Ok((major, len, pre))
}

/// Parses a header from the start of a file (`bytes` may stop anywhere after the header).
/// `file_len` is the length of the whole file; the data must fill it exactly.
pub fn parse_header(bytes: &[u8], file_len: u64, name: &str) -> Result<Header> {
    let (major, len, pre) = preamble(bytes, name)?;
    let end = pre + len;
    if bytes.len() < end {
        bail!(
            "{name}: the .npy header is {len} bytes long but the file ends after {} bytes (truncated)",
            bytes.len()
        );
    }
    let raw = &bytes[pre..end];
    let text = if major == 3 {
        std::str::from_utf8(raw).ok()
    } else {
        raw.is_ascii()
            .then(|| std::str::from_utf8(raw).ok())
            .flatten()
    };
    let Some(text) = text else {
        bail!(
            "{name}: the .npy header is not {} text",
            if major == 3 { "UTF-8" } else { "ASCII" }
        );
    };
    let dict = parse_dict(text).map_err(|e| {
        anyhow::anyhow!("{name}: malformed .npy header ({e}): {:?}", text.trim_end())
    })?;
    let (descr, dtype) = dtype_of(&dict.descr, name)?;
    if dict.fortran_order {
        bail!("{name}: Fortran-order arrays are not supported (save a C-order array, e.g. np.save(path, np.ascontiguousarray(a)))");
    }
    let mut elems: usize = 1;
    for &s in &dict.shape {
        let s = usize::try_from(s).ok();
        elems = match s.and_then(|s| elems.checked_mul(s)) {
            Some(e) => e,
            None => bail!(
                "{name}: shape {:?} is too large: its byte size overflows",
                dict.shape
            ),
        };
    }
    let Some(data_bytes) = elems.checked_mul(dtype.size) else {
        bail!(
            "{name}: shape {:?} of {descr} is too large: its byte size overflows",
            dict.shape
        );
    };
    let shape: Vec<usize> = dict.shape.iter().map(|&s| s as usize).collect();
    let have = file_len.saturating_sub(end as u64);
    if (data_bytes as u64) > have {
        bail!(
            "{name}: header promises shape {shape:?} of {descr} = {data_bytes} bytes of data but the file holds only {have} (truncated, or a corrupt header)"
        );
    }
    if (data_bytes as u64) < have {
        bail!(
            "{name}: header promises shape {shape:?} of {descr} = {data_bytes} bytes of data but {have} follow (corrupt header or trailing garbage)"
        );
    }
    Ok(Header {
        dtype,
        descr,
        shape,
        data_offset: end,
        data_bytes,
    })
}

/// Decodes the data that follow a validated header.
fn decode(header: Header, data: &[u8], name: &str) -> Result<NpyArray> {
    debug_assert_eq!(data.len(), header.data_bytes);
    let size = header.dtype.size;
    let chunks = data.chunks_exact(size);
    let values = match header.dtype.kind {
        ElemKind::Float => {
            let v: Vec<f64> = if size == 4 {
                chunks
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
                    .collect()
            } else {
                chunks
                    .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect()
            };
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                bail!(
                    "{name}: element {} is {} (values must be finite)",
                    index_of(k, &header.shape),
                    v[k]
                );
            }
            Values::Float(v)
        }
        ElemKind::Int | ElemKind::UInt => {
            let signed = header.dtype.kind == ElemKind::Int;
            let mut v = Vec::with_capacity(data.len() / size);
            for (k, c) in chunks.enumerate() {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(c);
                let x = if signed {
                    // sign-extend
                    let shift = 64 - 8 * size as u32;
                    (i64::from_le_bytes(b) << shift) >> shift
                } else {
                    let u = u64::from_le_bytes(b);
                    match i64::try_from(u) {
                        Ok(x) => x,
                        Err(_) => bail!(
                            "{name}: element {} = {u} is too large",
                            index_of(k, &header.shape)
                        ),
                    }
                };
                v.push(x);
            }
            Values::Int(v)
        }
    };
    Ok(NpyArray { header, values })
}

/// `[i, j]` of flat index `k` in a C-order array of `shape`.
fn index_of(mut k: usize, shape: &[usize]) -> String {
    let mut idx = vec![0; shape.len()];
    for (i, &s) in shape.iter().enumerate().rev() {
        if s > 0 {
            idx[i] = k % s;
            k /= s;
        }
    }
    format!("{idx:?}")
}

/// Parses a whole `.npy` file held in memory; `name` is used in errors.
pub fn parse_npy(bytes: &[u8], name: &str) -> Result<NpyArray> {
    let header = parse_header(bytes, bytes.len() as u64, name)?;
    let data = &bytes[header.data_offset..];
    decode(header, data, name)
}

/// Reads a `.npy` file: the header first, then (once the promised size is known to match the
/// file's length) the data.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    let name = path.display().to_string();
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
    let meta = f
        .metadata()
        .with_context(|| format!("cannot read {name}"))?;
    if meta.is_dir() {
        bail!("{name}: is a directory, not a .npy file");
    }
    let file_len = meta.len();
    // The preamble, then the header it announces (bounded by MAX_HEADER_BYTES).
    let mut head = Vec::new();
    (&mut f)
        .take(12)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {name}"))?;
    let (_, len, pre) = preamble(&head, &name)?;
    let want = (pre + len).saturating_sub(head.len());
    (&mut f)
        .take(want as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {name}"))?;
    let header = parse_header(&head, file_len, &name)?;
    // The header matched the file's length, so this allocation is bounded by the file.
    let mut data = head.split_off(header.data_offset);
    data.reserve_exact(header.data_bytes.saturating_sub(data.len()));
    (&mut f)
        .take(header.data_bytes.saturating_sub(data.len()) as u64)
        .read_to_end(&mut data)
        .with_context(|| format!("cannot read {name}"))?;
    if data.len() != header.data_bytes {
        bail!(
            "{name}: the file ended after {} of {} data bytes (truncated while reading?)",
            data.len(),
            header.data_bytes
        );
    }
    decode(header, &data, &name)
}

/// Loads `--data npy:X,Y` into raw samples (see the module documentation for the format).
pub fn load_pair(x_path: &Path, y_path: &Path) -> Result<RawData> {
    let xn = x_path.display().to_string();
    let yn = y_path.display().to_string();
    let x = read_npy(x_path)?;
    let y = read_npy(y_path)?;
    let Values::Float(xv) = x.values else {
        bail!(
            "{xn}: inputs must be float32 or float64 (<f4 or <f8), found {}",
            x.header.descr
        );
    };
    let &[n, d] = x.header.shape.as_slice() else {
        bail!(
            "{xn}: inputs must be a 2-dimensional (samples, features) array, found shape {:?}",
            x.header.shape
        );
    };
    if n == 0 {
        bail!("{xn}: shape {:?} holds no samples", x.header.shape);
    }
    if d == 0 {
        bail!("{xn}: shape {:?}: samples have no features", x.header.shape);
    }
    let ny = y.header.shape.first().copied();
    if y.header.shape.is_empty() || y.header.shape.len() > 2 {
        bail!(
            "{yn}: targets must have shape (n,) or (n, outputs), found {:?}",
            y.header.shape
        );
    }
    if ny != Some(n) {
        bail!(
            "{yn} has {} target rows but {xn} has {n} samples",
            ny.unwrap_or(0)
        );
    }
    let features: Vec<Vec<f64>> = xv.chunks_exact(d).map(<[f64]>::to_vec).collect();
    let targets = match (y.values, y.header.shape.len()) {
        (Values::Int(labels), 1) => {
            if let Some(k) = labels.iter().position(|&l| !(0..1000).contains(&l)) {
                bail!(
                    "{yn}: label {} of sample {k} is not a class label in 0..1000",
                    labels[k]
                );
            }
            let labels: Vec<usize> = labels.into_iter().map(|l| l as usize).collect();
            let classes = labels.iter().max().map_or(0, |m| m + 1);
            if classes < 2 {
                bail!("{yn}: every label is 0: a classification task needs at least two classes");
            }
            Targets::Classes { labels, classes }
        }
        (v, _) => {
            let o = y.header.shape.get(1).copied().unwrap_or(1);
            if o == 0 {
                bail!("{yn}: shape {:?} has no target columns", y.header.shape);
            }
            let v: Vec<f64> = match v {
                Values::Float(v) => v,
                Values::Int(v) => v.into_iter().map(|x| x as f64).collect(),
            };
            Targets::Regression(v.chunks_exact(o).map(<[f64]>::to_vec).collect())
        }
    };
    Ok(RawData { features, targets })
}

/// The header dictionary.
struct Dict {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// Parses `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }` (keys in any order,
/// single or double quotes, trailing commas allowed).
fn parse_dict(text: &str) -> std::result::Result<Dict, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        p.ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.ws();
        p.expect(b':')?;
        p.ws();
        match key.as_str() {
            "descr" => {
                if p.peek() == Some(b'[') {
                    return Err("structured dtypes are not supported".into());
                }
                descr = Some(p.string()?);
            }
            "fortran_order" => fortran = Some(p.boolean()?),
            "shape" => shape = Some(p.tuple()?),
            other => return Err(format!("unexpected key `{other}`")),
        }
        p.ws();
        if p.eat(b',') {
            continue;
        }
        p.ws();
        p.expect(b'}')?;
        break;
    }
    p.ws();
    if p.i != p.s.len() {
        return Err("text after the closing brace".into());
    }
    Ok(Dict {
        descr: descr.ok_or("no `descr`")?,
        fortran_order: fortran.ok_or("no `fortran_order`")?,
        shape: shape.ok_or("no `shape`")?,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.i))
        }
    }
    fn string(&mut self) -> std::result::Result<String, String> {
        let q = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("expected a quoted string at byte {}", self.i)),
        };
        self.i += 1;
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == q {
                let s = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                return Ok(s);
            }
            if c == b'\\' {
                return Err("escapes in header strings are not supported".into());
            }
            self.i += 1;
        }
        Err("unterminated string".into())
    }
    fn boolean(&mut self) -> std::result::Result<bool, String> {
        for (word, v) in [("True", true), ("False", false)] {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                return Ok(v);
            }
        }
        Err(format!("expected True or False at byte {}", self.i))
    }
    fn tuple(&mut self) -> std::result::Result<Vec<u64>, String> {
        self.expect(b'(')?;
        let mut out = Vec::new();
        loop {
            self.ws();
            if self.eat(b')') {
                return Ok(out);
            }
            let start = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            if start == self.i {
                return Err(format!(
                    "expected a non-negative integer dimension at byte {}",
                    self.i
                ));
            }
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            let v: u64 = digits
                .parse()
                .map_err(|_| format!("dimension {digits} is too large"))?;
            // Python 2 wrote long integers as `3L`.
            self.eat(b'L');
            out.push(v);
            if out.len() > 32 {
                return Err("more than 32 dimensions".into());
            }
            self.ws();
            if self.eat(b',') {
                continue;
            }
            self.ws();
            self.expect(b')')?;
            return Ok(out);
        }
    }
}

/// Maps a `descr` such as `<f8` to a supported dtype, or an error that says why not.
fn dtype_of(descr: &str, name: &str) -> Result<(String, Dtype)> {
    let b = descr.as_bytes();
    let unsupported = |why: &str| -> Result<(String, Dtype)> {
        bail!("{name}: dtype `{descr}` is not supported ({why}); use float32/float64 (<f4/<f8) or integers")
    };
    if b.len() < 2 {
        return unsupported("not a dtype");
    }
    let (order, kind, size) = (b[0], b[1], &descr[2..]);
    if kind == b'O' {
        return unsupported("pickled Python objects are never loaded");
    }
    let size: usize = match size.parse() {
        Ok(s) => s,
        Err(_) => return unsupported("not a simple numeric type"),
    };
    let kind = match kind {
        b'f' if size == 4 || size == 8 => ElemKind::Float,
        b'f' => return unsupported("only 4- and 8-byte floats"),
        b'i' if matches!(size, 1 | 2 | 4 | 8) => ElemKind::Int,
        b'u' if matches!(size, 1 | 2 | 4 | 8) => ElemKind::UInt,
        _ => return unsupported("not a float or integer type"),
    };
    match order {
        b'<' => {}
        b'=' if cfg!(target_endian = "little") => {}
        b'|' | b'>' if size == 1 => {}
        b'>' => return unsupported("big-endian; save it little-endian, e.g. a.astype('<f8')"),
        b'|' => return unsupported("byte order `|` is only for single-byte types"),
        _ => return unsupported("unknown byte order"),
    }
    Ok((descr.to_string(), Dtype { kind, size }))
}

/// Builds the bytes of a version 1.0 `.npy` file (for tests and tools).
pub fn encode(descr: &str, fortran_order: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_txt = match shape {
        [s] => format!("({s},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape_txt}, }}",
        if fortran_order { "True" } else { "False" }
    );
    // Pad so that the data start on a 64-byte boundary, ending with a newline.
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f8(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn round_trip_and_dtypes() {
        let b = encode("<f8", false, &[2, 3], &f8(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        assert_eq!(b.len() % 64, 48);
        let a = parse_npy(&b, "a.npy").unwrap();
        assert_eq!(a.header.shape, vec![2, 3]);
        assert_eq!(a.values, Values::Float(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        let b = encode("<i2", false, &[3], &[0xff, 0xff, 2, 0, 0, 1]);
        let a = parse_npy(&b, "a.npy").unwrap();
        assert_eq!(a.values, Values::Int(vec![-1, 2, 256]));
        let b = encode("|u1", false, &[2], &[7, 200]);
        assert_eq!(
            parse_npy(&b, "a").unwrap().values,
            Values::Int(vec![7, 200])
        );
        let b = encode("<f4", false, &[1, 1], &1.5f32.to_le_bytes());
        assert_eq!(parse_npy(&b, "a").unwrap().values, Values::Float(vec![1.5]));
    }

    #[test]
    fn header_dictionary_variants() {
        let d =
            parse_dict("{\"shape\": (), \"fortran_order\": False, \"descr\": \"<f8\"}").unwrap();
        assert!(d.shape.is_empty());
        assert_eq!(
            parse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }  \n")
                .unwrap()
                .shape,
            vec![3, 4]
        );
        for bad in [
            "",
            "{",
            "{'descr': '<f8'",
            "{'descr': '<f8', 'fortran_order': False}",
            "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
            "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} junk",
        ] {
            assert!(parse_dict(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes_are_checked_before_reading() {
        // (2^40, 2^40) of f8 overflows; (10^6, 10^6) does not but exceeds the file.
        let b = encode("<f8", false, &[1 << 40, 1 << 40], &[]);
        let e = parse_npy(&b, "x.npy").unwrap_err().to_string();
        assert!(e.contains("overflows"), "{e}");
        let b = encode("<f8", false, &[1_000_000, 1_000_000], &[0; 16]);
        let e = parse_npy(&b, "x.npy").unwrap_err().to_string();
        assert!(
            e.contains("8000000000000 bytes") && e.contains("truncated"),
            "{e}"
        );
        let b = encode("<f8", false, &[1], &[0; 9]);
        let e = parse_npy(&b, "x.npy").unwrap_err().to_string();
        assert!(e.contains("trailing"), "{e}");
    }
}
