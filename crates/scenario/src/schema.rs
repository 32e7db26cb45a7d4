//! The JSON Schema of the scenario format, generated from the serde types of
//! [`crate::spec`] (`dialtone schema`; committed as `scenarios/schema/dialtone.schema.json`,
//! which every shipped scenario names in `"$schema"` so that editors check and complete;
//! a folder of its own keeps `scenarios/*.json` to scenarios).

use crate::spec::ScenarioSpec;

/// Where the shipped scenarios find the schema, relative to their folder (the value of
/// their `"$schema"`).
pub const SCHEMA_FILE: &str = "schema/dialtone.schema.json";

/// The schema as JSON.
pub fn schema() -> serde_json::Value {
    let mut s = schemars::schema_for!(ScenarioSpec);
    s.insert("title".into(), "dialtone scenario".into());
    s.insert(
        "description".into(),
        "A dialtone scenario file: an organisation, what breaks and what the administrators do. \
         docs/SCENARIOS.md documents every field."
            .into(),
    );
    let mut v = s.to_value();
    drop_rate_defaults(&mut v);
    v
}

/// Rates serialize in whole MB/s, so a default such as 45GB/h would show as "13MB/s":
/// the descriptions give rate defaults as written instead.
fn drop_rate_defaults(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if m.get("$ref").and_then(|r| r.as_str()) == Some("#/$defs/Rate") {
                m.remove("default");
            }
            m.values_mut().for_each(drop_rate_defaults);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(drop_rate_defaults),
        _ => {}
    }
}

/// The schema as pretty-printed text with a final newline, as `dialtone schema` prints it.
pub fn schema_text() -> String {
    let mut t = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    t.push('\n');
    t
}
