//! A catalogue of bad scenario files: each gives a clear error naming the field and what
//! is wrong, and none panics.

use serde_json::{Value, json};

use crate::root;

fn base() -> Value {
    let text = std::fs::read_to_string(root().join("scenarios/site-failure-dac.json"))
        .expect("base scenario");
    serde_json::from_str(&text).expect("json")
}

/// Sets (or adds) the value at a JSON pointer.
fn set(v: &mut Value, pointer: &str, x: Value) {
    if let Some(slot) = v.pointer_mut(pointer) {
        *slot = x;
        return;
    }
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let obj = v
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no {parent}"));
    obj.insert(key.to_owned(), x);
}

/// Validates `v`; returns the error text (panics if it is accepted).
fn refuse(v: &Value) -> String {
    let text = serde_json::to_string(v).expect("json");
    match dialtone_scenario::parse("bad.json", "bad", &text) {
        Ok(_) => panic!("accepted a bad scenario"),
        Err(e) => e.to_string(),
    }
}

type Case = (&'static str, fn(&mut Value), &'static [&'static str]);

const CASES: &[Case] = &[
    (
        "no restore stream",
        |v| set(v, "/topology/backup/restore_streams", json!(0)),
        &[
            "topology.backup.restore_streams",
            "out of range",
            "1 to 10000",
        ],
    ),
    (
        "too many restore streams",
        |v| set(v, "/topology/backup/restore_streams", json!(10_001)),
        &["topology.backup.restore_streams", "10001", "1 to 10000"],
    ),
    (
        "unknown top-level field",
        |v| set(v, "/colour", json!("blue")),
        &["unknown field `colour`"],
    ),
    (
        "unknown field in a server",
        |v| set(v, "/topology/servers/0/ram", json!("64GB")),
        &["topology.servers[0]", "unknown field `ram`"],
    ),
    (
        "prose duration",
        |v| set(v, "/topology/dns/ttl", json!("5 minutes")),
        &["topology.dns.ttl", "\"5 minutes\"", "2h30m"],
    ),
    (
        "negative duration",
        |v| set(v, "/run/horizon", json!("-3s")),
        &["run.horizon", "negative"],
    ),
    (
        "zero horizon",
        |v| set(v, "/run/horizon", json!("0s")),
        &["run.horizon", "longer than zero"],
    ),
    (
        "copy on an unknown server",
        |v| set(v, "/topology/databases/0/copies/1/server", json!("mbx9")),
        &[
            "topology.databases[0].copies[1].server",
            "unknown server \"mbx9\"",
        ],
    ),
    (
        "copy outside the DAG",
        |v| {
            v["topology"]["servers"]
                .as_array_mut()
                .expect("array")
                .push(json!({"name": "lone", "site": "dc1"}));
            set(v, "/topology/databases/0/copies/1/server", json!("lone"));
        },
        &["topology.databases[0].copies[1].server", "not a DAG member"],
    ),
    (
        "duplicate server names",
        |v| set(v, "/topology/servers/1/name", json!("mbx1")),
        &["topology.servers[1].name", "duplicate server name \"mbx1\""],
    ),
    (
        "duplicate database names",
        |v| set(v, "/topology/databases/1/name", json!("db1")),
        &["topology.databases[1].name", "duplicate database"],
    ),
    (
        "witness inside the DAG",
        |v| set(v, "/topology/dag/witness/server", json!("mbx1")),
        &["topology.dag.witness.server", "cannot be a member"],
    ),
    (
        "server in an unknown site",
        |v| set(v, "/topology/servers/0/site", json!("dc9")),
        &[
            "topology.servers[0].site",
            "unknown site \"dc9\"",
            "\"dc1\"",
        ],
    ),
    (
        "link to an unknown site",
        |v| set(v, "/topology/links/0/between/1", json!("moon")),
        &["topology.links[0].between[1]", "unknown site"],
    ),
    (
        "unknown strategy",
        |v| set(v, "/strategy/name", json!("pray")),
        &[
            "strategy.name",
            "unknown strategy \"pray\"",
            "datacenter-switchover-dac",
        ],
    ),
    (
        "switchover without a second site",
        |v| {
            set(v, "/topology/servers/2/site", json!("dc1"));
            set(v, "/topology/servers/3/site", json!("dc1"));
        },
        &["strategy.name", "needs a second site with DAG members"],
    ),
    (
        "DAC switchover without DAC mode",
        |v| set(v, "/topology/dag/dac_mode", json!(false)),
        &["strategy.name", "needs DAC mode"],
    ),
    (
        "alternate server with none available",
        |v| {
            set(
                v,
                "/topology/servers",
                json!([{"name": "mbx1", "site": "dc1"}]),
            );
            set(v, "/topology/dag", json!({"members": ["mbx1"]}));
            set(
                v,
                "/topology/databases",
                json!([{"name": "db1", "size": "100GB", "mailboxes": 100, "copies": [{"server": "mbx1"}]}]),
            );
            set(
                v,
                "/failures",
                json!([{"kind": "server-loss", "target": "mbx1", "at": "1d"}]),
            );
            set(v, "/strategy/name", json!("dial-tone-alternate-server"));
        },
        &[
            "strategy.name",
            "needs a second mailbox server with the same schema version",
        ],
    ),
    (
        "2003 rebuild where the lost server was the only domain controller",
        |v| {
            set(v, "/topology/active_directory_elsewhere", json!(false));
            set(
                v,
                "/topology/servers",
                json!([{"name": "sbs", "site": "dc1"}]),
            );
            set(v, "/topology/dag", json!({"members": []}));
            set(
                v,
                "/topology/databases",
                json!([{"name": "db1", "size": "50GB", "mailboxes": 40, "copies": [{"server": "sbs"}]}]),
            );
            set(
                v,
                "/failures",
                json!([{"kind": "server-loss", "target": "sbs", "at": "1d"}]),
            );
            set(v, "/strategy/name", json!("dial-tone-rsg-2003"));
        },
        &[
            "topology.active_directory_elsewhere",
            "only domain controller",
        ],
    ),
    (
        "2003 choices for another strategy",
        |v| set(v, "/strategy/rsg_2003", json!({"service_pack_1": false})),
        &[
            "strategy.rsg_2003",
            "only for strategy \"dial-tone-rsg-2003\"",
        ],
    ),
    (
        "Recover Mailbox Data without SP1",
        |v| {
            set(
                v,
                "/failures",
                json!([{"kind": "server-loss", "target": "mbx1", "at": "1d"}]),
            );
            set(v, "/strategy/name", json!("dial-tone-rsg-2003"));
            set(
                v,
                "/strategy/rsg_2003",
                json!({"service_pack_1": false, "recover_mailbox_data": "merge"}),
            );
        },
        &[
            "strategy.rsg_2003.recover_mailbox_data",
            "needs Exchange 2003 SP1",
        ],
    ),
    (
        "client shares not adding to 1",
        |v| set(v, "/clients/0/share", json!(0.9)),
        &["clients", "add up to"],
    ),
    (
        "empty database",
        |v| set(v, "/topology/databases/0/size", json!("0GB")),
        &["topology.databases[0].size", "more than zero"],
    ),
    (
        "size without a unit",
        |v| set(v, "/topology/databases/0/size", json!("400")),
        &["topology.databases[0].size", "needs a unit"],
    ),
    (
        "no mailboxes",
        |v| set(v, "/topology/databases/0/mailboxes", json!(0)),
        &["topology.databases[0].mailboxes"],
    ),
    (
        "absurd mailbox count",
        |v| {
            set(
                v,
                "/topology/databases/0/mailboxes",
                json!(1_000_000_000u64),
            )
        },
        &["topology.databases[0].mailboxes", "between 1 and"],
    ),
    (
        "horizon beyond the limit",
        |v| set(v, "/run/horizon", json!("4000d")),
        &["run.horizon", "3650d"],
    ),
    (
        "failure of an unknown target",
        |v| set(v, "/failures/0/target", json!("dc7")),
        &["failures[0].target", "unknown target \"dc7\""],
    ),
    (
        "failure both scripted and stochastic",
        |v| set(v, "/failures/0/time_to_failure", json!("exponential(100h)")),
        &["failures[0]", "not both"],
    ),
    (
        "failure after the horizon",
        |v| set(v, "/failures/0/at", json!("30d")),
        &["failures[0].at", "horizon"],
    ),
    (
        "unknown distribution",
        |v| set(v, "/strategy/operators/decision", json!("normal(5m)")),
        &["strategy.operators.decision", "unknown distribution"],
    ),
    (
        "no operators",
        |v| set(v, "/strategy/operators/count", json!(0)),
        &["strategy.operators.count", "between 1 and 1000"],
    ),
    (
        "a crew of nobody",
        |v| set(v, "/crews", json!([{"name": "facilities", "count": 0}])),
        &["crews[0].count", "between 1 and 1000"],
    ),
    (
        "a crew named operators",
        |v| set(v, "/crews", json!([{"name": "operators"}])),
        &["crews[0].name", "strategy.operators.count"],
    ),
    (
        "failure repaired by an unknown crew",
        |v| set(v, "/failures/0/crew", json!("facilities")),
        &[
            "failures[0].crew",
            "unknown crew \"facilities\"",
            "\"operators\"",
        ],
    ),
    (
        "a crew for a permanent failure",
        |v| {
            set(v, "/failures/0/repair_after", json!(null));
            set(v, "/failures/0/crew", json!("operators"));
        },
        &["failures[0].crew", "permanent"],
    ),
    (
        "replay lag over 14 days",
        |v| set(v, "/topology/databases/0/copies/3/replay_lag", json!("15d")),
        &["topology.databases[0].copies[3].replay_lag", "14 days"],
    ),
    (
        "custom playbook with a cycle",
        |v| {
            set(
                v,
                "/strategy",
                json!({"name": "custom", "steps": [
        {"id": "a", "action": "manual", "after": ["b"]}, {"id": "b", "action": "manual", "after": ["a"]}]}),
            )
        },
        &["strategy.steps", "cycle"],
    ),
    (
        "custom step with an unknown action",
        |v| {
            set(
                v,
                "/strategy",
                json!({"name": "custom", "steps": [{"id": "a", "action": "reboot-everything"}]}),
            )
        },
        &["strategy.steps[0].action", "unknown action"],
    ),
    (
        "custom step missing an argument",
        |v| {
            set(
                v,
                "/strategy",
                json!({"name": "custom", "steps": [{"id": "a", "action": "mount"}]}),
            )
        },
        &["strategy.steps[0].database", "needs `database`"],
    ),
    (
        "custom step with a field its action does not take",
        |v| {
            set(
                v,
                "/strategy",
                json!({"name": "custom", "steps": [{"id": "a", "action": "mount",
                    "database": "db1", "servers": ["mbx1"]}]}),
            )
        },
        &[
            "strategy.steps[0].servers",
            "takes no `servers`",
            "database",
        ],
    ),
    (
        "custom step naming an unknown server",
        |v| {
            set(
                v,
                "/strategy",
                json!({"name": "custom", "steps": [{"id": "a", "action": "rebuild-server",
                    "server": "nowhere"}]}),
            )
        },
        &[
            "strategy.steps[0].server",
            "unknown server \"nowhere\"; servers are",
        ],
    ),
    (
        "custom step with a value of the wrong kind",
        |v| {
            set(
                v,
                "/strategy",
                json!({"name": "custom", "steps": [{"id": "a", "action": "mount",
                    "database": "db1", "to": "elsewhere"}]}),
            )
        },
        &[
            "strategy.steps[0]",
            "action \"mount\"",
            "elsewhere",
            "dial-tone",
        ],
    ),
    (
        "steps for a built-in strategy",
        |v| {
            set(
                v,
                "/strategy",
                json!({"name": "restore-only", "steps": [{"id": "a", "action": "manual"}]}),
            )
        },
        &["strategy.steps", "only for strategy \"custom\""],
    ),
    (
        "wrong type",
        |v| set(v, "/run/seed", json!("forty-two")),
        &["run.seed", "invalid type"],
    ),
    (
        "not JSON at all",
        |v| *v = json!("not a scenario"),
        &["invalid type"],
    ),
];

#[test]
fn the_catalogue_of_bad_files_is_refused_with_clear_messages() {
    assert!(CASES.len() >= 20);
    for (name, mutate, expect) in CASES {
        let mut v = base();
        mutate(&mut v);
        let msg = refuse(&v);
        assert!(
            msg.starts_with("bad.json: "),
            "{name}: names the file: {msg}"
        );
        for e in *expect {
            assert!(msg.contains(e), "{name}: expected {e:?} in:\n{msg}");
        }
    }
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let mut v = base();
    set(&mut v, "/topology/servers/0/site", json!("dc9"));
    set(&mut v, "/topology/databases/1/name", json!("db1"));
    set(&mut v, "/clients/0/share", json!(0.1));
    set(&mut v, "/failures/0/target", json!("nowhere"));
    let msg = refuse(&v);
    assert!(
        msg.contains("4 problem(s)") || msg.contains("5 problem(s)"),
        "{msg}"
    );
    for e in [
        "topology.servers[0].site",
        "topology.databases[1].name",
        "clients",
        "failures[0].target",
    ] {
        assert!(msg.contains(e), "{e} missing from:\n{msg}");
    }
}

#[test]
fn random_json_never_panics_the_validator() {
    use proptest::prelude::*;
    let base_text = serde_json::to_string(&base()).expect("json");
    let mut runner =
        proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(256));
    runner
        .run(&(0usize..base_text.len(), any::<u8>()), |(i, b)| {
            let mut bytes = base_text.clone().into_bytes();
            bytes[i] = b;
            if let Ok(t) = String::from_utf8(bytes) {
                let _ = dialtone_scenario::parse("fuzz.json", "fuzz", &t);
            }
            Ok(())
        })
        .expect("no panic");
}
