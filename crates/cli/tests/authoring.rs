//! `dialtone init`, `schema`, `completions`, `man` and `--version`, through the real
//! binary.

mod common;
use common::*;

use std::path::PathBuf;
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dialtone-authoring-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn init_writes_a_scenario_that_validates_and_runs() {
    let dir = tmp("init");
    let file = dir.join("org.json");
    let f = file.to_str().expect("utf8");
    let flags = [
        "init",
        "--sites",
        "2",
        "--servers-per-site",
        "3",
        "--databases",
        "24",
        "--copies",
        "3",
        "--users",
        "12000",
        "--lag",
        "7d",
        "--ttl",
        "1h",
    ];
    let printed = dialtone(&flags);
    assert!(printed.status.success(), "{}", text(&printed.stderr));
    let mut to_file = flags.to_vec();
    to_file.extend(["--out", f]);
    let out = dialtone(&to_file);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&file).expect("written"), printed.stdout);
    // The file's "$schema" resolves beside it, wherever it was written.
    let doc: serde_json::Value =
        serde_json::from_slice(&printed.stdout).expect("the scenario is JSON");
    let named = doc["$schema"].as_str().expect("$schema");
    let schema = std::fs::read_to_string(dir.join(named)).expect("the schema it names");
    assert_eq!(schema, text(&dialtone(&["schema"]).stdout));
    let out = dialtone(&["validate", f]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ok (24 databases, 12000 users"),
        "{}",
        text(&out.stdout)
    );
    let out = dialtone(&["run", f]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("playbook finished"),
        "{}",
        text(&out.stdout)
    );
    // An existing file is kept unless --force.
    let out = dialtone(&to_file);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    to_file.push("--force");
    assert!(dialtone(&to_file).status.success());
}

#[test]
fn init_refuses_nonsense_with_exit_2() {
    for (args, want) in [
        (&["--servers-per-site", "0"][..], "--servers-per-site"),
        (
            &["--copies", "9"][..],
            "--copies: between 1 and the number of servers (4)",
        ),
        (&["--ttl", "5"][..], "--ttl"),
        (&["--clients", "fax=1"][..], "unknown client kind"),
        (&["--strategy", "custom"][..], "--strategy"),
        (&["--sites", "0"][..], "--sites"),
        (&["--sites", "two"][..], "--sites"),
    ] {
        let mut a = vec!["init"];
        a.extend(args);
        let out = dialtone(&a);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = dialtone(&["schema"]);
    assert!(out.status.success());
    let committed = std::fs::read(root().join("scenarios/schema/dialtone.schema.json"))
        .expect("committed schema");
    assert!(
        out.stdout == committed,
        "scenarios/schema/dialtone.schema.json is stale"
    );
}

#[test]
fn completions_and_man_pages_name_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = dialtone(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let s = text(&out.stdout);
        for sub in ["init", "validate", "compare", "completions"] {
            assert!(s.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let out = dialtone(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let out = dialtone(&["man"]);
    assert!(out.status.success());
    let page = text(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH dialtone"),
        "{page}"
    );
    assert!(page.contains("init") && page.contains("sweep"), "{page}");
    let dir = tmp("man");
    let out = dialtone(&["man", "--out", dir.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for page in ["dialtone.1", "dialtone-init.1", "dialtone-run.1"] {
        assert!(dir.join(page).exists(), "{page}");
    }
}

#[test]
fn version_names_the_commit() {
    let out = dialtone(&["--version"]);
    assert!(out.status.success());
    let v = text(&out.stdout);
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".to_owned(), |o| text(&o.stdout).trim().to_owned());
    assert_eq!(
        v.trim(),
        format!("dialtone {} (commit {head})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn the_authoring_commands_have_help_with_an_example() {
    for sub in ["init", "schema", "completions", "man"] {
        let out = dialtone(&[sub, "--help"]);
        assert!(out.status.success());
        assert!(
            text(&out.stdout).contains("Example: dialtone"),
            "{sub} --help has no example"
        );
    }
}
