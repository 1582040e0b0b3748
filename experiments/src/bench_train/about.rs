//! The words of a `bench-train` report: what was timed and why, and verdicts from the medians.

use super::Summary;
use crate::report::About;

/// What one timed step is, and why masked training is timed beside dense.
pub fn about() -> About {
    About::new(
        "How fast is one training step of the lottery-ticket network, dense and pruned? Iterative magnitude pruning trains the same network many times, so the cost of one minibatch step sets the cost of every lottery experiment; a pruned step should cost no more than a dense one.",
    )
    .method("One step is a forward pass of a minibatch through LeNet-300-100 (ReLU, f32), the backward pass, and an Adam update of every weight. The masked case keeps a fraction of the weights (the rest fixed at zero): its gradient is masked and its update leaves pruned weights at zero.")
    .method("Each case is timed in blocks of consecutive steps after a warm-up; the median block is reported, per thread count.")
    .formula("Adam (Kingma & Ba 2015)", "m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²,   θ ← θ − η m̂/(√v̂ + ε)")
    .formula("masked gradient", "g ← m ⊙ ∇L(m ⊙ θ)")
    .formula("FLOPs per step", "≈ 6 · batch · (number of weights)   (2 forward, 4 backward)")
}

/// The masked-to-dense ratio and the thread scaling, in words.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let mut v = Vec::new();
    for d in s.timings.iter().filter(|t| !t.masked) {
        if let Some(m) = s
            .timings
            .iter()
            .find(|t| t.masked && t.threads == d.threads)
        {
            v.push(format!(
                "on {} thread(s) a step with {:.0}% of the weights kept costs {:.2}× a dense step ({:.3} ms vs {:.3} ms)",
                d.threads,
                100.0 * s.config.keep,
                m.step_ms / d.step_ms,
                m.step_ms,
                d.step_ms
            ));
        }
    }
    let dense: Vec<_> = s.timings.iter().filter(|t| !t.masked).collect();
    if let (Some(a), Some(b)) = (dense.first(), dense.last()) {
        if b.threads > a.threads {
            v.push(format!(
                "{} threads make a dense step {:.2}× faster than {}",
                b.threads,
                a.step_ms / b.step_ms,
                a.threads
            ));
        }
    }
    v
}
