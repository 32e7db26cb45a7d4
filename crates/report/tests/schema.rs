//! The report trusts nothing it cannot type: a renamed or missing key, another `kind` or
//! `schema_version` is an error naming the file and the key, never a 0.00 on the page.
//! (Renaming `operator_hours` once left every test green and printed 0.00.)

use std::path::{Path, PathBuf};

use dialtone_report::ReportError;
use dialtone_study::io::{Kind, ReadError, RunTrace, write_run, write_study};
use dialtone_study::{meta, run_replications, summarize};
use serde_json::{Value, json};

/// The report of a folder whose files were edited here as if another version had written
/// them: the manifest is rewritten first, so the checks below are the schema's, not the
/// manifest's (tests/pages.rs and the CLI tests check the manifest).
fn build(d: &Path) -> Result<String, ReportError> {
    dialtone_study::folder::write_manifest(d).expect("manifest");
    dialtone_report::build(d)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dialtone-schema-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn scenario() -> dialtone_scenario::Scenario {
    dialtone_scenario::load(&root().join("scenarios/site-failure-dac.json"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A run folder as `dialtone run --out` writes it (without the timeline's records).
fn run_folder(name: &str) -> PathBuf {
    let sc = scenario();
    let s = dialtone_scenario::run(&sc, sc.seed, 0).expect("runs");
    assert!(
        s.metrics.operator_hours > 0.0,
        "the playbook took operator time"
    );
    let d = tmp(name);
    write_run(&d, &s, RunTrace::create(&d, false).expect("trace")).expect("write");
    d
}

/// A JSON object.
type Obj = serde_json::Map<String, Value>;

/// An edit of summary.json.
type Edit = Box<dyn Fn(&mut Obj)>;

/// Edits a JSON file of the folder.
fn edit(path: &Path, f: impl FnOnce(&mut Obj)) {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    f(v.as_object_mut().expect("an object"));
    std::fs::write(path, serde_json::to_string_pretty(&v).expect("json")).expect("write");
}

fn metrics(m: &mut Obj) -> &mut Obj {
    m.get_mut("metrics")
        .and_then(Value::as_object_mut)
        .expect("metrics")
}

fn key_error(e: ReportError) -> (PathBuf, String, String) {
    match e {
        ReportError::Read(ReadError::Key { file, key, problem }) => (file, key, problem),
        other => panic!("not a key error: {other}"),
    }
}

#[test]
fn a_run_folder_builds() {
    let d = run_folder("ok");
    let html = build(&d).expect("builds");
    assert!(html.contains("operator hours"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_renamed_operator_hours_is_an_error_naming_it() {
    let d = run_folder("renamed");
    edit(&d.join("summary.json"), |s| {
        let m = metrics(s);
        let v = m.remove("operator_hours").expect("operator_hours");
        m.insert("operator_hrs".into(), v);
    });
    let e = build(&d).expect_err("a renamed key is an error");
    let msg = e.to_string();
    assert!(msg.contains("summary.json"), "{msg}");
    assert!(msg.contains("metrics.operator_hours"), "{msg}");
    assert!(
        msg.contains("operator_hrs"),
        "says what it found instead: {msg}"
    );
    let (file, key, _) = key_error(e);
    assert_eq!(file, d.join("summary.json"));
    assert_eq!(key, "metrics.operator_hours");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_missing_operator_hours_is_an_error_naming_it() {
    let d = run_folder("missing");
    edit(&d.join("summary.json"), |s| {
        metrics(s).remove("operator_hours").expect("operator_hours");
    });
    let e = build(&d).expect_err("a missing key is an error");
    let msg = e.to_string();
    assert!(
        msg.contains("summary.json") && msg.contains("operator_hours"),
        "{msg}"
    );
    let (_, key, problem) = key_error(e);
    assert_eq!(
        (key.as_str(), problem.as_str()),
        ("metrics.operator_hours", "missing")
    );
    // The playbook's operator_hours too, and a nullable key: missing is not null.
    let d2 = run_folder("missing-nullable");
    edit(&d2.join("summary.json"), |s| {
        metrics(s).remove("time_to_service_all_s").expect("key");
    });
    let (_, key, _) = key_error(build(&d2).expect_err("missing"));
    assert_eq!(key, "metrics.time_to_service_all_s");
    let _ = (std::fs::remove_dir_all(&d), std::fs::remove_dir_all(&d2));
}

#[test]
fn an_unknown_key_is_an_error() {
    let d = run_folder("unknown");
    edit(&d.join("summary.json"), |s| {
        s.get_mut("playbook")
            .and_then(Value::as_object_mut)
            .expect("playbook")
            .insert("coffee_cups".into(), json!(3));
    });
    let (_, key, problem) = key_error(build(&d).expect_err("unknown key"));
    assert_eq!(key, "playbook.coffee_cups");
    assert!(problem.contains("unknown key"), "{problem}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn null_stays_never_not_an_error() {
    let d = run_folder("null");
    edit(&d.join("summary.json"), |s| {
        metrics(s).insert("time_to_service_all_s".into(), Value::Null);
    });
    let html = build(&d).expect("null is a value: never reached");
    assert!(html.contains(" / never</td>"), "shown as never");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn another_kind_or_schema_version_is_refused() {
    let cases: [(&str, Edit, &str); 6] = [
        (
            "kind",
            Box::new(|s| drop(s.remove("kind"))),
            "`kind` is missing",
        ),
        (
            "banana",
            Box::new(|s| drop(s.insert("kind".into(), json!("banana")))),
            "\"banana\"",
        ),
        (
            "meta",
            Box::new(|s| drop(s.insert("kind".into(), json!("study-meta")))),
            "\"study-meta\"",
        ),
        (
            "version",
            Box::new(|s| drop(s.remove("schema_version"))),
            "`schema_version` is missing",
        ),
        (
            "v1",
            Box::new(|s| drop(s.insert("schema_version".into(), json!(1)))),
            "`schema_version` is 1",
        ),
        (
            "v1s",
            Box::new(|s| drop(s.insert("schema_version".into(), json!("1")))),
            "`schema_version` is \"1\"",
        ),
    ];
    for (name, f, want) in cases {
        let d = run_folder(name);
        edit(&d.join("summary.json"), f);
        let e = build(&d).expect_err(name);
        let msg = e.to_string();
        assert!(
            msg.contains("summary.json") && msg.contains(want),
            "{name}: {msg}"
        );
        assert!(
            matches!(
                e,
                ReportError::Read(ReadError::Kind { .. } | ReadError::SchemaVersion { .. })
            ),
            "{name}: {msg}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
    // Typed reads check the kind they expect.
    let d = run_folder("typed");
    let e = dialtone_study::io::read_json::<dialtone_study::StudyMeta>(
        &d.join("summary.json"),
        Kind::StudyMeta,
    )
    .expect_err("a run is not study.json");
    assert!(e.to_string().contains("expected \"study-meta\""), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_study_with_a_renamed_metric_or_column_is_refused() {
    let sc = scenario();
    let idx: Vec<u64> = (0..4).collect();
    let rows = run_replications(&sc, sc.seed, &idx, 2, &|_| {}).expect("runs");
    let m = meta(&sc, sc.seed, 4, None);
    let d = tmp("study");
    write_study(&d, &m, &rows, &summarize(&m, &rows)).expect("write");
    build(&d).expect("builds");
    let summary = d.join("summary.json");
    let original = std::fs::read(&summary).expect("read");
    edit(&summary, |s| {
        let m = metrics(s);
        let v = m.remove("operator_hours").expect("metric");
        m.insert("operator_hrs".into(), v);
    });
    let (_, key, problem) = key_error(build(&d).expect_err("renamed metric"));
    assert_eq!(key, "metrics.operator_hours", "{problem}");
    std::fs::write(&summary, original).expect("restore");
    let csv = d.join("replications.csv");
    let text = std::fs::read_to_string(&csv).expect("csv");
    std::fs::write(&csv, text.replacen("operator_hours", "operator_hrs", 1)).expect("write");
    let e = build(&d).expect_err("renamed column").to_string();
    assert!(
        e.contains("replications.csv") && e.contains("line 1") && e.contains("`operator_hours`"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_timeline_with_another_header_is_refused() {
    let d = run_folder("timeline");
    std::fs::write(d.join("timeline.csv"), "t,component,what,detail\n").expect("write");
    let e = build(&d).expect_err("header").to_string();
    assert!(e.contains("timeline.csv") && e.contains("line 1"), "{e}");
    std::fs::remove_file(d.join("timeline.csv")).expect("rm");
    let e = build(&d).expect_err("missing timeline").to_string();
    assert!(e.contains("timeline.csv"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_strategy_that_never_recovers_is_drawn_as_never_not_as_zero() {
    // Issue 13 §1: the compare report plotted "never recovered" as 0, the best value on
    // the chart. With `none`, db1's users never get service back after the corruption.
    let sc = dialtone_scenario::load(&root().join("scenarios/restore-only.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let strategies = [
        dialtone_scenario::Strategy::RestoreOnly,
        dialtone_scenario::Strategy::None,
    ];
    let o = dialtone_study::compare::CompareOptions {
        scenario: &sc,
        strategies: &strategies,
        replications: 3,
        seed: 1,
        threads: 1,
        independent: false,
    };
    let c = dialtone_study::compare::compare(&o, &|_| {}).expect("compare");
    let html = dialtone_report::compare_page(&c).expect("page");
    let start = html.find("compare-time_to_service_p95_s").expect("chart");
    let chart = &html[start..start + html[start..].find("</svg>").expect("end")];
    assert!(chart.contains("never in 100%"), "{chart}");
    assert!(
        !chart.contains(r#"data-name="none""#),
        "no point for none: {chart}"
    );
    assert!(chart.contains(r#"data-name="restore-only""#), "{chart}");
}
