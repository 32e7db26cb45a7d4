//! People are finite: operators and repair crews do one piece of work each at a time,
//! and ready work queues first in, first out (docs/MODEL.md, `runner.operators`,
//! `runner.crews`).

use dialtone_scenario::Summary;
use serde_json::{Value, json};

/// Two standalone servers `a` and `b` with one database each (`da`, `db`), no mail;
/// `failures` and `strategy` as given, over one day.
fn org(failures: Value, strategy: Value, crews: Value) -> Summary {
    let v = json!({
        "description": "crews",
        "topology": {
            "sites": [{"name": "s"}],
            "servers": [{"name": "a", "site": "s"}, {"name": "b", "site": "s"}],
            "dag": {"members": []},
            "databases": [
                {"name": "da", "size": "10GB", "mailboxes": 100, "copies": [{"server": "a"}]},
                {"name": "db", "size": "10GB", "mailboxes": 100, "copies": [{"server": "b"}]}
            ],
            "backup": {"every": null}
        },
        "clients": [{"kind": "web", "share": 1.0}],
        "client_behaviour": {"buckets": 1, "web_retry": "1ms"},
        "workload": {"messages_per_user_per_day": 0, "tick": "1h"},
        "crews": crews,
        "failures": failures,
        "strategy": strategy,
        "run": {"horizon": "1d", "seed": 1}
    });
    let sc = dialtone_scenario::parse("crews.json", "crews", &v.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    dialtone_scenario::run(&sc, sc.seed, 0).unwrap_or_else(|e| panic!("{e}"))
}

/// A custom playbook of `steps` run by `count` operators, started 10 minutes after a
/// scripted outage of `a` at 1h (repaired after 12h by `crew`).
fn playbook(count: u32, steps: Value, crew: Value) -> Summary {
    org(
        json!([{"kind": "server-outage", "target": "a", "at": "1h", "repair_after": "12h", "crew": crew}]),
        json!({"name": "custom", "operators": {"count": count, "detection": "10m", "decision": "0s"}, "steps": steps}),
        json!([]),
    )
}

/// (started, finished) of step `id`, seconds.
fn times(s: &Summary, id: &str) -> (f64, f64) {
    let x = s
        .playbook
        .steps
        .iter()
        .find(|x| x.name == id)
        .unwrap_or_else(|| panic!("no step {id}"));
    (
        x.started_s.expect("started"),
        x.finished_s.expect("finished"),
    )
}

const START: f64 = 4200.0; // 1h10m: the outage, then 10 minutes of detection

#[test]
fn one_operator_runs_two_manual_steps_one_after_the_other_and_two_in_parallel() {
    let steps = json!([
        {"id": "x", "action": "manual", "duration": "10m"},
        {"id": "y", "action": "manual", "duration": "10m"}
    ]);
    let one = playbook(1, steps.clone(), Value::Null);
    assert!(one.playbook.finished, "{:?}", one.playbook.stuck);
    assert_eq!(times(&one, "x"), (START, START + 600.0));
    assert_eq!(
        times(&one, "y"),
        (START + 600.0, START + 1200.0),
        "y waits for x"
    );
    let two = playbook(2, steps, Value::Null);
    assert_eq!(times(&two, "x"), (START, START + 600.0));
    assert_eq!(times(&two, "y"), (START, START + 600.0), "in parallel");
    // Waiting is not work: 20 operator-minutes either way.
    assert_eq!(one.metrics.operator_hours, two.metrics.operator_hours);
    assert!((one.metrics.operator_hours - 1.0 / 3.0).abs() < 1e-9);
}

#[test]
fn waits_and_delays_hold_no_operator() {
    let steps = json!([
        {"id": "x", "action": "manual", "duration": "10m"},
        {"id": "pause", "action": "delay", "duration": "10m"}
    ]);
    let one = playbook(1, steps, Value::Null);
    assert_eq!(times(&one, "pause"), (START, START + 600.0));
    assert!((one.metrics.operator_hours - 1.0 / 6.0).abs() < 1e-9);
}

#[test]
fn queued_work_goes_first_in_first_out_then_by_step_order() {
    // At the start y, z and w are ready: y (the lowest index) takes the operator, z and w
    // queue in step order. When y finishes, x becomes ready; z and w have waited longer
    // and go first.
    let steps = json!([
        {"id": "x", "action": "manual", "duration": "10m", "after": ["y"]},
        {"id": "y", "action": "manual", "duration": "10m"},
        {"id": "z", "action": "manual", "duration": "10m"},
        {"id": "w", "action": "manual", "duration": "10m"}
    ]);
    let s = playbook(1, steps, Value::Null);
    let order = ["y", "z", "w", "x"].map(|id| times(&s, id).0);
    assert_eq!(
        order,
        [START, START + 600.0, START + 1200.0, START + 1800.0],
        "y, z, w, x"
    );
}

#[test]
fn a_playbook_cut_off_while_queued_says_it_waited_for_an_operator() {
    let steps = json!([
        {"id": "long", "action": "manual", "duration": "30d"},
        {"id": "next", "action": "manual", "duration": "1m"}
    ]);
    let s = playbook(1, steps, Value::Null);
    let next = s
        .playbook
        .steps
        .iter()
        .find(|x| x.name == "next")
        .expect("step");
    assert_eq!(next.started_s, None, "it never started");
    assert_eq!(next.result, "not started");
    let stuck = s.playbook.stuck.expect("stuck");
    assert!(
        stuck.contains("\"next\"") && stuck.contains("free operator"),
        "{stuck}"
    );
}

#[test]
fn operators_who_repair_a_failure_are_busy_for_the_playbook() {
    // The outage at 1h takes the only operator for its 12 h repair; the playbook's step,
    // ready at 1h10m, starts when the repair is done.
    let steps = json!([{"id": "x", "action": "manual", "duration": "10m"}]);
    let s = playbook(1, steps.clone(), json!("operators"));
    assert_eq!(times(&s, "x").0, 13.0 * 3600.0);
    assert!((s.metrics.operator_hours - (12.0 + 1.0 / 6.0)).abs() < 1e-9);
    let two = playbook(2, steps, json!("operators"));
    assert_eq!(times(&two, "x").0, START, "the second operator is free");
}

/// RTO of database `name`, seconds.
fn rto(s: &Summary, name: &str) -> f64 {
    s.databases
        .iter()
        .find(|d| d.name == name)
        .and_then(|d| d.rto_s)
        .unwrap_or_else(|| panic!("{name} never came back"))
}

#[test]
fn a_crew_of_one_repairs_two_servers_one_after_the_other() {
    let outages = |crew: Value| {
        json!([
            {"kind": "server-outage", "target": "a", "at": "1h", "repair_after": "2h", "crew": crew},
            {"kind": "server-outage", "target": "b", "at": "1h", "repair_after": "2h", "crew": crew}
        ])
    };
    let none = json!({"name": "none"});
    let one = org(
        outages(json!("facilities")),
        none.clone(),
        json!([{"name": "facilities", "count": 1}]),
    );
    // Same instant: failures in file order, so a first.
    assert_eq!(rto(&one, "da"), 7200.0);
    assert_eq!(rto(&one, "db"), 14400.0, "b waits for a's repair");
    let two = org(
        outages(json!("facilities")),
        none.clone(),
        json!([{"name": "facilities", "count": 2}]),
    );
    assert_eq!((rto(&two, "da"), rto(&two, "db")), (7200.0, 7200.0));
    let independent = org(outages(Value::Null), none, json!([]));
    assert_eq!(
        (rto(&independent, "da"), rto(&independent, "db")),
        (7200.0, 7200.0)
    );
}
