//! The compare page: headline table, every mail fate, a forest plot of the paired
//! differences against the baseline, and an ECDF per strategy.

use std::fmt::Write as _;

use dialtone_study::compare::Comparison;
use dialtone_study::stats::{Diff, Stat};

use crate::svg::{COLORS, Plot, Scale, esc};
use crate::{ReportError, column, ecdf_points, estimate, mean_ci_of, page, section, stat, table};

/// The compare page's headline metrics: key, title, axis unit, scale.
pub(crate) const HEADLINE: [(&str, &str, &str, Scale); 4] = [
    (
        "user_minutes_without_send_receive",
        "User-minutes without send/receive",
        "user-minutes",
        Scale::Number,
    ),
    (
        "time_to_service_p95_s",
        "Time until 95% have service back",
        "time (hours and minutes)",
        Scale::Duration,
    ),
    (
        "mail_not_delivered",
        "Mail not delivered (bounced + lost silently + queued at end)",
        "messages",
        Scale::Number,
    ),
    (
        "operator_hours",
        "Operator hours",
        "operator hours",
        Scale::Number,
    ),
];

/// Every fate of a message, as the `mail_*` columns name them, with a label.
pub(crate) const MAIL_ROWS: [(&str, &str); 9] = [
    ("mail_accepted", "accepted"),
    ("mail_delivered_on_time", "delivered on time"),
    ("mail_delivered_late", "delivered late"),
    ("mail_bounced", "bounced (NDR)"),
    ("mail_lost_silently", "lost silently"),
    ("mail_recovered", "recovered (of delivered)"),
    ("mail_left_in_dial_tone", "left in dial tone (of delivered)"),
    ("mail_queued_at_end", "queued at end"),
    ("mail_not_delivered", "not delivered"),
];

/// Tick labels of the fates after `accepted`, in [`MAIL_ROWS`] order.
const FATE_TICKS: [&str; 8] = [
    "on time",
    "late",
    "bounced",
    "lost",
    "recovered",
    "in dial tone",
    "queued",
    "not delivered",
];

/// A table: one row per `(key, label)`, one column per strategy, mean [95% CI].
fn strategy_table(
    c: &Comparison,
    head: &str,
    rows: &[(&str, &str)],
) -> Result<String, ReportError> {
    let mut t = format!("<table class=\"summary\"><thead><tr><th>{}</th>", esc(head));
    for s in &c.strategies {
        let _ = write!(t, "<th>{}</th>", esc(&s.arm));
    }
    t.push_str("</tr></thead><tbody>");
    for (key, label) in rows {
        let _ = write!(t, "<tr><th>{}</th>", esc(label));
        for st in &c.strategies {
            let _ = write!(
                t,
                "<td class=\"n\" data-key=\"{key}\" data-strategy=\"{}\">{}</td>",
                esc(&st.arm),
                esc(&mean_ci_of(key, stat(&st.summary, key)?))
            );
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table>");
    Ok(t)
}

/// The report of a comparison. Its strategies' `rows` (replications-STRATEGY.csv) feed
/// the ECDF; without rows it is left out.
pub fn compare_page(c: &Comparison) -> Result<String, ReportError> {
    let names: Vec<String> = c.strategies.iter().map(|x| x.arm.clone()).collect();
    let mut rows: Vec<(&str, &str)> = HEADLINE.iter().map(|h| (h.0, h.1)).collect();
    rows.insert(
        1,
        (
            "user_minutes_without_history",
            "User-minutes without history",
        ),
    );
    let intro = verdict_section(c)
        + &format!(
            "{}<p class=\"desc\">{} replications per strategy, seed {}, common random numbers: every strategy faces the same failures and mail. Differences against {} are paired.</p>",
            table(&[
                ("scenario".into(), c.scenario.clone()),
                ("strategies".into(), names.join(", ")),
                ("replications".into(), c.replications.to_string()),
                ("seed".into(), c.seed.to_string())
            ]),
            c.replications,
            c.seed,
            esc(names.first().map_or("", String::as_str)),
        )
        + &strategy_table(c, "metric (mean [95% CI])", &rows)?;
    let mut sections = vec![section(
        "Strategies side by side (mean and 95% confidence interval)",
        &side_by_side(c)?,
    )];
    if c.strategies.len() > 1 {
        sections.push(section(
            &format!("Differences against {} (paired, 95% interval)", names[0]),
            &forest(c),
        ));
    }
    if c.strategies.iter().all(|s| !s.rows.is_empty()) {
        sections.push(section(
            "User-minutes without send/receive across replications",
            &ecdf(c),
        ));
    }
    sections.push(section(
        "What happened to the mail (mean per replication [95% CI])",
        &(strategy_table(c, "messages", &MAIL_ROWS)? + &fates_bars(c)?),
    ));
    Ok(page(
        &format!("dialtone compare: {}", c.scenario),
        &intro,
        &sections,
    ))
}

/// One chart per headline metric: each strategy's mean and interval; "never in N%" for
/// replications that never got there.
fn side_by_side(c: &Comparison) -> Result<String, ReportError> {
    let mut charts = String::new();
    let n = c.strategies.len();
    for (key, label, unit, scale) in HEADLINE {
        let stats = c
            .strategies
            .iter()
            .map(|st| stat(&st.summary, key))
            .collect::<Result<Vec<&Stat>, ReportError>>()?;
        let est: Vec<Option<(f64, f64, f64)>> = stats.iter().map(|v| estimate(v)).collect();
        let top = est.iter().flatten().map(|e| e.2).fold(0.0, f64::max);
        let top = if top > 0.0 { top } else { 1.0 };
        let mut p = Plot::new(
            &format!("compare-{key}"),
            label,
            "strategy",
            unit,
            (0.0, n as f64),
            (0.0, top * 1.15),
        )
        .height(240.0)
        .y_scale(scale);
        for (i, ((e, v), st)) in est.iter().zip(&stats).zip(&c.strategies).enumerate() {
            let x = i as f64 + 0.5;
            if let Some((m, lo, hi)) = e {
                p.whisker(x, *m, *lo, *hi, COLORS[i % COLORS.len()], &st.arm);
            }
            // Replications that never got there are shown as such, never as a value.
            if v.nulls > 0 {
                p.never(
                    x,
                    top * 1.08,
                    &format!("never in {:.0}%", 100.0 * v.null_share),
                );
            }
        }
        let ticks = c
            .strategies
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f64 + 0.5, s.arm.clone()))
            .collect();
        charts.push_str(&p.finish(Some(ticks)));
    }
    Ok(charts)
}

/// The paired difference of `metric` for `strategy` against the baseline.
fn diff_of<'a>(c: &'a Comparison, strategy: &str, metric: &str) -> Option<&'a Diff> {
    c.differences
        .iter()
        .find(|(s, _)| s == strategy)?
        .1
        .iter()
        .find(|(m, _)| m == metric)
        .map(|(_, d)| d)
}

/// A forest plot: one panel per headline metric (units differ), one row per strategy
/// after the baseline, the mean paired difference with its 95% interval, a zero line.
fn forest(c: &Comparison) -> String {
    HEADLINE.iter().map(|h| forest_panel(c, *h)).collect()
}

/// The mean paired difference and its interval (collapsing to the mean without one).
fn diff_estimate(d: &Diff) -> Option<(f64, f64, f64)> {
    let m = d.mean?;
    Some((m, d.ci95.map_or(m, |x| x[0]), d.ci95.map_or(m, |x| x[1])))
}

/// "mean [lo, hi]", and "no significant difference" when the interval holds zero.
fn interval_label(scale: Scale, (m, lo, hi): (f64, f64, f64), significant: bool) -> String {
    let ns = if significant {
        ""
    } else {
        " no significant difference"
    };
    format!(
        "{} [{}, {}]{ns}",
        scale.label(m),
        scale.label(lo),
        scale.label(hi)
    )
}

/// One panel of the forest plot.
fn forest_panel(c: &Comparison, (key, label, unit, scale): (&str, &str, &str, Scale)) -> String {
    let base = &c.strategies[0].arm;
    let others = &c.strategies[1..];
    let diffs: Vec<Option<&Diff>> = others.iter().map(|s| diff_of(c, &s.arm, key)).collect();
    let (lo, hi) = diffs
        .iter()
        .filter_map(|d| diff_estimate((*d)?))
        .fold((0.0f64, 0.0f64), |(a, b), e| (a.min(e.1), b.max(e.2)));
    let pad = ((hi - lo) * 0.12).max(if scale == Scale::Duration { 60.0 } else { 1.0 });
    let rows = others.len() as f64;
    let row_y = |i: usize| rows - i as f64 - 0.5;
    let short = label.split(" (").next().unwrap_or(label);
    // Room for the longest arm name (variant+strategy labels are long), within reason.
    let longest = others
        .iter()
        .map(|s| s.arm.chars().count())
        .max()
        .unwrap_or(0);
    let left = (16.0 + 6.6 * longest as f64).clamp(120.0, 360.0);
    let mut p = Plot::new(
        &format!("forest-{key}"),
        &format!("{short}, minus {base}"),
        &format!("difference ({unit}); left of zero: less than {base}"),
        "",
        (lo - pad, hi + pad),
        (0.0, rows),
    )
    .height(120.0 + 34.0 * rows)
    .left_margin(left)
    .x_scale(scale)
    .y_categories(
        others
            .iter()
            .enumerate()
            .map(|(i, s)| (row_y(i), s.arm.clone()))
            .collect(),
    );
    p.vline(0.0, "zero");
    for (i, (s, d)) in others.iter().zip(&diffs).enumerate() {
        match d.and_then(|d| Some((diff_estimate(d)?, d.significant))) {
            Some((e, sig)) => {
                let text = interval_label(scale, e, sig);
                p.hinterval(row_y(i), e, COLORS[(i + 1) % COLORS.len()], &s.arm, &text);
            }
            None => p.never((lo + hi) / 2.0, row_y(i), "no pairs: never got there"),
        }
    }
    p.finish(None)
}

/// One ECDF per strategy of user-minutes without send/receive, on one chart.
fn ecdf(c: &Comparison) -> String {
    let key = "user_minutes_without_send_receive";
    let cols: Vec<Vec<f64>> = c
        .strategies
        .iter()
        .map(|s| {
            let mut v = column(&s.rows, key);
            v.sort_by(f64::total_cmp);
            v
        })
        .collect();
    let lo = cols
        .iter()
        .filter_map(|v| v.first())
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = cols
        .iter()
        .filter_map(|v| v.last())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        (lo, hi.max(lo + 1.0))
    } else {
        (0.0, 1.0)
    };
    let pad = (hi - lo) * 0.03;
    let mut e = Plot::new(
        "compare-ecdf",
        "Empirical CDF of user-minutes without send/receive, per strategy",
        "user-minutes without send/receive (further left is better)",
        "share of replications",
        (lo - pad, hi + pad),
        (0.0, 1.0),
    );
    for (i, (s, v)) in c.strategies.iter().zip(&cols).enumerate() {
        e.step(&s.arm, COLORS[i % COLORS.len()], &ecdf_points(v), hi + pad);
    }
    e.finish(None)
}

/// Grouped bars: for each fate (accepted left out: it is the total), one bar per strategy.
fn fates_bars(c: &Comparison) -> Result<String, ReportError> {
    let fates = &MAIL_ROWS[1..];
    let n = c.strategies.len() as f64;
    let mut vals = Vec::new();
    for (key, _) in fates {
        for s in &c.strategies {
            vals.push(stat(&s.summary, key)?.mean.unwrap_or(0.0));
        }
    }
    let top = vals.iter().copied().fold(1.0, f64::max);
    let mut p = Plot::new(
        "compare-mail-fates",
        "Mail fates, mean per replication",
        "fate",
        "messages",
        (0.0, fates.len() as f64),
        (0.0, top * 1.1),
    )
    .height(320.0);
    for (f, (_, label)) in fates.iter().enumerate() {
        for (i, s) in c.strategies.iter().enumerate() {
            let v = vals[f * c.strategies.len() + i];
            let a = f as f64 + 0.1 + 0.8 * i as f64 / n;
            p.bar(
                a,
                a + 0.8 / n,
                v,
                COLORS[i % COLORS.len()],
                &format!("{}, {label}: {}", s.arm, crate::svg::num(v)),
            );
        }
    }
    for (i, s) in c.strategies.iter().enumerate() {
        p.legend(&s.arm, COLORS[i % COLORS.len()]);
    }
    let ticks = FATE_TICKS
        .iter()
        .enumerate()
        .map(|(i, l)| (i as f64 + 0.5, (*l).to_owned()))
        .collect();
    Ok(p.finish(Some(ticks)))
}

/// The verdict of a comparison ([`dialtone_study::verdict`]), the first thing its report
/// shows: each strategy against the baseline in plain sentences, and each strategy's
/// headline levels.
fn verdict_section(c: &Comparison) -> String {
    let mut h = String::from("<section class=\"verdict\" id=\"verdict\"><h2>Verdict</h2><ul>");
    for v in dialtone_study::verdict::verdict(c) {
        let _ = write!(h, "<li>{}</li>", esc(&v));
    }
    h.push_str("</ul><ul>");
    for st in &c.strategies {
        let _ = write!(
            h,
            "<li><b>{}</b>: {}.</li>",
            esc(&st.arm),
            esc(&dialtone_study::verdict::headline(&st.summary))
        );
    }
    h.push_str("</ul></section>");
    h
}
