//! The sweep page: the metrics against the real values of the swept parameters.

use std::fmt::Write as _;

use dialtone_engine::SimDuration;
use dialtone_study::stats::Stat;
use dialtone_study::sweep::{SweepPoint, SweepSummary};
use serde_json::Value;

use crate::compare::HEADLINE;
use crate::svg::{COLORS, Plot, Scale, esc};
use crate::{ReportError, estimate, mean_ci_of, page, section, stat, table};

/// Where the points sit along x: the first axis's values on a numeric scale (numbers, or
/// durations in seconds), or as categories in the order given.
#[derive(Debug, PartialEq)]
enum XAxis {
    Numeric(Scale, Vec<f64>),
    Categories(Vec<String>, Vec<usize>),
}

/// A swept value as given: a string as is, anything else as JSON.
pub(crate) fn value_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first axis's values: all numbers, all durations ("300s", "1h"), or categories.
fn first_axis(points: &[SweepPoint]) -> XAxis {
    let first: Vec<Option<&Value>> = points.iter().map(|p| p.values.first()).collect();
    let numbers: Option<Vec<f64>> = first.iter().map(|v| (*v)?.as_f64()).collect();
    if let Some(xs) = numbers {
        return XAxis::Numeric(Scale::Number, xs);
    }
    let durations: Option<Vec<f64>> = first
        .iter()
        .map(|v| Some((*v)?.as_str()?.parse::<SimDuration>().ok()?.as_secs_f64()))
        .collect();
    if let Some(xs) = durations {
        return XAxis::Numeric(Scale::Duration, xs);
    }
    let mut cats: Vec<String> = Vec::new();
    let idx = first
        .iter()
        .map(|v| {
            let l = v.map_or_else(|| "?".to_owned(), value_label);
            cats.iter().position(|c| *c == l).unwrap_or_else(|| {
                cats.push(l);
                cats.len() - 1
            })
        })
        .collect();
    XAxis::Categories(cats, idx)
}

impl XAxis {
    /// The x of point `i`.
    fn x(&self, i: usize) -> f64 {
        match self {
            XAxis::Numeric(_, xs) => xs[i],
            XAxis::Categories(_, idx) => idx[i] as f64 + 0.5,
        }
    }

    /// The x range shown.
    fn range(&self) -> (f64, f64) {
        match self {
            XAxis::Numeric(scale, xs) => {
                let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let min_pad = if *scale == Scale::Duration { 60.0 } else { 0.5 };
                let pad = ((hi - lo) * 0.05).max(if hi > lo { 0.0 } else { min_pad });
                (lo - pad, hi + pad)
            }
            XAxis::Categories(c, _) => (0.0, c.len() as f64),
        }
    }

    fn scale(&self) -> Scale {
        match self {
            XAxis::Numeric(s, _) => *s,
            XAxis::Categories(..) => Scale::Number,
        }
    }

    /// Category names as ticks; numeric axes get the scale's own ticks.
    fn ticks(&self) -> Option<Vec<(f64, String)>> {
        match self {
            XAxis::Numeric(..) => None,
            XAxis::Categories(c, _) => Some(
                c.iter()
                    .enumerate()
                    .map(|(i, l)| (i as f64 + 0.5, l.clone()))
                    .collect(),
            ),
        }
    }
}

/// Points grouped into series by the values of the other axes (one series when there
/// is one axis), in order of appearance; each series's point indices.
fn series(s: &SweepSummary) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, p) in s.points.iter().enumerate() {
        let name = s
            .axes
            .iter()
            .zip(&p.values)
            .skip(1)
            .map(|(a, v)| format!("{a}={}", value_label(v)))
            .collect::<Vec<_>>()
            .join(", ");
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(i),
            None => out.push((name, vec![i])),
        }
    }
    out
}

/// The report of a sweep.
pub fn sweep_page(s: &SweepSummary) -> Result<String, ReportError> {
    let x = first_axis(&s.points);
    let groups = series(s);
    let mut charts = String::new();
    for (key, label, unit, scale) in HEADLINE {
        charts.push_str(&metric_chart(s, &x, &groups, (key, label, unit, scale))?);
    }
    let intro = table(&[
        ("scenario".into(), s.scenario.clone()),
        ("swept".into(), s.axes.join(", ")),
        ("points".into(), s.points.len().to_string()),
    ]) + &points_table(s)?;
    Ok(page(
        &format!("dialtone sweep: {}", s.scenario),
        &intro,
        &[section("Metrics against the swept parameters", &charts)],
    ))
}

/// One chart of a headline metric: a line (mean) and band (95% CI) per series.
fn metric_chart(
    s: &SweepSummary,
    x: &XAxis,
    groups: &[(String, Vec<usize>)],
    (key, label, unit, scale): (&str, &str, &str, Scale),
) -> Result<String, ReportError> {
    let stats = s
        .points
        .iter()
        .map(|p| stat(&p.summary, key))
        .collect::<Result<Vec<&Stat>, ReportError>>()?;
    let top = stats
        .iter()
        .filter_map(|v| estimate(v))
        .map(|e| e.2)
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top } else { 1.0 };
    let first = s.axes.first().map_or("", String::as_str);
    let mut p = Plot::new(
        &format!("sweep-{key}"),
        label,
        first,
        unit,
        x.range(),
        (0.0, top * 1.15),
    )
    .height(280.0)
    .x_scale(x.scale())
    .y_scale(scale);
    for (g, (name, idx)) in groups.iter().enumerate() {
        // Points where no replication got there are gaps with a "never" label, not 0.
        let mut pts: Vec<(f64, (f64, f64, f64))> = idx
            .iter()
            .filter_map(|&i| estimate(stats[i]).map(|e| (x.x(i), e)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let color = COLORS[g % COLORS.len()];
        let xs: Vec<f64> = pts.iter().map(|v| v.0).collect();
        let lo: Vec<f64> = pts.iter().map(|v| v.1.1).collect();
        let hi: Vec<f64> = pts.iter().map(|v| v.1.2).collect();
        p.band(color, &xs, &lo, &hi);
        let legend = if name.is_empty() {
            "mean (band: 95% CI)"
        } else {
            name
        };
        let means: Vec<(f64, f64)> = pts.iter().map(|v| (v.0, v.1.0)).collect();
        p.line(legend, color, &means);
    }
    for (i, v) in stats.iter().enumerate().filter(|(_, v)| v.nulls > 0) {
        p.never(
            x.x(i),
            top * 1.08,
            &format!("never in {:.0}%", 100.0 * v.null_share),
        );
    }
    Ok(p.finish(x.ticks()))
}

/// The table of points: each axis's value, then the headline metrics.
fn points_table(s: &SweepSummary) -> Result<String, ReportError> {
    let mut t = String::from("<table class=\"summary\"><thead><tr>");
    for a in &s.axes {
        let _ = write!(t, "<th>{}</th>", esc(a));
    }
    for (_, label, _, _) in HEADLINE.iter().take(3) {
        let _ = write!(t, "<th>{}</th>", esc(label));
    }
    t.push_str("</tr></thead><tbody>");
    for p in &s.points {
        t.push_str("<tr>");
        for v in &p.values {
            let _ = write!(t, "<th>{}</th>", esc(&value_label(v)));
        }
        for (key, _, _, _) in HEADLINE.iter().take(3) {
            let _ = write!(
                t,
                "<td class=\"n\" data-key=\"{key}\">{}</td>",
                esc(&mean_ci_of(key, stat(&p.summary, key)?))
            );
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table>");
    Ok(t)
}
