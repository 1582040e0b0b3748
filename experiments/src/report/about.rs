//! What a run did and why, in words: the opening of its report, written for a reader who has
//! not seen the code (a student, an auditor), with the formulas the run evaluates.

use serde::Serialize;

/// The opening section of a report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct About {
    /// The question the experiment answers, in one or two sentences.
    pub question: String,
    /// How it answers it: one paragraph per method compared.
    pub methods: Vec<String>,
    /// The formulas the run evaluates, as (what it is, the formula in plain Unicode).
    pub formulas: Vec<(String, String)>,
}

impl About {
    /// An opening with a question and no methods or formulas yet.
    pub fn new(question: &str) -> Self {
        About {
            question: question.into(),
            ..Default::default()
        }
    }

    /// Adds a paragraph on one method.
    pub fn method(mut self, text: &str) -> Self {
        self.methods.push(text.into());
        self
    }

    /// Adds a formula with its name.
    pub fn formula(mut self, name: &str, formula: &str) -> Self {
        self.formulas.push((name.into(), formula.into()));
        self
    }
}

/// "1.4 points below" / "0.2 points above" / "level with": how accuracy `a` (a fraction)
/// stands against accuracy `b`, in percentage points.
pub fn points_against(a: f64, b: f64) -> String {
    let d = 100.0 * (a - b);
    if d.abs() < 0.05 {
        "level with".into()
    } else if d < 0.0 {
        format!("{:.1} points below", -d)
    } else {
        format!("{d:.1} points above")
    }
}

/// A fraction as a percentage with two significant digits where it is small (13%, 6.1%, 0.52%).
pub fn percent(v: f64) -> String {
    let p = 100.0 * v;
    if p.abs() >= 10.0 {
        format!("{p:.0}%")
    } else if p.abs() >= 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_and_percentages_read_as_words() {
        assert_eq!(points_against(0.874, 0.888), "1.4 points below");
        assert_eq!(points_against(0.9, 0.88), "2.0 points above");
        assert_eq!(points_against(0.5, 0.5004), "level with");
        assert_eq!(percent(0.1343), "13%");
        assert_eq!(percent(0.061), "6.1%");
        assert_eq!(percent(0.00523), "0.52%");
    }
}
