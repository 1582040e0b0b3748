//! Which form of the empirical NTK a run can afford: the full (n·o)² kernel or the
//! output-traced n×n kernel K̄ = (1/o)Σₐ K[(i,a),(j,a)], decided from the memory plans of both
//! and the budget before anything large is allocated.

use crate::memory::{human, MemoryPlan};
use crate::model::KernelForm;
use anyhow::Result;
use serde::{Deserialize, Serialize};

/// Which kernel to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum KernelChoice {
    /// The full kernel when the run fits in memory with it, else the traced one.
    Auto,
    /// Always the full (n·o)² kernel; refuse when it does not fit.
    Full,
    /// Always the output-traced n×n kernel.
    Traced,
}

/// The form chosen, why, and the memory plan that goes with it (already checked).
pub struct KernelPlan {
    /// Full or traced.
    pub form: KernelForm,
    /// Why this form, in a sentence.
    pub reason: String,
    /// The run's memory plan with this form.
    pub plan: MemoryPlan,
    /// True when `auto` fell back to the traced kernel.
    pub fell_back: bool,
}

impl KernelPlan {
    /// Chooses between the two plans; refuses (naming the phase and its largest objects) when
    /// the chosen one exceeds `budget`. With one output both forms are the same kernel.
    pub fn choose(
        choice: KernelChoice,
        full: MemoryPlan,
        traced: MemoryPlan,
        budget: u128,
        outputs: usize,
    ) -> Result<Self> {
        let requested = |form, plan| KernelPlan {
            form,
            reason: "requested".into(),
            plan,
            fell_back: false,
        };
        let chosen = match choice {
            KernelChoice::Full => requested(KernelForm::Full, full),
            KernelChoice::Traced => requested(KernelForm::Traced, traced),
            KernelChoice::Auto if full.peak() <= budget || outputs == 1 => KernelPlan {
                form: KernelForm::Full,
                reason: format!("fits: about {} of {}", human(full.peak()), human(budget)),
                plan: full,
                fell_back: false,
            },
            KernelChoice::Auto => KernelPlan {
                form: KernelForm::Traced,
                reason: format!(
                    "with the full (n·o)² kernel the run would need about {} (budget {}): using the output-traced n×n kernel (about {})",
                    human(full.peak()),
                    human(budget),
                    human(traced.peak())
                ),
                plan: traced,
                fell_back: true,
            },
        };
        chosen.plan.check(
            budget,
            if chosen.form == KernelForm::Full && outputs > 1 {
                "with the full (n·o)² kernel: use --kernel traced, fewer points (--n-train/--n-test) or narrower layers"
            } else {
                "use fewer points (--n-train/--n-test), narrower layers or --dtype f32"
            },
        )?;
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(bytes: u128) -> MemoryPlan {
        let mut p = MemoryPlan::default();
        p.phase("kernel", vec![("K".into(), bytes)]);
        p
    }

    #[test]
    fn auto_falls_back_and_explicit_choices_are_refused_over_budget() {
        let c = KernelPlan::choose(KernelChoice::Auto, plan(100), plan(10), 50, 10).unwrap();
        assert_eq!(c.form, KernelForm::Traced);
        assert!(c.fell_back && c.reason.contains("output-traced"));
        let c = KernelPlan::choose(KernelChoice::Auto, plan(40), plan(10), 50, 10).unwrap();
        assert_eq!(c.form, KernelForm::Full);
        let e = KernelPlan::choose(KernelChoice::Full, plan(100), plan(10), 50, 10)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("full (n·o)² kernel"), "{e}");
        assert!(KernelPlan::choose(KernelChoice::Auto, plan(100), plan(60), 50, 10).is_err());
    }
}
