//! `dialtone bench`: fingerprints checked against the recorded ones, independent of the
//! thread count; a changed one exits 1 naming it; `--update` records it; JSON parses.
//! One small scenario (`--only`) keeps these fast.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = "site-failure-dac";

fn bench(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["bench", "--only", SCENARIO])
        .args(extra)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dialtone-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

/// The recorded fingerprint of SCENARIO.
fn recorded(file: &Path) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("file")).expect("json");
    v["scenarios"][SCENARIO]["fingerprint"]
        .as_str()
        .expect("recorded")
        .to_owned()
}

#[test]
fn fingerprints_match_the_recorded_ones_on_one_and_on_two_threads() {
    let want = recorded(&root().join("scenarios/golden/fingerprints.json"));
    let mut got = Vec::new();
    for threads in ["1", "2"] {
        let out = bench(&["--format", "json", "--threads", threads]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = json(&out);
        assert_eq!(v["bench_schema_version"], 1);
        let rows = v["scenarios"].as_array().expect("rows");
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r["name"], SCENARIO);
        assert_eq!(r["fingerprint_ok"], true);
        assert_eq!(r["expected_fingerprint"], want.as_str());
        assert!(r["events"].as_u64().expect("events") > 1000, "{r}");
        assert!(r["events_per_s"].as_f64().expect("rate") > 0.0, "{r}");
        assert!(r["replications_per_s"].as_f64().expect("rate") > 0.0, "{r}");
        if cfg!(target_os = "linux") {
            assert!(r["peak_rss_kb"].as_u64().expect("peak") > 1000, "{r}");
        }
        got.push(r["fingerprint"].as_str().expect("fingerprint").to_owned());
    }
    assert_eq!(got[0], got[1], "the thread count changed the fingerprint");
    assert_eq!(got[0], want);
}

#[test]
fn a_changed_fingerprint_exits_1_naming_it_until_update_records_it() {
    let d = tmp("changed");
    let file = d.join("fingerprints.json");
    let wrong = "0123456789abcdef";
    let text = format!(
        "{{\"about\": \"\", \"scenarios\": {{\"{SCENARIO}\": {{\"replications\": 10, \"fingerprint\": \"{wrong}\"}}}}}}"
    );
    std::fs::write(&file, text).expect("write");
    let f = file.to_str().expect("utf8");
    let out = bench(&["--fingerprints", f]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for part in [SCENARIO, wrong, "--update"] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CHANGED"), "{stdout}");
    let out = bench(&["--fingerprints", f, "--update"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let now = recorded(&file);
    assert_ne!(now, wrong);
    assert!(
        stderr.contains(&now),
        "the error named what it got: {stderr}"
    );
    let out = bench(&["--fingerprints", f]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_scenario_without_a_recorded_fingerprint_is_an_error_and_an_unknown_one_bad_input() {
    let d = tmp("missing");
    let file = d.join("fingerprints.json");
    let out = bench(&["--fingerprints", file.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no fingerprint recorded"), "{stderr}");
    assert!(!file.exists(), "written only with --update");
    let out = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["bench", "--only", "no-such-scenario"])
        .current_dir(root())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(SCENARIO));
    let _ = std::fs::remove_dir_all(&d);
}
