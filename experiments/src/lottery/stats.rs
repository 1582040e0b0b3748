//! Mean ± standard deviation over seeds for every (round, arm) of a lottery run.

use super::run::{Arm, ArmStats, TrainingRecord};
use crate::metrics::sweep::mean_std;

/// One [`ArmStats`] per (round, arm) present in `records`, in round order, then ticket,
/// reinit, random. The standard deviation is the sample one (n − 1); with one seed it is 0.
pub fn arm_stats(records: &[TrainingRecord]) -> Vec<ArmStats> {
    let rounds = records.iter().map(|r| r.round).max().map_or(0, |m| m + 1);
    let mut out = Vec::new();
    for round in 0..rounds {
        for arm in [Arm::Ticket, Arm::Reinit, Arm::Random] {
            let group: Vec<&TrainingRecord> = records
                .iter()
                .filter(|r| r.round == round && r.arm == arm)
                .collect();
            let Some(first) = group.first() else {
                continue;
            };
            let of = |f: fn(&TrainingRecord) -> f64| {
                let v: Vec<f64> = group.iter().map(|r| f(r)).collect();
                mean_std(&v).unwrap_or((f64::NAN, f64::NAN))
            };
            out.push(ArmStats {
                round,
                arm,
                n: group.len(),
                percent_remaining: first.percent_remaining,
                early_stop: of(|r| r.early_stop_iteration as f64),
                accuracy_early: of(|r| r.test_accuracy_early),
                accuracy_final: of(|r| r.test_accuracy_final),
            });
        }
    }
    out
}

/// The statistics of `arm` in the round whose % remaining is nearest to `percent` (on a log
/// scale, as the paper's axes).
pub fn nearest(stats: &[ArmStats], arm: Arm, percent: f64) -> Option<&ArmStats> {
    let d = |a: &ArmStats| (a.percent_remaining.ln() - percent.ln()).abs();
    stats
        .iter()
        .filter(|a| a.arm == arm)
        .min_by(|a, b| d(a).total_cmp(&d(b)))
}

/// The dense network's statistics (round 0).
pub fn dense(stats: &[ArmStats]) -> Option<&ArmStats> {
    stats.iter().find(|a| a.round == 0)
}

/// The largest % remaining from which on `arm`'s mean test accuracy at early stopping stays
/// below the dense network's mean in every sparser round (the paper's "falls below the
/// original network"); None when it never does.
pub fn falls_below(stats: &[ArmStats], arm: Arm) -> Option<f64> {
    let dense = dense(stats)?.accuracy_early.0;
    let mut rounds: Vec<&ArmStats> = stats
        .iter()
        .filter(|a| a.arm == arm && a.round > 0)
        .collect();
    rounds.sort_by_key(|a| a.round);
    let mut from = None;
    for a in rounds {
        if a.accuracy_early.0 < dense {
            from.get_or_insert(a.percent_remaining);
        } else {
            from = None;
        }
    }
    from
}

/// A fraction as a percentage with two decimals (lottery accuracies differ in tenths).
pub fn pct2(v: f64) -> String {
    crate::report::table::pct_digits(v, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seed: usize, round: usize, arm: Arm, acc: f64) -> TrainingRecord {
        TrainingRecord {
            seed,
            round,
            arm,
            percent_remaining: 100.0 * 0.8f64.powi(round as i32),
            percent_per_layer: vec![],
            early_stop_iteration: 100 * (seed + 1),
            test_accuracy_early: acc,
            test_accuracy_final: acc - 0.01,
            best_val_loss: 0.1,
            curve: vec![],
        }
    }

    #[test]
    fn groups_by_round_and_arm_with_sample_std() {
        let records = vec![
            rec(0, 0, Arm::Ticket, 0.90),
            rec(1, 0, Arm::Ticket, 0.94),
            rec(0, 1, Arm::Ticket, 0.95),
            rec(0, 1, Arm::Random, 0.80),
            rec(1, 1, Arm::Random, 0.84),
        ];
        let s = arm_stats(&records);
        let keys: Vec<(usize, Arm, usize)> = s.iter().map(|a| (a.round, a.arm, a.n)).collect();
        assert_eq!(
            keys,
            [
                (0, Arm::Ticket, 2),
                (1, Arm::Ticket, 1),
                (1, Arm::Random, 2)
            ]
        );
        let (m, sd) = s[0].accuracy_early;
        assert!((m - 0.92).abs() < 1e-12);
        // Sample std of {0.90, 0.94}: 0.02·√2.
        assert!((sd - 0.02 * 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(s[0].early_stop.0, 150.0);
        assert!((s[0].early_stop.1 - 50.0 * 2f64.sqrt()).abs() < 1e-9);
        assert!((s[2].accuracy_final.0 - 0.81).abs() < 1e-12);
        assert_eq!(s[1].accuracy_early.1, 0.0);
    }

    #[test]
    fn falls_below_is_the_start_of_the_last_run_below_dense() {
        // Dense 0.92; tickets 0.95, 0.90, 0.93, 0.91, 0.89: below from round 4 on.
        let mut records = vec![rec(0, 0, Arm::Ticket, 0.92)];
        for (r, acc) in [0.95, 0.90, 0.93, 0.91, 0.89].into_iter().enumerate() {
            records.push(rec(0, r + 1, Arm::Ticket, acc));
        }
        let s = arm_stats(&records);
        let from = falls_below(&s, Arm::Ticket).unwrap();
        assert!((from - 100.0 * 0.8f64.powi(4)).abs() < 1e-9);
        assert_eq!(falls_below(&s, Arm::Random), None);
        let n = nearest(&s, Arm::Ticket, 50.0).unwrap();
        assert_eq!(n.round, 3, "0.8^3 = 51.2% is nearest to 50%");
    }
}
