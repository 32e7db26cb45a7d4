//! Runs the real `dialtone` binary.

use std::process::Command;

fn dialtone(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .output()
        .expect("the binary runs")
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
