//! Output of a run: `results/<experiment>/<run-id>/` with `summary.json`, curves as CSV, charts
//! as SVG and PNG, and one self-contained `report.html`. Every file is written to a temporary
//! name in the same directory and renamed into place, so a crash never leaves half a file.

pub mod about;
pub mod html;
pub mod npy;
pub mod plot;
pub mod table;

pub use about::About;
pub use plot::{Chart, Corner, Series, SeriesStyle};
pub use table::Table;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed to
/// disk, then renamed over the target (rename is atomic within one file system on POSIX).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_sibling(path, "");
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// A temporary name beside `path` (hidden, tagged with the process id). `keep_ext` is appended
/// so that writers that pick a format from the extension (PNG) still see it.
pub fn temp_sibling(path: &Path, keep_ext: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}{keep_ext}", std::process::id()))
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json<S: Serialize>(path: &Path, value: &S) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// A table of numbers written as CSV: one header row, then one row per record.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Curves {
    /// File stem (`curves` → `curves.csv`).
    pub name: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of values (NaN for "not measured at this row").
    pub rows: Vec<Vec<f64>>,
}

impl Curves {
    /// A table from typed rows (structs of numbers): serde names the columns after the fields,
    /// in declaration order, and each row's fields become its values.
    pub fn typed<R: Serialize>(name: &str, rows: &[R]) -> Result<Curves> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in rows {
            w.serialize(r)?;
        }
        let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?;
        let mut rd = csv::Reader::from_reader(bytes.as_slice());
        let columns = rd.headers()?.iter().map(String::from).collect();
        let mut out = Vec::with_capacity(rows.len());
        for rec in rd.records() {
            let rec = rec?;
            let vals = rec
                .iter()
                .map(|v| v.parse::<f64>().unwrap_or(f64::NAN))
                .collect();
            out.push(vals);
        }
        Ok(Curves {
            name: name.into(),
            columns,
            rows: out,
        })
    }

    /// CSV text of the table.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.columns)?;
        for r in &self.rows {
            w.write_record(r.iter().map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    format!("{v:e}")
                }
            }))?;
        }
        w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))
    }
}

/// Extra files of a run, (path relative to the run directory, bytes), shared between the
/// summary that made them and the output that writes them, so the bytes are never copied.
pub type RunFiles = std::sync::Arc<Vec<(String, Vec<u8>)>>;

/// Everything a run produces, ready to be written or printed.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// Experiment name (`linearize`, …): the first directory level.
    pub experiment: String,
    /// What was run and why: the opening of report.html.
    pub about: About,
    /// One-line conclusions computed from the numbers, shown first among the results.
    pub verdicts: Vec<String>,
    /// The full `summary.json` content: config, versions, seed, every figure.
    pub summary: serde_json::Value,
    /// Terminal and HTML tables.
    pub tables: Vec<Table>,
    /// CSV files.
    pub curves: Vec<Curves>,
    /// Charts (SVG + PNG each).
    pub charts: Vec<Chart>,
    /// Remarks shown under the tables (fallbacks taken, warnings).
    pub notes: Vec<String>,
    /// Further files of the run, (path relative to the run directory, bytes): e.g. the saved
    /// lottery tickets.
    pub files: RunFiles,
}

impl RunOutput {
    /// The compact terminal rendering: tables, then notes.
    pub fn terminal_text(&self) -> String {
        let mut s = String::new();
        for t in &self.tables {
            s.push_str(&t.render());
            s.push('\n');
        }
        for v in &self.verdicts {
            s.push_str("verdict: ");
            s.push_str(v);
            s.push('\n');
        }
        for n in &self.notes {
            s.push_str("note: ");
            s.push_str(n);
            s.push('\n');
        }
        s
    }
}

/// A run id from the UTC clock and the seed, e.g. `20261125-083012-s0`; unique per second.
pub fn run_id(seed: u64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!(
        "{y:04}{mo:02}{d:02}-{:02}{:02}{:02}-s{seed}",
        t / 3600,
        (t / 60) % 60,
        t % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Writes every file of `out` into `root/<experiment>/<run-id>/` and returns that directory.
///
/// The files are first written into a hidden temporary directory beside it
/// (`.tmp-<run-id>-<pid>`), which is renamed into place once complete: a run killed part-way
/// leaves no run directory, only a hidden temporary one, which the next run removes once its
/// process is gone. When `<run-id>` exists (two runs in the same second), `-2`, `-3`, … are
/// tried; rename(2) refuses to replace a non-empty directory, so two runs never overwrite
/// each other even when they race.
pub fn write_run(root: &Path, run_id: &str, out: &RunOutput) -> Result<PathBuf> {
    let base = root.join(&out.experiment);
    std::fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    remove_stale_temporaries(&base);
    let tmp = base.join(format!(".tmp-{run_id}-{}", std::process::id()));
    std::fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    if let Err(e) = write_files(&tmp, out) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    for k in 1..1000 {
        let dir = if k == 1 {
            base.join(run_id)
        } else {
            base.join(format!("{run_id}-{k}"))
        };
        if dir.exists() {
            continue;
        }
        match std::fs::rename(&tmp, &dir) {
            Ok(()) => return Ok(dir),
            Err(_) if dir.exists() => continue,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e)
                    .with_context(|| format!("cannot rename the run into {}", dir.display()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    bail!("more than 999 runs named {run_id} in {}", base.display())
}

/// The files of one run, in `dir`.
fn write_files(dir: &Path, out: &RunOutput) -> Result<()> {
    write_json(&dir.join("summary.json"), &out.summary)?;
    for c in &out.curves {
        write_atomic(&dir.join(format!("{}.csv", c.name)), &c.to_csv()?)?;
    }
    let mut svgs = Vec::new();
    for chart in &out.charts {
        let svg = plot::render_svg(chart)?;
        write_atomic(&dir.join(format!("{}.svg", chart.name)), svg.as_bytes())?;
        plot::write_png(chart, &dir.join(format!("{}.png", chart.name)))?;
        svgs.push((chart.title.clone(), chart.caption.clone(), svg));
    }
    for (rel, bytes) in out.files.iter() {
        let relative = Path::new(rel);
        if relative.is_absolute()
            || relative
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            bail!("internal: run file {rel} is not a plain relative path");
        }
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        write_atomic(&path, bytes)?;
    }
    let page = html::page(out, &svgs);
    write_atomic(&dir.join("report.html"), page.as_bytes())
}

/// Removes `.tmp-<run-id>-<pid>` directories left by runs that were killed (their process no
/// longer exists). Where /proc is missing nothing is removed.
fn remove_stale_temporaries(base: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(".tmp-") else {
            continue;
        };
        let pid = rest.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Versions and build facts recorded in every summary.
pub fn versions() -> serde_json::Value {
    serde_json::json!({
        "tangent": env!("CARGO_PKG_VERSION"),
        "target_arch": std::env::consts::ARCH,
        "target_os": std::env::consts::OS,
        "debug_assertions": cfg!(debug_assertions),
    })
}

/// Rejects a non-finite figure before it reaches a report (serde_json would write `null`).
pub fn finite_or_null(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::json!(v)
    } else {
        serde_json::Value::Null
    }
}

/// Checks that an output root is usable before an expensive run starts.
pub fn check_out_root(root: &Path) -> Result<()> {
    check_dir_path("--out", root)
}

/// Checks, before a run, that `path` can become a directory: it is one already, or the
/// nearest part of its path that exists is one (a path under a regular file is refused now
/// rather than after the whole run). `flag` names the option in the message.
pub fn check_dir_path(flag: &str, path: &Path) -> Result<()> {
    if path.exists() && !path.is_dir() {
        bail!("{flag} {}: exists and is not a directory", path.display());
    }
    let mut p = path.parent();
    while let Some(dir) = p {
        if dir.as_os_str().is_empty() {
            break;
        }
        if dir.exists() {
            if !dir.is_dir() {
                bail!(
                    "{flag} {}: {} is not a directory",
                    path.display(),
                    dir.display()
                );
            }
            break;
        }
        p = dir.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_rows_become_named_columns() {
        #[derive(Serialize)]
        struct Row {
            step: usize,
            loss: f64,
        }
        let c = Curves::typed(
            "c",
            &[
                Row { step: 0, loss: 0.5 },
                Row {
                    step: 10,
                    loss: 1e-3,
                },
            ],
        )
        .unwrap();
        assert_eq!(c.columns, ["step", "loss"]);
        assert_eq!(c.rows, vec![vec![0.0, 0.5], vec![10.0, 1e-3]]);
        let text = String::from_utf8(c.to_csv().unwrap()).unwrap();
        assert!(text.starts_with("step,loss\n"), "{text}");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_517), (2026, 3, 5));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
