//! The verdict of a comparison, and the headline of a study, in plain sentences: the
//! architect's question (which strategy, how long without mail, how much mail not
//! delivered, at what operator cost) answered on the first screen.
//!
//! - Headline metrics ([`HEADLINES`]): `time_to_service_p95_s` (95% of users can send and
//!   receive again: the last few users, e.g. those at a site without power, would hide
//!   what a strategy does for everyone else), `user_minutes_without_send_receive` (said
//!   in user-hours: the whole outage users live through), `time_to_history_all_s` (every
//!   user has their full history), `mail_not_delivered`, `operator_hours`.
//! - [`verdict`]: for each strategy against the first (the baseline), per headline metric,
//!   the paired mean difference with its 95% interval ([`crate::stats::paired`]), in words
//!   ("3h2m sooner [3h1m, 3h4m]"); "no significant difference" when the interval holds
//!   zero. Nulls are said, never hidden: a time never reached is "never", with the share
//!   of replications, and a difference is over the replications where both got there.
//! - [`headline`]: one strategy's levels (mean [95% interval]) on the same metrics.
//!
//! Pure functions of the summaries: no files, no numbers but the statistics.

use dialtone_scenario::Summary;

use crate::compare::Comparison;
use crate::human::{human_count, human_duration};
use crate::stats::{Diff, Stat, describe};
use crate::{COLUMNS, Row, StudySummary};

/// How a headline metric is measured and said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A clock duration in seconds, said as "1h5m"; null is "never".
    Duration,
    /// A count of messages.
    Messages,
    /// Hours of people's time.
    Hours,
    /// User-minutes, said in user-hours ("82,700 user-hours").
    UserHours,
}

/// A headline metric: its column and its words.
#[derive(Debug, Clone, Copy)]
pub struct Headline {
    /// The metric column (a key of [`crate::COLUMNS`]).
    pub key: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// What changes, for a difference ("users can send and receive" 1h sooner).
    pub subject: &'static str,
    /// A level ("every user can send and receive after" 1h).
    pub level: &'static str,
    /// When it is never reached.
    pub never: &'static str,
}

/// The headline metrics, in the order sentences give them.
pub const HEADLINES: [Headline; 5] = [
    Headline {
        key: "time_to_service_p95_s",
        unit: Unit::Duration,
        subject: "95% of users can send and receive",
        level: "95% of users can send and receive after",
        never: "more than 5% of users never get send and receive back",
    },
    Headline {
        key: "user_minutes_without_send_receive",
        unit: Unit::UserHours,
        subject: "user-hours without send and receive",
        level: "user-hours without send and receive",
        never: "",
    },
    Headline {
        key: "time_to_history_all_s",
        unit: Unit::Duration,
        subject: "full history",
        level: "full history back after",
        never: "some users never get their full history back",
    },
    Headline {
        key: "mail_not_delivered",
        unit: Unit::Messages,
        subject: "messages not delivered",
        level: "messages not delivered",
        never: "",
    },
    Headline {
        key: "operator_hours",
        unit: Unit::Hours,
        subject: "operator hours",
        level: "operator hours",
        never: "",
    },
];

/// A share as a whole percentage ("5%"), "<1%" for a small non-zero one.
fn pct(share: f64) -> String {
    let p = 100.0 * share;
    if p > 0.0 && p < 1.0 {
        "<1%".into()
    } else {
        format!("{p:.0}%")
    }
}

/// A level in the metric's unit.
fn level(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Duration => human_duration(v),
        Unit::Messages => human_count(v),
        Unit::Hours => format!("{v:.2}"),
        Unit::UserHours => human_count(v / 60.0),
    }
}

/// A signed value in the metric's unit ("+5m", "-1,200", "+0.13").
fn signed(unit: Unit, v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "+" };
    match unit {
        Unit::Duration => format!("{sign}{}", human_duration(v.abs())),
        Unit::Messages => format!("{sign}{}", human_count(v.abs())),
        Unit::Hours => format!("{v:+.2}"),
        Unit::UserHours => format!("{sign}{}", human_count(v.abs() / 60.0)),
    }
}

/// "mean [lo, hi]" of a statistic in the metric's unit, with the share never reached.
fn stat_level(h: &Headline, s: &Stat) -> String {
    let Some(m) = s.mean else {
        return format!("{} ({})", h.never, never_share(s));
    };
    // An interval that rounds to one value says nothing more than the mean.
    let ci = s.ci95.map_or(String::new(), |[lo, hi]| {
        let (lo, hi) = (level(h.unit, lo.max(0.0)), level(h.unit, hi));
        if lo == hi {
            String::new()
        } else {
            format!(" [{lo}, {hi}]")
        }
    });
    let head = match h.unit {
        Unit::Duration => format!("{} {}{ci}", h.level, level(h.unit, m)),
        _ => format!("{}{ci} {}", level(h.unit, m), h.level),
    };
    if s.nulls > 0 {
        format!("{head}, never in {} of replications", pct(s.null_share))
    } else {
        head
    }
}

/// "in every replication" or "in 40% of replications" ("by the end of the run" for one).
fn never_share(s: &Stat) -> String {
    if s.n + s.nulls == 1 {
        "by the end of the run".into()
    } else if s.n == 0 {
        "in every replication".into()
    } else {
        format!("in {} of replications", pct(s.null_share))
    }
}

/// One strategy's headline: "every user can send and receive after 9h46m [9h45m, 9h47m];
/// full history back after 9h46m; 0 messages not delivered; 0.21 operator hours".
pub fn headline(s: &StudySummary) -> String {
    levels(&|k| s.metric(k).cloned())
}

/// One run's headline, in the words of [`headline`] (a run is a study of one
/// replication: no interval).
pub fn run_headline(s: &Summary) -> String {
    let row = Row::of(s);
    levels(&|k| {
        let i = COLUMNS.iter().position(|(n, _)| *n == k)?;
        Some(describe(&[row.values[i]]))
    })
}

fn levels(stat: &dyn Fn(&str) -> Option<Stat>) -> String {
    HEADLINES
        .iter()
        .filter_map(|h| stat(h.key).map(|st| stat_level(h, &st)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The words of a significant difference `d` (strategy − baseline).
fn change(h: &Headline, mean: f64, [lo, hi]: [f64; 2]) -> String {
    let (a, b) = (lo.abs().min(hi.abs()), lo.abs().max(hi.abs()));
    let (less, more) = match h.unit {
        Unit::Duration => ("sooner", "later"),
        _ => ("fewer", "more"),
    };
    let dir = if mean < 0.0 { less } else { more };
    match h.unit {
        Unit::Duration => format!(
            "{} {} {dir} [{}, {}]",
            h.subject,
            level(h.unit, mean.abs()),
            level(h.unit, a),
            level(h.unit, b)
        ),
        Unit::Messages | Unit::UserHours => format!(
            "{} {dir} {} [{}, {}]",
            level(h.unit, mean.abs()),
            h.subject,
            level(h.unit, a),
            level(h.unit, b)
        ),
        Unit::Hours => format!(
            "{} {} [{}, {}]",
            signed(h.unit, mean),
            h.subject,
            signed(h.unit, lo),
            signed(h.unit, hi)
        ),
    }
}

/// The clause of one headline metric for a strategy (`s`) against the baseline (`b`).
fn clause(h: &Headline, base: &str, b: &Stat, s: &Stat, d: &Diff) -> String {
    match (s.n, b.n) {
        (0, 0) => return format!("{} with either", h.never),
        (0, _) => {
            return format!(
                "{} (with {base}: {})",
                h.never,
                stat_level(h, b).trim_start_matches(h.level).trim()
            );
        }
        (_, 0) => return format!("{}; with {base}: never", stat_level(h, s)),
        _ => {}
    }
    let said = match (d.mean, d.ci95) {
        (Some(m), Some(ci)) if d.significant => change(h, m, ci),
        (Some(m), Some([lo, hi])) if m == 0.0 && lo == 0.0 && hi == 0.0 => match b.mean {
            Some(v) => format!("{}: the same ({})", h.subject, level(h.unit, v)),
            None => format!("{}: the same", h.subject),
        },
        (Some(_), Some([lo, hi])) => format!(
            "{}: no significant difference [{}, {}]",
            h.subject,
            signed(h.unit, lo),
            signed(h.unit, hi)
        ),
        (Some(m), None) => format!(
            "{} {} (one paired replication: no interval)",
            h.subject,
            signed(h.unit, m)
        ),
        (None, _) => format!("{}: no replication to pair", h.subject),
    };
    if s.nulls > 0 || b.nulls > 0 {
        format!(
            "{said} over the {} replications where both got there (never in {} with this strategy, {} with {base})",
            d.pairs,
            pct(s.null_share),
            pct(b.null_share)
        )
    } else {
        said
    }
}

/// One sentence: `name` against the baseline `base` on every headline metric.
pub fn against(
    name: &str,
    s: &StudySummary,
    base: &str,
    b: &StudySummary,
    diffs: &[(String, Diff)],
) -> String {
    let clauses: Vec<String> = HEADLINES
        .iter()
        .filter_map(|h| {
            let d = diffs.iter().find(|(k, _)| k == h.key).map(|(_, d)| d)?;
            Some(clause(h, base, b.metric(h.key)?, s.metric(h.key)?, d))
        })
        .collect();
    format!("{name} against {base}: {}.", clauses.join("; "))
}

/// The verdict of a comparison: one sentence per strategy after the first, against it.
pub fn verdict(c: &Comparison) -> Vec<String> {
    let Some(first) = c.strategies.first() else {
        return Vec::new();
    };
    c.differences
        .iter()
        .filter_map(|(name, diffs)| {
            let s = c.strategies.iter().find(|x| &x.arm == name)?;
            Some(against(name, &s.summary, &first.arm, &first.summary, diffs))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::StrategyResult;
    use crate::stats::paired;
    use crate::{StudyMeta, summarize};
    use dialtone_scenario::metrics::{Kind, SCHEMA_VERSION};

    fn meta_of(scenario: &str, strategy: &str, seed: u64, n: u64, target: f64) -> StudyMeta {
        StudyMeta {
            kind: Kind::StudyMeta,
            schema_version: SCHEMA_VERSION,
            scenario: scenario.into(),
            strategy: strategy.into(),
            seed,
            replications: n,
            rto_target_s: target,
            scenario_digest: String::new(),
            shard: None,
        }
    }

    /// The metrics the tests set, in the order of their arrays.
    const KEYS: [&str; 4] = [
        "time_to_service_p95_s",
        "time_to_history_all_s",
        "mail_not_delivered",
        "operator_hours",
    ];

    /// A comparison of two strategies whose rows set [`KEYS`] to `base` and `other` (per
    /// replication; `None` is null), every other metric 0.
    fn comparison(base: &[[Option<f64>; 4]], other: &[[Option<f64>; 4]]) -> Comparison {
        let rows = |v: &[[Option<f64>; 4]]| -> Vec<Row> {
            v.iter()
                .enumerate()
                .map(|(r, h)| Row {
                    replication: r as u64,
                    values: COLUMNS
                        .iter()
                        .map(|(k, _)| KEYS.iter().position(|x| x == k).map_or(Some(0.0), |i| h[i]))
                        .collect(),
                })
                .collect()
        };
        let arm = |name: &str, rows: Vec<Row>| {
            let m: StudyMeta = meta_of("s", name, 1, rows.len() as u64, 3600.0);
            StrategyResult {
                arm: name.into(),
                strategy: name.into(),
                variant: None,
                summary: summarize(&m, &rows),
                rows,
            }
        };
        let (a, b) = (
            arm("restore-only", rows(base)),
            arm("dial-tone", rows(other)),
        );
        let col = |rows: &[Row], i: usize| rows.iter().map(|r| r.values[i]).collect::<Vec<_>>();
        let diffs = (0..COLUMNS.len())
            .map(|i| {
                (
                    COLUMNS[i].0.to_owned(),
                    paired(&col(&a.rows, i), &col(&b.rows, i)),
                )
            })
            .collect();
        Comparison {
            kind: Kind::Compare,
            schema_version: SCHEMA_VERSION,
            scenario: "s".into(),
            seed: 1,
            replications: base.len() as u64,
            differences: vec![("dial-tone".into(), diffs)],
            strategies: vec![a, b],
        }
    }

    fn s(x: f64) -> Option<f64> {
        Some(x)
    }

    #[test]
    fn a_significant_gain_and_cost_are_said_with_their_intervals() {
        // Service 9h vs 1h (8h sooner), history 10h vs 10h16m (16m later), mail 100 vs 0,
        // operators 0.2 vs 0.46 h, each with a little noise.
        let base: Vec<_> = (0..10)
            .map(|i| {
                let e = f64::from(i);
                [s(32_400.0 + e), s(36_000.0 + e), s(100.0 + e), s(0.2)]
            })
            .collect();
        let other: Vec<_> = (0..10)
            .map(|i| {
                let e = f64::from(i % 3);
                [
                    s(3600.0 + e),
                    s(36_960.0 + f64::from(i)),
                    s(0.0),
                    s(0.46 + e / 100.0),
                ]
            })
            .collect();
        let v = verdict(&comparison(&base, &other));
        assert_eq!(v.len(), 1);
        let v = &v[0];
        assert!(v.starts_with("dial-tone against restore-only: "), "{v}");
        assert!(
            v.contains("95% of users can send and receive 8h sooner [8h, 8h]"),
            "{v}"
        );
        assert!(v.contains("full history 16m later [16m, 16m]"), "{v}");
        assert!(
            v.contains("105 fewer messages not delivered [102, 107]"),
            "{v}"
        );
        assert!(v.contains("+0.27 operator hours [+0.26, +0.28]"), "{v}");
    }

    #[test]
    fn no_significant_difference_is_said_as_such() {
        // Differences of alternating sign: the interval holds zero.
        let base: Vec<_> = (0..8)
            .map(|_| [s(3600.0), s(7200.0), s(10.0), s(1.0)])
            .collect();
        let other: Vec<_> = (0..8)
            .map(|i| {
                let e = if i % 2 == 0 { 60.0 } else { -60.0 };
                [s(3600.0 + e), s(7200.0), s(10.0 + e), s(1.0 + e / 600.0)]
            })
            .collect();
        let v = &verdict(&comparison(&base, &other))[0];
        assert!(
            v.contains("users can send and receive: no significant difference [-"),
            "{v}"
        );
        assert!(v.contains("full history: the same (2h)"), "{v}");
        assert!(
            v.contains("messages not delivered: no significant difference"),
            "{v}"
        );
        assert!(
            v.contains("operator hours: no significant difference"),
            "{v}"
        );
        assert!(!v.contains("sooner") && !v.contains("later"), "{v}");
    }

    #[test]
    fn nulls_are_said_as_never_with_their_share() {
        // The baseline never gives service back; the strategy does in 3 of 4 replications.
        let base: Vec<_> = (0..4).map(|_| [None, s(7200.0), s(5.0), s(0.1)]).collect();
        let other: Vec<_> = (0..4)
            .map(|i| [(i < 3).then_some(600.0), None, s(5.0), s(0.1)])
            .collect();
        let v = &verdict(&comparison(&base, &other))[0];
        assert!(
            v.contains("95% of users can send and receive after 10m, never in 25% of replications; with restore-only: never"),
            "{v}"
        );
        assert!(
            v.contains("some users never get their full history back (with restore-only: 2h"),
            "{v}"
        );
        // Partial nulls on both sides: the difference is over the pairs, and says so.
        let base: Vec<_> = (0..6)
            .map(|i| {
                [
                    (i != 0).then_some(4000.0 + f64::from(i)),
                    s(1.0),
                    s(0.0),
                    s(0.0),
                ]
            })
            .collect();
        let other: Vec<_> = (0..6)
            .map(|i| {
                [
                    (i != 5).then_some(1000.0 + f64::from(i)),
                    s(1.0),
                    s(0.0),
                    s(0.0),
                ]
            })
            .collect();
        let v = &verdict(&comparison(&base, &other))[0];
        assert!(
            v.contains("users can send and receive 50m sooner [50m, 50m] over the 4 replications where both got there (never in 17% with this strategy, 17% with restore-only)"),
            "{v}"
        );
    }

    #[test]
    fn the_headline_gives_levels_and_the_share_never_reached() {
        let rows: Vec<_> = (0..4)
            .map(|i| Row {
                replication: i,
                values: COLUMNS
                    .iter()
                    .map(|(k, _)| match *k {
                        "time_to_service_p95_s" => (i > 0).then_some(5400.0),
                        "user_minutes_without_send_receive" => Some(6000.0),
                        "mail_not_delivered" => Some(1500.0),
                        "operator_hours" => Some(0.25),
                        _ => None,
                    })
                    .collect(),
            })
            .collect();
        let m = meta_of("s", "x", 1, 4, 3600.0);
        let h = headline(&summarize(&m, &rows));
        assert_eq!(
            h,
            "95% of users can send and receive after 1h30m, never in 25% of replications; \
             100 user-hours without send and receive; some users never get their full history back (in every replication); \
             1,500 messages not delivered; 0.25 operator hours"
        );
        assert_eq!(describe(&[None]).n, 0);
    }
}
