//! Compact aligned terminal tables (also rendered into the HTML report).

use serde::Serialize;

/// A titled table of strings; the first column is left-aligned, the others right-aligned.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Table {
    /// Title printed above.
    pub title: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows (each as long as `headers`).
    pub rows: Vec<Vec<String>>,
    /// Columns besides the first that hold prose and are left-aligned in the terminal.
    #[serde(skip)]
    pub text_columns: Vec<usize>,
}

impl Table {
    /// A table with a title and headers and no rows yet.
    pub fn new(title: &str, headers: &[&str]) -> Self {
        Table {
            title: title.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: vec![],
            text_columns: vec![],
        }
    }

    /// Left-aligns column `j` in the terminal (for prose, such as references).
    pub fn text_column(mut self, j: usize) -> Self {
        self.text_columns.push(j);
        self
    }

    /// Appends one row.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Plain-text rendering with a rule under the header.
    pub fn render(&self) -> String {
        let ncol = self
            .headers
            .len()
            .max(self.rows.iter().map(Vec::len).max().unwrap_or(0));
        let mut width = vec![0usize; ncol];
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            for (j, c) in r.iter().enumerate() {
                width[j] = width[j].max(c.chars().count());
            }
        }
        let line = |r: &[String]| {
            let mut s = String::new();
            for (j, w) in width.iter().enumerate() {
                let c = r.get(j).map(String::as_str).unwrap_or("");
                let pad = w - c.chars().count();
                if j == 0 {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                } else if self.text_columns.contains(&j) {
                    s.push_str("  ");
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str("  ");
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&self.title);
            out.push('\n');
        }
        out.push_str(&line(&self.headers));
        let total: usize = width.iter().sum::<usize>() + 2 * ncol.saturating_sub(1);
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

/// Formats a figure with 4 significant digits, switching to scientific notation for very small
/// or large magnitudes; NaN shows as `—`.
pub fn fmt(v: f64) -> String {
    if v.is_nan() {
        return "—".into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// Formats a fraction as a percentage with one decimal.
pub fn pct(v: f64) -> String {
    pct_digits(v, 1)
}

/// A fraction as a percentage with `digits` decimals, "—" for NaN.
pub fn pct_digits(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "—".into()
    } else {
        format!("{:.*}%", digits, 100.0 * v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned() {
        let mut t = Table::new("T", &["name", "value"]);
        t.row(["a", "1"]);
        t.row(["long name", "12345"]);
        let s = t.render();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "T");
        assert!(lines[3].ends_with("    1"));
        assert_eq!(lines[2].len(), lines[4].len().max(lines[2].len()));
        assert_eq!(fmt(f64::NAN), "—");
        assert_eq!(fmt(1.5e-7), "1.500e-7");
    }
}
