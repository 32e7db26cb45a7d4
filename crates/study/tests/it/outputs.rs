//! Every output kind written and read back: the reader returns exactly what the writer was
//! given, each JSON file opens with `kind` and `schema_version`, and a file of another
//! kind is refused.

use dialtone_engine::MemoryTrace;
use dialtone_scenario::{Strategy, Summary};
use dialtone_study::compare::{self, ArmOptions, Base, CompareOptions, compare, parse_variant};
use dialtone_study::io::{
    Kind, Output, ReadError, RunTrace, SCHEMA_VERSION, kind_of, parse_csv, read_json, read_meta,
    read_output, read_timeline, timeline_csv, write_compare, write_run, write_study, write_sweep,
};
use dialtone_study::sweep::{SweepPoint, SweepSummary, parse_set};
use dialtone_study::{Shard, StudySummary, meta, run_replications, summarize};

use crate::{nothing, scenario, tmp};

/// The file opens with its kind and schema_version, in that order.
fn opens_with(path: &std::path::Path, kind: &str) {
    let text = std::fs::read_to_string(path).expect("file");
    let want = format!("{{\n  \"kind\": \"{kind}\",\n  \"schema_version\": {SCHEMA_VERSION},\n");
    assert!(
        text.starts_with(&want),
        "{}: {}",
        path.display(),
        &text[..80]
    );
}

#[test]
fn a_run_folder_reads_back_as_written() {
    let sc = scenario("site-failure-dac");
    let d = tmp("out-run");
    let files = RunTrace::create(&d, true).expect("trace files");
    let (s, (sink, files)) =
        dialtone_scenario::run_with(&sc, sc.seed, 0, (MemoryTrace::default(), files))
            .expect("runs");
    assert!(
        s.databases.iter().any(|d| d.down_s.is_some()),
        "something failed"
    );
    write_run(&d, &s, files).expect("write");
    let p = d.join("summary.json");
    opens_with(&p, "run");
    assert_eq!(kind_of(&p).expect("kind"), Kind::Run);
    assert_eq!(
        read_output(&p).expect("read"),
        Output::Run(Box::new(s.clone()))
    );
    assert_eq!(read_json::<Summary>(&p, Kind::Run).expect("read"), s);
    // The streamed files hold what the records in memory would give, line for line.
    let timeline = read_timeline(&d).expect("timeline");
    assert_eq!(timeline, timeline_csv(&sink.records));
    let trace = std::fs::read_to_string(d.join("trace.jsonl")).expect("trace");
    let mut want = String::new();
    for r in &sink.records {
        want.push_str(&serde_json::to_string(r).expect("json"));
        want.push('\n');
    }
    assert_eq!(trace, want);
    assert!(sink.records.len() > 10, "a trace worth comparing");
    // A run's summary is not a study's.
    let e = read_json::<StudySummary>(&p, Kind::Study).expect_err("another kind");
    assert!(matches!(e, ReadError::Kind { .. }), "{e}");
    assert!(e.to_string().contains("\"run\""), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_study_folder_reads_back_as_written() {
    let sc = scenario("site-failure-dac");
    let shard = Shard { index: 2, count: 3 };
    for (name, shard) in [("out-study", None), ("out-shard", Some(shard))] {
        let idx: Vec<u64> = shard.map_or(0..9, |s| s.range(9)).collect();
        let rows = run_replications(&sc, sc.seed, &idx, 2, &nothing).expect("runs");
        let m = meta(&sc, sc.seed, 9, shard);
        let summary = summarize(&m, &rows);
        let d = tmp(name);
        write_study(&d, &m, &rows, &summary).expect("write");
        opens_with(&d.join("summary.json"), "study");
        opens_with(&d.join("study.json"), "study-meta");
        assert_eq!(
            read_output(&d.join("summary.json")).expect("read"),
            Output::Study(Box::new(summary.clone()))
        );
        assert_eq!(
            read_output(&d.join("study.json")).expect("read"),
            Output::StudyMeta(Box::new(m.clone()))
        );
        assert_eq!(read_meta(&d).expect("meta"), m);
        assert_eq!(parse_csv(&d.join("replications.csv")).expect("csv"), rows);
        let _ = std::fs::remove_dir_all(&d);
    }
}

#[test]
fn compare_and_sweep_summaries_read_back_as_written() {
    let sc = scenario("db-corruption-dial-tone-same-server");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::root().join("scenarios/db-corruption-dial-tone-same-server.json"),
        )
        .expect("file"),
    )
    .expect("json");
    let strategies = [Strategy::RestoreOnly, Strategy::DialToneSameServer];
    let variants = [parse_variant("ttl-1h:topology.dns.ttl=1h").expect("variant")];
    let base = Base {
        scenario: &sc,
        json: &json,
    };
    let arms = compare::arms(&base, &variants, &strategies).expect("arms");
    let o = ArmOptions {
        arms: &arms,
        replications: 4,
        seed: sc.seed,
        threads: 2,
        independent: false,
    };
    let c = compare::compare_arms(&o, &nothing).expect("compare");
    let d = tmp("out-compare");
    compare::write(&d, &o.meta(None), &c).expect("write");
    opens_with(&d.join("summary.json"), "compare");
    opens_with(&d.join("study.json"), "arms-meta");
    assert_eq!(
        read_output(&d.join("study.json")).expect("read"),
        Output::ArmsMeta(Box::new(o.meta(None)))
    );
    let Output::Compare(back) = read_output(&d.join("summary.json")).expect("read") else {
        panic!("not a comparison");
    };
    // Each arm records its variant's name and settings.
    let labels: Vec<&str> = back.strategies.iter().map(|s| s.arm.as_str()).collect();
    assert_eq!(
        labels,
        [
            "base+restore-only",
            "base+dial-tone-same-server",
            "ttl-1h+restore-only",
            "ttl-1h+dial-tone-same-server"
        ]
    );
    let v = back.strategies[3].variant.as_ref().expect("variant");
    assert_eq!(v.name, "ttl-1h");
    assert_eq!(
        v.settings,
        vec![("topology.dns.ttl".to_owned(), serde_json::json!("1h"))]
    );
    assert_eq!(back.strategies[3].strategy, "dial-tone-same-server");
    assert_eq!(back.differences.len(), 3);
    // The rows live in replications-ARM.csv, not in summary.json.
    let mut want = c.clone();
    for s in &mut want.strategies {
        assert_eq!(
            parse_csv(&d.join(format!("replications-{}.csv", s.arm))).expect("csv"),
            s.rows
        );
        s.rows.clear();
    }
    assert_eq!(*back, want);
    let _ = std::fs::remove_dir_all(&d);

    let axes = [parse_set("topology.dns.ttl=60s,1h").expect("axis")];
    let points = c
        .strategies
        .iter()
        .zip(["60s", "1h"])
        .map(|(s, v)| SweepPoint {
            point: format!("topology.dns.ttl=\"{v}\""),
            values: vec![serde_json::json!(v)],
            summary: s.summary.clone(),
            rows: Vec::new(),
        })
        .collect();
    let sweep = SweepSummary::new(&sc.name, &axes, points);
    let d = tmp("out-sweep");
    write_sweep(&d, &sweep).expect("write");
    opens_with(&d.join("summary.json"), "sweep");
    assert_eq!(
        read_output(&d.join("summary.json")).expect("read"),
        Output::Sweep(Box::new(sweep))
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Renames `from` to `to` in the object at `path` (keys and array indices) of a JSON file.
fn rename(file: &std::path::Path, path: &[&str], from: &str, to: &str) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("json");
    let mut cur = &mut v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    let obj = cur.as_object_mut().expect("an object");
    let x = obj.remove(from).expect("the key");
    obj.insert(to.to_owned(), x);
    std::fs::write(file, serde_json::to_string_pretty(&v).expect("json")).expect("write");
}

fn key_of(e: ReadError) -> String {
    match e {
        ReadError::Key { key, .. } => key,
        other => panic!("not a key error: {other}"),
    }
}

#[test]
fn errors_name_nested_keys_by_their_path() {
    let sc = scenario("site-failure-dac");
    let s = dialtone_scenario::run(&sc, sc.seed, 0).expect("runs");
    let d = tmp("out-paths");
    write_run(&d, &s, RunTrace::create(&d, false).expect("trace")).expect("write");
    let p = d.join("summary.json");
    rename(&p, &["databases", "1"], "rto_s", "rto");
    let e = read_output(&p).expect_err("renamed");
    assert!(e.to_string().contains("`databases[1].rto`"), "{e}");
    assert_eq!(key_of(e), "databases[1].rto_s");
    rename(&p, &["databases", "1"], "rto", "rto_s");
    read_output(&p).expect("restored");

    let c = CompareOptions {
        scenario: &sc,
        strategies: &[Strategy::None, Strategy::DatacenterSwitchoverDac],
        replications: 2,
        seed: sc.seed,
        threads: 1,
        independent: false,
    };
    let c = compare(&c, &nothing).expect("compare");
    write_compare(&d, &c).expect("write");
    rename(
        &p,
        &["strategies", "1", "summary", "metrics"],
        "operator_hours",
        "operator_hrs",
    );
    assert_eq!(
        key_of(read_output(&p).expect_err("renamed metric")),
        "strategies[1].summary.metrics.operator_hours"
    );
    write_compare(&d, &c).expect("write");
    rename(
        &p,
        &["differences", "datacenter-switchover-dac"],
        "mail_bounced",
        "bounced",
    );
    assert_eq!(
        key_of(read_output(&p).expect_err("renamed difference")),
        "differences.datacenter-switchover-dac.mail_bounced"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn results_csv_has_one_row_per_arm_and_replication() {
    let sc = scenario("db-corruption-dial-tone-same-server");
    let strategies = [Strategy::RestoreOnly, Strategy::DialToneSameServer];
    let o = CompareOptions {
        scenario: &sc,
        strategies: &strategies,
        replications: 3,
        seed: sc.seed,
        threads: 2,
        independent: false,
    };
    let c = compare(&o, &nothing).expect("compare");
    let d = tmp("out-results");
    write_compare(&d, &c).expect("write");
    let text = std::fs::read_to_string(d.join("results.csv")).expect("results.csv");
    let lines: Vec<&str> = text.lines().collect();
    let head: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(&head[..3], &["strategy", "variant", "replication"]);
    assert_eq!(head.len(), 3 + dialtone_study::COLUMNS.len());
    let keys: Vec<(String, String)> = lines[1..]
        .iter()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells.len(), head.len(), "{l}");
            (cells[0].to_owned(), cells[2].to_owned())
        })
        .collect();
    let want: Vec<(String, String)> = ["restore-only", "dial-tone-same-server"]
        .iter()
        .flat_map(|s| (0..3).map(move |r| ((*s).to_owned(), r.to_string())))
        .collect();
    assert_eq!(keys, want, "strategy-major, replications in order");
    // A study writes the same file with its one strategy.
    let rows = &c.strategies[0].rows;
    let restore = sc.with_strategy(Strategy::RestoreOnly).expect("strategy");
    let m = meta(&restore, sc.seed, 3, None);
    let s = tmp("out-results-study");
    write_study(&s, &m, rows, &summarize(&m, rows)).expect("write");
    let study = std::fs::read_to_string(s.join("results.csv")).expect("results.csv");
    let first: Vec<&str> = text.lines().take(4).collect();
    assert_eq!(study.lines().collect::<Vec<_>>(), first);
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&s);
}
