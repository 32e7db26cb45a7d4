//! Limits on the command line: numeric options hold the files' limits, JSON files are
//! one document, paths that cannot be used are bad input (exit 2), and a replication
//! that costs far more than the first ones is announced on stderr.

mod common;
use common::*;

use std::path::PathBuf;
use std::process::{Command, Output};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dialtone-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_file(&d);
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Refused with exit 2, and the message holds every one of `want`.
fn refused(args: &[&str], want: &[&str]) {
    let o = dialtone(args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
    for w in want {
        assert!(e.contains(w), "{args:?}: want {w:?} in {e}");
    }
}

const S: &str = "scenarios/restore-only.json";

#[test]
fn replications_and_threads_hold_the_limits_of_the_files() {
    for cmd in [
        vec!["study", S],
        vec!["compare", S, "--strategies", "none,restore-only"],
        vec!["sweep", S, "--set", "topology.dns.ttl=5m,1h"],
    ] {
        let with = |extra: &[&'static str]| -> Vec<&'static str> {
            [cmd.clone(), extra.to_vec()].concat()
        };
        refused(
            &with(&["--replications", "18446744073709551615"]),
            &[
                "--replications",
                "between 1 and 10,000,000",
                "run.replications",
            ],
        );
        refused(&with(&["--replications", "10000001"]), &["10,000,000"]);
        refused(&with(&["--replications", "0"]), &["between 1 and"]);
        refused(
            &with(&["--threads", "10000"]),
            &["--threads", "at most 256"],
        );
        refused(
            &with(&["--shard", "1/10000001"]),
            &["--shard", "n <= 10,000,000"],
        );
    }
    refused(
        &["run", S, "--replication", "10000000"],
        &["--replication", "0 to 9,999,999"],
    );
    // The limits are the documented ones.
    let help = String::from_utf8(dialtone(&["study", "--help"]).stdout).expect("utf8");
    assert!(help.contains("at most 256"), "{help}");
    assert!(help.contains("1 to 10,000,000"), "{help}");
    // At the limit, a study starts (and a small one finishes).
    let o = dialtone(&[
        "study",
        S,
        "--replications",
        "2",
        "--threads",
        "256",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_huge_replication_count_reserves_no_memory_before_work_starts() {
    // 10,000,000 replications of a failing scenario: the first replication fails, and
    // the study stops at once instead of first reserving a slot for every replication.
    let dir = tmp("huge");
    std::fs::create_dir_all(&dir).expect("dir");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(S)).expect("read"))
            .expect("json");
    v["run"]["max_events"] = serde_json::json!(1);
    let f = dir.join("budget.json");
    std::fs::write(&f, v.to_string()).expect("write");
    let start = std::time::Instant::now();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 600000; exec {} study {} --replications 10000000 --threads 1 --quiet",
            env!("CARGO_BIN_EXE_dialtone"),
            f.display()
        ))
        .output()
        .expect("runs");
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("replication 0 failed"), "{e}");
    assert!(start.elapsed().as_secs() < 60);
}

#[test]
fn text_after_the_json_document_is_refused_in_every_file_read() {
    let dir = tmp("trailing");
    std::fs::create_dir_all(&dir).expect("dir");
    let text = std::fs::read_to_string(root().join(S)).expect("read");
    let two = dir.join("two.json");
    std::fs::write(&two, format!("{text}{text}")).expect("write");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, format!("{text}}} garbage")).expect("write");
    let (two, garbage) = (two.to_str().expect("utf8"), garbage.to_str().expect("utf8"));
    let want = [
        "text after the end of the JSON document at line",
        "delete what follows",
    ];
    refused(&["validate", two], &[&[two][..], &want].concat());
    refused(&["validate", garbage], &want);
    refused(&["run", garbage], &want);
    refused(&["study", two, "--replications", "1"], &want);
    refused(
        &["compare", two, "--strategies", "none,restore-only"],
        &want,
    );
    refused(
        &["sweep", garbage, "--set", "topology.dns.ttl=5m,1h"],
        &want,
    );
    // A variant file is read the same way.
    let variant = format!("other={garbage}");
    refused(
        &["compare", S, "--variant", &variant, "--replications", "1"],
        &want,
    );
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let dir = tmp("bom");
    std::fs::create_dir_all(&dir).expect("dir");
    let text = std::fs::read_to_string(root().join(S)).expect("read");
    let f = dir.join("bom.json");
    std::fs::write(&f, format!("\u{feff}{text}")).expect("write");
    let f = f.to_str().expect("utf8");
    let o = dialtone(&["validate", f]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plain = dialtone(&["study", S, "--replications", "2", "--format", "json"]);
    let bom = dialtone(&["study", f, "--replications", "2", "--format", "json"]);
    assert!(bom.status.success(), "{}", stderr(&bom));
    assert_eq!(
        String::from_utf8_lossy(&bom.stdout).replace("bom", "restore-only"),
        String::from_utf8_lossy(&plain.stdout)
    );
    let o = dialtone(&[
        "sweep",
        f,
        "--set",
        "topology.dns.ttl=5m,1h",
        "--replications",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn output_paths_that_cannot_be_used_are_bad_input() {
    let file = tmp("a-file");
    std::fs::write(&file, "x").expect("write");
    let f = file.to_str().expect("utf8");
    let under = format!("{f}/sub");
    for out in [f, under.as_str()] {
        for cmd in [
            vec!["run", S, "--out", out],
            vec!["study", S, "--replications", "1", "--quiet", "--out", out],
            vec![
                "compare",
                S,
                "--strategies",
                "none,restore-only",
                "--replications",
                "1",
            ],
        ] {
            let mut args = cmd.clone();
            if cmd[0] == "compare" {
                args.extend(["--out", out]);
            }
            refused(&args, &[f, "a file is in the way", "choose another path"]);
        }
    }
    // /proc exists but no file can be created there, not even by root.
    refused(
        &[
            "study",
            S,
            "--replications",
            "1",
            "--quiet",
            "--out",
            "/proc",
        ],
        &["/proc/", "choose another"],
    );
    refused(&["run", S, "--out", "/proc"], &["/proc/"]);
    refused(&["report", f], &[f]);
    refused(&["merge", f, "--out", "/tmp"], &[f]);
    refused(
        &["validate", "/proc/no-such-scenario.json"],
        &["cannot read the file"],
    );
}

#[test]
fn a_replication_far_costlier_than_the_first_ones_is_announced() {
    // The `long` arm runs 20x the horizon and never restores the corrupted database, so
    // mail for it waits and retries all along (no quiet stretch): each of its
    // replications processes more than ten times the events of the first ones (the base
    // arm's).
    let args = [
        "compare",
        S,
        "--variant",
        "long:run.horizon=80d,strategy=none",
        "--replications",
        "3",
        "--quiet",
    ];
    let o = dialtone(&args);
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(
        e.contains("warning: replication 0 of long processed"),
        "{e}"
    );
    assert!(e.contains("x the "), "{e}");
    assert!(
        e.contains("3 of 6 replications cost more than 10x in events"),
        "{e}"
    );
    assert!(
        e.contains("never repaired") && e.contains("--replication 0"),
        "{e}"
    );
    // Reproducible: the same warning every time, on any thread count.
    let again = dialtone(&[&args[..], &["--threads", "1"]].concat());
    assert_eq!(stderr(&again), e);
    // The outputs are not changed by it, and an even study warns of nothing.
    let o = dialtone(&["study", S, "--replications", "4", "--quiet"]);
    assert!(
        !stderr(&o).contains("warning: replication"),
        "{}",
        stderr(&o)
    );
}
