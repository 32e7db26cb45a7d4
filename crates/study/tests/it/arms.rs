//! Compare with variants and sweeps: common random numbers across variants and strategy
//! points, shards merged byte for byte, resume.

use std::path::{Path, PathBuf};

use dialtone_engine::MemoryTrace;
use dialtone_scenario::{Scenario, Strategy};
use dialtone_study::arms::{self, ArmJournal, ArmsMeta};
use dialtone_study::compare::{self, Arm, ArmOptions, Base, Comparison, parse_variant};
use dialtone_study::io::Kind;
use dialtone_study::sweep::{self, SweepPoint, SweepSummary, parse_set};
use dialtone_study::{COLUMNS, Row, Shard, run_replications, summarize};
use serde_json::Value;

use crate::{nothing, root, scenario, tmp};

fn json(name: &str) -> Value {
    let text =
        std::fs::read_to_string(root().join(format!("scenarios/{name}.json"))).expect("file");
    serde_json::from_str(&text).expect("json")
}

fn col(name: &str) -> usize {
    COLUMNS
        .iter()
        .position(|(c, _)| *c == name)
        .expect("column")
}

/// site-failure-dac with a stochastic power loss (exponential time to failure and to
/// repair), so failure times differ from one replication to the next.
fn stochastic_site_failure() -> (Scenario, Value) {
    let mut v = json("site-failure-dac");
    v["failures"] = serde_json::json!([{
        "kind": "site-power-loss", "target": "dc1",
        "time_to_failure": "exponential(2d)", "time_to_repair": "exponential(18h)"
    }]);
    let sc = dialtone_scenario::parse("stochastic.json", "stochastic", &v.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    (sc, v)
}

/// Times of the site failures and repairs of replication `r`.
fn site_events(sc: &Scenario, r: u64) -> Vec<(u64, String)> {
    let (_, sink) = dialtone_scenario::run_with(sc, sc.seed, r, MemoryTrace::default())
        .unwrap_or_else(|e| panic!("{e}"));
    sink.records
        .iter()
        .filter(|x| x.component == "site")
        .map(|x| (x.time.as_millis(), x.what.clone()))
        .collect()
}

#[test]
fn variants_differing_in_ttl_share_failures_and_mail() {
    let (sc, v) = stochastic_site_failure();
    let variants = [
        parse_variant("ttl-5m:topology.dns.ttl=5m").expect("variant"),
        parse_variant("ttl-1h:topology.dns.ttl=1h").expect("variant"),
    ];
    let base = Base {
        scenario: &sc,
        json: &v,
    };
    let arms = compare::arms(&base, &variants, &[]).expect("arms");
    let (short, long) = (&arms[1].scenario, &arms[2].scenario);
    let mut firsts = Vec::new();
    for r in 0..4 {
        let a = site_events(short, r);
        assert!(!a.is_empty(), "replication {r}: no site failure");
        assert_eq!(
            a,
            site_events(long, r),
            "replication {r}: failure times differ"
        );
        firsts.push(a[0].0);
    }
    firsts.dedup();
    assert!(firsts.len() > 1, "the failure times are random: {firsts:?}");
    let o = ArmOptions {
        arms: &arms,
        replications: 6,
        seed: sc.seed,
        threads: 2,
        independent: false,
    };
    let c = compare::compare_arms(&o, &nothing).expect("compare");
    let (a, b) = (&c.strategies[1].rows, &c.strategies[2].rows);
    let mail = col("mail_accepted");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(
            x.values[mail], y.values[mail],
            "replication {}",
            x.replication
        );
    }
    let um = col("user_minutes_without_send_receive");
    assert!(
        a.iter().zip(b).any(|(x, y)| x.values[um] != y.values[um]),
        "the TTL changes the outage"
    );
}

/// The arms of the comparisons below: base and a 1 h TTL, each under two strategies.
fn compare_arms() -> Vec<Arm> {
    let sc = scenario("db-corruption-dial-tone-same-server");
    let v = json("db-corruption-dial-tone-same-server");
    let base = Base {
        scenario: &sc,
        json: &v,
    };
    let variants = [parse_variant("ttl-1h:topology.dns.ttl=1h,clients.1.share=0.05").expect("v")];
    let strategies = [Strategy::RestoreOnly, Strategy::DialToneSameServer];
    compare::arms(&base, &variants, &strategies).expect("arms")
}

fn runs<'a>(scenarios: &[&'a Scenario], meta: &ArmsMeta) -> Vec<(&'a Scenario, u64)> {
    scenarios
        .iter()
        .zip(&meta.arms)
        .map(|(s, m)| (*s, m.seed))
        .collect()
}

/// Runs the slice of `meta` (minus `done`) and returns every arm's rows.
fn run_slice(scenarios: &[&Scenario], meta: &ArmsMeta, done: Vec<Vec<Row>>) -> Vec<Vec<Row>> {
    let todo = arms::todo(meta, &done);
    let new = arms::run_arms(&runs(scenarios, meta), &todo, 2, &|_, _| {}).expect("runs");
    done.into_iter()
        .zip(new)
        .map(|(mut d, n)| {
            d.extend(n);
            d.sort_by_key(|r| r.replication);
            d
        })
        .collect()
}

fn compare_into(arms: &[Arm], n: u64, shard: Option<Shard>, dir: &Path) {
    let o = ArmOptions {
        arms,
        replications: n,
        seed: 11,
        threads: 2,
        independent: false,
    };
    let meta = o.meta(shard);
    let sc: Vec<&Scenario> = arms.iter().map(|a| &a.scenario).collect();
    let rows = run_slice(&sc, &meta, vec![Vec::new(); arms.len()]);
    let c = Comparison::assemble(compare::heads(arms, &meta), &meta, rows);
    compare::write(dir, &meta, &c).expect("write");
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "journal.jsonl"))
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn merged_compare_shards_equal_the_whole_compare_byte_for_byte() {
    let arms = compare_arms();
    let n = 7;
    let whole = tmp("arms-whole");
    compare_into(&arms, n, None, &whole);
    let want = files(&whole);
    assert_eq!(
        want.len(),
        4 + arms.len(),
        "summary, study, results.csv, the manifest and one CSV per arm"
    );
    for count in [1u64, 3] {
        let dirs: Vec<PathBuf> = (1..=count)
            .map(|index| {
                let d = tmp(&format!("arms-shard-{count}-{index}"));
                compare_into(&arms, n, Some(Shard { index, count }), &d);
                d
            })
            .collect();
        let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        let (m, c) = compare::merge(&refs).expect("merge");
        let out = tmp(&format!("arms-merged-{count}"));
        compare::write(&out, &m, &c).expect("write");
        assert_eq!(files(&out), want, "{count} shards");
        if count > 1 {
            let e = compare::merge(&refs[1..])
                .expect_err("a shard missing")
                .to_string();
            assert!(e.contains("missing"), "{e}");
        }
        for d in dirs.into_iter().chain([out]) {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    let _ = std::fs::remove_dir_all(whole);
}

fn sweep_into(dir: &Path, shard: Option<Shard>) {
    let v = json("db-corruption-dial-tone-same-server");
    let axes = [
        parse_set("strategy=restore-only,dial-tone-same-server").expect("axis"),
        parse_set("topology.dns.ttl=5m..1h/3").expect("axis"),
    ];
    let pts = sweep::points("x.json", "x", &v, &axes).expect("points");
    let seeded: Vec<(&str, &Scenario, u64)> =
        pts.iter().map(|(l, _, sc)| (l.as_str(), sc, 3)).collect();
    let meta = ArmsMeta::new(Kind::Sweep, &seeded, 5, shard);
    let sc: Vec<&Scenario> = pts.iter().map(|p| &p.2).collect();
    let rows = run_slice(&sc, &meta, vec![Vec::new(); pts.len()]);
    let points = pts
        .iter()
        .enumerate()
        .map(|(k, (l, vals, _))| SweepPoint {
            point: l.clone(),
            values: vals.clone(),
            summary: summarize(&meta.study_meta(k), &[]),
            rows: Vec::new(),
        })
        .collect();
    let s = SweepSummary::new("x", &axes, points).with_rows(&meta, &rows);
    sweep::write(dir, &meta, &s, &rows).expect("write");
}

#[test]
fn merged_sweep_shards_equal_the_whole_sweep_byte_for_byte() {
    let whole = tmp("sweep-whole");
    sweep_into(&whole, None);
    let want = files(&whole);
    assert_eq!(
        want.len(),
        4 + 6,
        "summary, study, results.csv, the manifest and one CSV per point"
    );
    for count in [1u64, 3] {
        let dirs: Vec<PathBuf> = (1..=count)
            .map(|index| {
                let d = tmp(&format!("sweep-shard-{count}-{index}"));
                sweep_into(&d, Some(Shard { index, count }));
                d
            })
            .collect();
        let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        let (m, s, rows) = sweep::merge(&refs).expect("merge");
        let out = tmp(&format!("sweep-merged-{count}"));
        sweep::write(&out, &m, &s, &rows).expect("write");
        assert_eq!(files(&out), want, "{count} shards");
        for d in dirs.into_iter().chain([out]) {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    let _ = std::fs::remove_dir_all(whole);
}

#[test]
fn the_strategy_axis_replans_on_common_random_numbers() {
    let sc = scenario("db-corruption-dial-tone-same-server");
    let v = json("db-corruption-dial-tone-same-server");
    let axes = [parse_set("strategy=restore-only,dial-tone-same-server").expect("axis")];
    let pts = sweep::points("x.json", "x", &v, &axes).expect("points");
    let idx: Vec<u64> = (0..5).collect();
    let mut means = Vec::new();
    for ((_, vals, p), st) in pts
        .iter()
        .zip([Strategy::RestoreOnly, Strategy::DialToneSameServer])
    {
        assert_eq!(vals, &vec![Value::from(st.name())]);
        assert_eq!(p.strategy, st);
        let got = run_replications(p, 9, &idx, 2, &nothing).expect("point");
        let want = run_replications(&sc.with_strategy(st).expect("plan"), 9, &idx, 2, &nothing)
            .expect("study");
        assert_eq!(got, want, "{}", st.name());
        means.push(got[0].values[col("user_minutes_without_send_receive")]);
    }
    assert_ne!(means[0], means[1], "the two strategies differ");
}

#[test]
fn a_resumed_compare_equals_an_uninterrupted_one_and_refuses_other_arms() {
    let arms = compare_arms();
    let n = 6;
    let whole = tmp("arms-uninterrupted");
    compare_into(&arms, n, None, &whole);
    let dir = tmp("arms-resumed");
    let o = ArmOptions {
        arms: &arms,
        replications: n,
        seed: 11,
        threads: 2,
        independent: false,
    };
    let meta = o.meta(None);
    arms::write_meta(&dir, &meta).expect("meta");
    let journal = ArmJournal::open(&dir).expect("journal");
    let sc: Vec<&Scenario> = arms.iter().map(|a| &a.scenario).collect();
    // First attempt: arm 0 finished 0, 2, 5 and arm 3 finished 1; then a torn line.
    let partial: Vec<Vec<u64>> = vec![vec![0, 2, 5], vec![], vec![], vec![1]];
    arms::run_arms(&runs(&sc, &meta), &partial, 2, &|k, r| journal.append(k, r)).expect("runs");
    drop(journal);
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("journal.jsonl"))
            .expect("open");
        write!(f, "{{\"arm\":1,\"replication\":3,\"values\":[1.0,").expect("torn");
    }
    let (done, dropped) = arms::resume(&dir, &meta).expect("resume");
    assert_eq!(dropped, 1, "the torn line");
    let got: Vec<Vec<u64>> = done
        .iter()
        .map(|d| d.iter().map(|r| r.replication).collect())
        .collect();
    assert_eq!(got, partial, "the journal gives back what finished");
    let rows = run_slice(&sc, &meta, done);
    let c = Comparison::assemble(compare::heads(&arms, &meta), &meta, rows);
    compare::write(&dir, &meta, &c).expect("write");
    assert_eq!(files(&dir), files(&whole));
    // Another set of arms (one variant fewer) is refused.
    let fewer = ArmOptions {
        arms: &arms[..2],
        ..o.clone()
    };
    let e = arms::resume(&dir, &fewer.meta(None))
        .expect_err("other arms")
        .to_string();
    assert!(
        e.contains("--resume of another study (the arms: the folder's "),
        "{e}"
    );
    // The refusal says which setting differs.
    let more = ArmOptions {
        replications: o.replications + 1,
        ..o.clone()
    };
    let e = arms::resume(&dir, &more.meta(None))
        .expect_err("size")
        .to_string();
    assert!(
        e.contains(&format!(
            "--replications: the folder's {}, asked {}",
            o.replications,
            o.replications + 1
        )),
        "{e}"
    );
    let other_seed = ArmOptions { seed: 12, ..o };
    let e = arms::resume(&dir, &other_seed.meta(None))
        .expect_err("seed")
        .to_string();
    assert!(
        e.contains("--seed: the folder's") && e.contains("asked 12"),
        "{e}"
    );
    let _ = (
        std::fs::remove_dir_all(&dir),
        std::fs::remove_dir_all(&whole),
    );
}
