//! Issue 13 §1, reports that do not mislead, checked on the XHTML with a real XML parser:
//! nulls are never drawn as numbers, duration axes never show raw seconds, every mail
//! fate is on the compare page, the forest plot draws summary.json's differences, sweep
//! points sit at their real axis values, and timeline lanes carry the scenario's names.

use std::path::{Path, PathBuf};

use dialtone_engine::MemoryTrace;
use dialtone_study::io::{timeline_csv, write_compare};
use dialtone_study::sweep::{SweepPoint, SweepSummary};
use dialtone_study::{COLUMNS, Row, StudyMeta, summarize};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("dialtone-pages-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn load(name: &str) -> dialtone_scenario::Scenario {
    dialtone_scenario::load(&root().join("scenarios").join(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn parse(text: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts)
        .unwrap_or_else(|e| panic!("not well formed: {e}"))
}

type Node<'a> = roxmltree::Node<'a, 'a>;

fn chart<'a>(doc: &'a roxmltree::Document<'a>, id: &str) -> Node<'a> {
    doc.descendants()
        .find(|n| n.tag_name().name() == "svg" && n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("no chart {id}"))
}

fn with_class<'a>(n: Node<'a>, class: &'a str) -> impl Iterator<Item = Node<'a>> + 'a {
    n.descendants()
        .filter(move |x| x.attribute("class") == Some(class))
}

/// The labels of the ticks of `axis` ("xtick" or "ytick").
fn ticks(c: Node<'_>, axis: &str) -> Vec<String> {
    c.descendants()
        .filter(|x| x.attribute("class") == Some(axis))
        .filter_map(|t| t.text().map(str::to_owned))
        .collect()
}

fn num_attr(n: Node<'_>, a: &str) -> f64 {
    n.attribute(a)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {a}"))
}

/// A tick of a duration axis: "0", "45s", "30m", "1h30m", "2d", "-8h".
fn is_duration_label(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut digits = false;
    let mut units = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits = true;
        } else if "dhms".contains(c) && digits {
            units.push(c);
            digits = false;
        } else {
            return false;
        }
    }
    !digits && !units.is_empty()
}

#[test]
fn duration_labels_are_recognised() {
    for ok in ["0", "45s", "30m", "1h30m", "1d10h", "-8h", "2d"] {
        assert!(is_duration_label(ok), "{ok}");
    }
    for bad in ["6656", "3600", "1.5", "h", "1.5 h", "17k"] {
        assert!(!is_duration_label(bad), "{bad}");
    }
}

/// A comparison of `strategies` on `scenario`, written as `dialtone compare` writes it,
/// its page and its summary.json.
fn compare_folder(
    name: &str,
    scenario: &str,
    strategies: &[dialtone_scenario::Strategy],
) -> (String, Value) {
    let sc = load(scenario);
    let o = dialtone_study::compare::CompareOptions {
        scenario: &sc,
        strategies,
        replications: 4,
        seed: 7,
        threads: 1,
        independent: false,
    };
    let c = dialtone_study::compare::compare(&o, &|_| {}).expect("compare");
    let d = tmp(name);
    write_compare(&d, &c).expect("write");
    let html = dialtone_report::build(&d).expect("page");
    let summary =
        serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).expect("read"))
            .expect("json");
    let _ = std::fs::remove_dir_all(&d);
    (html, summary)
}

fn never_recovers() -> (String, Value) {
    use dialtone_scenario::Strategy;
    compare_folder(
        "never",
        "restore-only.json",
        &[Strategy::RestoreOnly, Strategy::None],
    )
}

#[test]
fn a_null_is_never_drawn_as_a_number() {
    // `none` never gives db1's users service back: time to service p95 is null in every
    // replication; no mark, interval or bar may stand for it.
    let (html, summary) = never_recovers();
    let doc = parse(&html);
    let none_p95 = &summary["strategies"][1]["summary"]["metrics"]["time_to_service_p95_s"];
    assert_eq!(none_p95["mean"], Value::Null, "the premise: {none_p95}");
    let side = chart(&doc, "compare-time_to_service_p95_s");
    let names: Vec<&str> = with_class(side, "estimate")
        .filter_map(|n| n.attribute("data-name"))
        .collect();
    assert_eq!(names, ["restore-only"], "no point for none");
    assert!(
        with_class(side, "never").any(|n| n.text() == Some("never in 100%")),
        "none is drawn as never"
    );
    let forest = chart(&doc, "forest-time_to_service_p95_s");
    assert_eq!(
        with_class(forest, "interval").count(),
        0,
        "no pairs, no interval"
    );
    assert_eq!(with_class(forest, "never").count(), 1);
    // Every number drawn is finite.
    for n in doc.descendants() {
        for a in ["data-mean", "data-lo", "data-hi", "data-value", "data-x"] {
            if let Some(v) = n.attribute(a) {
                assert!(v.parse::<f64>().is_ok_and(f64::is_finite), "{a}={v}");
            }
        }
    }
}

#[test]
fn duration_axes_never_show_raw_seconds() {
    let (html, _) = never_recovers();
    let doc = parse(&html);
    for id in [
        "compare-time_to_service_p95_s",
        "forest-time_to_service_p95_s",
    ] {
        let axis = if id.starts_with("forest") {
            "xtick"
        } else {
            "ytick"
        };
        let t = ticks(chart(&doc, id), axis);
        assert!(!t.is_empty(), "{id} has ticks");
        assert!(t.iter().all(|l| is_duration_label(l)), "{id}: {t:?}");
        assert!(!t.iter().all(|l| l == "0"), "{id}: {t:?}");
    }
    let (run, timeline) = run_page("site-failure-dac.json");
    let doc = parse(&run);
    for id in ["timeline", "users", "users-by-kind"] {
        let t = ticks(chart(&doc, id), "xtick");
        assert!(t.len() >= 3, "{id}: {t:?}");
        assert!(t.iter().all(|l| is_duration_label(l)), "{id}: {t:?}");
    }
    assert!(!timeline.is_empty());
    // No milliseconds and no "6656 s" in the tables either.
    let cells: Vec<String> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "td")
        .filter_map(|n| n.text().map(str::to_owned))
        .collect();
    assert!(
        cells
            .iter()
            .all(|c| !c.contains(" ms") && !c.ends_with(" s") && !c.contains(" h")),
        "{cells:?}"
    );
}

const FATES: [&str; 9] = [
    "mail_accepted",
    "mail_delivered_on_time",
    "mail_delivered_late",
    "mail_bounced",
    "mail_lost_silently",
    "mail_recovered",
    "mail_left_in_dial_tone",
    "mail_queued_at_end",
    "mail_not_delivered",
];

#[test]
fn every_mail_fate_of_every_strategy_is_on_the_compare_page() {
    let (html, summary) = never_recovers();
    let doc = parse(&html);
    let strategies = summary["strategies"].as_array().expect("strategies");
    for s in strategies {
        let name = s["strategy"].as_str().expect("name");
        for fate in FATES {
            let cell = doc
                .descendants()
                .find(|n| {
                    n.attribute("data-key") == Some(fate)
                        && n.attribute("data-strategy") == Some(name)
                })
                .unwrap_or_else(|| panic!("no cell {fate} for {name}"));
            let text = cell.text().unwrap_or("");
            assert!(!text.is_empty(), "{fate} of {name} is empty");
        }
    }
    // The grouped bars: every fate but `accepted` (the total), one bar per strategy, at
    // summary.json's means.
    let bars: Vec<f64> = with_class(chart(&doc, "compare-mail-fates"), "bar")
        .map(|b| num_attr(b, "data-value"))
        .collect();
    let want: Vec<f64> = FATES[1..]
        .iter()
        .flat_map(|f| {
            strategies
                .iter()
                .map(|s| s["summary"]["metrics"][*f]["mean"].as_f64().expect("mean"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(bars, want);
    // Not delivered is a headline: in the first table and charted.
    let headline = doc
        .descendants()
        .find(|n| n.attribute("data-key") == Some("mail_not_delivered"))
        .expect("headline");
    let none_nd = summary["strategies"][1]["summary"]["metrics"]["mail_not_delivered"]["mean"]
        .as_f64()
        .expect("mean");
    assert!(none_nd > 0.0, "the premise: none leaves mail undelivered");
    assert!(headline.text().is_some());
    chart(&doc, "compare-mail_not_delivered");
}

#[test]
fn the_forest_plot_draws_the_differences_of_summary_json() {
    use dialtone_scenario::Strategy;
    let (html, summary) = compare_folder(
        "forest",
        "db-corruption-dial-tone-same-server.json",
        &[Strategy::RestoreOnly, Strategy::DialToneSameServer],
    );
    let doc = parse(&html);
    let diffs = &summary["differences"]["dial-tone-same-server"];
    let mut checked = 0;
    for key in [
        "user_minutes_without_send_receive",
        "time_to_service_p95_s",
        "mail_not_delivered",
        "operator_hours",
    ] {
        let c = chart(&doc, &format!("forest-{key}"));
        let d = &diffs[key];
        let iv: Vec<Node<'_>> = with_class(c, "interval").collect();
        assert_eq!(
            iv.len(),
            1,
            "{key}: one row per strategy after the baseline"
        );
        let i = iv[0];
        assert_eq!(i.attribute("data-name"), Some("dial-tone-same-server"));
        let mean = d["mean"].as_f64().expect("mean");
        assert_eq!(num_attr(i, "data-mean"), mean, "{key}");
        let (lo, hi) = match d["ci95"].as_array() {
            Some(ci) => (ci[0].as_f64().expect("lo"), ci[1].as_f64().expect("hi")),
            None => (mean, mean),
        };
        assert_eq!(num_attr(i, "data-lo"), lo, "{key}");
        assert_eq!(num_attr(i, "data-hi"), hi, "{key}");
        assert_eq!(with_class(c, "zero").count(), 1, "{key}: a zero line");
        checked += 1;
    }
    assert_eq!(checked, 4);
    // Dial tone gives service back sooner: the interval lies left of zero.
    let p95 = diffs["time_to_service_p95_s"]["ci95"][1]
        .as_f64()
        .expect("hi");
    assert!(p95 < 0.0, "{p95}");
    // One ECDF per strategy, on one chart, from replications-STRATEGY.csv.
    let e = chart(&doc, "compare-ecdf");
    let series: Vec<&str> = with_class(e, "series")
        .filter_map(|n| n.attribute("data-name"))
        .collect();
    assert_eq!(series, ["restore-only", "dial-tone-same-server"]);
}

/// A study summary whose user-minutes are `base` plus a little per replication.
fn point(values: Vec<Value>, base: f64) -> SweepPoint {
    let rows: Vec<Row> = (0..5u64)
        .map(|r| Row {
            replication: r,
            values: (0..COLUMNS.len())
                .map(|c| Some(base + (r * 13 + c as u64) as f64))
                .collect(),
        })
        .collect();
    let meta = StudyMeta {
        kind: dialtone_study::io::Kind::StudyMeta,
        schema_version: dialtone_study::io::SCHEMA_VERSION,
        scenario: "synthetic".into(),
        strategy: "none".into(),
        seed: 1,
        replications: 5,
        rto_target_s: 3600.0,
        scenario_digest: "0".into(),
        shard: None,
    };
    SweepPoint {
        point: String::new(),
        values,
        summary: summarize(&meta, &rows),
        rows: Vec::new(),
    }
}

fn sweep(axes: &[&str], points: Vec<SweepPoint>) -> SweepSummary {
    SweepSummary {
        kind: dialtone_scenario::metrics::Kind::Sweep,
        schema_version: dialtone_study::io::SCHEMA_VERSION,
        scenario: "synthetic".into(),
        axes: axes.iter().map(|a| (*a).to_owned()).collect(),
        dimensions: axes.iter().map(|a| vec![(*a).to_owned()]).collect(),
        points,
    }
}

/// Each series's points: (data-x, pixel x), in drawing order.
fn points(doc: &roxmltree::Document<'_>) -> Vec<(f64, f64)> {
    with_class(
        chart(doc, "sweep-user_minutes_without_send_receive"),
        "point",
    )
    .map(|c| (num_attr(c, "data-x"), num_attr(c, "cx")))
    .collect()
}

#[test]
fn sweep_points_sit_at_their_values_on_a_numeric_axis() {
    // Given out of order, durations in mixed units: 1h, 60s, 5m.
    let s = sweep(
        &["topology.dns.ttl"],
        vec![
            point(vec![json!("1h")], 3000.0),
            point(vec![json!("60s")], 1000.0),
            point(vec![json!("5m")], 2000.0),
        ],
    );
    let html = dialtone_report::sweep_page(&s).expect("page");
    let doc = parse(&html);
    let mut p = points(&doc);
    let xs: Vec<f64> = p.iter().map(|x| x.0).collect();
    assert_eq!(xs, [60.0, 300.0, 3600.0], "seconds, sorted along the line");
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(
        p.windows(2).all(|w| w[1].1 > w[0].1),
        "pixel x grows with the value: {p:?}"
    );
    // Proportional: 60s→5m is 240 s, 5m→1h is 3300 s.
    let ratio = (p[2].1 - p[1].1) / (p[1].1 - p[0].1);
    assert!((ratio - 3300.0 / 240.0).abs() < 0.2, "{ratio}");
    let t = ticks(
        chart(&doc, "sweep-user_minutes_without_send_receive"),
        "xtick",
    );
    assert!(t.iter().all(|l| is_duration_label(l)), "{t:?}");
    assert!(!html.contains("grid point"));

    // Numbers and a second axis: one series per value of the second axis.
    let s = sweep(
        &["a", "b"],
        vec![
            point(vec![json!(0.3), json!("x")], 1.0),
            point(vec![json!(0.05), json!("x")], 2.0),
            point(vec![json!(0.3), json!("y")], 3.0),
            point(vec![json!(0.05), json!("y")], 4.0),
        ],
    );
    let html = dialtone_report::sweep_page(&s).expect("page");
    let doc = parse(&html);
    let c = chart(&doc, "sweep-user_minutes_without_send_receive");
    let series: Vec<&str> = with_class(c, "series")
        .filter_map(|n| n.attribute("data-name"))
        .collect();
    assert_eq!(series, ["b=x", "b=y"]);
    let p = points(&doc);
    for pair in p.chunks(2) {
        assert_eq!((pair[0].0, pair[1].0), (0.05, 0.3));
        assert!(pair[0].1 < pair[1].1);
    }

    // Categories stay categories, named on the axis.
    let s = sweep(
        &["strategy.name"],
        vec![
            point(vec![json!("restore-only")], 1.0),
            point(vec![json!("none")], 2.0),
        ],
    );
    let doc_text = dialtone_report::sweep_page(&s).expect("page");
    let doc = parse(&doc_text);
    let t = ticks(
        chart(&doc, "sweep-user_minutes_without_send_receive"),
        "xtick",
    );
    assert!(
        t.starts_with(&["restore-only".to_owned(), "none".to_owned()]),
        "{t:?}"
    );
}

/// The run page of a scenario and its timeline.csv.
fn run_page(name: &str) -> (String, String) {
    let sc = load(name);
    let (s, sink) =
        dialtone_scenario::run_with(&sc, sc.seed, 0, MemoryTrace::default()).expect("runs");
    let timeline = timeline_csv(&sink.records);
    (dialtone_report::run_page(&s, &timeline), timeline)
}

fn lanes(doc: &roxmltree::Document<'_>) -> Vec<(String, Vec<bool>)> {
    with_class(chart(doc, "timeline"), "lane")
        .map(|l| {
            let spans = with_class(l, "span")
                .map(|s| s.attribute("data-ok") == Some("true"))
                .collect();
            (l.attribute("data-name").unwrap_or("").to_owned(), spans)
        })
        .collect()
}

#[test]
fn lanes_carry_the_scenarios_names_and_servers() {
    let (html, _) = run_page("site-failure-dac.json");
    let doc = parse(&html);
    let l = lanes(&doc);
    let names: Vec<&str> = l.iter().map(|x| x.0.as_str()).collect();
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("site 0") || n.starts_with("link 0")),
        "{names:?}"
    );
    for want in [
        "site dc1",
        "server mbx1",
        "server mbx2",
        "server fsw1",
        "DAG quorum",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(
        !names.contains(&"server mbx3"),
        "dc2's servers never went down"
    );
    // The lanes axis has no numeric ticks: only the time axis's.
    let t = chart(&doc, "timeline");
    assert!(
        ticks(t, "ytick").is_empty(),
        "no numeric ticks on the lanes"
    );
    assert!(ticks(t, "xtick").iter().all(|l| is_duration_label(l)));
}

#[test]
fn the_quorum_lane_comes_back_with_restore_dag() {
    // After the DAC switchover's Restore-DAG, dc2 has quorum: the lane turns up again
    // before dc1's power returns (it stayed "down" to the end before).
    for scenario in ["site-failure-dac.json", "switchback.json"] {
        let (html, timeline) = run_page(scenario);
        let doc = parse(&html);
        let l = lanes(&doc);
        let q = &l
            .iter()
            .find(|x| x.0 == "DAG quorum")
            .expect("quorum lane")
            .1;
        assert!(q.contains(&false), "{scenario}: quorum was lost: {q:?}");
        assert_eq!(q.last(), Some(&true), "{scenario}: quorum is back: {q:?}");
        let restore = timeline
            .lines()
            .find(|x| x.contains("done,Restore-DatabaseAvailabilityGroup"))
            .expect("Restore-DAG ran");
        let t: f64 = restore
            .split(',')
            .next()
            .and_then(|x| x.parse().ok())
            .expect("time");
        let back = timeline.lines().find(|x| {
            x.contains("cluster,evaluated")
                && x.contains("quorum in Some")
                && x.split(',').next().and_then(|v| v.parse::<f64>().ok()) == Some(t)
        });
        assert!(
            back.is_some(),
            "{scenario}: quorum recorded at Restore-DAG ({t})"
        );
    }
}
