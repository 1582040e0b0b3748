//! `tangent selfcheck`: the auditor's first command. It re-runs, in well under a minute, the
//! certificates the test suite asserts on, through the same library functions
//! (`autodiff::graph::audit`, `autodiff::mlp::audit`, `linalg::check`,
//! `linearize::closed_form_check`), and prints each as one row: the worst figure over its
//! cases, the threshold, pass or fail, and where the threshold comes from.
//!
//! | file | what |
//! |---|---|
//! | `derivatives.rs` | every primitive and MLPs of each activation and parameterisation: finite differences, adjoint identity, modes, f32, NTK methods |
//! | `solvers.rs` | residual ratios of GEMM, Cholesky, triangular solves, the eigensolver; CG; Lanczos |
//! | `determinism.rs` | the same bits on 1 and 2 threads |
//! | `training.rs` | the closed-form GD curve against stepped GD |

mod derivatives;
mod determinism;
mod solvers;
mod training;

use crate::progress::Observer;
use crate::report::table::Table;
use anyhow::Result;
use serde::Serialize;
use std::time::Instant;

/// One certified property: `worst` must not exceed `threshold`.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What is certified, e.g. "Cholesky ‖A − LLᵀ‖/(nε‖A‖), f64, κ ≤ 1e12".
    pub name: String,
    /// The worst figure over the cases checked (+∞ when a case failed to run).
    pub worst: f64,
    /// The largest acceptable figure.
    pub threshold: f64,
    /// Where the threshold comes from.
    pub reference: String,
    /// How many cases the figure is the worst of.
    pub cases: usize,
    /// `worst ≤ threshold` (false for NaN).
    pub passed: bool,
}

impl Check {
    /// A check of `cases` cases whose worst figure is `worst`; NaN counts as a failure.
    pub fn new(name: &str, worst: f64, threshold: f64, reference: &str, cases: usize) -> Self {
        let worst = if worst.is_nan() { f64::INFINITY } else { worst };
        Check {
            name: name.into(),
            worst,
            threshold,
            reference: reference.into(),
            cases,
            passed: worst <= threshold,
        }
    }
}

/// The worst of a set of figures (NaN and errors count as +∞, so they can never pass).
pub(crate) fn worst_of(figures: impl IntoIterator<Item = Result<f64>>) -> (f64, usize) {
    let mut worst: f64 = 0.0;
    let mut n = 0;
    for f in figures {
        n += 1;
        let v = match f {
            Ok(v) if !v.is_nan() => v,
            _ => f64::INFINITY,
        };
        worst = worst.max(v);
    }
    (worst, n)
}

/// A figure as a person reads it: 0, 0.035, 5.56, 30, or 7.65e-10 outside [1e-3, 1e4).
pub fn figure(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if !v.is_finite() {
        format!("{v}")
    } else if (1e-3..1e4).contains(&v.abs()) {
        let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{v:.2e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{e}")
            }
            None => s,
        }
    }
}

/// Every check, in the order printed.
#[derive(Clone, Debug, Serialize)]
pub struct Certificate {
    /// The checks.
    pub checks: Vec<Check>,
    /// Wall time of the whole self-check.
    pub seconds: f64,
    /// Whether every check passed.
    pub passed: bool,
}

impl Certificate {
    /// The certificate as a table: check, cases, worst, threshold, result, reference.
    pub fn table(&self) -> Table {
        let mut t = Table::new(
            "self-check",
            &[
                "check",
                "cases",
                "worst",
                "threshold",
                "result",
                "reference",
            ],
        )
        .text_column(5);
        for c in &self.checks {
            t.row([
                c.name.clone(),
                c.cases.to_string(),
                figure(c.worst),
                figure(c.threshold),
                if c.passed { "pass" } else { "FAIL" }.to_string(),
                c.reference.clone(),
            ]);
        }
        t
    }

    /// `Ok` when every check passed; otherwise the error that makes the command exit 1.
    pub fn verdict(&self) -> Result<()> {
        if self.passed {
            Ok(())
        } else {
            let failed: Vec<&str> = self
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.name.as_str())
                .collect();
            anyhow::bail!("{}: {}", self.summary_line(), failed.join("; "))
        }
    }

    /// The closing line: how many passed, and the time taken.
    pub fn summary_line(&self) -> String {
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        if failed == 0 {
            format!(
                "all {} checks passed in {:.1} s",
                self.checks.len(),
                self.seconds
            )
        } else {
            format!(
                "{failed} of {} checks FAILED ({:.1} s)",
                self.checks.len(),
                self.seconds
            )
        }
    }
}

/// Runs every group of checks, reporting each group as a progress stage.
pub fn run(obs: &mut dyn Observer) -> Result<Certificate> {
    let start = Instant::now();
    type Group = (&'static str, fn() -> Vec<Check>);
    let groups: [Group; 4] = [
        ("derivatives", derivatives::checks),
        ("solvers", solvers::checks),
        ("threads", determinism::checks),
        ("training", training::checks),
    ];
    obs.begin("self-check", groups.len() as u64);
    let mut checks = Vec::new();
    for (k, (_, group)) in groups.iter().enumerate() {
        checks.extend(group());
        obs.advance(k as u64 + 1);
    }
    obs.end();
    let passed = checks.iter().all(|c| c.passed);
    Ok(Certificate {
        checks,
        seconds: start.elapsed().as_secs_f64(),
        passed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_or_nan_check_fails_the_certificate() {
        assert!(Check::new("ok", 1e-12, 1e-10, "r", 1).passed);
        assert!(!Check::new("over", 2e-10, 1e-10, "r", 1).passed);
        let nan = Check::new("nan", f64::NAN, 1e-10, "r", 1);
        assert!(!nan.passed && nan.worst == f64::INFINITY);
        let (w, n) = worst_of([Ok(1.0), Err(anyhow::anyhow!("broken")), Ok(2.0)]);
        assert_eq!((w, n), (f64::INFINITY, 3));
        let checks = vec![
            Check::new("fine", 0.0, 0.0, "r", 1),
            Check::new("bad", 31.0, 30.0, "r", 4),
        ];
        let cert = Certificate {
            passed: checks.iter().all(|c| c.passed),
            checks,
            seconds: 1.0,
        };
        let e = cert.verdict().unwrap_err().to_string();
        assert!(
            e.contains("1 of 2 checks FAILED") && e.contains("bad"),
            "{e}"
        );
        assert!(cert.table().render().contains("FAIL"));
    }

    #[test]
    fn figures_read_as_numbers() {
        assert_eq!(figure(0.0), "0");
        assert_eq!(figure(30.0), "30");
        assert_eq!(figure(0.035), "0.035");
        assert_eq!(figure(5.56), "5.56");
        assert_eq!(figure(7.65e-10), "7.65e-10");
        assert_eq!(figure(1e-6), "1e-6");
        assert_eq!(figure(f64::INFINITY), "inf");
    }
}
