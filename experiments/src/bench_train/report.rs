//! The table and the machine-readable lines of `bench-train`.

use super::Summary;
use crate::report::{self, Curves, RunOutput, Table};
use anyhow::Result;

/// One line per case in the format of `benches/peers/python/torch_train.py`, so the two can
/// be set side by side by a script.
pub fn lines(s: &Summary) -> Vec<String> {
    s.timings
        .iter()
        .map(|t| {
            format!(
                "train model=lenet300100 threads={} batch={} masked={} tangent_step_ms={:.4} samples_per_s={:.0}",
                t.threads,
                s.config.batch,
                u8::from(t.masked),
                t.step_ms,
                t.samples_per_s
            )
        })
        .collect()
}

/// The table, the lines (as notes) and timings.csv.
pub fn output(s: &Summary) -> Result<RunOutput> {
    let mut t = Table::new(
        &format!(
            "bench-train: one Adam step of 784-{}-10 ReLU, batch {}, f32 (median of {} blocks of {} steps)",
            s.config
                .widths
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join("-"),
            s.config.batch,
            s.config.blocks,
            s.config.steps_per_block
        ),
        &["threads", "masked", "step ms", "samples/s", "GFLOP/s", "masked / dense"],
    );
    for tm in &s.timings {
        let dense = s
            .timings
            .iter()
            .find(|d| d.threads == tm.threads && !d.masked)
            .map_or(f64::NAN, |d| d.step_ms);
        t.row([
            tm.threads.to_string(),
            if tm.masked {
                format!("{:.0}% kept", 100.0 * s.config.keep)
            } else {
                "dense".into()
            },
            format!("{:.3}", tm.step_ms),
            format!("{:.0}", tm.samples_per_s),
            format!("{:.1}", tm.gflops),
            format!("{:.2}", tm.step_ms / dense),
        ]);
    }
    let rows = s
        .timings
        .iter()
        .map(|t| {
            vec![
                t.threads as f64,
                f64::from(u8::from(t.masked)),
                t.step_ms,
                t.samples_per_s,
                t.gflops,
            ]
        })
        .collect();
    Ok(RunOutput {
        experiment: "bench-train".into(),
        about: super::about::about(),
        verdicts: super::about::verdicts(s),
        summary: serde_json::json!({
            "experiment": "bench-train",
            "versions": report::versions(),
            "seed": 0,
            "summary": s,
        }),
        tables: vec![t],
        curves: vec![Curves {
            name: "timings".into(),
            columns: ["threads", "masked", "step_ms", "samples_per_s", "gflops"]
                .map(String::from)
                .to_vec(),
            rows,
        }],
        charts: vec![],
        notes: lines(s),
        files: Default::default(),
    })
}
