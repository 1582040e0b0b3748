//! Tables, curves and charts of a `linearize` run.

use super::{Fit, Summary};
use crate::model::KernelForm;
use crate::report::{self, table::fmt, table::pct, Chart, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;

fn fit_row(t: &mut Table, name: &str, f: &Fit) {
    t.row([
        name.to_string(),
        fmt(f.train_loss),
        fmt(f.test_loss),
        f.train_accuracy.map_or("—".into(), pct),
        f.test_accuracy.map_or("—".into(), pct),
    ]);
}

/// Tables, curves and charts of a run.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let c = &s.config;
    Ok(RunOutput {
        experiment: "linearize".into(),
        about: super::about::about(s),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "linearize",
            "versions": report::versions(),
            "seed": c.model.seed,
            "threads": rayon::current_num_threads(),
            "summary": s,
        }),
        tables: vec![fits_table(s), figures_table(s)],
        curves: curves(s)?,
        charts: charts(s),
        notes: notes(s),
        files: Default::default(),
    })
}

fn fits_table(s: &Summary) -> Table {
    let c = &s.config;
    let title = format!(
        "linearize: {} (n = {}, test {}), MLP {}-{}-{} {} {}, p = {}, λ = {:e}, T = {}, η = {:.4}, {}",
        s.data,
        s.n_train,
        s.n_test,
        s.input_dim,
        c.model.widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("-"),
        s.output_dim,
        c.model.activation,
        c.model.parameterization,
        s.num_params,
        c.lambda,
        c.steps,
        s.lr,
        c.dtype
    );
    let mut t = Table::new(
        &title,
        &["model", "train loss", "test loss", "train acc", "test acc"],
    );
    fit_row(&mut t, "network at θ₀", &s.init);
    fit_row(&mut t, "Newton step (kernel solve)", &s.newton);
    fit_row(
        &mut t,
        &format!("GD on the network, {} steps", c.steps),
        &s.gd,
    );
    fit_row(
        &mut t,
        &format!("GD on the linearisation, {} steps", c.steps),
        &s.linearized_gd,
    );
    t
}

fn figures_table(s: &Summary) -> Table {
    let c = &s.config;
    let mut g = Table::new("how linear was training?", &["figure", "value"]);
    g.row([
        "‖f_GD − f_lin‖/‖f_GD‖ on test inputs".to_string(),
        fmt(s.function_gap_test),
    ]);
    g.row([
        "relative parameter change ‖θ_T − θ₀‖/‖θ₀‖".to_string(),
        fmt(s.relative_parameter_change),
    ]);
    g.row([
        "relative kernel change ‖K_T − K₀‖_F/‖K₀‖_F".to_string(),
        s.relative_kernel_change.map_or("not computed".into(), fmt),
    ]);
    g.row([
        "GD steps to within 1% of Newton's train loss (network)".to_string(),
        s.steps_to_newton_loss_gd
            .map_or(format!("> {}", c.steps), |k| k.to_string()),
    ]);
    g.row([
        "… (linearised model, closed form)".to_string(),
        s.steps_to_newton_loss_linearized
            .map_or("> 1e15".into(), |k| format!("{k:.0}")),
    ]);
    g.row(["κ(K + λI)".to_string(), fmt(s.kappa)]);
    g.row([
        "estimate κ·ln(1/ε), ε = 0.01".to_string(),
        fmt(s.steps_estimate),
    ]);
    g.row([
        format!("λ_max(K) (Lanczos, {} steps)", s.lanczos_iterations),
        fmt(s.lambda_max),
    ]);
    g.row([
        "largest stable step 2n/λ_max".to_string(),
        fmt(s.max_stable_lr),
    ]);
    g.row([
        "kernel".to_string(),
        format!(
            "{} ({}×{})",
            match s.kernel_form {
                KernelForm::Full => "full",
                KernelForm::Traced => "output-traced",
            },
            s.spectrum.len(),
            s.spectrum.len()
        ),
    ]);
    if let Some(cg) = &s.cg {
        g.row([
            "parameter-space CG on (JᵀJ + λI)δ = Jᵀ(Y − f₀)".to_string(),
            format!("{} iterations, {}", cg.iterations, cg.verdict),
        ]);
        g.row(["  ‖δ_CG − Jᵀα‖/‖Jᵀα‖".to_string(), fmt(cg.rel_diff_delta)]);
        g.row([
            "  test predictions, CG vs kernel solve (rel. to the step)".to_string(),
            fmt(cg.rel_diff_test_predictions),
        ]);
    }
    g
}

fn notes(s: &Summary) -> Vec<String> {
    let mut notes = Vec::new();
    if s.kernel_form == KernelForm::Traced {
        notes.push(format!("kernel: {}", s.kernel_reason));
        notes.push("with the output-traced kernel K̄ = (1/o)Σₐ K[(i,a),(j,a)], every output column is fitted with the same n×n kernel K̄, in the Newton step and in the closed-form GD curve alike (this is the full-kernel answer when K = K̄ ⊗ I, as at infinite width; at finite width the cross-output blocks of K are dropped); the CG comparison needs the full kernel and is skipped".into());
    }
    if let crate::tangent::RidgeSolver::Eigen { .. } = &s.newton_solver {
        notes.push(format!("Newton step by {}", s.newton_solver));
    }
    notes
}

fn curves(s: &Summary) -> Result<Vec<Curves>> {
    let curves = Curves::typed("curves", &s.curve)?;
    let spectrum = Curves {
        name: "spectrum".into(),
        columns: vec!["index".into(), "eigenvalue".into()],
        rows: s
            .spectrum
            .iter()
            .enumerate()
            .map(|(i, v)| vec![i as f64, *v])
            .collect(),
    };
    Ok(vec![curves, spectrum])
}

fn charts(s: &Summary) -> Vec<Chart> {
    let mut loss = Chart::new(
        "loss",
        "Training loss: GD, linearised GD and the Newton step",
        "GD step",
        "training loss",
        false,
        true,
    );
    loss.add(
        "GD on the network",
        s.curve
            .iter()
            .map(|r| (r.step as f64, r.gd_train_loss))
            .collect(),
        SeriesStyle::Line,
    );
    loss.add(
        "GD on the linearisation (closed form)",
        s.curve
            .iter()
            .map(|r| (r.step as f64, r.linearized_train_loss))
            .collect(),
        SeriesStyle::Dashed,
    );
    let last = s.curve.last().map_or(1.0, |r| r.step as f64);
    loss.add(
        "one Newton step",
        vec![(0.0, s.newton.train_loss), (last, s.newton.train_loss)],
        SeriesStyle::Line,
    );
    loss.caption("Look for whether the solid GD curve follows the dashed linearised one (lazy training) and how many steps both need to come down to the flat line of the one Newton step; the y axis is logarithmic.");
    let mut test = Chart::new(
        "test_loss",
        "Test loss",
        "GD step",
        "test loss",
        false,
        true,
    );
    test.add(
        "GD on the network",
        s.curve
            .iter()
            .map(|r| (r.step as f64, r.gd_test_loss))
            .collect(),
        SeriesStyle::Line,
    );
    test.add(
        "GD on the linearisation (closed form)",
        s.curve
            .iter()
            .map(|r| (r.step as f64, r.linearized_test_loss))
            .collect(),
        SeriesStyle::Dashed,
    );
    test.add(
        "one Newton step",
        vec![(0.0, s.newton.test_loss), (last, s.newton.test_loss)],
        SeriesStyle::Line,
    );
    test.caption("Test loss along training: where the curves end relative to the Newton line says whether many GD steps buy anything on unseen data that one solve does not.");
    let mut spec = Chart::new(
        "spectrum",
        "Spectrum of the empirical NTK K",
        "index (descending)",
        "eigenvalue",
        true,
        true,
    );
    spec.add(
        "eigenvalues of K",
        s.spectrum
            .iter()
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64, *v))
            .collect(),
        SeriesStyle::Line,
    );
    spec.caption("The eigenvalues of K, largest first. GD shrinks the error along eigenvector i by (1 − ηλᵢ/n) per step, so the small eigenvalues at the right set how slow GD is; the ratio of the ends is the condition number κ.");
    vec![loss, test, spec]
}
