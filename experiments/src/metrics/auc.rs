//! The area under the ROC curve of one score as a detector of each class.
//!
//! AUC = P(s(x⁺) > s(x⁻)) + ½·P(s(x⁺) = s(x⁻)) over positive x⁺ and negative x⁻, computed by the
//! Mann–Whitney rank sum (Hanley & McNeil, Radiology 1982): with midranks r (ties share the
//! mean of their ranks, 1-based), n₊ positives and n₋ negatives,
//!
//!   AUC = (Σ_{positives} r − n₊(n₊ + 1)/2) / (n₊ n₋).
//!
//! One sort serves every class, so a score costs O(n log n + n·classes).

/// Midranks (1-based) of `scores`; NaN scores rank above every number, as `total_cmp` orders
/// them, so a NaN never panics (callers reject NaN features before ranking).
pub fn midranks(scores: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start + 1 ..= end share their mean.
        let mid = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = mid;
        }
        start = end;
    }
    ranks
}

/// AUC of `scores` for "label == c" against the rest, for every class c < `classes`; None for
/// a class with no positives or no negatives (the AUC is undefined there).
pub fn auc_per_class(scores: &[f64], labels: &[usize], classes: usize) -> Vec<Option<f64>> {
    let ranks = midranks(scores);
    let mut sum = vec![0.0; classes];
    let mut count = vec![0usize; classes];
    for (&r, &l) in ranks.iter().zip(labels) {
        if l < classes {
            sum[l] += r;
            count[l] += 1;
        }
    }
    let n = labels.len();
    (0..classes)
        .map(|c| {
            let (pos, neg) = (count[c] as f64, (n - count[c]) as f64);
            (count[c] > 0 && count[c] < n).then(|| (sum[c] - pos * (pos + 1.0) / 2.0) / (pos * neg))
        })
        .collect()
}

/// A score detects a class whichever way it points: max(AUC, 1 − AUC) (a unit that is low
/// on the class and high elsewhere separates it as well as its negation would).
pub fn detector_auc(auc: f64) -> f64 {
    auc.max(1.0 - auc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_case() {
        // Scores 0.1 0.4 0.35 0.8 0.4, class 1 at indices 1 and 3. Positive 0.4 beats 0.1 and
        // 0.35 and ties 0.4 (½); positive 0.8 beats all three: (2.5 + 3)/(2·3) = 11/12.
        let s = [0.1, 0.4, 0.35, 0.8, 0.4];
        let labels = [0, 1, 0, 1, 2];
        assert_eq!(midranks(&s), vec![1.0, 3.5, 2.0, 5.0, 3.5]);
        let auc = auc_per_class(&s, &labels, 4);
        assert!((auc[1].unwrap() - 11.0 / 12.0).abs() < 1e-15);
        // Class 0 (indices 0, 2: scores 0.1, 0.35) against 0.4, 0.8, 0.4: beats none.
        assert_eq!(auc[0], Some(0.0));
        assert_eq!(detector_auc(auc[0].unwrap()), 1.0);
        // Class 2 (index 4: 0.4) beats 0.1, 0.35, ties 0.4, loses to 0.8: 2.5/4.
        assert!((auc[2].unwrap() - 0.625).abs() < 1e-15);
        assert_eq!(auc[3], None);
    }

    #[test]
    fn constant_scores_are_chance() {
        let auc = auc_per_class(&[2.0; 6], &[0, 1, 0, 1, 1, 0], 2);
        assert_eq!(auc, vec![Some(0.5), Some(0.5)]);
    }
}
