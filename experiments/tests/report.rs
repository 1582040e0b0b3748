//! Output files: atomic writes and the run-directory layout.

use experiments::report::{self, Chart, Curves, RunOutput, SeriesStyle, Table};

#[test]
fn atomic_write_replaces_whole_files_and_leaves_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("summary.json");
    report::write_atomic(&p, b"first").unwrap();
    report::write_atomic(&p, b"second, longer").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"second, longer");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["summary.json".to_string()]);
    // A target in a missing directory fails cleanly, naming the file, and leaves nothing.
    let bad = dir.path().join("missing").join("x.json");
    let e = report::write_atomic(&bad, b"x").unwrap_err().to_string();
    assert!(e.contains("x.json"), "{e}");
}

#[test]
fn a_run_writes_every_file_in_its_own_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Table::new("t", &["a", "b"]);
    t.row(["x", "1"]);
    let mut c = Chart::new("loss", "loss", "step", "loss", false, true);
    c.add("gd", vec![(0.0, 1.0), (1.0, 0.5)], SeriesStyle::Line);
    c.caption("look at the slope");
    let out = RunOutput {
        experiment: "demo".into(),
        about: report::About::new("why <this> run")
            .method("the method")
            .formula("a formula", "K = JJᵀ"),
        verdicts: vec!["it worked".into()],
        summary: serde_json::json!({"seed": 1, "figure": 0.5}),
        tables: vec![t],
        curves: vec![Curves {
            name: "curves".into(),
            columns: vec!["step".into(), "loss".into()],
            rows: vec![vec![0.0, 1.0], vec![1.0, f64::NAN]],
        }],
        charts: vec![c],
        notes: vec!["<b>escaped</b>".into()],
        files: std::sync::Arc::new(vec![("tickets/seed0.bin".into(), vec![1, 2, 3])]),
    };
    let a = report::write_run(dir.path(), "run1", &out).unwrap();
    let b = report::write_run(dir.path(), "run1", &out).unwrap();
    assert_ne!(a, b, "a second run with the same id gets its own directory");
    assert_eq!(a, dir.path().join("demo").join("run1"));
    assert_eq!(
        std::fs::read(a.join("tickets").join("seed0.bin")).unwrap(),
        vec![1, 2, 3],
        "extra files land under the run directory, in their subfolder"
    );
    let mut names: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "curves.csv",
            "loss.png",
            "loss.svg",
            "report.html",
            "summary.json",
            "tickets"
        ]
    );
    let csv = std::fs::read_to_string(a.join("curves.csv")).unwrap();
    assert_eq!(csv.lines().next().unwrap(), "step,loss");
    assert!(
        csv.lines().nth(2).unwrap().ends_with(','),
        "NaN is an empty cell: {csv}"
    );
    let html = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("&lt;b&gt;escaped"));
    // A reader meets the question first, then the verdicts and tables, then the captioned
    // charts, and the raw summary last, folded.
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing from the report"))
    };
    assert!(at("What was run and why") < at("why &lt;this&gt; run"));
    assert!(at("why &lt;this&gt; run") < at("K = JJᵀ"));
    assert!(at("K = JJᵀ") < at("<li>it worked</li>"));
    assert!(at("<li>it worked</li>") < at("<table><thead>"));
    assert!(at("<table><thead>") < at("<svg"));
    assert!(at("<svg") < at("look at the slope"));
    assert!(at("look at the slope") < at("<details><summary>Raw summary"));
    for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(external), "the report loads {external}…");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["figure"], 0.5);
}
