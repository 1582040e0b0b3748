//! The memory plans against the counting allocator of the `tangent` binary: the estimate made
//! before allocating must be within 25% of the measured peak, and a run far over the budget is
//! refused with exit code 1 and a message naming the object, not killed by the allocator.

use std::process::Command;

fn run(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tangent"))
        .args(args)
        .args(["--json", "--no-write"])
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

#[test]
fn linearize_estimates_are_within_25_percent_of_the_measured_peak() {
    let cases: &[&[&str]] = &[
        // Kernel-dominated, full, f64 and f32.
        &[
            "--n-train",
            "300",
            "--n-test",
            "300",
            "--widths",
            "256",
            "--steps",
            "5",
        ],
        &[
            "--n-train",
            "300",
            "--n-test",
            "300",
            "--widths",
            "256",
            "--steps",
            "5",
            "--dtype",
            "f32",
        ],
        // Factor-dominated: a wide layer, the traced kernel.
        &[
            "--n-train",
            "100",
            "--n-test",
            "300",
            "--widths",
            "2048",
            "--steps",
            "5",
            "--kernel",
            "traced",
        ],
        &[
            "--n-train",
            "50",
            "--n-test",
            "100",
            "--widths",
            "4096",
            "--steps",
            "5",
            "--dtype",
            "f32",
        ],
        // Deeper, without the kernel at θ_T.
        &[
            "--n-train",
            "200",
            "--n-test",
            "200",
            "--widths",
            "128,128,128",
            "--steps",
            "5",
            "--no-kernel-change",
        ],
    ];
    let mut report = Vec::new();
    for extra in cases {
        let mut args = vec!["linearize"];
        args.extend_from_slice(extra);
        let (code, v, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let s = &v["summary"];
        let est = s["memory_estimate_bytes"].as_f64().unwrap();
        let peak = s["memory_peak_bytes"]
            .as_f64()
            .expect("the binary installs the counting allocator");
        let ratio = est / peak;
        if !(0.75..=1.25).contains(&ratio) {
            report.push(format!(
                "{args:?}: estimate {est} vs peak {peak} (ratio {ratio:.3})"
            ));
        }
    }
    assert!(report.is_empty(), "{report:#?}");
}

/// The other experiments' plans, at sizes where the plan's objects dominate.
#[test]
fn other_experiments_estimates_are_within_25_percent() {
    let cases: &[&[&str]] = &[
        &[
            "newton-vs-gd",
            "--rows",
            "2000",
            "--cols",
            "1500",
            "--kappa",
            "10",
        ],
        &[
            "newton-vs-gd",
            "--rows",
            "800",
            "--cols",
            "3000",
            "--kappa",
            "10",
        ],
        &[
            "newton-vs-gd",
            "--network",
            "--network-n-train",
            "20",
            "--network-width",
            "16",
            "--lambda",
            "1e-2",
        ],
        &[
            "tickets",
            "--n-train",
            "500",
            "--n-test",
            "200",
            "--width-scales",
            "1",
            "--keep",
            "0.2",
            "--iterations",
            "5",
            "--seeds",
            "1",
        ],
        &[
            "probe",
            "--n-train",
            "1400",
            "--n-test",
            "300",
            "--widths",
            "64",
            "--iterations",
            "5",
            "--features-per-layer",
            "20",
            "--seeds",
            "1",
        ],
        &[
            "stability",
            "--kernel-samples",
            "600",
            "--ks",
            "0",
            "--ticket-rounds",
            "1",
            "--iterations",
            "20",
            "--seeds",
            "1",
            "--alphas",
            "3",
        ],
        &[
            "imbalance",
            "--m",
            "2000",
            "--features",
            "2048",
            "--steps",
            "20",
        ],
    ];
    let mut report = Vec::new();
    for args in cases {
        let (code, v, err) = run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let s = &v["summary"];
        let est = s["memory_estimate_bytes"].as_f64().unwrap();
        let peak = s["memory_peak_bytes"].as_f64().expect("counting allocator");
        let ratio = est / peak;
        if !(0.75..=1.25).contains(&ratio) {
            report.push(format!(
                "{args:?}: estimate {est} vs peak {peak} (ratio {ratio:.3})"
            ));
        }
    }
    // bench-jacobian: the plan's peak against the largest case's measured peak.
    let (code, v, err) = run(&["bench-jacobian", "--reference-only", "--reps", "1"]);
    assert_eq!(code, 0, "{err}");
    let est = v["memory_estimate_bytes"].as_f64().unwrap();
    let peak = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["peak_bytes"].as_f64())
        .fold(0.0, f64::max);
    let ratio = est / peak;
    if !(0.75..=1.25).contains(&ratio) {
        report.push(format!(
            "bench-jacobian: estimate {est} vs peak {peak} ({ratio:.3})"
        ));
    }
    assert!(report.is_empty(), "{report:#?}");
}

#[test]
fn huge_widths_are_refused_before_allocating() {
    let (code, _, err) = run(&["linearize", "--widths", "100000,100000", "--n-train", "10"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("θ (") && err.contains("memory budget"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
}

#[test]
fn every_command_honours_the_budget() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["linearize", "--n-train", "200", "--max-memory-mib", "1"],
            "memory budget",
        ),
        (
            &[
                "width-sweep",
                "--widths",
                "64",
                "--seeds",
                "1",
                "--max-memory-mib",
                "1",
            ],
            "memory budget",
        ),
        (&["newton-vs-gd", "--max-memory-mib", "1"], "memory budget"),
        (
            &["imbalance", "--m", "3000", "--max-memory-mib", "1"],
            "memory budget",
        ),
    ];
    for (args, needle) in cases {
        let (code, _, err) = run(args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn auto_kernel_falls_back_to_traced_and_says_so() {
    // Full: (200·10)² f64 ≈ 32 MB per kernel, several alive; traced: 200² ≈ 0.3 MB.
    let (code, v, err) = run(&[
        "linearize",
        "--n-train",
        "200",
        "--n-test",
        "100",
        "--widths",
        "32",
        "--steps",
        "2",
        "--max-memory-mib",
        "60",
    ]);
    assert_eq!(code, 0, "{err}");
    let s = &v["summary"];
    assert_eq!(s["kernel_form"], "traced");
    assert!(s["kernel_reason"]
        .as_str()
        .unwrap()
        .contains("output-traced"));
}
