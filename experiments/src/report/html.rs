//! One self-contained `report.html` per run: tables, notes, inline SVG charts and the summary.

use super::RunOutput;

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

/// The page: a title, every table, the notes, every chart (inline SVG) and the JSON summary.
pub fn page(out: &RunOutput, svgs: &[(String, String)]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>tangent {}</title>",
        escape(&out.experiment)
    ));
    h.push_str(
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
         table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ccc;padding:.25em .7em}\
         td:not(:first-child),th:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}\
         pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}figure{margin:1.5em 0}\
         svg{max-width:100%;height:auto}</style></head><body>\n",
    );
    h.push_str(&format!("<h1>tangent {}</h1>\n", escape(&out.experiment)));
    for t in &out.tables {
        h.push_str(&format!(
            "<h2>{}</h2>\n<table><thead><tr>",
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
    if !out.notes.is_empty() {
        h.push_str("<h2>Notes</h2><ul>");
        for n in &out.notes {
            h.push_str(&format!("<li>{}</li>", escape(n)));
        }
        h.push_str("</ul>\n");
    }
    for (title, svg) in svgs {
        h.push_str(&format!(
            "<figure>{svg}<figcaption>{}</figcaption></figure>\n",
            escape(title)
        ));
    }
    let json = serde_json::to_string_pretty(&out.summary).unwrap_or_default();
    h.push_str(&format!(
        "<h2>summary.json</h2><pre>{}</pre>\n</body></html>\n",
        escape(&json)
    ));
    h
}
