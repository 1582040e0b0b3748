//! `tangent selfcheck` end to end: the certificate covers every group, passes on this build,
//! and its JSON and table agree.

use std::process::Command;

#[test]
fn selfcheck_passes_and_reports_every_group() {
    let out = Command::new(env!("CARGO_BIN_EXE_tangent"))
        .args(["selfcheck", "--json"])
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "selfcheck failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let checks = v["checks"].as_array().expect("a list of checks");
    assert!(checks.len() >= 25, "{} checks", checks.len());
    for group in [
        "primitives",
        "MLPs",
        "GEMM",
        "Cholesky",
        "Hilbert",
        "triangular",
        "eigen",
        "CG",
        "Lanczos",
        "threads",
        "closed-form GD",
    ] {
        assert!(
            checks
                .iter()
                .any(|c| c["name"].as_str().unwrap_or("").contains(group)),
            "no check mentions {group}"
        );
    }
    for c in checks {
        let (worst, threshold) = (
            c["worst"].as_f64().unwrap(),
            c["threshold"].as_f64().unwrap(),
        );
        assert!(c["cases"].as_u64().unwrap() >= 1, "{c}");
        assert_eq!(c["passed"].as_bool(), Some(worst <= threshold), "{c}");
        assert!(!c["reference"].as_str().unwrap().is_empty(), "{c}");
    }
    assert_eq!(v["passed"].as_bool(), Some(true));

    let table = Command::new(env!("CARGO_BIN_EXE_tangent"))
        .args(["selfcheck", "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(table.status.success());
    assert!(
        text.contains(&format!("all {} checks passed", checks.len())),
        "{text}"
    );
}
