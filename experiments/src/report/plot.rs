//! Charts drawn with plotters, to SVG (inline in the HTML report) and PNG. Log axes are drawn
//! by plotting log10 of the values on a linear axis and labelling ticks with 10^v, which keeps
//! one code path for every axis combination.

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use serde::Serialize;
use std::path::Path;

/// The embedded DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`): PNG
/// text needs a font file and the program must not depend on fonts installed on the machine.
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // A failure only loses text in PNGs; the SVGs carry text as markup.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub enum SeriesStyle {
    /// Solid line.
    Line,
    /// Dashed line.
    Dashed,
    /// Markers only.
    Points,
}

/// A corner of the plotting area (where the legend goes).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub enum Corner {
    /// Top right (the default).
    UpperRight,
    /// Top left.
    UpperLeft,
    /// Bottom left.
    LowerLeft,
    /// Bottom right.
    LowerRight,
}

/// One labelled set of (x, y) points.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    /// Legend entry.
    pub label: String,
    /// The points (non-finite ones, and non-positive ones on a log axis, are skipped).
    pub points: Vec<(f64, f64)>,
    /// Line, dashes or markers.
    pub style: SeriesStyle,
    /// Index into the palette (None: the series' position), so a mean and its band share a
    /// colour.
    pub color: Option<usize>,
}

/// A 2-D chart with any number of series.
#[derive(Clone, Debug, Serialize)]
pub struct Chart {
    /// File stem.
    pub name: String,
    /// Title, shown above the caption.
    pub title: String,
    /// What to look at in the chart: one or two sentences under it in the report.
    pub caption: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// x grows to the left (the lottery papers put the dense network, 100% of the weights,
    /// at the left of a decreasing sparsity axis).
    pub reverse_x: bool,
    /// The corner the legend sits in.
    pub legend: Corner,
    /// The data.
    pub series: Vec<Series>,
}

impl Chart {
    /// An empty chart.
    pub fn new(
        name: &str,
        title: &str,
        x_label: &str,
        y_label: &str,
        log_x: bool,
        log_y: bool,
    ) -> Self {
        Chart {
            name: name.into(),
            title: title.into(),
            caption: String::new(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x,
            log_y,
            reverse_x: false,
            legend: Corner::UpperRight,
            series: vec![],
        }
    }

    /// Sets the caption: what the reader should look at.
    pub fn caption(&mut self, text: &str) -> &mut Self {
        self.caption = text.into();
        self
    }

    /// Adds a series.
    pub fn add(&mut self, label: &str, points: Vec<(f64, f64)>, style: SeriesStyle) -> &mut Self {
        self.series.push(Series {
            label: label.into(),
            points,
            style,
            color: None,
        });
        self
    }

    /// Adds a series drawn in palette colour `color` (wrapping around the palette).
    pub fn add_colored(
        &mut self,
        label: &str,
        points: Vec<(f64, f64)>,
        style: SeriesStyle,
        color: usize,
    ) -> &mut Self {
        self.add(label, points, style);
        if let Some(s) = self.series.last_mut() {
            s.color = Some(color);
        }
        self
    }

    fn transformed(&self) -> Vec<Vec<(f64, f64)>> {
        let tx = |v: f64, log: bool| {
            if log {
                if v > 0.0 {
                    v.log10()
                } else {
                    f64::NAN
                }
            } else {
                v
            }
        };
        self.series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .map(|&(x, y)| (tx(x, self.log_x), tx(y, self.log_y)))
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect()
            })
            .collect()
    }
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = 0.04 * (hi - lo);
    (lo - pad, hi + pad)
}

/// A linear f64 axis whose grid lines and labels sit at [`ticks`] instead of plotters' own
/// choice (which put log-axis labels at 10^2.2 = "158.489").
struct Ticked {
    inner: plotters::coord::types::RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    /// An axis over [lo, hi]; `reverse` maps hi to the left (or bottom) end.
    fn new(lo: f64, hi: f64, log: bool, reverse: bool) -> Self {
        Ticked {
            inner: if reverse {
                (hi..lo).into()
            } else {
                (lo..hi).into()
            },
            ticks: ticks(lo, hi, log),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }
    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, _: Hint) -> Vec<f64> {
        self.ticks.clone()
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// Tick positions (in plotted coordinates) for an axis spanning [lo, hi]: on a log axis the
/// powers of ten inside it (every other decade beyond ten; with 2× and 5× between them, or
/// every integer multiple, when fewer than two decades show), on a linear axis "nice" steps of 1, 2 or 5 × 10^k, about
/// four to seven of them.
fn ticks(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return vec![];
    }
    if log {
        let decades: Vec<f64> = ((lo.ceil() as i64)..=(hi.floor() as i64))
            .map(|k| k as f64)
            .collect();
        if decades.len() >= 2 {
            let every = decades.len().div_ceil(10);
            return decades.into_iter().step_by(every).collect();
        }
        // Within a decade or two: 1-2-5 multiples, else every integer multiple, else (a
        // span narrower than 1→2) linear nice steps of the values themselves.
        for mantissas in [
            &[1.0f64, 2.0, 5.0][..],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        ] {
            let mut t = Vec::new();
            for k in (lo.floor() as i64)..=(hi.ceil() as i64) {
                for m in mantissas {
                    let v = k as f64 + m.log10();
                    if (lo..=hi).contains(&v) {
                        t.push(v);
                    }
                }
            }
            if t.len() >= 3 {
                return t;
            }
        }
        let (a, b) = (10f64.powf(lo), 10f64.powf(hi));
        return ticks(a, b, false)
            .into_iter()
            .filter(|v| *v > 0.0)
            .map(f64::log10)
            .collect();
    }
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| (hi - lo) / s <= 7.0)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn tick(v: f64, log: bool) -> String {
    let v = if log { 10f64.powf(v) } else { v };
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-2..1e4).contains(&a) {
        format!("{v:.0e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn draw<DB: DrawingBackend>(
    chart: &Chart,
    root: DrawingArea<DB, plotters::coord::Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("plotting {}: {e:?}", chart.name);
    root.fill(&WHITE).map_err(err)?;
    let data = chart.transformed();
    let (x0, x1) = range(data.iter().flatten().map(|p| p.0));
    let (y0, y1) = range(data.iter().flatten().map(|p| p.1));
    let mut cc = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            Ticked::new(x0, x1, chart.log_x, chart.reverse_x),
            Ticked::new(y0, y1, chart.log_y, false),
        )
        .map_err(err)?;
    let (lx, ly) = (chart.log_x, chart.log_y);
    let fx = move |v: &f64| tick(*v, lx);
    let fy = move |v: &f64| tick(*v, ly);
    let x_desc = if lx {
        format!("{} (log scale)", chart.x_label)
    } else {
        chart.x_label.clone()
    };
    let y_desc = if ly {
        format!("{} (log scale)", chart.y_label)
    } else {
        chart.y_label.clone()
    };
    cc.configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    for (i, (s, pts)) in chart.series.iter().zip(data).enumerate() {
        let color = PALETTE[s.color.unwrap_or(i) % PALETTE.len()].to_rgba();
        let style = ShapeStyle {
            color,
            filled: true,
            stroke_width: 2,
        };
        let anno = match s.style {
            SeriesStyle::Line => cc.draw_series(LineSeries::new(pts, style)).map_err(err)?,
            SeriesStyle::Dashed => cc
                .draw_series(DashedLineSeries::new(pts, 8, 5, style))
                .map_err(err)?,
            SeriesStyle::Points => cc
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, style)))
                .map_err(err)?,
        };
        // An empty label keeps a series (the second dashed edge of a band) out of the legend.
        if !s.label.is_empty() {
            anno.label(s.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
    }
    cc.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(match chart.legend {
            Corner::UpperRight => SeriesLabelPosition::UpperRight,
            Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
            Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
            Corner::LowerRight => SeriesLabelPosition::LowerRight,
        })
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

const SIZE: (u32, u32) = (820, 520);

/// Distinct, print-safe colours (no yellow on white).
const PALETTE: [RGBColor; 6] = [
    RGBColor(204, 37, 41),
    RGBColor(57, 106, 177),
    RGBColor(62, 150, 81),
    RGBColor(40, 40, 40),
    RGBColor(218, 124, 48),
    RGBColor(107, 76, 154),
];

/// Renders the chart as an SVG document.
pub fn render_svg(chart: &Chart) -> Result<String> {
    register_font_once();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
        draw(chart, root)?;
    }
    Ok(s)
}

/// Renders the chart as a PNG at `path`, through a temporary sibling and a rename.
pub fn write_png(chart: &Chart, path: &Path) -> Result<()> {
    register_font_once();
    let tmp = super::temp_sibling(path, ".png");
    let result = (|| {
        let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
        draw(chart, root)?;
        std::fs::rename(&tmp, path).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_tick_at_powers_of_ten() {
        // 32 … 2048: decades 100 and 1000 (log10 2 and 3).
        let t = ticks(32f64.log10(), 2048f64.log10(), true);
        assert_eq!(t, vec![2.0, 3.0]);
        let labels: Vec<String> = t.iter().map(|&v| tick(v, true)).collect();
        assert_eq!(labels, ["100", "1000"]);
        // Less than two decades: 1, 2, 5 × 10^k.
        let t = ticks(0.03f64.log10(), 0.6f64.log10(), true);
        let labels: Vec<String> = t.iter().map(|&v| tick(v, true)).collect();
        assert_eq!(labels, ["0.05", "0.1", "0.2", "0.5"]);
        // Inside one decade: every integer multiple (65 … 100 %: 70, 80, 90, 100).
        let t = ticks(65f64.log10(), 100f64.log10(), true);
        let labels: Vec<String> = t.iter().map(|&v| tick(v, true)).collect();
        assert_eq!(labels, ["70", "80", "90", "100"]);
        // Narrower than 1 → 2: linear nice steps of the values.
        let t = ticks(40f64.log10(), 44f64.log10(), true);
        let labels: Vec<String> = t.iter().map(|&v| tick(v, true)).collect();
        assert!(labels.len() >= 3, "{labels:?}");
        // Many decades: at most about ten ticks.
        assert!(ticks(-20.0, 5.0, true).len() <= 13);
        // Linear: nice steps.
        assert_eq!(
            ticks(0.0, 1000.0, false),
            vec![0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]
        );
        assert!(ticks(1.0, 1.0, false).is_empty());
    }

    #[test]
    fn svg_and_png_render() {
        let mut c = Chart::new("t", "test", "step", "loss", false, true);
        c.add(
            "a",
            vec![(0.0, 1.0), (1.0, 0.1), (2.0, 0.01)],
            SeriesStyle::Line,
        );
        c.add("b", vec![(0.0, 0.5), (2.0, 0.5)], SeriesStyle::Dashed);
        c.add("c", vec![(1.0, -1.0), (1.5, 0.2)], SeriesStyle::Points);
        let svg = render_svg(&c).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("test"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.png");
        write_png(&c, &p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
