//! The words of a `width-sweep` report: what was run and why, and verdicts from the slopes.

use super::{Figure, Slope, Summary};
use crate::metrics::mean_std;
use crate::report::about::{percent, points_against};
use crate::report::About;

/// The question, the method and the power laws it fits.
pub fn about() -> About {
    About::new(
        "Does training become linear as the network gets wider? Theory says that at infinite width gradient descent moves the parameters, the function and the kernel less and less (the lazy or NTK regime), with known rates; this sweep measures the rates at finite width.",
    )
    .method("For each hidden width and seed, the network is trained by full-batch GD on the same data and compared with GD on its linearisation at θ₀ (as `tangent linearize` does). Three figures are recorded per run and the log of their mean over seeds is fitted against log width by least squares; a percentile bootstrap over seeds gives a 95% interval for each slope.")
    .formula("function gap", "‖f_GD(X_test) − f_lin(X_test)‖ / ‖f_GD(X_test)‖")
    .formula("parameter change", "‖θ_T − θ₀‖ / ‖θ₀‖")
    .formula("kernel change", "‖K_T − K₀‖_F / ‖K₀‖_F")
    .formula("power law fitted", "log₁₀ figure = a + b·log₁₀ width   (slope b, predicted b for each figure below)")
}

/// One verdict per fitted figure (the slope against its prediction), and the accuracy of the
/// one-step answer against the trained network at the widest width.
pub fn verdicts(s: &Summary) -> Vec<String> {
    let mut v: Vec<String> = s
        .slopes
        .iter()
        .zip(Figure::FITTED)
        .filter_map(|(sl, f)| slope_verdict(sl, f))
        .collect();
    if let Some(&w) = s.config.widths.iter().max() {
        let at = |get: fn(&super::Point) -> f64| {
            let vals: Vec<f64> = s.points.iter().filter(|p| p.width == w).map(get).collect();
            mean_std(&vals).map(|(m, _)| m)
        };
        if let (Some(n), Some(g)) = (at(|p| p.test_accuracy_newton), at(|p| p.test_accuracy_gd)) {
            v.push(format!(
                "at width {w} the one-step answer is {} the trained network on test accuracy ({} vs {}, mean over seeds)",
                points_against(n, g),
                percent(n),
                percent(g)
            ));
        }
    }
    v
}

fn slope_verdict(sl: &Slope, f: Figure) -> Option<String> {
    let b = sl.slope?;
    let judged = match sl.ci95 {
        Some((lo, hi)) if lo <= sl.predicted && sl.predicted <= hi => {
            "consistent with the prediction (its interval contains it)".to_string()
        }
        Some((lo, hi)) => format!(
            "{} than predicted (interval [{lo:.2}, {hi:.2}] excludes it)",
            if b > sl.predicted { "slower" } else { "faster" }
        ),
        None => "no interval (too few seeds) to judge it".into(),
    };
    Some(format!(
        "{} falls like width^{b:.2} against the predicted width^{:.1}: {judged}",
        f.label(),
        sl.predicted
    ))
}
