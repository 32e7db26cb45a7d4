//! One step of a custom playbook as written: an id, dependencies, an optional duration,
//! and an action with that action's own fields only:
//!
//! ```json
//! {"id": "mount", "action": "mount", "database": "db1", "to": "dial-tone", "after": ["move"]}
//! ```
//!
//! [`ActionSpec`] is a serde enum tagged by `action`, so a field that the action does not
//! take, a missing field or an unknown action is a parse error whose path names the step
//! and, where there is one, the field.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::units::Dist;

/// Separates a field name from the message in a step error: `parse_spec` moves the field
/// into the issue's JSON path (serde reports a missing field at the enclosing object).
pub(crate) const FIELD_SEP: char = '\u{1f}';

/// One step of a custom playbook.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
// The action's own fields come from `oneOf`: anything no subschema names is unknown.
#[schemars(extend("unevaluatedProperties" = false))]
pub struct StepSpec {
    /// Unique id, used by `after`.
    pub id: String,
    /// Steps that must finish first.
    #[serde(default)] // read by the JSON Schema only: the visitor below defaults it
    pub after: Vec<String>,
    /// How long it takes (default: the action's documented default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<Dist>,
    /// What it does, with the action's own fields.
    #[serde(flatten)]
    pub action: ActionSpec,
}

/// Which database of a mailbox group an action addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DbRefSpec {
    /// The original database (default).
    #[default]
    Original,
    /// The dial tone database.
    DialTone,
    /// The recovery database.
    Recovery,
}

/// A DNS record a step changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecordSpec {
    /// The client access namespace (OWA, Outlook Anywhere, ActiveSync).
    ClientAccess,
    /// Autodiscover.
    Autodiscover,
    /// The MX record.
    Mx,
    /// Unified Messaging.
    UnifiedMessaging,
}

/// The action of a custom step and its arguments (`dialtone list actions`; the model's
/// administrator actions, plus waits, manual work and delays). Names are the names in the
/// file: `database`, `server`, `servers`, `site`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
#[allow(missing_docs)] // the fields are the file's argument names, documented above
pub enum ActionSpec {
    /// Stop-DatabaseAvailabilityGroup of `servers`, run from `site`'s Active Directory.
    StopDag {
        servers: Vec<String>,
        site: String,
        #[serde(default)]
        configuration_only: bool,
    },
    /// Restore-DatabaseAvailabilityGroup for `site`.
    RestoreDag { site: String },
    /// Start-DatabaseAvailabilityGroup of `servers`, run from `site`.
    StartDag { servers: Vec<String>, site: String },
    /// Set-DatabaseAvailabilityGroup -WitnessServer.
    SetWitness { server: String },
    /// `net start clussvc /forcequorum`.
    ForceQuorum { server: String },
    /// Evict a cluster node.
    EvictNode { server: String },
    /// `cluster node /forcecleanup`.
    ForceCleanup { server: String },
    /// Start (`on: true`) or stop the cluster service.
    ClusterService { server: String, on: bool },
    /// Mount a database of the group.
    Mount {
        database: String,
        #[serde(default)]
        to: DbRefSpec,
    },
    /// Dismount a database of the group.
    Dismount {
        database: String,
        #[serde(default)]
        to: DbRefSpec,
    },
    /// Move-ActiveMailboxDatabase to `server`.
    MoveActive {
        database: String,
        server: String,
        #[serde(default)]
        skip_checks: bool,
    },
    /// Block (`on: true`) or unblock activation on a server.
    BlockActivation { server: String, on: bool },
    /// Reseed the group's copy on `server`.
    Reseed { database: String, server: String },
    /// Remove the group's copy on `server`.
    RemoveCopy { database: String, server: String },
    /// Create an empty dial tone database on `server`.
    CreateDialTone { database: String, server: String },
    /// Point the group's mailboxes at one of its databases.
    MoveMailboxes {
        database: String,
        #[serde(default)]
        to: DbRefSpec,
    },
    /// Restore the backup into a recovery database on `server`.
    RestoreBackup { database: String, server: String },
    /// Restore the backup over the original database.
    RestoreInPlace { database: String },
    /// Add-ResubmitRequest: Safety Net resubmits the mail the group's restored database
    /// lost (a restore does not ask by itself).
    Resubmit { database: String },
    /// Swap the dial tone and recovered databases.
    Swap { database: String },
    /// Merge the other database's mail into the served one.
    Merge { database: String },
    /// Helpdesk: point Outlook profiles at `server`.
    ReconfigureProfiles { database: String, server: String },
    /// Point a DNS record at `site`.
    ChangeDns { record: RecordSpec, site: String },
    /// Power a server on or off.
    PowerServer { server: String, on: bool },
    /// Power a site on or off.
    PowerSite { site: String, on: bool },
    /// Rebuild a lost server under its name.
    RebuildServer { server: String },
    /// Wait until the group's restore has finished.
    WaitRestore { database: String },
    /// Wait until the group's merge has finished.
    WaitMerge { database: String },
    /// Wait until every copy of the group's database is healthy.
    WaitCopiesHealthy { database: String },
    /// Wait until `site` has power.
    WaitSiteUp { site: String },
    /// Human work with no effect on the world.
    Manual {},
    /// A set wait that is not operator work.
    Delay {},
}

impl ActionSpec {
    /// Every action's name, for `dialtone list actions` (in the order of the enum).
    pub const NAMES: &[&str] = &[
        "stop-dag",
        "restore-dag",
        "start-dag",
        "set-witness",
        "force-quorum",
        "evict-node",
        "force-cleanup",
        "cluster-service",
        "mount",
        "dismount",
        "move-active",
        "block-activation",
        "reseed",
        "remove-copy",
        "create-dial-tone",
        "move-mailboxes",
        "restore-backup",
        "restore-in-place",
        "resubmit",
        "swap",
        "merge",
        "reconfigure-profiles",
        "change-dns",
        "power-server",
        "power-site",
        "rebuild-server",
        "wait-restore",
        "wait-merge",
        "wait-copies-healthy",
        "wait-site-up",
        "manual",
        "delay",
    ];
}

impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StepVisitor)
    }
}

struct StepVisitor;

impl<'de> Visitor<'de> for StepVisitor {
    type Value = StepSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a step: {\"id\": ..., \"action\": ..., and the action's fields}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StepSpec, A::Error> {
        let (mut id, mut after, mut duration, mut action) = (None, None, None, None);
        let mut args = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let seen = match key.as_str() {
                "id" => id.replace(map.next_value::<String>()?).is_some(),
                "after" => after.replace(map.next_value::<Vec<String>>()?).is_some(),
                "duration" => duration.replace(map.next_value::<Dist>()?).is_some(),
                // Read through a seed so that an unknown action is reported at `.action`.
                "action" => action.replace(map.next_value_seed(ActionName)?).is_some(),
                _ => args
                    .insert(key.clone(), map.next_value::<Value>()?)
                    .is_some(),
            };
            if seen {
                return Err(de::Error::custom(format!("duplicate field `{key}`")));
            }
        }
        let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        let name: &'static str = action.ok_or_else(|| de::Error::missing_field("action"))?;
        args.insert("action".into(), Value::String(name.into()));
        let action = ActionSpec::deserialize(Value::Object(args)).map_err(|e| {
            let msg = e.to_string();
            let field = |prefix: &str| {
                msg.strip_prefix(prefix)
                    .and_then(|rest| rest.split('`').next())
                    .map(str::to_owned)
            };
            de::Error::custom(if let Some(f) = field("missing field `") {
                format!("{f}{FIELD_SEP}action {name:?} needs `{f}`")
            } else if let Some(f) = field("unknown field `") {
                let takes = msg.split_once(", expected ").map_or("", |(_, e)| e);
                format!("{f}{FIELD_SEP}action {name:?} takes no `{f}`; it takes {takes}")
            } else {
                format!("action {name:?}: {msg}")
            })
        })?;
        Ok(StepSpec {
            id,
            after: after.unwrap_or_default(),
            duration,
            action,
        })
    }
}

/// Reads an action name and refuses unknown ones where the path still points at it.
struct ActionName;

impl<'de> DeserializeSeed<'de> for ActionName {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let name = String::deserialize(d)?;
        ActionSpec::NAMES
            .iter()
            .copied()
            .find(|n| *n == name)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown action {name:?}; see `dialtone list actions`"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<StepSpec, String> {
        serde_path_to_error::deserialize(v).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    #[test]
    fn every_action_name_parses_and_serializes_back() {
        assert_eq!(
            ActionSpec::NAMES.len(),
            32,
            "a new action needs its name here"
        );
        let mount = parse(
            serde_json::json!({"id": "m", "action": "mount", "database": "db1",
            "to": "dial-tone", "after": ["a"], "duration": "5m"}),
        )
        .expect("valid");
        assert_eq!(
            mount.action,
            ActionSpec::Mount {
                database: "db1".into(),
                to: DbRefSpec::DialTone
            }
        );
        let back = serde_json::to_value(&mount).expect("serialize");
        assert_eq!(back["action"], "mount");
        assert_eq!(parse(back).expect("round trip"), mount);
        for name in ActionSpec::NAMES {
            let e = parse(serde_json::json!({"id": "x", "action": name, "bogus": 1}))
                .expect_err("no action takes `bogus`");
            assert!(e.contains("bogus"), "{name}: {e}");
        }
    }

    #[test]
    fn wrong_fields_are_parse_errors_that_name_the_field() {
        let e = parse(serde_json::json!({"id": "a", "action": "reboot-everything"})).unwrap_err();
        assert!(e.starts_with("action: unknown action"), "{e}");
        let e = parse(serde_json::json!({"id": "a", "action": "mount"})).unwrap_err();
        assert!(
            e.contains(&format!(
                "database{FIELD_SEP}action \"mount\" needs `database`"
            )),
            "{e}"
        );
        let e = parse(
            serde_json::json!({"id": "a", "action": "mount", "database": "d",
            "servers": ["x"]}),
        )
        .unwrap_err();
        assert!(
            e.contains(&format!(
                "servers{FIELD_SEP}action \"mount\" takes no `servers`"
            )),
            "{e}"
        );
        let e = parse(serde_json::json!({"action": "manual"})).unwrap_err();
        assert!(e.contains("missing field `id`"), "{e}");
        let text = r#"{"id": "a", "action": "manual", "action": "delay"}"#;
        let de = &mut serde_json::Deserializer::from_str(text);
        let e = serde_path_to_error::deserialize::<_, StepSpec>(de).unwrap_err();
        assert!(e.to_string().contains("duplicate field `action`"), "{e}");
    }
}
