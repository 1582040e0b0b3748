//! `tangent data fetch` without the internet: a tiny HTTP/1.1 server on 127.0.0.1 (an
//! ephemeral port, in a thread of the test) serves the MNIST files of `../shared/data/mnist`,
//! whole or damaged. A good download is verified and then read back through the cache with
//! `--data mnist`; a corrupted body, a truncated body and an HTTP 500 each fail with a clear
//! error and leave no file (not even a temporary one) in the cache folder.
//!
//! Every server accepts a bounded number of connections and stops at a deadline, and every
//! socket has timeouts, so no test can hang.

use experiments::data::cache::KnownSet;
use experiments::data::{self, fetch, DataConfig, DataSpec};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the server answers.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// The file as it is.
    Whole,
    /// A valid gzip of the content with its last byte changed: only the checksum can tell.
    Corrupt,
    /// Content-Length of the whole file, then half of it, then the connection closes.
    Truncate,
    /// HTTP 500.
    Error,
}

struct Server {
    url: String,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<usize>,
}

impl Server {
    /// Stops accepting and returns how many requests were answered.
    fn finish(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.handle
            .join()
            .expect("the server thread does not panic")
    }
}

/// The shared MNIST files, or `None` (with a note) when this checkout has no `../shared`.
fn shared_mnist() -> Option<PathBuf> {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/mnist"
    ));
    if d.join("train-images-idx3-ubyte.gz").is_file() {
        Some(d)
    } else {
        eprintln!(
            "note: {} is absent; skipping the download test",
            d.display()
        );
        None
    }
}

/// Serves `dir` in `mode`, answering at most `max` connections and none after 60 s.
fn serve(dir: PathBuf, mode: Mode, max: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}/", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut served = 0;
        while served < max && !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
            match listener.accept() {
                Ok((s, _)) => {
                    answer(s, &dir, mode);
                    served += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => break,
            }
        }
        served
    });
    Server { url, stop, handle }
}

/// Answers one request on `s` and closes it (errors ignored: the client may hang up early).
fn answer(mut s: TcpStream, dir: &Path, mode: Mode) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("");
    let name = path.rsplit('/').next().unwrap_or("");
    let file = dir.join(name);
    let body = match (name.contains(".."), std::fs::read(&file)) {
        (false, Ok(b)) => b,
        _ => {
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
    };
    let (status, body, send) = match mode {
        Mode::Whole => ("200 OK", body.clone(), body.len()),
        Mode::Corrupt => {
            let b = corrupt(&body);
            let n = b.len();
            ("200 OK", b, n)
        }
        Mode::Truncate => ("200 OK", body.clone(), body.len() / 2),
        Mode::Error => ("500 Internal Server Error", b"oops".to_vec(), 4),
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(header.as_bytes());
    let _ = s.write_all(&body[..send]);
    let _ = s.flush();
}

/// The same content with its last byte changed, recompressed: a valid gzip of the right size.
fn corrupt(gz: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(gz)
        .read_to_end(&mut raw)
        .unwrap();
    if let Some(b) = raw.last_mut() {
        *b ^= 0xff;
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&raw).unwrap();
    enc.finish().unwrap()
}

/// Every entry of `dir`, hidden ones included (empty when `dir` is absent).
fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn fetch_verifies_skips_and_loads_through_the_cache() {
    let Some(src) = shared_mnist() else { return };
    let root = tempfile::tempdir().unwrap();
    let server = serve(src, Mode::Whole, 8);
    let f = fetch::fetch(KnownSet::Mnist, Some(root.path()), Some(&server.url), true).unwrap();
    assert_eq!(f.downloaded.len(), 4, "{f:?}");
    let dir = root.path().join("mnist");
    assert_eq!(f.dir, dir);
    let mut names = entries(&dir);
    names.sort();
    let mut want: Vec<String> = KnownSet::Mnist
        .files()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    want.sort();
    assert_eq!(names, want);

    // A second fetch finds everything verified and asks the server for nothing; a damaged file
    // is fetched again.
    let again = fetch::fetch(KnownSet::Mnist, Some(root.path()), Some(&server.url), true).unwrap();
    assert_eq!((again.downloaded.len(), again.skipped.len()), (0, 4));
    std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), b"damaged").unwrap();
    let list = fetch::list_text(Some(root.path())).unwrap();
    assert!(list.contains("NOT verified"), "{list}");
    let repair = fetch::fetch(KnownSet::Mnist, Some(root.path()), Some(&server.url), true).unwrap();
    assert_eq!(repair.downloaded, vec!["t10k-labels-idx1-ubyte.gz"]);
    assert_eq!(server.finish(), 5, "4 downloads, then 1 repair");

    let list = fetch::list_text(Some(root.path())).unwrap();
    assert_eq!(list.matches("verified").count(), 4, "{list}");
    assert!(list.contains("tangent data fetch fashion-mnist"), "{list}");

    // `--data mnist` (no directory) reads the cache named by $TANGENT_DATA. This is the only
    // test of this binary that reads the variable, so setting it here races with nothing.
    std::env::set_var("TANGENT_DATA", root.path());
    let cfg = |spec: &str| DataConfig {
        spec: DataSpec::parse(spec).unwrap(),
        n_train: 100,
        n_test: 50,
        seed: 0,
    };
    let ds = data::load(&cfg("mnist")).unwrap();
    assert_eq!((ds.n_train(), ds.n_test(), ds.input_dim()), (100, 50, 784));
    let e = data::load(&cfg("fashion-mnist")).unwrap_err().to_string();
    assert!(e.contains("tangent data fetch fashion-mnist"), "{e}");
    // `mnist:DIR` still reads a directory of one's own.
    let spec = format!("mnist:{}", dir.display());
    assert_eq!(data::load(&cfg(&spec)).unwrap().n_train(), 100);
}

/// Fetches from a server in `mode` and checks the error and that the cache folder stays empty.
fn fails_cleanly(mode: Mode, needles: &[&str]) {
    let Some(src) = shared_mnist() else { return };
    let root = tempfile::tempdir().unwrap();
    let server = serve(src, mode, 4);
    let e = fetch::fetch(KnownSet::Mnist, Some(root.path()), Some(&server.url), true).unwrap_err();
    server.finish();
    let msg = format!("{e:#}");
    eprintln!("{mode:?}: {msg}");
    assert!(
        needles.iter().any(|n| msg.contains(n)),
        "{mode:?}: {msg} (expected one of {needles:?})"
    );
    let left = entries(&root.path().join("mnist"));
    assert!(left.is_empty(), "{mode:?} left {left:?}");
}

#[test]
fn a_corrupted_body_fails_the_checksum_and_leaves_nothing() {
    fails_cleanly(Mode::Corrupt, &["checksum mismatch"]);
}

#[test]
fn a_truncated_body_fails_and_leaves_nothing() {
    fails_cleanly(Mode::Truncate, &["broke off", "truncated"]);
}

#[test]
fn a_server_error_fails_and_leaves_nothing() {
    fails_cleanly(Mode::Error, &["HTTP 500"]);
}

#[test]
fn bad_fetch_options_are_clear_errors() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("file");
    std::fs::write(&file, b"not a directory").unwrap();
    let dir = root.path().to_str().unwrap().to_string();
    let under_file = format!("{}/sub", file.display());
    let cases: [(&[&str], &str); 4] = [
        (&["tangent", "data", "fetch", "cifar"], "cifar"),
        (
            &[
                "tangent",
                "data",
                "fetch",
                "mnist",
                "-q",
                "--dir",
                &under_file,
            ],
            "cannot create the cache folder",
        ),
        (
            &[
                "tangent",
                "data",
                "fetch",
                "mnist",
                "-q",
                "--dir",
                &dir,
                "--base-url",
                "nowhere",
            ],
            "--base-url",
        ),
        (
            &[
                "tangent",
                "data",
                "fetch",
                "mnist",
                "-q",
                "--dir",
                &dir,
                "--base-url",
                "https://",
            ],
            "host",
        ),
    ];
    for (args, needle) in cases {
        let e = experiments::cli::run_args(args).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains(needle), "{args:?}: {msg}");
    }
    assert_eq!(entries(root.path()), vec!["file".to_string()]);
}
