//! Tables, CSV, charts and saved tickets of a `lottery` run, laid out like Frankle & Carbin
//! (2019), Figures 3–5: accuracy and early-stopping iteration against the percent of weights
//! remaining, on a log axis with the dense network at the left.

use super::reference::{reference_rows, PaperPoint, PAPER_POINTS};
use super::run::{Arm, ArmStats, TrainingRecord};
use super::stats::pct2;
use super::Summary;
use crate::report::{self, Chart, Corner, Curves, RunOutput, SeriesStyle, Table};
use anyhow::Result;
use serde::Serialize;

/// Tables, curves, charts and the saved tickets.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let mut tables = vec![rounds_table(s)];
    if s.config.preset.is_paper_setup() {
        tables.push(reference_table(s));
    }
    Ok(RunOutput {
        experiment: "lottery".into(),
        about: super::verdict::about(),
        verdicts: super::verdict::verdicts(&s.stats),
        summary: serde_json::json!({
            "experiment": "lottery",
            "versions": report::versions(),
            "seed": s.config.seed,
            "threads": rayon::current_num_threads(),
            "summary": s,
        }),
        tables,
        curves: vec![trainings_csv(s)?, curves_csv(s)?],
        charts: charts(s),
        notes: notes(s),
        files: s.files.clone(),
    })
}

fn mean_std_text(v: (f64, f64), as_pct: bool) -> String {
    if as_pct {
        format!("{} ± {:.2}", pct2(v.0), 100.0 * v.1)
    } else {
        format!("{:.0} ± {:.0}", v.0, v.1)
    }
}

/// One row per (round, arm): sparsity, early stop, accuracy at early stop and at the end.
fn rounds_table(s: &Summary) -> Table {
    let c = &s.config;
    let mut t = Table::new(
        &format!(
            "lottery: {} (train {}, val {}, test {}), MLP {} {}, {} init, {:?} lr {:e}, batch {}, {} iterations, {} pruning, {} seed(s) (mean ± std)",
            s.data_name,
            c.n_train,
            c.n_val,
            c.n_test,
            widths_text(s),
            c.activation,
            c.init,
            c.optimizer,
            c.lr,
            c.batch_size,
            c.iterations,
            match c.pruning {
                super::Pruning::LayerWise => "layer-wise",
                super::Pruning::Global => "global",
            },
            c.seeds
        ),
        &[
            "round",
            "% weights left",
            "per layer %",
            "arm",
            "early-stop iter",
            "test acc @ early stop",
            "test acc @ end",
        ],
    );
    for a in &s.stats {
        t.row([
            a.round.to_string(),
            format!("{:.2}", a.percent_remaining),
            per_layer_text(s, a.round),
            a.arm.name().to_string(),
            mean_std_text(a.early_stop, false),
            mean_std_text(a.accuracy_early, true),
            mean_std_text(a.accuracy_final, true),
        ]);
    }
    t
}

fn widths_text(s: &Summary) -> String {
    let w: Vec<String> = s.layer_widths.iter().map(|x| x.to_string()).collect();
    w.join("-")
}

fn per_layer_text(s: &Summary, round: usize) -> String {
    s.trainings
        .iter()
        .find(|r| r.round == round && r.arm == Arm::Ticket)
        .map_or("—".into(), |r| {
            r.percent_per_layer
                .iter()
                .map(|p| format!("{p:.1}"))
                .collect::<Vec<_>>()
                .join("/")
        })
}

/// The paper's figures beside the nearest round of this run, with a verdict.
fn reference_table(s: &Summary) -> Table {
    let mut t = Table::new(
        "beside Frankle & Carbin (ICLR 2019) and Frankle et al. (\"Stabilizing the LTH\", 2019), LeNet-300-100 on MNIST",
        &["claim", "paper", "this run", "agrees"],
    );
    for r in reference_rows(&s.stats) {
        t.row([r.claim, r.paper, r.measured, r.verdict]);
    }
    t
}

/// One row of trainings.csv.
#[derive(Serialize)]
struct TrainingRow {
    seed: usize,
    round: usize,
    /// 0 ticket, 1 reinit, 2 random.
    arm: usize,
    percent_remaining: f64,
    early_stop_iteration: usize,
    test_accuracy_early: f64,
    test_accuracy_final: f64,
    best_val_loss: f64,
}

fn arm_code(a: Arm) -> usize {
    match a {
        Arm::Ticket => 0,
        Arm::Reinit => 1,
        Arm::Random => 2,
    }
}

fn trainings_csv(s: &Summary) -> Result<Curves> {
    let rows: Vec<TrainingRow> = s
        .trainings
        .iter()
        .map(|r| TrainingRow {
            seed: r.seed,
            round: r.round,
            arm: arm_code(r.arm),
            percent_remaining: r.percent_remaining,
            early_stop_iteration: r.early_stop_iteration,
            test_accuracy_early: r.test_accuracy_early,
            test_accuracy_final: r.test_accuracy_final,
            best_val_loss: r.best_val_loss,
        })
        .collect();
    let mut c = Curves::typed("trainings", &rows)?;
    // Per-layer percentages as extra columns, so a spreadsheet sees them without parsing.
    let layers = s.weights_per_layer.len();
    c.columns
        .extend((0..layers).map(|l| format!("percent_layer{}", l + 1)));
    for (row, r) in c.rows.iter_mut().zip(&s.trainings) {
        row.extend(r.percent_per_layer.iter().copied());
    }
    Ok(c)
}

/// One row of val_curves.csv: the validation curve of every training.
#[derive(Serialize)]
struct CurveRow {
    seed: usize,
    round: usize,
    arm: usize,
    iteration: usize,
    val_loss: f64,
    val_accuracy: f64,
}

fn curves_csv(s: &Summary) -> Result<Curves> {
    let rows: Vec<CurveRow> = s
        .trainings
        .iter()
        .flat_map(|r| {
            r.curve.iter().map(|p| CurveRow {
                seed: r.seed,
                round: r.round,
                arm: arm_code(r.arm),
                iteration: p.iteration,
                val_loss: p.val_loss,
                val_accuracy: p.val_accuracy,
            })
        })
        .collect();
    Curves::typed("val_curves", &rows)
}

/// Mean line and mean ± std dashes of one arm against % remaining, in the arm's colour.
fn add_arm(ch: &mut Chart, stats: &[ArmStats], arm: Arm, f: fn(&ArmStats) -> (f64, f64)) {
    let pts: Vec<&ArmStats> = stats.iter().filter(|a| a.arm == arm).collect();
    if pts.is_empty() {
        return;
    }
    let line = |k: f64| {
        pts.iter()
            .map(|a| {
                let (m, sd) = f(a);
                (a.percent_remaining, m + k * sd)
            })
            .collect::<Vec<_>>()
    };
    let color = arm_code(arm);
    ch.add_colored(arm.name(), line(0.0), SeriesStyle::Line, color);
    if pts.iter().any(|a| a.n > 1) {
        let band = format!("{} ± std", arm.name());
        ch.add_colored(&band, line(-1.0), SeriesStyle::Dashed, color);
        ch.add_colored("", line(1.0), SeriesStyle::Dashed, color);
    }
}

fn chart(s: &Summary, name: &str, title: &str, y: &str, f: fn(&ArmStats) -> (f64, f64)) -> Chart {
    let mut ch = Chart::new(name, title, "percent of weights remaining", y, true, false);
    ch.reverse_x = true;
    // Accuracy falls and the early-stop iteration grows towards the sparse (right) end, so
    // the legend goes where the curves are not: bottom left, or top left for iterations.
    ch.legend = if name == "early_stop" {
        Corner::UpperLeft
    } else {
        Corner::LowerLeft
    };
    for arm in [Arm::Ticket, Arm::Reinit, Arm::Random] {
        add_arm(&mut ch, &s.stats, arm, f);
    }
    ch
}

/// The paper's figures as markers, one series per arm; `scale` multiplies each value (the
/// dense early-stop iteration for relative figures).
fn paper_points(ch: &mut Chart, which: fn(&PaperPoint) -> Option<f64>, scale: f64) {
    for arm in [Arm::Ticket, Arm::Random] {
        let pts: Vec<(f64, f64)> = PAPER_POINTS
            .iter()
            .filter(|p| p.arm == arm)
            .filter_map(|p| which(p).map(|v| (p.percent, scale * v)))
            .collect();
        if !pts.is_empty() {
            let label = format!("paper: {}", arm.name());
            // Dark markers, so the published points stand out from the measured lines.
            ch.add_colored(&label, pts, SeriesStyle::Points, 3 + arm_code(arm));
        }
    }
}

fn charts(s: &Summary) -> Vec<Chart> {
    let paper = s.config.preset.is_paper_setup();
    let mut acc = chart(
        s,
        "accuracy",
        "test accuracy at early stopping against weights remaining",
        "test accuracy (%)",
        |a| (100.0 * a.accuracy_early.0, 100.0 * a.accuracy_early.1),
    );
    acc.caption("The dense network is at the left, sparser subnetworks to the right (log axis). A winning ticket keeps the dense accuracy far to the right; the reinit and random-pruning controls should fall away sooner. The dashed lines either side of each arm are its mean ± one standard deviation over seeds.");
    if paper {
        paper_points(&mut acc, |p| p.accuracy, 1.0);
    }
    let mut es = chart(
        s,
        "early_stop",
        "early-stopping iteration (minimum validation loss) against weights remaining",
        "early-stop iteration",
        |a| a.early_stop,
    );
    es.caption("Tickets that learn faster stop earlier: look for the ticket curve dipping below the dense network's iteration while the controls rise.");
    if paper {
        let dense = super::stats::dense(&s.stats).map_or(f64::NAN, |a| a.early_stop.0);
        paper_points(&mut es, |p| p.early_stop_vs_dense, dense);
    }
    let mut end = chart(
        s,
        "accuracy_end",
        "test accuracy at the end of training against weights remaining",
        "test accuracy (%)",
        |a| (100.0 * a.accuracy_final.0, 100.0 * a.accuracy_final.1),
    );
    end.caption("The same comparison at the last iteration instead of at early stopping: overfitting after the early stop shows as a gap between this chart and the first.");
    vec![acc, es, end, val_chart(s)]
}

/// Validation loss of seed 0's tickets at a few sparsities, as the paper's Figure 3 (left).
fn val_chart(s: &Summary) -> Chart {
    let mut ch = Chart::new(
        "val_loss",
        "validation loss of the tickets (seed 0) during training",
        "iteration",
        "validation loss",
        false,
        true,
    );
    let tickets: Vec<&TrainingRecord> = s
        .trainings
        .iter()
        .filter(|r| r.seed == 0 && r.arm == Arm::Ticket)
        .collect();
    ch.caption("Validation loss along training for a few rounds of seed 0: the minimum of each curve is its early-stopping point; sparser tickets reaching a lower minimum sooner is the paper's Figure 3.");
    let step = (tickets.len() / 5).max(1);
    for r in tickets.iter().step_by(step) {
        ch.add(
            &format!("{:.1}% left", r.percent_remaining),
            r.curve
                .iter()
                .map(|p| (p.iteration as f64, p.val_loss))
                .collect(),
            SeriesStyle::Line,
        );
    }
    ch
}

/// Verdict lines computed from the numbers, and where the tickets were saved.
fn notes(s: &Summary) -> Vec<String> {
    let mut notes = Vec::new();
    if s.config.save_tickets {
        notes.push(
            "θ₀, θ_k (when rewinding), each round's mask (.npy + .layout.json) and trained θ are in tickets/seed<s>/ of the run directory".into(),
        );
    }
    notes
}
