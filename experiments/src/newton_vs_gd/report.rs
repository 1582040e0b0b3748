//! Tables, curves and charts of a `newton-vs-gd` run.

use super::Summary;
use crate::report::{table::fmt, Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

/// Tables, curves and charts of a run.
pub fn output(s: &Summary) -> Result<RunOutput> {
    Ok(RunOutput {
        experiment: "newton-vs-gd".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "newton-vs-gd",
            "versions": crate::report::versions(),
            "seed": s.config.seed,
            "summary": s,
        }),
        tables: vec![solver_table(s)],
        curves: vec![curves(s)],
        charts: vec![error_chart(s), loss_chart(s)],
        notes: notes(s),
        files: Default::default(),
    })
}

/// One row per solver: iterations to ε beside the textbook estimate, final error, wall time.
fn solver_table(s: &Summary) -> Table {
    let mut t = Table::new(
        &format!(
            "newton-vs-gd: {} least squares, A {}×{}, κ = {:.4}, ε = {:e}",
            s.system, s.rows, s.cols, s.kappa, s.config.eps
        ),
        &[
            "solver",
            "iterations to ε",
            "estimate",
            "estimate formula",
            "final rel. error",
            "seconds",
        ],
    );
    let it = |v: Option<usize>| v.map_or("not reached".to_string(), |k| k.to_string());
    t.row([
        "GD, η = 1/λ_max".to_string(),
        it(s.gd.iterations),
        format!("{:.0}", s.gd.estimate),
        "κ·ln(1/ε)".into(),
        fmt(s.gd.final_rel_error),
        fmt(s.gd.seconds),
    ]);
    t.row([
        "CG".to_string(),
        it(s.cg.iterations),
        format!("{:.0}", s.cg.estimate),
        "½√κ·ln(2/ε)".into(),
        fmt(s.cg.final_rel_error),
        fmt(s.cg.seconds),
    ]);
    t.row([
        "Newton (Cholesky)".to_string(),
        "1".into(),
        "1".into(),
        "".into(),
        "0 (reference)".into(),
        fmt(s.newton.seconds),
    ]);
    t
}

/// The closed-form check of GD and, when underdetermined, where GD ended.
fn notes(s: &Summary) -> Vec<String> {
    let mut notes = vec![format!(
        "GD error against its closed form Σ(1 − ηλᵢ)^(2t)cᵢ²: largest deviation {} of the initial error",
        fmt(s.gd_closed_form_max_deviation)
    )];
    if let (Some(e), Some(f)) = (s.min_norm_rel_error, s.null_space_fraction) {
        notes.push(format!(
            "underdetermined: GD from 0 ends at the minimum-norm solution Aᵀ(AAᵀ)⁻¹b up to relative error {}; share of x_GD in the null space of A: {}",
            fmt(e),
            fmt(f)
        ));
    }
    notes
}

/// curves.csv: the GD rows (solver 0) then the CG rows (solver 1, no closed form).
fn curves(s: &Summary) -> Curves {
    let gd = s.gd_curve.iter().map(|g| {
        vec![
            0.0,
            g.iteration as f64,
            g.error,
            g.closed_form_error,
            g.loss,
            g.seconds,
        ]
    });
    let cg = s.cg_curve.iter().map(|c| {
        vec![
            1.0,
            c.iteration as f64,
            c.error,
            f64::NAN,
            c.loss,
            c.seconds,
        ]
    });
    Curves {
        name: "curves".into(),
        columns: [
            "solver (0 = GD, 1 = CG)",
            "iteration",
            "rel_error",
            "closed_form_rel_error",
            "loss",
            "seconds",
        ]
        .map(String::from)
        .to_vec(),
        rows: gd.chain(cg).collect(),
    }
}

/// Relative error against iterations (log-log, iterations shifted by one so step 0 shows).
fn error_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "error_vs_iterations",
        "Relative error against iterations",
        "iteration",
        "‖x − x*‖/‖x₀ − x*‖",
        true,
        true,
    );
    let shift = |k: usize| (k + 1) as f64;
    ch.add(
        "GD (measured)",
        s.gd_curve
            .iter()
            .map(|c| (shift(c.iteration), c.error))
            .collect(),
        SeriesStyle::Line,
    );
    ch.add(
        "GD closed form (1 − ηλᵢ)ᵗ",
        s.gd_curve
            .iter()
            .map(|c| (shift(c.iteration), c.closed_form_error))
            .collect(),
        SeriesStyle::Dashed,
    );
    ch.add(
        "CG",
        s.cg_curve
            .iter()
            .map(|c| (shift(c.iteration), c.error))
            .collect(),
        SeriesStyle::Line,
    );
    ch.caption("Relative error against iteration, both axes logarithmic: GD's straight decay rate is set by κ, CG's by √κ, and the dashed closed form should lie on the measured GD curve; Newton is a single point at step one.");
    ch.add(
        "Newton (1 step)",
        vec![(shift(1), 1e-16_f64.max(s.newton.final_rel_error))],
        SeriesStyle::Points,
    );
    ch
}

/// Excess loss L(x) − L(x*) against wall time (log-log; rows at time 0 are left out).
fn loss_chart(s: &Summary) -> Chart {
    // (t, L − L*) of the rows with t > 0.
    let timed = |rows: &mut dyn Iterator<Item = (f64, f64)>| -> Vec<(f64, f64)> {
        rows.filter(|&(t, _)| t > 0.0)
            .map(|(t, l)| (t, (l - s.loss_min).max(1e-300)))
            .collect()
    };
    let mut ch = Chart::new(
        "loss_vs_time",
        "Excess loss against wall time",
        "seconds",
        "L(x) − L(x*)",
        true,
        true,
    );
    ch.add(
        "GD",
        timed(&mut s.gd_curve.iter().map(|c| (c.seconds, c.loss))),
        SeriesStyle::Line,
    );
    ch.add(
        "CG",
        timed(&mut s.cg_curve.iter().map(|c| (c.seconds, c.loss))),
        SeriesStyle::Line,
    );
    ch.caption("The same race in seconds rather than steps: a CG iteration costs about as much as a GD step, and the Newton point shows what one factorisation costs at this size.");
    ch.add(
        "Newton",
        vec![(s.newton.seconds.max(1e-7), 1e-300_f64.max(1e-30))],
        SeriesStyle::Points,
    );
    ch
}
