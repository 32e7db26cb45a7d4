//! Small SVG chart helpers: linear scales with "nice" ticks, axes with labels and units,
//! step and line series, bars, bands, vertical markers, lanes and legends. Output is
//! well-formed XML (every text is escaped), so tests can parse it.

use std::fmt::Write as _;

/// Escapes text for XML and HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A palette that stays distinguishable in print (Okabe-Ito).
pub const COLORS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
];

/// Ticks at 1, 2 or 5 times a power of ten covering `[lo, hi]`, about `n` of them.
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    multiples(lo, hi, step)
}

/// The multiples of `step` in `[lo, hi]` (at most 100), an exact 0 for one within rounding
/// of zero: the ticks of every numeric and duration axis.
fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 100 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// How an axis's values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Plain numbers: "1500", "23k", "1.6M".
    Number,
    /// Seconds shown as durations: ticks at 1m, 5m, 15m, 30m, 1h, 2h, 6h, 12h, 1d...,
    /// labelled "1h30m", "2h".
    Duration,
}

impl Scale {
    /// A value of this scale for a tick or a label.
    pub fn label(self, x: f64) -> String {
        match self {
            Scale::Number => num(x),
            Scale::Duration => signed_duration(x),
        }
    }

    /// About `n` ticks covering `[lo, hi]`.
    pub fn ticks(self, lo: f64, hi: f64, n: usize) -> Vec<f64> {
        match self {
            Scale::Number => nice_ticks(lo, hi, n),
            Scale::Duration => duration_ticks(lo, hi, n),
        }
    }
}

/// Steps of a duration axis, in seconds.
const DURATION_STEPS: [f64; 22] = [
    1.0,
    2.0,
    5.0,
    10.0,
    15.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    10_800.0,
    21_600.0,
    43_200.0,
    86_400.0,
    172_800.0,
    604_800.0,
    1_209_600.0,
    2_592_000.0,
];

/// Ticks at whole durations (1m, 5m, 15m, 30m, 1h, 2h, 6h, 12h, 1d, ...) covering
/// `[lo, hi]` seconds, about `n` of them.
pub fn duration_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let Some(&step) = DURATION_STEPS.iter().find(|s| **s >= raw) else {
        // Beyond a month per tick: whole days in nice numbers.
        return nice_ticks(lo / 86_400.0, hi / 86_400.0, n)
            .into_iter()
            .map(|d| d * 86_400.0)
            .collect();
    };
    multiples(lo, hi, step)
}

/// A duration in seconds for a tick or a chart label, with its sign: "-1h30m", "45s",
/// "2h" ([`crate::human_duration`], whole seconds under a minute).
pub fn signed_duration(x: f64) -> String {
    if !x.is_finite() {
        return "?".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let a = x.abs();
    if a < 60.0 && a == a.round() {
        format!("{sign}{a:.0}s")
    } else {
        format!("{sign}{}", crate::human_duration(a))
    }
}

/// A compact number for tick labels.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.3}G", x / 1e9)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
            .replace(".G", "G")
    } else if a >= 1e6 {
        trim(format!("{:.2}", x / 1e6)) + "M"
    } else if a >= 1e4 {
        trim(format!("{:.1}", x / 1e3)) + "k"
    } else if a >= 100.0 || x == x.round() {
        format!("{x:.0}")
    } else {
        trim(format!("{x:.3}"))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A chart under construction: a frame with axes; series are appended to its body.
#[derive(Debug)]
pub struct Plot {
    id: String,
    title: String,
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    x: (f64, f64),
    y: (f64, f64),
    xlabel: String,
    ylabel: String,
    body: String,
    legend: Vec<(String, &'static str)>,
    y_axis: bool,
    xs: Scale,
    ys: Scale,
    y_cats: Option<Vec<(f64, String)>>,
}

impl Plot {
    /// A `w` × `h` chart titled `title`, x over `x` labelled `xlabel`, y over `y`.
    pub fn new(
        id: &str,
        title: &str,
        xlabel: &str,
        ylabel: &str,
        x: (f64, f64),
        y: (f64, f64),
    ) -> Plot {
        let fix = |(a, b): (f64, f64)| if b > a { (a, b) } else { (a, a + 1.0) };
        Plot {
            id: id.to_owned(),
            title: title.to_owned(),
            w: 760.0,
            h: 300.0,
            left: 70.0,
            right: 20.0,
            top: 58.0,
            bottom: 48.0,
            x: fix(x),
            y: fix(y),
            xlabel: xlabel.to_owned(),
            ylabel: ylabel.to_owned(),
            body: String::new(),
            legend: Vec::new(),
            y_axis: true,
            xs: Scale::Number,
            ys: Scale::Number,
            y_cats: None,
        }
    }

    /// The x values are seconds: ticks and labels are durations.
    pub fn x_duration(mut self) -> Plot {
        self.xs = Scale::Duration;
        self
    }

    /// The y values are seconds: ticks and labels are durations.
    pub fn y_duration(mut self) -> Plot {
        self.ys = Scale::Duration;
        self
    }

    /// The y values' scale.
    pub fn y_scale(mut self, s: Scale) -> Plot {
        self.ys = s;
        self
    }

    /// The x values' scale.
    pub fn x_scale(mut self, s: Scale) -> Plot {
        self.xs = s;
        self
    }

    /// Sets the height (lanes need more).
    pub fn height(mut self, h: f64) -> Plot {
        self.h = h;
        self
    }

    /// Hides the y axis's ticks (lanes have no numeric y).
    pub fn no_y_axis(mut self) -> Plot {
        self.y_axis = false;
        self
    }

    /// Sets the left margin (for long lane names).
    pub fn left_margin(mut self, m: f64) -> Plot {
        self.left = m;
        self
    }

    /// Pixel x of a data x.
    pub fn px(&self, x: f64) -> f64 {
        let (a, b) = self.x;
        self.left + (x.clamp(a, b) - a) / (b - a) * (self.w - self.left - self.right)
    }

    /// Pixel y of a data y.
    pub fn py(&self, y: f64) -> f64 {
        let (a, b) = self.y;
        self.h - self.bottom - (y.clamp(a, b) - a) / (b - a) * (self.h - self.top - self.bottom)
    }

    /// A step series: each value holds until the next point's x; the last until `x_end`.
    pub fn step(&mut self, name: &str, color: &'static str, pts: &[(f64, f64)], x_end: f64) {
        let mut d = String::new();
        for (i, &(x, y)) in pts.iter().enumerate() {
            let (px, py) = (self.px(x), self.py(y));
            if i == 0 {
                let _ = write!(d, "M{px:.1},{py:.1}");
            } else {
                let _ = write!(d, "H{px:.1}V{py:.1}");
            }
        }
        if !pts.is_empty() {
            let _ = write!(d, "H{:.1}", self.px(x_end));
        }
        let _ = write!(
            self.body,
            r#"<path class="series" data-name="{}" d="{d}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            esc(name)
        );
        self.legend.push((name.to_owned(), color));
    }

    /// A polyline series with optional points.
    pub fn line(&mut self, name: &str, color: &'static str, pts: &[(f64, f64)]) {
        let d: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        let _ = write!(
            self.body,
            r#"<polyline class="series" data-name="{}" points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            esc(name),
            d.join(" ")
        );
        for &(x, y) in pts {
            let _ = write!(
                self.body,
                r#"<circle class="point" data-x="{x}" cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                self.px(x),
                self.py(y)
            );
        }
        self.legend.push((name.to_owned(), color));
    }

    /// A shaded band between `lo` and `hi` curves at the same xs.
    pub fn band(&mut self, color: &'static str, xs: &[f64], lo: &[f64], hi: &[f64]) {
        let mut pts: Vec<String> = xs
            .iter()
            .zip(hi)
            .map(|(&x, &y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        pts.extend(
            xs.iter()
                .zip(lo)
                .rev()
                .map(|(&x, &y)| format!("{:.1},{:.1}", self.px(x), self.py(y))),
        );
        let _ = write!(
            self.body,
            r#"<polygon class="band" points="{}" fill="{color}" fill-opacity="0.2" stroke="none"/>"#,
            pts.join(" ")
        );
    }

    /// A vertical bar from 0 to `y` over `[x0, x1)`.
    pub fn bar(&mut self, x0: f64, x1: f64, y: f64, color: &str, label: &str) {
        let (a, b) = (self.px(x0), self.px(x1));
        let (top, base) = (self.py(y), self.py(self.y.0.max(0.0)));
        let _ = write!(
            self.body,
            r#"<rect class="bar" data-value="{y}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}</title></rect>"#,
            a + 0.5,
            top,
            (b - a - 1.0).max(0.5),
            (base - top).max(0.0),
            esc(label)
        );
    }

    /// A labelled vertical marker at `x`.
    pub fn vmark(&mut self, x: f64, label: &str, color: &str) {
        let px = self.px(x);
        let _ = write!(
            self.body,
            r#"<g class="marker"><line x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}" stroke="{color}" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="11" fill="{color}">{}</text></g>"#,
            self.top,
            self.h - self.bottom,
            px + 3.0,
            self.top + 11.0,
            esc(label)
        );
    }

    /// A point with an error bar (mean and interval) at category position `x`.
    pub fn whisker(
        &mut self,
        x: f64,
        mean: f64,
        lo: f64,
        hi: f64,
        color: &'static str,
        name: &str,
    ) {
        let px = self.px(x);
        let _ = write!(
            self.body,
            r##"<g class="estimate" data-name="{}" data-mean="{mean}"><line x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"/><circle cx="{px:.1}" cy="{:.1}" r="4" fill="{color}"/><text class="value" x="{:.1}" y="{:.1}" font-size="11" fill="#222">{}</text></g>"##,
            esc(name),
            self.py(lo),
            self.py(hi),
            self.py(mean),
            px + 8.0,
            self.py(mean) + 4.0,
            esc(&self.ys.label(mean))
        );
    }

    /// A "never" label at category position `x`, height `y`: replications that never
    /// reached the value, drawn as words, not as a point.
    pub fn never(&mut self, x: f64, y: f64, label: &str) {
        let _ = write!(
            self.body,
            r##"<text class="never" x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#B00020">{}</text>"##,
            self.px(x),
            self.py(y),
            esc(label)
        );
    }

    /// A horizontal interval with its mean at category row `y` (a forest plot's row):
    /// `data-mean`, `data-lo` and `data-hi` hold the values drawn.
    pub fn hinterval(
        &mut self,
        y: f64,
        (mean, lo, hi): (f64, f64, f64),
        color: &'static str,
        name: &str,
        label: &str,
    ) {
        let (py, pm, plo, phi) = (self.py(y), self.px(mean), self.px(lo), self.px(hi));
        // The label goes right of the interval, or left of it when it would not fit.
        let width = 6.2 * label.chars().count() as f64;
        let (tx, anchor) = if phi + 8.0 + width <= self.w - 4.0 {
            (phi + 8.0, "start")
        } else {
            (plo - 8.0, "end")
        };
        let _ = write!(
            self.body,
            r##"<g class="interval" data-name="{}" data-mean="{mean}" data-lo="{lo}" data-hi="{hi}"><line x1="{plo:.1}" x2="{phi:.1}" y1="{py:.1}" y2="{py:.1}" stroke="{color}" stroke-width="2"/><line x1="{plo:.1}" x2="{plo:.1}" y1="{:.1}" y2="{:.1}" stroke="{color}"/><line x1="{phi:.1}" x2="{phi:.1}" y1="{:.1}" y2="{:.1}" stroke="{color}"/><circle cx="{pm:.1}" cy="{py:.1}" r="4" fill="{color}"/><text class="value" x="{tx:.1}" y="{:.1}" font-size="11" text-anchor="{anchor}" fill="#222">{}</text><title>{}</title></g>"##,
            esc(name),
            py - 5.0,
            py + 5.0,
            py - 5.0,
            py + 5.0,
            py + 4.0,
            esc(label),
            esc(label)
        );
    }

    /// A vertical reference line at `x` (a forest plot's zero: no difference).
    pub fn vline(&mut self, x: f64, class: &str) {
        let px = self.px(x);
        let _ = write!(
            self.body,
            r##"<line class="{}" x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}" stroke="#444" stroke-width="1.5"/>"##,
            esc(class),
            self.top,
            self.h - self.bottom
        );
    }

    /// Names categories along the y axis instead of numeric ticks: `(y, name)`.
    pub fn y_categories(mut self, cats: Vec<(f64, String)>) -> Plot {
        self.y_cats = Some(cats);
        self
    }

    /// Raw SVG appended to the body (lanes).
    pub fn raw(&mut self, s: &str) {
        self.body.push_str(s);
    }

    /// Adds a legend entry without a series.
    pub fn legend(&mut self, name: &str, color: &'static str) {
        self.legend.push((name.to_owned(), color));
    }

    /// The y axis's category names, or its ticks and grid lines.
    fn y_axis_svg(&self) -> String {
        let mut s = String::new();
        let (x0, x1) = (self.left, self.w - self.right);
        for (t, label) in self.y_cats.iter().flatten() {
            let _ = write!(
                s,
                r##"<text class="category" x="{:.1}" y="{:.1}" text-anchor="end" stroke="none" fill="#222">{}</text>"##,
                x0 - 6.0,
                self.py(*t) + 4.0,
                esc(label)
            );
        }
        let y_ticks = if self.y_axis && self.y_cats.is_none() {
            self.ys.ticks(self.y.0, self.y.1, 5)
        } else {
            Vec::new()
        };
        for t in y_ticks {
            let py = self.py(t);
            let _ = write!(
                s,
                r##"<line x1="{:.1}" x2="{x0}" y1="{py:.1}" y2="{py:.1}"/><line x1="{x0}" x2="{x1}" y1="{py:.1}" y2="{py:.1}" stroke="#ddd"/><text class="ytick" x="{:.1}" y="{:.1}" text-anchor="end" stroke="none" fill="#222">{}</text>"##,
                x0 - 4.0,
                x0 - 6.0,
                py + 4.0,
                esc(&self.ys.label(t))
            );
        }
        s
    }

    /// The legend under the title, left to right, wrapped into as many rows as the
    /// chart's width needs (a sweep's series, long arm names), and the height its rows
    /// after the first add.
    fn legend_svg(&self) -> (String, f64) {
        if self.legend.is_empty() {
            return (String::new(), 0.0);
        }
        let mut s = String::from(r#"<g class="legend" font-size="11">"#);
        let (mut lx, mut row) = (self.left.min(70.0), 0.0);
        for (name, color) in &self.legend {
            let width = 30.0 + 6.2 * name.chars().count() as f64;
            if lx + width > self.w - 8.0 && lx > self.left.min(70.0) {
                lx = self.left.min(70.0);
                row += 1.0;
            }
            let y = 30.0 + 14.0 * row;
            let _ = write!(
                s,
                r##"<g class="legend-item"><rect x="{lx:.1}" y="{y:.1}" width="12" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}" fill="#222">{}</text></g>"##,
                lx + 16.0,
                y + 9.0,
                esc(name)
            );
            lx += width;
        }
        s.push_str("</g>");
        (s, 14.0 * row)
    }

    /// The finished `<svg>`, with axes, ticks, labels, title and legend.
    pub fn finish(self, x_ticks: Option<Vec<(f64, String)>>) -> String {
        let (legend, extra) = self.legend_svg();
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{}" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}">"#,
            esc(&self.id),
            self.w,
            self.h + extra,
            esc(&self.title)
        );
        let _ = write!(
            s,
            r#"<text class="title" x="{}" y="20" font-size="15" font-weight="bold">{}</text>"#,
            // Wide left margins (lane and row names) would push a long title off the chart.
            self.left.min(70.0),
            esc(&self.title)
        );
        let (x0, x1, y0, y1) = (
            self.left,
            self.w - self.right,
            self.top,
            self.h - self.bottom,
        );
        s.push_str(&legend);
        // A legend of several rows pushes the chart down by its extra rows.
        if extra > 0.0 {
            let _ = write!(s, r#"<g transform="translate(0,{extra})">"#);
        }
        let _ = write!(
            s,
            r##"<g class="axes" stroke="#444" font-size="11"><line x1="{x0}" x2="{x1}" y1="{y1}" y2="{y1}"/><line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}"/>"##
        );
        let xt = x_ticks.unwrap_or_else(|| {
            self.xs
                .ticks(self.x.0, self.x.1, 8)
                .into_iter()
                .map(|t| (t, self.xs.label(t)))
                .collect()
        });
        for (t, label) in &xt {
            let px = self.px(*t);
            let _ = write!(
                s,
                r##"<line x1="{px:.1}" x2="{px:.1}" y1="{y1}" y2="{:.1}"/><text class="xtick" x="{px:.1}" y="{:.1}" text-anchor="middle" stroke="none" fill="#222">{}</text>"##,
                y1 + 4.0,
                y1 + 16.0,
                esc(label)
            );
        }
        s.push_str(&self.y_axis_svg());
        s.push_str("</g>");
        let _ = write!(
            s,
            r##"<text class="xlabel" x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="#222">{}</text>"##,
            (x0 + x1) / 2.0,
            self.h - 8.0,
            esc(&self.xlabel)
        );
        let _ = write!(
            s,
            r##"<text class="ylabel" transform="translate(14,{:.1}) rotate(-90)" text-anchor="middle" font-size="12" fill="#222">{}</text>"##,
            (y0 + y1) / 2.0,
            esc(&self.ylabel)
        );
        s.push_str(&self.body);
        if extra > 0.0 {
            s.push_str("</g>");
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_legend_wraps_inside_the_chart_and_pushes_it_down() {
        let mut p = Plot::new("t", "title", "x", "y", (0.0, 1.0), (0.0, 1.0));
        let names: Vec<String> = (0..6)
            .map(|i| format!("clients[0].share=0.{i} strategy=datacenter-switchover-non-dac"))
            .collect();
        for n in &names {
            p.legend(n, "#000");
        }
        let (w, h) = (p.w, p.h);
        let svg = p.finish(None);
        let doc = roxmltree::Document::parse(&svg).expect("xml");
        let items: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("legend-item"))
            .collect();
        assert_eq!(items.len(), names.len());
        let mut rows = Vec::new();
        for (it, name) in items.iter().zip(&names) {
            let rect = it
                .children()
                .find(|c| c.has_tag_name("rect"))
                .expect("rect");
            let x: f64 = rect.attribute("x").expect("x").parse().expect("num");
            let y: f64 = rect.attribute("y").expect("y").parse().expect("num");
            let right = x + 30.0 + 6.2 * name.chars().count() as f64;
            assert!(
                x >= 0.0 && right <= w,
                "entry at {x}..{right} outside 0..{w}"
            );
            rows.push(y);
        }
        rows.dedup();
        assert!(rows.len() > 1, "six long names need several rows");
        let extra = 14.0 * (rows.len() - 1) as f64;
        let root = doc.root_element();
        assert_eq!(
            root.attribute("viewBox"),
            Some(format!("0 0 {w} {}", h + extra).as_str())
        );
        assert!(svg.contains(&format!("translate(0,{extra})")), "{svg}");
    }

    #[test]
    fn ticks_are_nice() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(nice_ticks(0.0, 1.0, 4), vec![0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(3.0, 3.0, 4), vec![3.0]);
        assert_eq!(num(1500.0), "1500");
        assert_eq!(num(25_000.0), "25k");
        assert_eq!(num(2_500_000.0), "2.5M");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn scales_map_the_frame() {
        let p = Plot::new("t", "T", "x", "y", (0.0, 10.0), (0.0, 100.0));
        assert_eq!(p.px(0.0), 70.0);
        assert_eq!(p.px(10.0), 740.0);
        assert_eq!(p.py(0.0), 252.0);
        assert_eq!(p.py(100.0), 58.0);
        assert_eq!(p.px(-5.0), 70.0, "clamped");
    }
}
