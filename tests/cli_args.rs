//! The `tangent` binary on bad command lines: a clear message, a non-zero exit, no panic.

use std::process::Command;

fn tangent(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_tangent"))
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static K: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "tangent-cli-{}-{}",
        std::process::id(),
        K.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn help_and_version_succeed() {
    let (code, out, _) = tangent(&["--help"]);
    assert_eq!(code, 0);
    for sub in [
        "linearize",
        "width-sweep",
        "newton-vs-gd",
        "imbalance",
        "bench-jacobian",
    ] {
        assert!(out.contains(sub), "--help lists {sub}");
    }
    let (code, out, _) = tangent(&["linearize", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--widths") && out.contains("--lambda") && out.contains("--dump"));
}

#[test]
fn bad_command_lines_exit_non_zero_without_panicking() {
    let cases: &[(&[&str], &str)] = &[
        (&["linearize", "--bogus"], "--bogus"),
        (&["frobnicate"], "frobnicate"),
        (&["linearize", "--widths", "0"], "width 0"),
        (&["linearize", "--widths", "10,x"], "not a positive integer"),
        (&["linearize", "--lambda", "0"], "--lambda"),
        (&["linearize", "--lambda", "-1"], "--lambda"),
        (&["linearize", "--lambda", "NaN"], "--lambda"),
        (
            &[
                "linearize",
                "--data",
                "mnist:/nonexistent/dir",
                "--no-write",
            ],
            "not a directory",
        ),
        (&["linearize", "--data", "cifar"], "unknown data set"),
        (&["linearize", "--n-train", "5000"], "only 1797"),
        (&["newton-vs-gd", "--kappa", "0.5"], "--kappa"),
        (&["imbalance", "--k", "0"], "--k"),
    ];
    for (args, needle) in cases {
        let (code, _, err) = tangent(args);
        assert_ne!(code, 0, "{args:?} should fail");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: stderr does not mention `{needle}`: {err}"
        );
    }
}

#[test]
fn a_divergent_step_reports_the_largest_stable_step() {
    let (code, _, err) = tangent(&[
        "linearize",
        "--n-train",
        "20",
        "--n-test",
        "10",
        "--widths",
        "16",
        "--lr",
        "1000",
        "--no-write",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("largest stable step"), "{err}");
}

#[test]
fn a_small_run_writes_its_results() {
    let dir = tempfile_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_tangent"))
        .args(["imbalance", "--steps", "50", "--json", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.trim_start().starts_with('{') && stdout.trim_end().ends_with('}'),
        "{stdout}"
    );
    assert!(stdout.contains("\"experiment\": \"imbalance\""), "{stdout}");
    let runs: Vec<_> = std::fs::read_dir(dir.join("imbalance")).unwrap().collect();
    assert_eq!(runs.len(), 1);
    let run = runs.into_iter().next().unwrap().unwrap().path();
    for f in [
        "summary.json",
        "curves.csv",
        "group_residuals.svg",
        "group_residuals.png",
        "report.html",
    ] {
        assert!(run.join(f).is_file(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader that closes the pipe early (`tangent … | head -1`) ends the output quietly: exit 0
/// and no panic message, for the table and for `--json`.
#[test]
fn a_closed_stdout_pipe_is_not_a_panic() {
    use std::process::Stdio;
    for json in [false, true] {
        let mut args = vec!["imbalance", "--steps", "20", "--no-write", "-q"];
        if json {
            args.push("--json");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_tangent"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
