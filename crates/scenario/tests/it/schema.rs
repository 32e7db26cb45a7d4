//! The JSON Schema of the scenario format (`dialtone schema`): the committed copy is
//! current, every shipped scenario names it and satisfies it, and it refuses what the
//! parser refuses for the common mistakes (so editors flag them).

use serde_json::{Value, json};

use crate::root;

fn committed() -> String {
    let path = root()
        .join("scenarios")
        .join(dialtone_scenario::schema::SCHEMA_FILE);
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn the_committed_schema_is_current() {
    let now = dialtone_scenario::schema::schema_text();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let path = root()
            .join("scenarios")
            .join(dialtone_scenario::schema::SCHEMA_FILE);
        std::fs::write(path, &now).expect("write schema");
        return;
    }
    assert!(
        committed() == now,
        "scenarios/{} is stale: regenerate with `dialtone schema > scenarios/{}` \
         (or UPDATE_GOLDEN=1 cargo test -p dialtone-scenario --test it schema)",
        dialtone_scenario::schema::SCHEMA_FILE,
        dialtone_scenario::schema::SCHEMA_FILE
    );
}

/// A validator for the generated schema.
pub(crate) fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&dialtone_scenario::schema::schema()).expect("a valid schema")
}

/// The schema's complaints about `v`, one a line.
pub(crate) fn violations(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn shipped() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("read");
            (
                f.display().to_string(),
                serde_json::from_str(&text).expect("json"),
            )
        })
        .collect()
}

#[test]
fn every_shipped_scenario_names_the_schema_and_satisfies_it() {
    let v = validator();
    let files = shipped();
    assert!(files.len() >= 11);
    for (f, doc) in files {
        assert_eq!(
            doc["$schema"],
            json!(dialtone_scenario::schema::SCHEMA_FILE),
            "{f}: \"$schema\" names the schema beside it"
        );
        let bad = violations(&v, &doc);
        assert!(bad.is_empty(), "{f}:\n{}", bad.join("\n"));
    }
}

#[test]
fn the_schema_refuses_common_mistakes() {
    let v = validator();
    let (_, base) = shipped().into_iter().next().expect("a scenario");
    let mistakes: [(&str, &str, Value); 7] = [
        ("unknown field", "/topology/colour", json!("blue")),
        (
            "size without unit",
            "/topology/databases/0/size",
            json!("400"),
        ),
        ("duration without unit", "/topology/dns/ttl", json!("5")),
        ("unknown failure kind", "/failures/0/kind", json!("meteor")),
        (
            "unknown action",
            "/strategy/steps",
            json!([{"id": "a", "action": "reboot"}]),
        ),
        (
            "field the action does not take",
            "/strategy/steps",
            json!([{"id": "a", "action": "mount", "database": "db1", "servers": ["x"]}]),
        ),
        (
            "layout without servers",
            "/topology/database_layouts",
            json!([{"count": 2, "name": "d{}", "size": "1GB", "mailboxes": 1, "copies": 1}]),
        ),
    ];
    for (what, pointer, x) in mistakes {
        let mut doc = base.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("pointer");
        doc.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("{what}: no {parent}"))
            .insert(key.to_owned(), x);
        assert!(
            !violations(&v, &doc).is_empty(),
            "{what}: the schema accepts it"
        );
    }
    // A custom step as the parser takes it is accepted.
    let mut doc = base;
    doc["strategy"]["steps"] = json!([{"id": "m", "action": "mount", "database": "db1",
        "to": "dial-tone", "after": [], "duration": "5m"}, {"id": "w", "action": "manual"}]);
    let bad = violations(&v, &doc);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
