//! Progress reporting kept out of the math: experiments call an [`Observer`], the CLI decides
//! whether that draws progress bars on stderr or stays silent (tests, `--json`).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Receives progress events from a running experiment.
pub trait Observer {
    /// A new stage with `total` units of work begins (0 when unknown).
    fn begin(&mut self, stage: &str, total: u64);
    /// `done` units of the current stage are complete.
    fn advance(&mut self, done: u64);
    /// The current stage is over.
    fn end(&mut self);
    /// A one-line remark (e.g. a fallback taken).
    fn message(&mut self, msg: &str);
}

/// Ignores every event.
#[derive(Default)]
pub struct Silent;

impl Observer for Silent {
    fn begin(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn end(&mut self) {}
    fn message(&mut self, _: &str) {}
}

/// Draws one indicatif progress bar per stage on stderr.
#[derive(Default)]
pub struct Bars {
    bar: Option<ProgressBar>,
}

impl Observer for Bars {
    fn begin(&mut self, stage: &str, total: u64) {
        self.end();
        let bar = if total > 0 {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix:>24} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        } else {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{prefix:>24} {spinner} {elapsed_precise}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(std::time::Duration::from_millis(200));
            b
        };
        bar.set_prefix(stage.to_string());
        self.bar = Some(bar);
    }
    fn advance(&mut self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
    }
    fn end(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
    }
    fn message(&mut self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => eprintln!("{msg}"),
        }
    }
}
