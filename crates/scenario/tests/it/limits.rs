//! Limits of every file: one JSON document (nothing after it, a byte-order mark
//! skipped), names that are not empty, numeric fields within documented bounds, operator
//! delays within the horizon.

use serde_json::{Value, json};

use crate::root;

fn text() -> String {
    std::fs::read_to_string(root().join("scenarios/site-failure-dac.json")).expect("scenario")
}

fn base() -> Value {
    serde_json::from_str(&text()).expect("json")
}

fn refuse_text(text: &str) -> String {
    match dialtone_scenario::parse("bad.json", "bad", text) {
        Ok(_) => panic!("accepted a bad scenario"),
        Err(e) => e.to_string(),
    }
}

fn refuse(v: &Value) -> String {
    refuse_text(&serde_json::to_string_pretty(v).expect("json"))
}

#[test]
fn text_after_the_json_document_is_refused_with_its_line_and_column() {
    let t = text();
    let lines = t.lines().count();
    for (extra, col) in [(t.as_str(), 1), ("} garbage", 1), ("  x", 3)] {
        let bad = format!("{t}{extra}");
        let e = refuse_text(&bad);
        assert!(e.starts_with("bad.json: "), "{e}");
        assert!(e.contains("text after the end of the JSON document"), "{e}");
        assert!(
            e.contains(&format!("line {} column {col}", lines + 1)),
            "{extra:.9}: {e}"
        );
        assert!(e.contains("delete what follows"), "{e}");
        assert!(dialtone_scenario::validate::parse_json("bad.json", &bad).is_err());
    }
    // Whitespace after the document is fine.
    assert!(dialtone_scenario::parse("ok.json", "ok", &format!("{t}\n\n  ")).is_ok());
}

#[test]
fn a_utf8_byte_order_mark_is_skipped() {
    let t = format!("\u{feff}{}", text());
    let sc = dialtone_scenario::parse("bom.json", "bom", &t).expect("a BOM is accepted");
    let plain = dialtone_scenario::parse("bom.json", "bom", &text()).expect("plain");
    assert_eq!(sc.digest(), plain.digest());
    let v = dialtone_scenario::validate::parse_json("bom.json", &t).expect("value");
    assert_eq!(v, base());
    // Only at the start: a mark inside the text is not whitespace.
    assert!(dialtone_scenario::parse("x.json", "x", &format!("{}\u{feff}", text())).is_err());
}

#[test]
fn empty_names_are_refused() {
    let mut v = base();
    v["topology"]["dag"]["witness"]["server"] = json!("");
    let e = refuse(&v);
    assert!(e.contains("topology.dag.witness.server"), "{e}");
    assert!(e.contains("witness server name is empty"), "{e}");
    let mut v = base();
    v["topology"]["links"][0]["name"] = json!(" ");
    let e = refuse(&v);
    assert!(
        e.contains("topology.links[0].name: link name is empty"),
        "{e}"
    );
    for (pointer, what) in [
        (
            "/topology/sites/0/name",
            "topology.sites[0].name: site name is empty",
        ),
        (
            "/topology/servers/0/name",
            "topology.servers[0].name: server name is empty",
        ),
        (
            "/topology/databases/0/name",
            "topology.databases[0].name: database name is empty",
        ),
    ] {
        let mut v = base();
        *v.pointer_mut(pointer).expect(pointer) = json!("");
        let e = refuse(&v);
        assert!(e.contains(what), "{pointer}: {e}");
    }
}

#[test]
fn an_empty_step_id_is_refused() {
    let mut v = base();
    v["strategy"] = json!({"name": "custom", "steps": [
        {"id": "", "action": "manual", "duration": "5m"}
    ]});
    let e = refuse(&v);
    assert!(e.contains("strategy.steps[0].id: step id is empty"), "{e}");
}

#[test]
fn operator_delays_longer_than_the_horizon_are_refused() {
    for (field, value) in [("decision", "100000d"), ("detection", "lognormal(30d, 1d)")] {
        let mut v = base();
        v["strategy"]["operators"] = json!({ field: value });
        v["run"]["horizon"] = json!("7d");
        let e = refuse(&v);
        assert!(e.contains(&format!("strategy.operators.{field}")), "{e}");
        assert!(e.contains("longer than run.horizon (7d)"), "{e}");
        assert!(e.contains("never start"), "{e}");
    }
    // Within the horizon is fine.
    let mut v = base();
    v["strategy"]["operators"] = json!({"decision": "6d"});
    v["run"]["horizon"] = json!("7d");
    let t = serde_json::to_string(&v).expect("json");
    assert!(dialtone_scenario::parse("ok.json", "ok", &t).is_ok());
}

#[test]
fn numeric_fields_have_limits() {
    let cases: &[(&str, Value, &str)] = &[
        (
            "/run/replications",
            json!(10_000_001),
            "run.replications: between 1 and 10000000",
        ),
        ("/run/replications", json!(0), "run.replications"),
        (
            "/run/max_events",
            json!(100_000_000_001u64),
            "run.max_events",
        ),
        (
            "/topology/servers/0/capacity_mailboxes",
            json!(u64::MAX),
            "topology.servers[0].capacity_mailboxes: mailboxes a server can hold",
        ),
        (
            "/topology/timing",
            json!({"mount_concurrency": 0}),
            "topology.timing.mount_concurrency: databases Active Manager mounts at once: between 1 and 10,000 (got 0)",
        ),
        (
            "/topology/timing",
            json!({"merge_mailboxes_per_hour": u64::MAX}),
            "topology.timing.merge_mailboxes_per_hour",
        ),
        (
            "/client_behaviour",
            json!({"helpdesk_per_hour": u64::MAX}),
            "client_behaviour.helpdesk_per_hour",
        ),
        (
            "/topology/databases/0/copies/0/preference",
            json!(u32::MAX),
            "topology.databases[0].copies: activation preference between 1 and 16",
        ),
    ];
    for (pointer, value, want) in cases {
        let mut v = base();
        let (parent, key) = pointer.rsplit_once('/').expect("pointer");
        v.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect(parent)
            .insert(key.to_owned(), value.clone());
        let e = refuse(&v);
        assert!(e.contains(want), "{pointer}={value}: {e}");
    }
}
