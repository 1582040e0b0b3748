//! The JAX audit of `tools/audit/` against bundles the binary writes: a full f64 kernel and a
//! traced f32 one agree (exit 0), a bundle with one α entry changed disagrees (exit 1), and an
//! incomplete bundle is refused (exit 2).
//!
//! It needs a Python with the packages of `tools/audit/requirements.txt`, named by
//! `$TANGENT_AUDIT_PYTHON`. Without it the test is skipped with a message, unless
//! `TANGENT_REQUIRE_AUDIT=1` (set by `.ci/run`, which installs JAX into a virtual environment).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::TINY_RUNS;

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("TANGENT_AUDIT_PYTHON").map(PathBuf::from);
    if p.is_none() {
        assert!(
            std::env::var("TANGENT_REQUIRE_AUDIT").as_deref() != Ok("1"),
            "TANGENT_REQUIRE_AUDIT=1 but TANGENT_AUDIT_PYTHON is not set"
        );
        eprintln!("TANGENT_AUDIT_PYTHON not set: the JAX audit test is skipped");
    }
    p
}

fn dump(dir: &Path, extra: &[&str]) {
    let _ = std::fs::remove_dir_all(dir);
    let out = Command::new(env!("CARGO_BIN_EXE_tangent"))
        .args(TINY_RUNS[0].1)
        .args(["-q", "--no-write", "--dump"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn audit(py: &Path, dir: &Path) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/audit/jax_audit.py");
    let out = Command::new(py)
        .arg(script)
        .arg(dir)
        .output()
        .expect("python runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_jax_audit_agrees_with_the_bundles_and_catches_a_changed_one() {
    let Some(py) = python() else { return };
    let root = std::env::temp_dir().join(format!("tangent-audit-{}", std::process::id()));
    let (full, traced) = (root.join("full"), root.join("traced"));
    dump(&full, &[]);
    dump(&traced, &["--kernel", "traced", "--dtype", "f32"]);
    for dir in [&full, &traced] {
        let (code, text) = audit(&py, dir);
        assert_eq!(code, 0, "{text}");
        assert!(text.contains("all agree"), "{text}");
    }

    // One α entry × 1.0001: the audit must see it.
    let bad = root.join("bad");
    let _ = std::fs::remove_dir_all(&bad);
    std::fs::create_dir_all(&bad).unwrap();
    for e in std::fs::read_dir(&full).unwrap().flatten() {
        std::fs::copy(e.path(), bad.join(e.file_name())).unwrap();
    }
    let perturb = "import numpy as np, sys; p = sys.argv[1]; a = np.load(p); a[0, 0] *= 1.0001; np.save(p, a)";
    let st = Command::new(&py)
        .args(["-c", perturb])
        .arg(bad.join("alpha.npy"))
        .status()
        .unwrap();
    assert!(st.success());
    let (code, text) = audit(&py, &bad);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("NO"), "{text}");

    std::fs::remove_file(bad.join("theta0.npy")).unwrap();
    let (code, text) = audit(&py, &bad);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("theta0.npy") && !text.contains("Traceback"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(root);
}
