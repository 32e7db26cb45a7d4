//! Runs the real `dialtone` binary.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dialtone-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn duration_prints_millis_and_canonical_form() {
    let out = dialtone(&["duration", "90s", "1.5h"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    assert_eq!(stdout, "90s\t90000 ms\t1m30s\n1.5h\t5400000 ms\t1h30m\n");
}

#[test]
fn a_bad_duration_exits_2_with_the_fix_on_stderr() {
    let out = dialtone(&["duration", "5 minutes"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).expect("utf8");
    assert!(stderr.contains("\"5 minutes\""), "{stderr}");
    assert!(stderr.contains("2h30m"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn run_writes_byte_identical_outputs_for_the_same_seed() {
    let (a, b) = (tmp("a"), tmp("b"));
    for d in [&a, &b] {
        let out = dialtone(&[
            "run",
            "scenarios/site-failure-dac.json",
            "--out",
            d.to_str().expect("utf8"),
            "--trace",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("users without send/receive"));
    }
    for f in ["summary.json", "timeline.csv", "trace.jsonl"] {
        let x = std::fs::read(a.join(f)).expect(f);
        let y = std::fs::read(b.join(f)).expect(f);
        assert!(!x.is_empty(), "{f} is empty");
        assert_eq!(x, y, "{f} differs between two runs");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).expect("summary"))
            .expect("json");
    for key in [
        "user_minutes_without_send_receive",
        "user_minutes_without_history",
        "time_to_service_p50_s",
        "time_to_service_p95_s",
        "time_to_service_all_s",
        "time_to_history_all_s",
        "split_brain_ms",
        "split_brain_messages",
        "operator_hours",
        "profile_changes",
    ] {
        assert!(
            summary["metrics"].get(key).is_some(),
            "summary.json lacks metrics.{key}"
        );
    }
    for key in [
        "accepted",
        "delivered_on_time",
        "delivered_late",
        "bounced",
        "lost_silently",
        "recovered",
        "left_in_dial_tone",
        "queued_at_end",
        "latency_p50_s",
        "latency_p99_s",
    ] {
        assert!(
            summary["metrics"]["mail"].get(key).is_some(),
            "summary.json lacks metrics.mail.{key}"
        );
    }
    assert_eq!(summary["scenario"], "site-failure-dac");
    assert_eq!(summary["seed"], 42);
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn strategy_and_seed_can_be_overridden() {
    let out = dialtone(&[
        "run",
        "scenarios/site-failure-dac.json",
        "--strategy",
        "none",
        "--seed",
        "7",
    ]);
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("strategy none   seed 7"), "{s}");
}

#[test]
fn validate_reports_every_problem_and_exits_2() {
    let dir = tmp("bad");
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.json");
    let text = std::fs::read_to_string(root().join("scenarios/site-failure-dac.json"))
        .expect("file")
        .replace(
            "\"mbx3\"}, {\"server\": \"mbx4\"}",
            "\"mbx9\"}, {\"server\": \"mbx4\"}",
        )
        .replace("\"ttl\": \"5m\"", "\"ttl\": \"5 minutes\"");
    std::fs::write(&bad, text).expect("write");
    let out = dialtone(&["validate", bad.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json"), "{err}");
    assert!(err.contains("topology.dns.ttl"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    let ok = dialtone(&[
        "validate",
        "scenarios/site-failure-dac.json",
        "scenarios/restore-only.json",
    ]);
    assert!(ok.status.success());
}

#[test]
fn validate_and_run_print_warnings_on_stderr_and_succeed() {
    let dir = tmp("warn");
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("circular.json");
    let text = std::fs::read_to_string(root().join("scenarios/restore-only.json"))
        .expect("file")
        .replace(
            "\"size\": \"400GB\",",
            "\"size\": \"400GB\", \"circular_logging\": true,",
        );
    std::fs::write(&file, text).expect("write");
    for cmd in ["validate", "run"] {
        let out = dialtone(&[cmd, file.to_str().expect("utf8")]);
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("warning: topology.databases[0].circular_logging"),
            "{cmd}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_file_is_bad_input() {
    let out = dialtone(&["run", "scenarios/does-not-exist.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist.json"));
}

#[test]
fn lists_name_every_strategy_and_scenario() {
    let out = dialtone(&["list", "strategies"]);
    let s = String::from_utf8_lossy(&out.stdout);
    for n in [
        "dial-tone-same-server",
        "dial-tone-alternate-server",
        "dial-tone-alternate-stay",
        "dial-tone-rsg-2003",
        "datacenter-switchover-dac",
        "datacenter-switchover-non-dac",
        "automatic-site-failover",
        "switchback",
        "restore-only",
    ] {
        assert!(s.contains(n), "{n} missing");
    }
    let out = dialtone(&["list", "scenarios"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("enterprise-two-sites"));
}

#[test]
fn a_study_killed_mid_way_resumes_to_the_uninterrupted_result() {
    killed_study_resumes("KILL");
}

#[test]
fn a_study_interrupted_with_sigint_resumes_to_the_uninterrupted_result() {
    killed_study_resumes("INT");
}

/// Runs a study of [`KILLED_REPLICATIONS`] whole; runs it again, sends `signal` once at
/// least 10 replications are in the journal, checks nothing looks complete, resumes it and
/// compares the outputs byte for byte.
/// Replications of the interrupted study: enough that, on a loaded 2-core machine, the
/// study cannot finish between the 10th journal line and the signal (400 could: about
/// 1 s of work, and the test failed once while seven builds shared the machine).
const KILLED_REPLICATIONS: usize = 1_000;

fn killed_study_resumes(signal: &str) {
    let (whole, killed) = (
        tmp(&format!("whole-{signal}")),
        tmp(&format!("killed-{signal}")),
    );
    let n = KILLED_REPLICATIONS.to_string();
    let args = |d: &Path| -> Vec<String> {
        [
            "study",
            "scenarios/site-failure-dac.json",
            "--replications",
            &n,
            "--threads",
            "1",
            "--quiet",
            "--out",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([d.to_str().expect("utf8").to_owned()])
        .collect()
    };
    let out = dialtone(&args(&whole).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Start the same study and send the signal once some replications are in its
    // journal. On a starved machine the study can finish before the signal lands: that
    // attempt proves nothing, so it is made again in a fresh folder (at most 5 times).
    let journal = killed.join("journal.jsonl");
    let finished = (0..5)
        .find_map(|_| {
            let _ = std::fs::remove_dir_all(&killed);
            interrupt(&args(&killed), &journal, signal)
        })
        .unwrap_or_else(|| panic!("the study finished before SIG{signal} five times"));
    assert!(
        (10..KILLED_REPLICATIONS).contains(&finished),
        "killed mid-way: {finished} of {KILLED_REPLICATIONS} in the journal"
    );
    assert!(
        !killed.join("summary.json").exists(),
        "no summary from an interrupted study"
    );
    assert!(
        !killed.join("replications.csv").exists(),
        "no replications.csv from an interrupted study"
    );
    // Without --resume the folder is protected; with it the study continues.
    let refused = dialtone(&args(&killed).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let mut resume = args(&killed);
    resume.push("--resume".into());
    let out = dialtone(&resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["summary.json", "replications.csv"] {
        assert_eq!(
            std::fs::read(whole.join(f)).expect(f),
            std::fs::read(killed.join(f)).expect(f),
            "{f} differs after resume"
        );
    }
    let _ = (
        std::fs::remove_dir_all(&whole),
        std::fs::remove_dir_all(&killed),
    );
}

/// Runs the study of `args`, sends `signal` once at least 10 replications are in
/// `journal`, and returns how many the journal holds after it stopped; `None` when the
/// study finished before the signal.
fn interrupt(args: &[String], journal: &Path, signal: &str) -> Option<usize> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .current_dir(root())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let lines = std::fs::read_to_string(journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 10
            || child.try_wait().expect("wait").is_some()
            || std::time::Instant::now() > deadline
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("kill(1)");
    let exit = child.wait().expect("wait");
    if exit.success() {
        return None;
    }
    assert!(status.success(), "kill -s {signal} failed");
    Some(
        std::fs::read_to_string(journal)
            .map(|t| t.lines().count())
            .unwrap_or(0),
    )
}

#[test]
fn compare_and_sweep_run_and_refuse_bad_paths() {
    let out = dialtone(&[
        "compare",
        "scenarios/db-corruption-dial-tone-same-server.json",
        "--strategies",
        "restore-only,dial-tone-same-server",
        "--replications",
        "5",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("dial-tone-same-server − restore-only"));
    let out = dialtone(&[
        "sweep",
        "scenarios/site-failure-dac.json",
        "--set",
        "topology.dns.ttl=60s,1h",
        "--replications",
        "3",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("topology.dns.ttl="))
            .count(),
        2
    );
    let bad = dialtone(&[
        "sweep",
        "scenarios/site-failure-dac.json",
        "--set",
        "topology.dsn.ttl=60s",
        "--quiet",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no field `dsn`"));
    let wrong = dialtone(&[
        "sweep",
        "scenarios/site-failure-dac.json",
        "--set",
        "topology.dns.ttl=5,6",
        "--quiet",
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("topology.dns.ttl"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
}

#[test]
fn a_closed_stdout_pipe_exits_quietly() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["list", "actions"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take()); // the reader goes away, as with `| head -0`
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn results_are_not_overwritten_without_force() {
    let d = tmp("force");
    let dir = d.to_str().expect("utf8");
    assert!(
        dialtone(&["run", "scenarios/restore-only.json", "--out", dir])
            .status
            .success()
    );
    let again = dialtone(&["run", "scenarios/restore-only.json", "--out", dir]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(
        dialtone(&[
            "run",
            "scenarios/restore-only.json",
            "--out",
            dir,
            "--force"
        ])
        .status
        .success()
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        "run", "study", "compare", "sweep", "merge", "report", "validate", "list", "duration",
    ] {
        let out = dialtone(&[sub, "--help"]);
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Example: dialtone"),
            "{sub} --help has no example"
        );
    }
}

#[test]
fn run_replication_r_replays_row_r_of_a_study_exactly() {
    let (study, one) = (tmp("replay-study"), tmp("replay-run"));
    let s = |p: &Path| p.to_str().expect("utf8").to_owned();
    let out = dialtone(&[
        "study",
        "scenarios/site-failure-dac.json",
        "--replications",
        "4",
        "--seed",
        "7",
        "--quiet",
        "--out",
        &s(&study),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(study.join("replications.csv")).expect("csv");
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let row3: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("3,"))
        .expect("row 3")
        .split(',')
        .collect();
    let out = dialtone(&[
        "run",
        "scenarios/site-failure-dac.json",
        "--seed",
        "7",
        "--replication",
        "3",
        "--out",
        &s(&one),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["replication"], 3);
    let mut compared = 0;
    for (k, v) in header.iter().zip(&row3) {
        if let Some(x) = summary["metrics"]
            .get(*k)
            .and_then(serde_json::Value::as_f64)
        {
            let y: f64 = v.parse().expect("number");
            assert_eq!(
                x, y,
                "{k}: run --replication 3 gives {x}, the study's row 3 {y}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 5, "compared only {compared} columns");
    // Replication 0 differs: the flag really selects the streams.
    let other = dialtone(&["run", "scenarios/site-failure-dac.json", "--seed", "7"]);
    assert_ne!(other.stdout, out.stdout);
    let _ = (
        std::fs::remove_dir_all(&study),
        std::fs::remove_dir_all(&one),
    );
}

#[test]
fn a_failed_replication_names_the_command_that_replays_it() {
    let dir = tmp("replay-fail");
    std::fs::create_dir_all(&dir).expect("dir");
    let text =
        std::fs::read_to_string(root().join("scenarios/site-failure-dac.json")).expect("scenario");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    // Quiet mail stretches run the scenario in a few thousand events at most.
    v["run"]["max_events"] = serde_json::json!(100);
    let file = dir.join("tiny-budget.json");
    std::fs::write(&file, v.to_string()).expect("write");
    for threads in ["1", "2"] {
        let out = dialtone(&[
            "study",
            file.to_str().expect("utf8"),
            "--replications",
            "6",
            "--seed",
            "9",
            "--threads",
            threads,
            "--quiet",
        ]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expect = format!(
            "dialtone run {} --strategy datacenter-switchover-dac --seed 9 --replication 0",
            file.display()
        );
        assert!(
            stderr.contains("replication 0 failed") && stderr.contains(&expect),
            "{threads} threads: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The words of a command line as a POSIX shell splits them (plain words and
/// single-quoted ones, which is all a replay command uses).
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => (cur, any) = (cur + &c.to_string(), true),
        }
    }
    if any {
        words.push(cur);
    }
    words
}

#[test]
fn a_failed_variant_names_a_replay_command_that_runs_it() {
    // A compare variant's replication fails: the command printed sets the variant's
    // values with run --set (quoted for the shell where needed) and fails the same way.
    let dir = tmp("replay-variant");
    std::fs::create_dir_all(&dir).expect("dir");
    let text =
        std::fs::read_to_string(root().join("scenarios/site-failure-dac.json")).expect("scenario");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["run"]["max_events"] = serde_json::json!(10_000_000);
    let file = dir.join("big-budget.json");
    std::fs::write(&file, v.to_string()).expect("write");
    let out = dialtone(&[
        "compare",
        file.to_str().expect("utf8"),
        "--variant",
        "tiny:run.max_events=100,clients[0].share=0.7",
        "--replications",
        "2",
        "--seed",
        "5",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find_map(|l| l.split_once("replay it alone: ").map(|(_, c)| c))
        .unwrap_or_else(|| panic!("no replay command: {stderr}"));
    assert!(
        line.contains("--set run.max_events=100 --set 'clients[0].share=0.7'"),
        "{line}"
    );
    let words = shell_words(line);
    assert_eq!(words[0], "dialtone");
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let again = dialtone(&args);
    assert_eq!(again.status.code(), Some(1), "{args:?}");
    let e = String::from_utf8_lossy(&again.stderr);
    assert!(e.contains("budget of 100 events"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_set_replays_a_compare_variant_row_exactly() {
    let d = tmp("set-variant");
    let s = d.to_str().expect("utf8");
    let out = dialtone(&[
        "compare",
        "scenarios/site-failure-dac.json",
        "--variant",
        "ttl:topology.dns.ttl=2h",
        "--replications",
        "2",
        "--seed",
        "5",
        "--quiet",
        "--out",
        s,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(d.join("results.csv")).expect("csv");
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let row = |variant: &str| -> Vec<String> {
        csv.lines()
            .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
            .find(|c| c[1] == variant && c[2] == "1")
            .unwrap_or_else(|| panic!("no {variant} row 1"))
    };
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut a = vec![
            "run",
            "scenarios/site-failure-dac.json",
            "--seed",
            "5",
            "--replication",
            "1",
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        let out = dialtone(&a);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let with = run(&["--set", "topology.dns.ttl=2h"]);
    let without = run(&[]);
    let (ttl, base) = (row("ttl"), row("base"));
    let mut compared = 0;
    for (k, (t, b)) in header.iter().zip(ttl.iter().zip(&base)) {
        if let Some(x) = with["metrics"].get(*k).and_then(serde_json::Value::as_f64) {
            assert_eq!(x, t.parse::<f64>().expect("number"), "{k} with --set");
            let y = without["metrics"][*k].as_f64().expect("number");
            assert_eq!(y, b.parse::<f64>().expect("number"), "{k} without");
            compared += 1;
        }
    }
    assert!(compared >= 5, "compared only {compared} columns");
    // The TTL matters here, so --set really changed the run.
    assert_ne!(with["metrics"], without["metrics"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn resume_refuses_a_study_json_it_cannot_read() {
    let d = tmp("resume-schema");
    let args = [
        "study",
        "scenarios/site-failure-dac.json",
        "--replications",
        "3",
        "--quiet",
        "--out",
        d.to_str().expect("utf8"),
    ];
    let out = dialtone(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = d.join("study.json");
    let text = std::fs::read_to_string(&p).expect("study.json");
    assert!(text.contains("\"kind\": \"study-meta\""), "{text}");
    std::fs::write(
        &p,
        text.replace(
            &format!("\"schema_version\": {}", dialtone_study::io::SCHEMA_VERSION),
            "\"schema_version\": 0",
        ),
    )
    .expect("write");
    let mut resume = args.to_vec();
    resume.push("--resume");
    let out = dialtone(&resume);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("study.json") && stderr.contains("schema_version"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Runs the binary and returns its stdout, asserting it succeeded.
fn stdout_of(args: &[&str]) -> String {
    let out = dialtone(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

fn json_file(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

#[test]
fn format_json_prints_one_document_with_summary_json_keys() {
    let d = tmp("format-json");
    let out = |sub: &str| d.join(sub).to_str().expect("utf8").to_owned();
    let cases: [(&str, Vec<&str>); 4] = [
        ("run", vec!["run", "scenarios/site-failure-dac.json"]),
        (
            "study",
            vec![
                "study",
                "scenarios/site-failure-dac.json",
                "--replications",
                "4",
            ],
        ),
        (
            "compare",
            vec![
                "compare",
                "scenarios/db-corruption-dial-tone-same-server.json",
                "--strategies",
                "restore-only,dial-tone-same-server",
                "--replications",
                "5",
            ],
        ),
        (
            "sweep",
            vec![
                "sweep",
                "scenarios/site-failure-dac.json",
                "--set",
                "topology.dns.ttl=60s,1h",
                "--replications",
                "2",
            ],
        ),
    ];
    for (name, args) in cases {
        let dir = out(name);
        let mut a = args.clone();
        a.extend(["--format", "json", "--out", &dir]);
        let text = stdout_of(&a);
        // Like every output, the document opens with its kind and schema_version.
        let opening: String = text.split_whitespace().take(4).collect();
        assert!(
            opening.starts_with(&format!("{{\"kind\":\"{name}\",\"schema_version\":")),
            "{name}: {opening}"
        );
        // The whole of stdout is one JSON document (serde_json rejects trailing text).
        let mut printed: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        let file = json_file(&d.join(name).join("summary.json"));
        if name == "compare" {
            let verdict = printed
                .as_object_mut()
                .and_then(|m| m.remove("verdict"))
                .expect("compare prints its verdict");
            let v = verdict.as_array().expect("a list of sentences");
            assert_eq!(v.len(), 1, "{verdict}");
            let s = v[0].as_str().expect("a sentence");
            assert!(
                s.starts_with(
                    "dial-tone-same-server against restore-only: 95% of users can send and receive "
                ),
                "{s}"
            );
            assert!(s.contains("operator hours"), "{s}");
        }
        assert_eq!(printed, file, "{name}: stdout is summary.json's document");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_first_screen_answers_how_long_how_much_mail_and_at_what_cost() {
    let d = tmp("first-screen");
    let dir = d.to_str().expect("utf8");
    let compare = [
        "compare",
        "scenarios/db-corruption-dial-tone-same-server.json",
        "--strategies",
        "restore-only,dial-tone-same-server,none",
        "--replications",
        "6",
        "--quiet",
    ];
    let text = stdout_of(&compare);
    let first: Vec<&str> = text.lines().take(6).collect();
    let json: serde_json::Value = {
        let mut a = compare.to_vec();
        a.extend(["--format", "json", "--out", dir, "--report"]);
        serde_json::from_str(&stdout_of(&a)).expect("json")
    };
    // The verdict comes first, word for word the JSON's, then each strategy's levels.
    for (i, v) in json["verdict"]
        .as_array()
        .expect("verdict")
        .iter()
        .enumerate()
    {
        assert_eq!(first[1 + i].trim(), v.as_str().expect("str"), "{text}");
    }
    assert!(
        first[1].contains(" sooner [") && first[1].contains("h"),
        "{text}"
    );
    assert!(
        first[2].starts_with(
            "  none against restore-only: more than 5% of users never get send and receive back"
        ),
        "{text}"
    );
    assert!(first[2].contains("more messages not delivered ["), "{text}");
    assert!(first[3].starts_with("  restore-only: 95% of users can send and receive after "));
    for l in &first[1..6] {
        assert!(
            l.contains("messages not delivered") && l.contains("operator hours"),
            "{l}"
        );
        assert!(!l.contains("e6") && !l.contains("ms"), "human units: {l}");
    }
    // The report opens with the same verdict, before any chart.
    let report = std::fs::read_to_string(d.join("report.html")).expect("report");
    let at = report.find("id=\"verdict\"").expect("a verdict section");
    let sentence = json["verdict"][0].as_str().expect("str");
    let found = report
        .find(sentence)
        .expect("the verdict sentence in the report");
    assert!(at < found && found < report.find("<svg").expect("charts"));
    for args in [
        vec![
            "study",
            "scenarios/site-failure-dac.json",
            "--replications",
            "4",
            "--quiet",
        ],
        vec!["run", "scenarios/site-failure-dac.json"],
    ] {
        let text = stdout_of(&args);
        let second = text.lines().nth(1).expect("a headline line");
        assert!(
            second.contains("95% of users can send and receive after ")
                && second.contains("messages not delivered")
                && second.contains("operator hours"),
            "{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// The files of an output folder but its journal, sorted by name.
fn folder(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "journal.jsonl"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect();
    v.sort();
    v
}

fn ok(args: &[&str]) -> String {
    stdout_of(args)
}

/// Runs `args` whole, as shards 1/2 and 2/2, merges them and compares the folders.
fn sharded_equals_whole(name: &str, args: &[&str]) {
    let whole = tmp(&format!("{name}-whole"));
    let w = whole.to_str().expect("utf8");
    ok(&[args, &["--out", w]].concat());
    let mut shards = Vec::new();
    for s in ["1/2", "2/2"] {
        let d = tmp(&format!("{name}-shard-{}", &s[..1]));
        ok(&[args, &["--shard", s, "--out", d.to_str().expect("utf8")]].concat());
        shards.push(d);
    }
    let merged = tmp(&format!("{name}-merged"));
    let m = merged.to_str().expect("utf8");
    let dirs: Vec<&str> = shards.iter().map(|d| d.to_str().expect("utf8")).collect();
    ok(&[&["merge"][..], &dirs, &["--out", m]].concat());
    assert_eq!(
        folder(&merged),
        folder(&whole),
        "{name}: merged shards differ"
    );
    for d in shards.iter().chain([&whole, &merged]) {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_compare_of_variants_shards_merges_and_resumes() {
    let args = [
        "compare",
        "scenarios/db-corruption-dial-tone-same-server.json",
        "--strategies",
        "restore-only,dial-tone-same-server",
        "--variant",
        "ttl-1h:topology.dns.ttl=1h,clients.1.share=0.05",
        "--replications",
        "4",
        "--quiet",
    ];
    let out = ok(&args);
    assert!(
        out.contains("arm ttl-1h+restore-only: strategy restore-only, topology.dns.ttl=\"1h\""),
        "{out}"
    );
    assert!(
        out.contains("ttl-1h+dial-tone-same-server − base+restore-only"),
        "{out}"
    );
    sharded_equals_whole("cmp", &args);
    // A resumed folder of other arms is refused.
    let d = tmp("cmp-resume");
    let ds = d.to_str().expect("utf8");
    ok(&[&args[..], &["--out", ds]].concat());
    let mut other = args.to_vec();
    other[5] = "ttl-2h:topology.dns.ttl=2h";
    let refused = dialtone(&[&other[..], &["--out", ds, "--resume"]].concat());
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--resume of another study (the arms:"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let before = folder(&d);
    ok(&[&args[..], &["--out", ds, "--resume"]].concat());
    assert_eq!(
        folder(&d),
        before,
        "resuming a finished compare changes nothing"
    );
    let _ = std::fs::remove_dir_all(&d);
    // A bad variant names itself, the path and the fields there.
    let bad = dialtone(&[
        "compare",
        "scenarios/site-failure-dac.json",
        "--variant",
        "slow:topology.dns.tll=1h",
        "--quiet",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let e = String::from_utf8_lossy(&bad.stderr);
    assert!(
        e.contains("--variant slow") && e.contains("no field `tll`") && e.contains("ttl"),
        "{e}"
    );
}

#[test]
fn a_sweep_with_ranges_and_linked_paths_shards_and_merges() {
    let args = [
        "sweep",
        "scenarios/db-corruption-dial-tone-same-server.json",
        "--set",
        "clients.1.share,clients[2].share=0.05,0.1;0.1,0.05",
        "--set",
        "topology.dns.ttl=5m..1h/3",
        "--replications",
        "3",
        "--quiet",
    ];
    let out = ok(&args);
    // 2 (linked pair) x 3 (range) points, not 2 x 2 x 3.
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("topology.dns.ttl="))
            .count(),
        6,
        "{out}"
    );
    assert!(out.contains("topology.dns.ttl=\"32m30s\""), "{out}");
    sharded_equals_whole("swp", &args);
    let help = ok(&["sweep", "--help"]);
    for s in [
        "LO..HI/N",
        "LO..HI:step=S",
        "clients.1.share",
        "clients[1].share",
        "strategy=A,B",
    ] {
        assert!(help.contains(s), "sweep --help lacks {s}");
    }
    let help = ok(&["compare", "--help"]);
    assert!(
        help.contains("NAME:PATH=VALUE") && help.contains("NAME=FILE"),
        "{help}"
    );
}

#[test]
fn a_second_writer_of_a_folder_exits_2_naming_the_holder() {
    let d = tmp("locked");
    let ds = d.to_str().expect("utf8");
    let held =
        dialtone_study::folder::FolderLock::acquire(&d, "the test holding the lock").expect("lock");
    for args in [
        &["run", "scenarios/site-failure-dac.json", "--out", ds][..],
        &[
            "study",
            "scenarios/site-failure-dac.json",
            "--replications",
            "2",
            "--out",
            ds,
            "--resume",
        ],
        &["merge", ds, "--out", ds],
    ] {
        let out = dialtone(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("pid {}", std::process::id()))
                && stderr.contains("the test holding the lock"),
            "{stderr}"
        );
    }
    drop(held);
    ok(&["run", "scenarios/site-failure-dac.json", "--out", ds]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn resume_without_study_json_refuses_a_folder_with_a_journal() {
    let d = tmp("resume-nometa");
    let ds = d.to_str().expect("utf8");
    let args = [
        "study",
        "scenarios/site-failure-dac.json",
        "--replications",
        "3",
        "--quiet",
        "--out",
        ds,
    ];
    ok(&args);
    std::fs::remove_file(d.join("study.json")).expect("rm");
    let out = dialtone(&[&args[..], &["--resume"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--resume without study.json"), "{stderr}");
    // A new folder with --resume starts afresh (a scheduler's first attempt).
    let fresh = tmp("resume-fresh");
    ok(&[
        "study",
        "scenarios/site-failure-dac.json",
        "--replications",
        "3",
        "--quiet",
        "--resume",
        "--out",
        fresh.to_str().expect("utf8"),
    ]);
    let _ = (std::fs::remove_dir_all(&d), std::fs::remove_dir_all(&fresh));
}

#[test]
fn a_damaged_journal_line_is_recomputed_and_said_on_stderr() {
    let (whole, d) = (tmp("journal-whole"), tmp("journal-damaged"));
    let args = |o: &Path| {
        [
            "study",
            "scenarios/site-failure-dac.json",
            "--replications",
            "6",
            "--quiet",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([o.to_str().expect("utf8").to_owned()])
        .collect::<Vec<String>>()
    };
    let run = |a: &[String]| dialtone(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run(&args(&whole)).status.success());
    assert!(run(&args(&d)).status.success());
    // An interrupted study: no results yet, a journal with one line damaged.
    for f in [
        "summary.json",
        "replications.csv",
        "results.csv",
        "manifest.sha256",
    ] {
        std::fs::remove_file(d.join(f)).expect(f);
    }
    let p = d.join("journal.jsonl");
    let text = std::fs::read_to_string(&p).expect("journal");
    let first = text.lines().next().expect("a line");
    let broken = first.replacen("\"values\":[", "\"values\":[1", 1);
    std::fs::write(&p, text.replacen(first, &broken, 1)).expect("write");
    let mut resume = args(&d);
    resume.push("--resume".into());
    let out = run(&resume);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("dropped 1 damaged journal line"),
        "{stderr}"
    );
    assert_eq!(folder(&d), folder(&whole), "recomputed, not trusted");
    let _ = (std::fs::remove_dir_all(&d), std::fs::remove_dir_all(&whole));
}

#[test]
fn an_unfinished_folder_is_refused_by_report_and_merge() {
    let d = tmp("unfinished");
    let ds = d.to_str().expect("utf8");
    ok(&["run", "scenarios/site-failure-dac.json", "--out", ds]);
    // Killed between files: summary.json written, timeline.csv and the manifest not.
    std::fs::remove_file(d.join("timeline.csv")).expect("rm");
    std::fs::remove_file(d.join("manifest.sha256")).expect("rm");
    std::fs::write(d.join(".timeline.csv.tmp.99999.0"), "torn").expect("tmp");
    let out = dialtone(&["report", ds]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no manifest.sha256") && stderr.contains("re-run"),
        "{stderr}"
    );
    assert!(!d.join("report.html").exists());
    assert!(
        !d.join(".timeline.csv.tmp.99999.0").exists(),
        "the temporary is cleaned"
    );
    // A shard whose file changed after it was written is not merged.
    let s = tmp("unfinished-shard");
    let ss = s.to_str().expect("utf8");
    ok(&[
        "study",
        "scenarios/site-failure-dac.json",
        "--replications",
        "2",
        "--quiet",
        "--out",
        ss,
    ]);
    let csv = s.join("replications.csv");
    let text = std::fs::read_to_string(&csv).expect("csv");
    std::fs::write(&csv, text.replacen(",", ",9", 2)).expect("write");
    let m = tmp("unfinished-merged");
    let out = dialtone(&["merge", ss, "--out", m.to_str().expect("utf8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("replications.csv changed"), "{stderr}");
    let _ = (
        std::fs::remove_dir_all(&d),
        std::fs::remove_dir_all(&s),
        std::fs::remove_dir_all(&m),
    );
}
