//! Studies: thread-count invariance, shard/merge equality, resume equality, common random
//! numbers, and a statistical check against validation.md Case 6.

mod arms;
mod case4;
mod outputs;

use std::path::{Path, PathBuf};

use dialtone_scenario::Scenario;
use dialtone_study::io::{Journal, read_journal, write_study};
use dialtone_study::{Row, Shard, StudyMeta, meta, run_replications, summarize};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenario(name: &str) -> Scenario {
    dialtone_scenario::load(&root().join(format!("scenarios/{name}.json")))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dialtone-study-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn nothing(_: &Row) {}

/// Runs a whole study into `dir` and returns summary.json's bytes.
fn study_bytes(sc: &Scenario, n: u64, threads: usize, dir: &Path) -> Vec<u8> {
    let idx: Vec<u64> = (0..n).collect();
    let rows = run_replications(sc, sc.seed, &idx, threads, &nothing).expect("runs");
    let m = meta(sc, sc.seed, n, None);
    write_study(dir, &m, &rows, &summarize(&m, &rows)).expect("write");
    std::fs::read(dir.join("summary.json")).expect("summary")
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let sc = scenario("site-failure-dac");
    let (a, b) = (tmp("t1"), tmp("t2"));
    let one = study_bytes(&sc, 24, 1, &a);
    let two = study_bytes(&sc, 24, 2, &b);
    assert_eq!(one, two);
    assert_eq!(
        std::fs::read(a.join("replications.csv")).expect("csv"),
        std::fs::read(b.join("replications.csv")).expect("csv")
    );
    let _ = (std::fs::remove_dir_all(&a), std::fs::remove_dir_all(&b));
}

#[test]
fn a_stopped_study_starts_no_further_replication() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let sc = scenario("site-failure-dac");
    let idx: Vec<u64> = (0..200).collect();
    let stop = AtomicBool::new(true);
    let none = dialtone_study::run_replications_until(&sc, 1, &idx, 2, &|_, _, _| {}, &stop)
        .expect("runs");
    assert!(none.is_empty());
    // Stopped after the third finished row: the two workers finish what they started.
    let stop = AtomicBool::new(false);
    let done = std::sync::atomic::AtomicU64::new(0);
    let tick = |_: &Row, _: u64, _: u64| {
        if done.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
            stop.store(true, Ordering::SeqCst);
        }
    };
    let some = dialtone_study::run_replications_until(&sc, 1, &idx, 2, &tick, &stop).expect("runs");
    assert!((3..=5).contains(&some.len()), "{} rows", some.len());
    // The rows that ran are those an unstopped study gives for the same replications.
    let ran: Vec<u64> = some.iter().map(|r| r.replication).collect();
    assert_eq!(
        some,
        run_replications(&sc, 1, &ran, 2, &nothing).expect("runs")
    );
}

#[test]
fn merged_shards_equal_the_whole_study_byte_for_byte() {
    let sc = scenario("db-corruption-dial-tone-same-server");
    let n = 21;
    let whole = tmp("whole");
    let want = study_bytes(&sc, n, 2, &whole);
    let want_csv = std::fs::read(whole.join("replications.csv")).expect("csv");
    for count in [1u64, 3, 7] {
        let mut dirs = Vec::new();
        for index in 1..=count {
            let shard = Shard { index, count };
            let idx: Vec<u64> = shard.range(n).collect();
            let rows = run_replications(&sc, sc.seed, &idx, 2, &nothing).expect("runs");
            let m = meta(&sc, sc.seed, n, Some(shard));
            let d = tmp(&format!("shard-{count}-{index}"));
            write_study(&d, &m, &rows, &summarize(&m, &rows)).expect("write");
            dirs.push(d);
        }
        let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        let (m, rows) = dialtone_study::io::merge(&refs).expect("merge");
        let out = tmp(&format!("merged-{count}"));
        write_study(&out, &m, &rows, &summarize(&m, &rows)).expect("write");
        assert_eq!(
            std::fs::read(out.join("summary.json")).expect("summary"),
            want,
            "{count} shards"
        );
        assert_eq!(
            std::fs::read(out.join("replications.csv")).expect("csv"),
            want_csv,
            "{count} shards"
        );
        // A missing shard is refused.
        if count > 1 {
            let e = dialtone_study::io::merge(&refs[1..])
                .unwrap_err()
                .to_string();
            assert!(e.contains("missing"), "{e}");
        }
        for d in dirs {
            let _ = std::fs::remove_dir_all(d);
        }
        let _ = std::fs::remove_dir_all(out);
    }
    let _ = std::fs::remove_dir_all(whole);
}

#[test]
fn a_resumed_study_equals_an_uninterrupted_one() {
    let sc = scenario("site-failure-dac");
    let n = 16;
    let whole = tmp("uninterrupted");
    let want = study_bytes(&sc, n, 2, &whole);
    // First attempt: only some replications finish (and a torn line is left behind).
    let dir = tmp("resumed");
    let journal = Journal::open(&dir).expect("journal");
    let first: Vec<u64> = vec![0, 3, 4, 9, 15];
    run_replications(&sc, sc.seed, &first, 2, &|r| journal.append(r)).expect("runs");
    drop(journal);
    // Damage: one digit of replication 3's line changed (still valid JSON), a line in
    // the format before checksums, then a torn line.
    let p = dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&p).expect("journal");
    let damaged: String = text
        .lines()
        .map(|l| {
            if l.starts_with("{\"replication\":3,") {
                let at = l
                    .find(|c: char| c.is_ascii_digit() && c != '3')
                    .expect("a digit");
                let d = l.as_bytes()[at];
                let other = if d == b'9' { '8' } else { char::from(d + 1) };
                format!("{}{other}{}\n", &l[..at], &l[at + 1..])
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_ne!(damaged, text);
    let unsealed = serde_json::to_string(&Row {
        replication: 7,
        values: vec![Some(1.0); dialtone_study::COLUMNS.len()],
    })
    .expect("json");
    std::fs::write(
        &p,
        format!("{damaged}{unsealed}\n{{\"replication\":8,\"values\":[1.0,"),
    )
    .expect("write");
    // Resume: read what finished, run the rest; the three damaged lines are not trusted.
    let (done, dropped) = read_journal(&dir).expect("read");
    let first: Vec<u64> = vec![0, 4, 9, 15];
    assert_eq!(
        done.iter().map(|r| r.replication).collect::<Vec<_>>(),
        first,
        "the damaged, unsealed and torn lines are dropped"
    );
    assert_eq!(dropped, 3);
    // Appending after the torn line starts a new line: the new row is read back.
    let journal = Journal::open(&dir).expect("journal");
    let again = run_replications(&sc, sc.seed, &[1], 1, &|r| journal.append(r)).expect("runs");
    drop(journal);
    let (back, dropped) = read_journal(&dir).expect("read");
    assert!(
        back.contains(&again[0]),
        "the row after a torn line is kept"
    );
    assert_eq!(dropped, 3);
    let rest: Vec<u64> = (0..n).filter(|r| !first.contains(r)).collect();
    let mut rows = run_replications(&sc, sc.seed, &rest, 2, &nothing).expect("runs");
    rows.extend(done);
    rows.sort_by_key(|r| r.replication);
    let m: StudyMeta = meta(&sc, sc.seed, n, None);
    write_study(&dir, &m, &rows, &summarize(&m, &rows)).expect("write");
    assert_eq!(
        std::fs::read(dir.join("summary.json")).expect("summary"),
        want
    );
    let _ = (
        std::fs::remove_dir_all(&dir),
        std::fs::remove_dir_all(&whole),
    );
}

#[test]
fn common_random_numbers_narrow_the_paired_interval() {
    // Both strategies wait for the same detection and decision (operator draws), so the
    // user-minutes of the two share that noise, which pairing cancels.
    let sc = scenario("db-corruption-dial-tone-same-server");
    let strategies = [
        dialtone_scenario::Strategy::RestoreOnly,
        dialtone_scenario::Strategy::DialToneSameServer,
    ];
    let width = |independent: bool| {
        let o = dialtone_study::compare::CompareOptions {
            scenario: &sc,
            strategies: &strategies,
            replications: 40,
            seed: 5,
            threads: 2,
            independent,
        };
        let c = dialtone_study::compare::compare(&o, &nothing).expect("compare");
        let (_, d) = c.differences[0]
            .1
            .iter()
            .find(|(n, _)| n == "user_minutes_without_send_receive")
            .expect("metric")
            .clone();
        let [lo, hi] = d.ci95.expect("ci");
        hi - lo
    };
    let (crn, indep) = (width(false), width(true));
    assert!(
        crn < indep * 0.5,
        "paired CI width with CRN {crn:.1} vs independent {indep:.1}"
    );
}

/// One site whose `servers` are the members of a DAG (static quorum), each holding a copy
/// of one 100-mailbox database, with a stochastic `server-outage` failure per
/// `(server, time to failure, time to repair)`; web clients, no mail, and overheads
/// (heartbeat, failover, client retry) of milliseconds so they do not bias availability.
fn one_site(servers: &[&str], failures: &[(&str, &str, &str)], horizon: &str) -> Scenario {
    let text = serde_json::json!({
        "description": "stochastic server outages",
        "topology": {
            "sites": [{"name": "s"}],
            "servers": servers.iter().map(|n| serde_json::json!({"name": n, "site": "s"})).collect::<Vec<_>>(),
            "dag": {"members": servers, "dynamic_quorum": false},
            "databases": [{"name": "db", "size": "10GB", "mailboxes": 100,
                           "copies": servers.iter().map(|n| serde_json::json!({"server": n})).collect::<Vec<_>>()}],
            "backup": {"every": null},
            "timing": {"heartbeat": "1ms", "failover": "1ms"}
        },
        "clients": [{"kind": "web", "share": 1.0}],
        "client_behaviour": {"buckets": 1, "web_retry": "1ms"},
        "workload": {"messages_per_user_per_day": 0, "tick": "1h"},
        "failures": failures.iter().map(|(target, ttf, ttr)| serde_json::json!({
            "kind": "server-outage", "target": target, "time_to_failure": ttf, "time_to_repair": ttr
        })).collect::<Vec<_>>(),
        "strategy": {"name": "none"},
        "run": {"horizon": horizon, "seed": 2026}
    });
    dialtone_scenario::parse("one-site.json", "one-site", &text.to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The mean availability over replications `0..n` of `sc` and its standard error.
fn availability(sc: &Scenario, n: u64) -> (f64, f64) {
    let idx: Vec<u64> = (0..n).collect();
    let rows = run_replications(sc, sc.seed, &idx, 2, &nothing).expect("runs");
    let col = dialtone_study::COLUMNS
        .iter()
        .position(|(c, _)| *c == "availability")
        .expect("column");
    let a: Vec<f64> = rows.iter().map(|r| r.values[col].expect("value")).collect();
    let mean = a.iter().sum::<f64>() / n as f64;
    let sd = (a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    (mean, sd / (n as f64).sqrt())
}

/// validation.md Case 6: a 3-member DAG (static Node Majority) whose servers fail and are
/// repaired independently (MTTF 1000 h, MTTR 10 h, exponential) is available when 2 of 3
/// are up: A = 3A² − 2A³ = 0.999707852365. Overheads (detection, failover, client retry)
/// are set to milliseconds so they do not bias the estimate.
#[test]
fn a_three_member_dag_reproduces_two_of_three_availability() {
    let mut failures = Vec::new();
    for server in ["a", "b", "c"] {
        failures.push((server, "exponential(1000h)", "exponential(10h)"));
    }
    let sc = one_site(&["a", "b", "c"], &failures, "3650d");
    let (mean, se) = availability(&sc, 160);
    let exact = 0.999_707_852_365;
    let u = 1.0 - exact;
    assert!(
        (mean - exact).abs() <= 3.29 * se,
        "estimate {mean:.9} vs exact {exact:.9}: error {:.3e} > 3.29 SE = {:.3e}",
        (mean - exact).abs(),
        3.29 * se
    );
    assert!(
        1.96 * se <= 0.12 * u,
        "half-width {:.3e} is more than 12% of U = {u:.3e}: run longer",
        1.96 * se
    );
}

/// Rule `causes.stack`: two independent failure processes on one server (exponential
/// time to failure and to repair, both of mean 1 h, so each alone leaves it up half the
/// time) leave it up only while both are repaired: A = 0.5 x 0.5 = 0.25. A repair that
/// ended the other failure too would put it well above (the server would be up whenever
/// the last event was a repair). The server holds the only copy of the only database, so
/// availability is the server's. Budget: the time average of "both up" has asymptotic
/// variance 2 (1/16 + 1/64) = 0.156 h (two independent two-state chains of rate 2/h), so
/// 40 replications of 8,000 h give SE ~ 0.0007 and a half-width ~ 0.0014 (0.55% of A).
#[test]
fn two_independent_failures_of_one_server_multiply_its_availability() {
    let process = ("a", "exponential(1h)", "exponential(1h)");
    let sc = one_site(&["a"], &[process, process], "8000h");
    let (mean, se) = availability(&sc, 40);
    let exact = 0.25;
    assert!(
        (mean - exact).abs() <= 3.29 * se,
        "estimate {mean:.5} vs exact {exact}: error {:.2e} > 3.29 SE = {:.2e}",
        (mean - exact).abs(),
        3.29 * se
    );
    assert!(
        1.96 * se <= 0.01,
        "half-width {:.2e} is more than 0.01 (4% of A): run longer",
        1.96 * se
    );
}
