//! Every experiment's report.html, from a tiny run of the binary: its structure (what was run
//! and why, verdicts, captioned plots, the configuration and raw summary folded away, no
//! external URL), then, in headless Chromium, no script or console error, no image that
//! failed to load, no plot drawn at a collapsed size, and a screenshot.
//!
//! The browser is `$TANGENT_CHROMIUM`, else the first of chromium, chromium-browser,
//! google-chrome on PATH. Without one the browser half is skipped with a message, unless
//! `TANGENT_REQUIRE_BROWSER=1` (set by `.ci/run`), which makes a missing browser a failure.
//! With `TANGENT_SCREENSHOTS=DIR` the screenshots are kept as DIR/<experiment>.png.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::TINY_RUNS;

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tangent-report-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TANGENT_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// The one report.html under `root` (`<root>/<experiment>/<run-id>/report.html`).
fn find_report(root: &Path) -> PathBuf {
    let mut found = Vec::new();
    for exp in std::fs::read_dir(root).unwrap().flatten() {
        for run in std::fs::read_dir(exp.path()).unwrap().flatten() {
            let r = run.path().join("report.html");
            if r.is_file() {
                found.push(r);
            }
        }
    }
    assert_eq!(
        found.len(),
        1,
        "expected one report under {}",
        root.display()
    );
    found.remove(0)
}

/// The sections a reader meets, in order, and nothing fetched from elsewhere.
fn check_structure(name: &str, html: &str) {
    let order = [
        "What was run and why",
        "<h2>Results</h2>",
        "class=\"verdicts\"",
        "<summary>Configuration",
        "<summary>Raw summary",
    ];
    let mut at = 0;
    for mark in order {
        let pos = html[at..]
            .find(mark)
            .unwrap_or_else(|| panic!("{name}: `{mark}` missing or out of order"));
        at += pos;
    }
    let verdicts = html.split("class=\"verdicts\"").nth(1).unwrap_or("");
    let verdicts = verdicts.split("</ul>").next().unwrap_or("");
    assert!(verdicts.contains("<li>"), "{name}: no verdict");
    for cap in html.split("<figcaption>").skip(1) {
        let text = cap.split("</figcaption>").next().unwrap_or("");
        let after_title = text.split("</b>").nth(1).unwrap_or("").trim();
        assert!(
            after_title.len() > 10,
            "{name}: a plot without a caption: {text}"
        );
    }
    for bad in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(bad), "{name}: external reference `{bad}`");
    }
}

/// Records script errors (capture phase, so failed resources too), console.error, images
/// that did not load and figures drawn smaller than 50 px, into <pre id="probe"> on load.
const PROBE: &str = r#"<script>
(function () {
  var problems = [];
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) problems.push('resource failed: ' + (t.src || t.href));
    else problems.push('script error: ' + e.message);
  }, true);
  var ce = console.error;
  console.error = function () {
    problems.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    ce.apply(console, arguments);
  };
  window.addEventListener('load', function () {
    document.querySelectorAll('img').forEach(function (i) {
      if (!i.complete || i.naturalWidth === 0) problems.push('image not loaded: ' + (i.getAttribute('src') || '').slice(0, 80));
    });
    document.querySelectorAll('figure').forEach(function (f, k) {
      var g = f.querySelector('svg, img');
      if (!g) { problems.push('figure ' + k + ' has no image'); return; }
      var r = g.getBoundingClientRect();
      if (r.width < 50 || r.height < 50) problems.push('figure ' + k + ' drawn at ' + r.width + 'x' + r.height);
    });
    var p = document.createElement('pre');
    p.id = 'probe';
    p.textContent = JSON.stringify({figures: document.querySelectorAll('figure').length, problems: problems});
    document.body.appendChild(p);
  });
})();
</script>"#;

fn headless(chrome: &Path) -> Command {
    let mut c = Command::new(chrome);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
    ]);
    c.arg("--no-first-run").arg("--disable-extensions");
    c
}

/// Loads `html` (written beside `report`, so relative links resolve as for the report) with
/// the probe and returns what it recorded: `{figures, problems}`.
fn probe(chrome: &Path, report: &Path, html: &str) -> serde_json::Value {
    let probe = report.with_file_name("probe.html");
    let injected = html.replacen("<head>", &format!("<head>{PROBE}"), 1);
    assert_ne!(injected, html, "no <head> to instrument");
    std::fs::write(&probe, injected).unwrap();
    let url = format!("file://{}", probe.display());
    let out = headless(chrome)
        .args(["--virtual-time-budget=5000", "--dump-dom", &url])
        .output()
        .expect("the browser starts");
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| {
            panic!(
                "the page never finished loading: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let json = json
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).expect("probe JSON")
}

fn check_in_browser(name: &str, chrome: &Path, report: &Path, html: &str, shots: &Path) {
    let v = probe(chrome, report, html);
    assert_eq!(
        v["problems"],
        serde_json::json!([]),
        "{name}: {}",
        v["problems"]
    );
    assert_eq!(
        v["figures"].as_u64().unwrap() as usize,
        html.matches("<figure>").count(),
        "{name}: figures in the DOM"
    );

    let shot = shots.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&shot);
    let status = headless(chrome)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1000,2400")
        .arg(format!("file://{}", report.display()))
        .output()
        .expect("the browser starts");
    let bytes = std::fs::read(&shot).unwrap_or_default();
    assert!(
        bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"),
        "{name}: no screenshot ({} bytes): {}",
        bytes.len(),
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn every_report_reads_in_order_and_renders_in_a_browser() {
    let chrome = browser();
    if chrome.is_none() {
        assert!(
            std::env::var("TANGENT_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "TANGENT_REQUIRE_BROWSER=1 but no Chromium found (set TANGENT_CHROMIUM)"
        );
        eprintln!("no Chromium on PATH: checking the reports' structure only");
    }
    let root = scratch("runs");
    let shots = match std::env::var_os("TANGENT_SCREENSHOTS") {
        Some(d) => PathBuf::from(d),
        None => root.join("screenshots"),
    };
    std::fs::create_dir_all(&shots).unwrap();
    for (name, args) in TINY_RUNS {
        let out_dir = root.join(name);
        let out = Command::new(env!("CARGO_BIN_EXE_tangent"))
            .args(*args)
            .arg("--out")
            .arg(&out_dir)
            .arg("-q")
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = find_report(&out_dir);
        let html = std::fs::read_to_string(&report).unwrap();
        check_structure(name, &html);
        if let Some(c) = &chrome {
            check_in_browser(name, c, &report, &html, &shots);
        }
    }
    let _ = std::fs::remove_dir_all(root.join("runs"));
}

/// The probe is not blind: a missing image, a script error, a console error and a collapsed
/// plot are each reported.
#[test]
fn the_browser_probe_reports_a_broken_page() {
    let Some(chrome) = browser() else {
        eprintln!("no Chromium on PATH: skipped");
        return;
    };
    let dir = scratch("broken");
    let page = dir.join("report.html");
    let html = "<!doctype html><html><head><meta charset=\"utf-8\"></head><body>\
        <img src=\"missing.png\"><script>console.error('boom'); undefinedFunction();</script>\
        <figure><svg width=\"10\" height=\"10\"></svg><figcaption>x</figcaption></figure>\
        </body></html>";
    std::fs::write(&page, html).unwrap();
    let v = probe(&chrome, &page, html);
    let problems = v["problems"].to_string();
    for want in [
        "missing.png",
        "console.error: boom",
        "script error",
        "figure 0 drawn at",
    ] {
        assert!(problems.contains(want), "`{want}` not reported: {problems}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
