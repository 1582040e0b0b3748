//! `tangent data fetch`: downloads the four IDX files of a known data set into the cache.
//!
//! Every file is downloaded to a hidden temporary file in its final directory, verified against
//! its pin ([`cache::verify`]) and only then renamed into place; on any error the temporary file
//! is removed. So a file under its final name has always been verified, and an interrupted or
//! failed download leaves nothing that a later run could mistake for data. A download killed
//! outright (no chance to clean up) leaves only its hidden temporary file, which the next fetch
//! removes once it is an hour old.

use super::cache::{self, KnownSet, PinnedFile};
use crate::report::temp_sibling;
use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest body accepted for one file: the biggest `.gz` (Fashion-MNIST's training images) is
/// 26 MB, so anything past this is not one of ours and is refused rather than stored.
const MAX_BODY: u64 = 128 << 20;

/// What [`fetch`] did.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The data set's folder.
    pub dir: PathBuf,
    /// Files downloaded now.
    pub downloaded: Vec<&'static str>,
    /// Files already cached and verified, left as they were.
    pub skipped: Vec<&'static str>,
}

/// Checks a base URL (`http://` or `https://`, a host) and returns it ending in `/`, so that
/// file names can be appended.
pub fn normalize_base_url(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        bail!(
            "--base-url `{url}`: expected an http:// or https:// URL, e.g. {MNIST}",
            MNIST = cache::MNIST_URL
        );
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("--base-url `{url}`: no valid host after the scheme");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("--base-url `{url}`: URLs cannot contain spaces or control characters");
    }
    let mut u = url.to_string();
    if !u.ends_with('/') {
        u.push('/');
    }
    Ok(u)
}

/// Downloads the files of `set` that are not already cached and verified into its folder under
/// `root` (the cache root when `None`), from `base_url` (the set's default mirror when `None`).
/// Progress bars are drawn on stderr unless `quiet`.
pub fn fetch(
    set: KnownSet,
    root: Option<&Path>,
    base_url: Option<&str>,
    quiet: bool,
) -> Result<Fetched> {
    let base = normalize_base_url(base_url.unwrap_or(set.default_url()))?;
    let dir = cache::set_dir(set, root)?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the cache folder {}", dir.display()))?;
    remove_stale_temporaries(&dir, set);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        // A non-2xx answer is reported with its status below, not as a transport error.
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        // A stalled server must not hang the command: give up after a minute without data.
        .timeout_recv_body(None)
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut out = Fetched {
        dir: dir.clone(),
        downloaded: Vec::new(),
        skipped: Vec::new(),
    };
    for pin in set.files() {
        let path = dir.join(pin.name);
        if path.is_file() && cache::verify(&path, pin).is_ok() {
            out.skipped.push(pin.name);
            continue;
        }
        let url = format!("{base}{}", pin.name);
        fetch_one(&agent, &url, &path, pin, quiet)?;
        out.downloaded.push(pin.name);
    }
    Ok(out)
}

/// A download in progress writes its temporary file continuously, so one untouched for this
/// long was left by an interrupted run (killed, or the machine went down).
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Removes the temporary files (`.<name>.tmp-<pid>`) that interrupted downloads of `set` left
/// in `dir`. Best effort: a file that cannot be removed is only hidden clutter, never data.
fn remove_stale_temporaries(dir: &Path, set: KnownSet) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = set
            .files()
            .iter()
            .any(|p| name.starts_with(&format!(".{}.tmp-", p.name)));
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if ours && stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Downloads `url` to a temporary sibling of `path`, verifies it, renames it to `path`; removes
/// the temporary file on any error.
fn fetch_one(
    agent: &ureq::Agent,
    url: &str,
    path: &Path,
    pin: &PinnedFile,
    quiet: bool,
) -> Result<()> {
    let tmp = temp_sibling(path, "");
    let bar = progress_bar(pin.name, quiet);
    let result = download(agent, url, &tmp, &bar)
        .and_then(|()| {
            let f = std::fs::File::open(&tmp)
                .with_context(|| format!("cannot read back {}", tmp.display()))?;
            // Named by its URL: the temporary file is gone by the time the error is read.
            cache::verify_gz(f, pin)
                .with_context(|| format!("{url} is not the expected {}", pin.name))
        })
        .and_then(|()| {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot move the download into {}", path.display()))
        });
    match result {
        Ok(()) => {
            bar.finish();
            Ok(())
        }
        Err(e) => {
            bar.abandon();
            // Never leave a partial or unverified file behind, under any name.
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn progress_bar(name: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    bar
}

/// Streams the body of `url` into a new file `tmp`, checking the status and, when the server
/// announced one, the length.
fn download(agent: &ureq::Agent, url: &str, tmp: &Path, bar: &ProgressBar) -> Result<()> {
    let resp = agent
        .get(url)
        .call()
        .map_err(|e| anyhow!("cannot download {url}: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        bail!("cannot download {url}: the server answered HTTP {status}");
    }
    let announced = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok());
    if let Some(n) = announced {
        if n > MAX_BODY {
            bail!("cannot download {url}: the server announces {n} bytes, more than any of the data files");
        }
        bar.set_length(n);
    }
    let mut body = resp.into_body().into_with_config().limit(MAX_BODY).reader();
    let mut file =
        std::fs::File::create(tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut got: u64 = 0;
    loop {
        let k = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bail!("cannot download {url}: the transfer broke off after {got} bytes ({e})")
            }
        };
        file.write_all(&buf[..k])
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        got += k as u64;
        bar.set_position(got);
    }
    if let Some(n) = announced {
        if got != n {
            bail!("cannot download {url}: truncated, received {got} of {n} bytes");
        }
    }
    file.sync_all()
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    Ok(())
}

/// One line per data set and file for `tangent data list`: size and verified or not.
pub fn list_text(root: Option<&Path>) -> Result<String> {
    let mut s = String::new();
    for set in KnownSet::ALL {
        let dir = cache::set_dir(set, root)?;
        s.push_str(&format!("{} ({}):\n", set.name(), dir.display()));
        let files = cache::inspect(set, &dir);
        let mut complete = true;
        for f in &files {
            let state = match (f.size, f.verified) {
                (None, _) => "missing".to_string(),
                (Some(b), true) => format!("{b:>10} bytes  verified"),
                (Some(b), false) => format!("{b:>10} bytes  NOT verified (fetch again to replace)"),
            };
            complete &= f.verified;
            s.push_str(&format!("  {:<28} {state}\n", f.pin.name));
        }
        if !complete {
            s.push_str(&format!("  → tangent data fetch {}\n", set.name()));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temporaries_are_removed_fresh_ones_and_others_kept() {
        let Ok(d) = tempfile::tempdir() else { return };
        let old = std::time::SystemTime::now() - 2 * STALE_AFTER;
        let touch = |name: &str, age: Option<std::time::SystemTime>| {
            let f = std::fs::File::create(d.path().join(name)).unwrap();
            if let Some(t) = age {
                f.set_modified(t).unwrap();
            }
        };
        touch(".train-images-idx3-ubyte.gz.tmp-1", Some(old));
        touch(".t10k-labels-idx1-ubyte.gz.tmp-2", None);
        touch(".notes.tmp-3", Some(old));
        touch("train-labels-idx1-ubyte.gz", Some(old));
        remove_stale_temporaries(d.path(), KnownSet::Mnist);
        let mut left: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".notes.tmp-3",
                ".t10k-labels-idx1-ubyte.gz.tmp-2",
                "train-labels-idx1-ubyte.gz"
            ]
        );
    }

    #[test]
    fn base_urls_are_checked_and_end_in_a_slash() {
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8000/d").unwrap(),
            "http://127.0.0.1:8000/d/"
        );
        assert_eq!(
            normalize_base_url(cache::MNIST_URL).unwrap(),
            cache::MNIST_URL
        );
        for bad in [
            "",
            "ftp://x/",
            "example.com/mnist",
            "https://",
            "http:///x",
            "http://a b/",
        ] {
            assert!(normalize_base_url(bad).is_err(), "{bad}");
        }
    }
}
