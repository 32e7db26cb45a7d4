//! results.csv: the one long-format ("tidy") analysis file of a study, a comparison and a
//! sweep, for pandas and R without string parsing.
//!
//! One row per arm × replication: `strategy`, `variant`, one column per swept path (named
//! by the path, typed: durations in seconds, sizes in bytes, rates in bytes per second,
//! numbers as numbers, booleans as `true`/`false`), `replication`, then the metrics of
//! [`RESULT_COLUMNS`]. One unit per kind of quantity ([`Quantity`]): clock durations in
//! seconds (`_s`), accumulated time of people or databases in hours (`user_hours_…`,
//! `operator_hours`, `helpdesk_hours`, `database_hours_split_brain`), counts as integers,
//! shares in 0..1. Null (a time never reached) is an empty cell.
//!
//! replications.csv stays as it was (merge, resume and the tests read it back exactly);
//! results.csv is derived from the same rows and is never read back by dialtone.

use dialtone_engine::SimDuration;
use serde_json::Value;

use crate::{COLUMNS, Row};

/// The kind of quantity of a results.csv column, which fixes its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A clock duration, in seconds (float).
    Seconds,
    /// Accumulated time of people or databases, in hours (float).
    Hours,
    /// A count (integer).
    Count,
    /// A share of 0..1 (float).
    Share,
}

/// A metric column of results.csv: its name, the [`COLUMNS`] metric it comes from, what
/// to divide that metric by for this column's unit (60: minutes to hours), and its
/// quantity.
pub type ResultColumn = (&'static str, &'static str, f64, Quantity);

/// The metric columns of results.csv, in order (every [`COLUMNS`] metric exactly once).
pub const RESULT_COLUMNS: &[ResultColumn] = &[
    (
        "user_hours_without_send_receive",
        "user_minutes_without_send_receive",
        60.0,
        Quantity::Hours,
    ),
    (
        "user_hours_without_history",
        "user_minutes_without_history",
        60.0,
        Quantity::Hours,
    ),
    (
        "user_hours_offline_readable",
        "user_minutes_offline_readable",
        60.0,
        Quantity::Hours,
    ),
    (
        "time_to_service_p50_s",
        "time_to_service_p50_s",
        1.0,
        Quantity::Seconds,
    ),
    (
        "time_to_service_p95_s",
        "time_to_service_p95_s",
        1.0,
        Quantity::Seconds,
    ),
    (
        "time_to_service_all_s",
        "time_to_service_all_s",
        1.0,
        Quantity::Seconds,
    ),
    (
        "time_to_history_all_s",
        "time_to_history_all_s",
        1.0,
        Quantity::Seconds,
    ),
    ("rto_max_s", "rto_max_s", 1.0, Quantity::Seconds),
    (
        "rto_send_receive_max_s",
        "rto_send_receive_max_s",
        1.0,
        Quantity::Seconds,
    ),
    (
        "residual_outage_s",
        "residual_outage_s",
        1.0,
        Quantity::Seconds,
    ),
    ("availability", "availability", 1.0, Quantity::Share),
    ("operator_hours", "operator_hours", 1.0, Quantity::Hours),
    ("helpdesk_hours", "helpdesk_hours", 1.0, Quantity::Hours),
    (
        "database_hours_split_brain",
        "split_brain_ms",
        3_600_000.0,
        Quantity::Hours,
    ),
    (
        "split_brain_messages",
        "split_brain_messages",
        1.0,
        Quantity::Count,
    ),
    ("profile_changes", "profile_changes", 1.0, Quantity::Count),
    ("failed_actions", "failed_actions", 1.0, Quantity::Count),
    ("mail_accepted", "mail_accepted", 1.0, Quantity::Count),
    (
        "mail_not_delivered",
        "mail_not_delivered",
        1.0,
        Quantity::Count,
    ),
    (
        "mail_delivered_on_time",
        "mail_delivered_on_time",
        1.0,
        Quantity::Count,
    ),
    (
        "mail_delivered_late",
        "mail_delivered_late",
        1.0,
        Quantity::Count,
    ),
    ("mail_bounced", "mail_bounced", 1.0, Quantity::Count),
    (
        "mail_lost_silently",
        "mail_lost_silently",
        1.0,
        Quantity::Count,
    ),
    (
        "mail_queued_at_end",
        "mail_queued_at_end",
        1.0,
        Quantity::Count,
    ),
    ("mail_recovered", "mail_recovered", 1.0, Quantity::Count),
    (
        "mail_left_in_dial_tone",
        "mail_left_in_dial_tone",
        1.0,
        Quantity::Count,
    ),
];

/// One arm of results.csv: a strategy (and variant) at one point of the swept paths.
#[derive(Debug, Clone, Copy)]
pub struct Arm<'a> {
    /// The strategy's name.
    pub strategy: &'a str,
    /// The variant's name (empty for none).
    pub variant: &'a str,
    /// The value of each swept path, in the order of the header's paths.
    pub values: &'a [Value],
    /// Its replications, sorted.
    pub rows: &'a [Row],
}

/// A CSV field, quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A float as Rust's shortest round-trip form, always with a `.` or an exponent so that
/// every reader takes it for a float ("1.0", "0.25", "1e16").
fn float(x: f64) -> String {
    format!("{x:?}")
}

/// A swept value, typed: durations in seconds, sizes in bytes, rates in bytes per second;
/// anything else as written.
pub fn axis_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            if let Ok(d) = s.parse::<SimDuration>() {
                return float(d.as_secs_f64());
            }
            let as_json = Value::String(s.clone());
            if let Ok(size) = serde_json::from_value::<dialtone_scenario::units::Size>(as_json) {
                return size.0.to_string();
            }
            let as_json = Value::String(s.clone());
            match serde_json::from_value::<dialtone_scenario::units::Rate>(as_json) {
                Ok(rate) => float(rate.0),
                Err(_) => field(s),
            }
        }
        other => field(&other.to_string()),
    }
}

/// A metric value in its results.csv unit.
fn metric(v: Option<f64>, divisor: f64, q: Quantity) -> String {
    match v {
        None => String::new(),
        Some(x) if q == Quantity::Count && x.fract() == 0.0 && x.abs() < 9.0e15 => {
            format!("{}", x as i64)
        }
        Some(x) => float(x / divisor),
    }
}

/// The swept paths that get their own column: all but the strategy axis, whose value is
/// the `strategy` column already.
fn columns_of(paths: &[String]) -> impl Iterator<Item = (usize, &String)> {
    paths
        .iter()
        .enumerate()
        .filter(|(_, p)| p.as_str() != crate::axis::STRATEGY)
}

/// The header of results.csv with these swept `paths`.
pub fn header(paths: &[String]) -> String {
    let mut h = vec!["strategy".to_owned(), "variant".to_owned()];
    h.extend(columns_of(paths).map(|(_, p)| field(p)));
    h.push("replication".into());
    h.extend(RESULT_COLUMNS.iter().map(|c| c.0.to_owned()));
    h.join(",")
}

/// results.csv of `arms`, with the swept `paths` (each arm gives a value for each).
pub fn results_csv(paths: &[String], arms: &[Arm<'_>]) -> String {
    let index: Vec<Option<usize>> = RESULT_COLUMNS
        .iter()
        .map(|(_, from, _, _)| COLUMNS.iter().position(|(n, _)| n == from))
        .collect();
    let mut out = header(paths);
    out.push('\n');
    for arm in arms {
        let mut lead = vec![field(arm.strategy), field(arm.variant)];
        lead.extend(
            columns_of(paths).map(|(i, _)| arm.values.get(i).map_or(String::new(), axis_value)),
        );
        let lead = lead.join(",");
        for r in arm.rows {
            out.push_str(&lead);
            out.push(',');
            out.push_str(&r.replication.to_string());
            for ((_, _, divisor, q), i) in RESULT_COLUMNS.iter().zip(&index) {
                out.push(',');
                let v = i.and_then(|i| r.values.get(i).copied().flatten());
                out.push_str(&metric(v, *divisor, *q));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_metric_is_a_result_column_exactly_once() {
        for (name, _) in COLUMNS {
            let n = RESULT_COLUMNS.iter().filter(|c| c.1 == *name).count();
            assert_eq!(n, 1, "{name}");
        }
        assert_eq!(RESULT_COLUMNS.len(), COLUMNS.len());
        for (name, _, scale, q) in RESULT_COLUMNS {
            // The name says the unit: one unit per kind of quantity.
            match q {
                Quantity::Seconds => assert!(name.ends_with("_s") && *scale == 1.0, "{name}"),
                Quantity::Hours => assert!(name.contains("hours"), "{name}"),
                Quantity::Count => assert!(*scale == 1.0 && !name.ends_with("_s"), "{name}"),
                Quantity::Share => assert_eq!(*name, "availability"),
            }
        }
    }

    fn row(r: u64, f: impl Fn(&str) -> Option<f64>) -> Row {
        Row {
            replication: r,
            values: COLUMNS.iter().map(|(n, _)| f(n)).collect(),
        }
    }

    #[test]
    fn the_strategy_axis_is_the_strategy_column_not_a_second_one() {
        let rows = vec![row(0, |_| Some(1.0))];
        let paths = vec!["topology.dns.ttl".to_owned(), "strategy".to_owned()];
        let v = [json!("5m"), json!("none")];
        let arm = Arm {
            strategy: "none",
            variant: "",
            values: &v,
            rows: &rows,
        };
        let csv = results_csv(&paths, &[arm]);
        let head: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
        assert_eq!(
            head.iter().filter(|h| **h == "strategy").count(),
            1,
            "{csv}"
        );
        assert_eq!(
            &head[..4],
            &["strategy", "variant", "topology.dns.ttl", "replication"]
        );
        let first: Vec<&str> = csv.lines().nth(1).expect("row").split(',').collect();
        assert_eq!(&first[..4], &["none", "", "300.0", "0"]);
        assert_eq!(head.len(), first.len());
    }

    #[test]
    fn one_row_per_arm_and_replication_with_typed_axes_and_units() {
        let rows = |k: f64| {
            vec![
                row(0, |n| match n {
                    "user_minutes_without_send_receive" => Some(90.0 * k),
                    "split_brain_ms" => Some(1_800_000.0),
                    "time_to_service_all_s" => None,
                    "mail_bounced" => Some(1234.0),
                    _ => Some(0.5),
                }),
                row(1, |n| match n {
                    "time_to_service_all_s" => Some(3600.0),
                    _ => Some(1.0),
                }),
            ]
        };
        let (a, b) = (rows(1.0), rows(2.0));
        let paths = vec!["topology.dns.ttl".to_owned(), "workload.size".to_owned()];
        let (va, vb) = ([json!("5m"), json!(10)], [json!("1h"), json!(2.5)]);
        let csv = results_csv(
            &paths,
            &[
                Arm {
                    strategy: "restore-only",
                    variant: "",
                    values: &va,
                    rows: &a,
                },
                Arm {
                    strategy: "dial,tone",
                    variant: "v1",
                    values: &vb,
                    rows: &b,
                },
            ],
        );
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5, "a header and 2 arms x 2 replications");
        let head: Vec<&str> = lines[0].split(',').collect();
        assert_eq!(
            &head[..5],
            &[
                "strategy",
                "variant",
                "topology.dns.ttl",
                "workload.size",
                "replication"
            ]
        );
        assert_eq!(head.len(), 5 + COLUMNS.len());
        let cell = |line: usize, col: &str| -> String {
            let i = head.iter().position(|h| *h == col).expect(col);
            // The quoted strategy holds one comma: shift by it on the second arm's lines.
            let cells: Vec<&str> = lines[line].split(',').collect();
            let shift = usize::from(lines[line].starts_with('"'));
            cells[i + shift].to_owned()
        };
        assert_eq!(cell(1, "topology.dns.ttl"), "300.0", "durations in seconds");
        assert_eq!(cell(3, "topology.dns.ttl"), "3600.0");
        assert_eq!(cell(1, "workload.size"), "10");
        assert_eq!(cell(3, "workload.size"), "2.5");
        assert_eq!(
            cell(1, "user_hours_without_send_receive"),
            "1.5",
            "minutes to hours"
        );
        assert_eq!(cell(3, "user_hours_without_send_receive"), "3.0");
        assert_eq!(cell(1, "database_hours_split_brain"), "0.5", "ms to hours");
        assert_eq!(cell(1, "time_to_service_all_s"), "", "null is empty");
        assert_eq!(cell(2, "time_to_service_all_s"), "3600.0");
        assert_eq!(cell(1, "mail_bounced"), "1234", "counts are integers");
        assert_eq!(cell(1, "operator_hours"), "0.5");
        assert_eq!(cell(2, "operator_hours"), "1.0", "floats keep their point");
        assert!(
            lines[3].starts_with("\"dial,tone\",v1,3600.0,2.5,0,"),
            "{}",
            lines[3]
        );
        assert_eq!(cell(4, "replication"), "1");
    }

    #[test]
    fn axis_values_are_typed() {
        assert_eq!(axis_value(&json!("90s")), "90.0");
        assert_eq!(axis_value(&json!("2h30m")), "9000.0");
        assert_eq!(axis_value(&json!("1GB")), "1073741824");
        assert_eq!(axis_value(&json!("20MB/s")), "20971520.0");
        assert_eq!(axis_value(&json!(true)), "true");
        assert_eq!(axis_value(&json!(0.25)), "0.25");
        assert_eq!(
            axis_value(&json!("lognormal(20m, 10m)")),
            "\"lognormal(20m, 10m)\""
        );
    }
}
