//! Memory estimates made before anything large is allocated.
//!
//! Each experiment describes its run as a sequence of phases, each with the objects alive
//! during it (θ copies, activations, kernels, factors, eigenvectors…). The estimated peak is
//! the largest phase. A run whose peak exceeds the budget is refused with a message naming the
//! phase, its largest objects and the budget, instead of dying in the allocator. The estimates
//! are checked against the counting allocator's measured peak in the tests (within 25%).

use anyhow::{bail, Result};
use serde::Serialize;

/// One object that is alive during a phase.
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    /// What it is, e.g. "K (2000×2000, f64)".
    pub what: String,
    /// Its size in bytes.
    pub bytes: u128,
}

/// One stage of a run and the objects it holds at once.
#[derive(Clone, Debug, Serialize)]
pub struct Phase {
    /// Stage name, e.g. "Cholesky of K + λI".
    pub name: String,
    /// Objects alive during the stage.
    pub items: Vec<Item>,
}

impl Phase {
    /// Sum of the phase's objects.
    pub fn bytes(&self) -> u128 {
        self.items.iter().map(|i| i.bytes).sum()
    }
}

/// The phases of a run, and with them its estimated peak.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MemoryPlan {
    /// Stages in run order.
    pub phases: Vec<Phase>,
}

impl MemoryPlan {
    /// Adds a phase from (description, bytes) pairs.
    pub fn phase(&mut self, name: &str, items: Vec<(String, u128)>) {
        self.phases.push(Phase {
            name: name.into(),
            items: items
                .into_iter()
                .map(|(what, bytes)| Item { what, bytes })
                .collect(),
        });
    }

    /// The phase with the largest footprint.
    pub fn peak_phase(&self) -> Option<&Phase> {
        self.phases.iter().max_by_key(|p| p.bytes())
    }

    /// Estimated peak bytes (0 for an empty plan).
    pub fn peak(&self) -> u128 {
        self.peak_phase().map_or(0, Phase::bytes)
    }

    /// Refuses a plan whose peak exceeds `budget`, naming the phase and its two largest objects.
    pub fn check(&self, budget: u128, advice: &str) -> Result<()> {
        let Some(p) = self.peak_phase() else {
            return Ok(());
        };
        if p.bytes() <= budget {
            return Ok(());
        }
        let mut items: Vec<&Item> = p.items.iter().collect();
        items.sort_by_key(|i| std::cmp::Reverse(i.bytes));
        let largest: Vec<String> = items
            .iter()
            .take(2)
            .map(|i| format!("{} {}", i.what, human(i.bytes)))
            .collect();
        bail!(
            "this run needs about {} at its peak ({}: {}), more than the memory budget of {} (--max-memory-mib); {advice}",
            human(p.bytes()),
            p.name,
            largest.join(", "),
            human(budget)
        )
    }
}

/// The measured heap peak of one stretch of a run, from the counting allocator.
pub struct PeakWindow {
    before: usize,
}

impl PeakWindow {
    /// Starts a window: the peak counter is reset to the bytes live now.
    pub fn start() -> Self {
        PeakWindow {
            before: crate::alloc::reset_peak(),
        }
    }

    /// Peak heap bytes above the start, or None where the counting allocator is not installed
    /// (it is in the `tangent` binary, not in library tests).
    pub fn measured(&self) -> Option<u128> {
        crate::alloc::installed().then(|| crate::alloc::peak().saturating_sub(self.before) as u128)
    }
}

/// `bytes` as "12.3 MiB" / "4.1 GiB" / "80.1 TiB".
pub fn human(bytes: u128) -> String {
    let b = bytes as f64;
    let units = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (u, shift) in units {
        let scale = (1u128 << shift) as f64;
        if b >= scale {
            return format!("{:.1} {u}", b / scale);
        }
    }
    format!("{bytes} B")
}

/// Bytes of a rows×cols matrix of `elem`-byte entries, saturating instead of overflowing.
pub fn mat(rows: usize, cols: usize, elem: usize) -> u128 {
    (rows as u128)
        .saturating_mul(cols as u128)
        .saturating_mul(elem as u128)
}

/// The budget in bytes: `--max-memory-mib` when given, else 70% of the memory the kernel
/// reports available (`MemAvailable`), or 4 GiB where that cannot be read.
pub fn budget(max_memory_mib: Option<u64>) -> u128 {
    match max_memory_mib {
        Some(mib) => u128::from(mib) << 20,
        None => available_memory_bytes().map_or(4u128 << 30, |b| b * 7 / 10),
    }
}

/// Refuses a `--max-memory-mib` above the machine's total memory (`MemTotal`): a budget the
/// machine cannot honour would let a run reach the allocator's abort instead of a refusal.
pub fn check_budget_option(max_memory_mib: Option<u64>) -> Result<()> {
    if let (Some(mib), Some(total)) = (max_memory_mib, total_memory_bytes()) {
        let asked = u128::from(mib) << 20;
        if asked > total {
            bail!(
                "--max-memory-mib {mib} is more than this machine's memory ({}); give at most {}",
                human(total),
                total >> 20
            );
        }
    }
    Ok(())
}

/// The machine's memory, from /proc/meminfo (`MemTotal`), if readable.
pub fn total_memory_bytes() -> Option<u128> {
    meminfo("MemTotal:")
}

/// Memory available to this process, from /proc/meminfo (`MemAvailable`), if readable.
pub fn available_memory_bytes() -> Option<u128> {
    meminfo("MemAvailable:")
}

fn meminfo(key: &str) -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_is_the_largest_phase_and_refusal_names_it() {
        let mut p = MemoryPlan::default();
        p.phase("small", vec![("a".into(), 10)]);
        p.phase(
            "big",
            vec![
                ("K".into(), 3 << 30),
                ("θ".into(), 1 << 20),
                ("x".into(), 5),
            ],
        );
        assert_eq!(p.peak(), (3 << 30) + (1 << 20) + 5);
        assert!(p.check(4 << 30, "").is_ok());
        let e = p
            .check(1 << 30, "use fewer points")
            .unwrap_err()
            .to_string();
        assert!(e.contains("big") && e.contains("K 3.0 GiB"), "{e}");
        assert!(
            e.contains("1.0 GiB") && e.contains("use fewer points"),
            "{e}"
        );
    }

    #[test]
    fn sizes_do_not_overflow() {
        let b = mat(usize::MAX, usize::MAX, 8);
        assert!(b > u128::from(u64::MAX));
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 << 20), "3.0 MiB");
    }
}

/// What a run measured around its math: the plan's estimate, the counting allocator's peak
/// and the wall time.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// The plan's peak, made before allocating.
    pub estimate: u128,
    /// The measured peak heap bytes (None where the counting allocator is absent).
    pub peak: Option<u128>,
    /// Wall time in seconds, data loading included.
    pub seconds: f64,
}

/// Loads the data, builds the memory plan from it and refuses the run (with `advice`) when the
/// plan's peak exceeds the budget; otherwise runs `run` on the data, measuring the heap peak
/// and the wall time around everything.
pub fn planned<S>(
    data: &crate::data::DataConfig,
    max_memory_mib: Option<u64>,
    advice: &str,
    plan: impl FnOnce(&crate::data::Dataset) -> MemoryPlan,
    run: impl FnOnce(&crate::data::Dataset) -> Result<S>,
) -> Result<(S, Measured)> {
    let window = PeakWindow::start();
    let start = std::time::Instant::now();
    let ds = crate::data::load(data)?;
    let plan = plan(&ds);
    plan.check(budget(max_memory_mib), advice)?;
    let s = run(&ds)?;
    Ok((
        s,
        Measured {
            estimate: plan.peak(),
            peak: window.measured(),
            seconds: start.elapsed().as_secs_f64(),
        },
    ))
}
