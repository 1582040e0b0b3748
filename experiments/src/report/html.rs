//! One self-contained `report.html` per run: tables, notes, inline SVG charts and the summary.

use super::{About, RunOutput, Table};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

const STYLE: &str = "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
     table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ccc;padding:.25em .7em}\
     td:not(:first-child),th:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}\
     table.formulas td{text-align:left}code{font-size:95%}\
     ul.verdicts li{font-weight:600;margin:.3em 0}\
     pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}figure{margin:1.5em 0}\
     figcaption{color:#444}svg{max-width:100%;height:auto}details{margin:1em 0}summary{cursor:pointer}</style>";

/// The page, in the order a reader new to the experiment needs it: what was run and why (the
/// question, the methods, the formulas), the results (verdicts first, then the tables and
/// notes), the charts with captions that say what to look at, then the configuration and the
/// raw summary folded away. `svgs` holds (title, caption, inline SVG) per chart. Nothing is
/// loaded from outside the file.
pub fn page(out: &RunOutput, svgs: &[(String, String, String)]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>tangent {}</title>{STYLE}</head><body>\n",
        escape(&out.experiment)
    ));
    h.push_str(&format!("<h1>tangent {}</h1>\n", escape(&out.experiment)));
    about(&mut h, &out.about);
    results(&mut h, out);
    if !svgs.is_empty() {
        h.push_str("<h2>Plots</h2>\n");
    }
    for (title, caption, svg) in svgs {
        h.push_str(&format!(
            "<figure>{svg}<figcaption><b>{}.</b> {}</figcaption></figure>\n",
            escape(title),
            escape(caption)
        ));
    }
    folded(&mut h, out);
    h.push_str("</body></html>\n");
    h
}

fn about(h: &mut String, a: &About) {
    h.push_str("<h2>What was run and why</h2>\n");
    h.push_str(&format!("<p>{}</p>\n", escape(&a.question)));
    for m in &a.methods {
        h.push_str(&format!("<p>{}</p>\n", escape(m)));
    }
    if !a.formulas.is_empty() {
        h.push_str("<table class=\"formulas\"><tbody>\n");
        for (name, f) in &a.formulas {
            h.push_str(&format!(
                "<tr><td>{}</td><td><code>{}</code></td></tr>\n",
                escape(name),
                escape(f)
            ));
        }
        h.push_str("</tbody></table>\n");
    }
}

fn results(h: &mut String, out: &RunOutput) {
    h.push_str("<h2>Results</h2>\n");
    if !out.verdicts.is_empty() {
        h.push_str("<ul class=\"verdicts\">");
        for v in &out.verdicts {
            h.push_str(&format!("<li>{}</li>", escape(v)));
        }
        h.push_str("</ul>\n");
    }
    for t in &out.tables {
        table(h, t);
    }
    if !out.notes.is_empty() {
        h.push_str("<h3>Notes</h3><ul>");
        for n in &out.notes {
            h.push_str(&format!("<li>{}</li>", escape(n)));
        }
        h.push_str("</ul>\n");
    }
}

fn table(h: &mut String, t: &Table) {
    h.push_str(&format!(
        "<h3>{}</h3>\n<table><thead><tr>",
        escape(&t.title)
    ));
    for c in &t.headers {
        h.push_str(&format!("<th>{}</th>", escape(c)));
    }
    h.push_str("</tr></thead><tbody>\n");
    for r in &t.rows {
        h.push_str("<tr>");
        for c in r {
            h.push_str(&format!("<td>{}</td>", escape(c)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
}

/// The configuration (where the summary has one) and the whole summary, each in a closed
/// `<details>`.
fn folded(h: &mut String, out: &RunOutput) {
    let config = out
        .summary
        .pointer("/summary/config")
        .or_else(|| out.summary.get("config"));
    if let Some(c) = config {
        let text = serde_json::to_string_pretty(c).unwrap_or_default();
        h.push_str(&format!(
            "<details><summary>Configuration</summary><pre>{}</pre></details>\n",
            escape(&text)
        ));
    }
    let json = serde_json::to_string_pretty(&out.summary).unwrap_or_default();
    h.push_str(&format!(
        "<details><summary>Raw summary (summary.json)</summary><pre>{}</pre></details>\n",
        escape(&json)
    ));
}
