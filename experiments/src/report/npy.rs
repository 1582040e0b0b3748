//! `.npy` files (the audit bundle, saved tickets), encoded with npyz in memory and written
//! atomically.

use anyhow::{bail, Result};
use std::path::Path;

/// The bytes of a standard `.npy` file holding a row-major array of `E` (f64, f32, u8, …)
/// with the given shape, in the type's default little-endian dtype.
pub fn npy_bytes<E>(shape: &[usize], data: &[E]) -> Result<Vec<u8>>
where
    E: npyz::AutoSerialize + Copy,
{
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        bail!(
            "shape {shape:?} needs {expected} values, got {}",
            data.len()
        );
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        use npyz::WriterBuilder;
        let shape64: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
        let mut w = npyz::WriteOptions::<E>::new()
            .default_dtype()
            .shape(&shape64)
            .writer(&mut buf)
            .begin_nd()?;
        w.extend(data.iter().copied())?;
        w.finish()?;
    }
    Ok(buf.into_inner())
}

/// Writes a row-major array of f64 with the given shape as a standard `.npy` file.
pub fn write_f64(path: &Path, shape: &[usize], data: &[f64]) -> Result<()> {
    let bytes = npy_bytes(shape, data).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    super::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_payload() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        write_f64(&p, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header = String::from_utf8_lossy(&bytes[10..]);
        assert!(
            header.contains("'shape': (2, 3") && header.contains("<f8"),
            "{header}"
        );
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!(bytes.len(), 10 + header_len + 6 * 8);
        let tail = &bytes[bytes.len() - 8..];
        assert_eq!(f64::from_le_bytes(tail.try_into().unwrap()), 6.0);
        assert!(write_f64(&p, &[2, 2], &[1.0]).is_err());
    }
}
