//! Whole runs of the `tangent` binary: the same figures on 1 and 2 threads, no partial run
//! directory after a SIGKILL, and distinct run directories for runs started in the same second.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::TINY_RUNS;

fn scratch(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static K: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "tangent-{tag}-{}-{}",
        std::process::id(),
        K.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn json_of(args: &[&str], threads: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tangent"))
        .args(args)
        .args(["--json", "--no-write", "--threads", threads])
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{args:?} on {threads} thread(s): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    strip_machine_dependent(&mut v);
    v
}

/// Timings (`seconds`, `median_s`), the thread count, the measured heap peaks (per-thread
/// scratch: `memory_peak_bytes`, `peak_bytes`) and the sentence
/// quoting the machine's free memory are allowed to differ; every other figure must be
/// bit-identical.
fn strip_machine_dependent(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| {
                !(k == "seconds"
                    || k.ends_with("_seconds")
                    || k == "threads"
                    || k == "memory_peak_bytes"
                    || k == "median_s"
                    || k == "peak_bytes"
                    || k == "kernel_reason")
            });
            for x in map.values_mut() {
                strip_machine_dependent(x);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_machine_dependent),
        _ => {}
    }
}

#[test]
fn every_experiment_gives_the_same_figures_on_one_and_two_threads() {
    // bench-train's figures are timings only; the others' are deterministic numbers.
    let mut cases: Vec<&[&str]> = TINY_RUNS
        .iter()
        .filter(|(name, _)| *name != "bench-train")
        .map(|(_, args)| *args)
        .collect();
    // The traced f32 kernel and the network form of newton-vs-gd take other code paths.
    cases.push(&[
        "linearize",
        "--n-train",
        "30",
        "--n-test",
        "40",
        "--widths",
        "48",
        "--steps",
        "20",
        "--kernel",
        "traced",
        "--dtype",
        "f32",
    ]);
    cases.push(&[
        "newton-vs-gd",
        "--network",
        "--network-n-train",
        "8",
        "--network-width",
        "8",
        "--lambda",
        "0.01",
    ]);
    for args in cases {
        let one = json_of(args, "1");
        let two = json_of(args, "2");
        assert_eq!(one, two, "{args:?}: 1 and 2 threads differ");
    }
}

/// A run directory that exists must be complete: report.html is written last.
fn assert_no_partial_runs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let dir = e.path();
        for f in ["summary.json", "report.html"] {
            assert!(
                dir.join(f).is_file(),
                "{} is a partial run: {f} missing",
                dir.display()
            );
        }
    }
}

#[test]
fn a_killed_run_leaves_no_partial_directory() {
    let out = scratch("kill");
    let args = [
        "imbalance",
        "--m",
        "60",
        "--features",
        "256",
        "--steps",
        "300",
        "-q",
        "--out",
    ];
    // Kill at a spread of moments: during the computation, during the writing, after it.
    for delay_ms in [5u64, 40, 80, 120, 160, 220, 300, 400, 600] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tangent"))
            .args(args)
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        assert_no_partial_runs(&out.join("imbalance"));
    }
    // A later run removes the killed runs' hidden temporaries.
    let status = Command::new(env!("CARGO_BIN_EXE_tangent"))
        .args(args)
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let hidden: Vec<String> = std::fs::read_dir(out.join("imbalance"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(hidden.is_empty(), "stale temporaries left: {hidden:?}");
    assert_no_partial_runs(&out.join("imbalance"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn runs_started_together_get_their_own_directories() {
    let out = scratch("same-second");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_tangent"))
            .args([
                "imbalance",
                "--m",
                "20",
                "--features",
                "32",
                "--steps",
                "10",
                "-q",
                "--out",
            ])
            .arg(&out)
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn")
    };
    let children: Vec<_> = (0..4).map(|_| spawn()).collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.join("imbalance"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 4, "{dirs:?}");
    assert_no_partial_runs(&out.join("imbalance"));
    let _ = std::fs::remove_dir_all(&out);
}
