//! The JSON Schema of the scenario format, generated from the serde types of
//! [`crate::spec`] (`dialtone schema`; committed as `scenarios/dialtone.schema.json`,
//! which every shipped scenario names in `"$schema"` so that editors check and complete).

use crate::spec::ScenarioSpec;

/// Where the shipped scenarios find the schema, relative to their folder.
pub const SCHEMA_FILE: &str = "dialtone.schema.json";

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
    s.to_value()
}

/// The schema as pretty-printed text with a final newline, as `dialtone schema` prints it.
pub fn schema_text() -> String {
    let mut t = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    t.push('\n');
    t
}
