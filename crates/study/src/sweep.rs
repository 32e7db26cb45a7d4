//! `sweep`: a grid over scenario parameters addressed by their JSON path
//! (`topology.dns.ttl`, `topology.databases[0].size`, `failures[0].repair_after`).

use dialtone_scenario::metrics::{Kind, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Row, StudyError, StudySummary};

/// summary.json of `dialtone sweep` (`kind` `sweep`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSummary {
    /// Always [`Kind::Sweep`].
    pub kind: Kind,
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// The swept JSON paths, in the order given.
    pub axes: Vec<String>,
    /// Every grid point, first axis slowest.
    pub points: Vec<SweepPoint>,
}

/// One grid point of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPoint {
    /// `PATH=VALUE` for every axis, space-separated.
    pub point: String,
    /// The value of each axis at this point, as given (JSON: a number, or a string such
    /// as `"300s"`), in [`SweepSummary::axes`] order.
    pub values: Vec<Value>,
    /// The study at this point.
    pub summary: StudySummary,
    /// Its rows (not serialised into summary.json; empty when read back: they are in
    /// results.csv).
    #[serde(skip)]
    pub rows: Vec<Row>,
}

impl SweepSummary {
    /// The sweep of `scenario` over `axes` with these points.
    pub fn new(scenario: &str, axes: &[Axis], points: Vec<SweepPoint>) -> SweepSummary {
        SweepSummary {
            kind: Kind::Sweep,
            schema_version: SCHEMA_VERSION,
            scenario: scenario.to_owned(),
            axes: axes.iter().map(|a| a.path.clone()).collect(),
            points,
        }
    }
}

/// One swept parameter: a path and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The JSON path.
    pub path: String,
    /// The values, as JSON.
    pub values: Vec<Value>,
}

/// Parses `PATH=V1,V2,...`. A value that is valid JSON (a number, true/false, a quoted
/// string, an object) is taken as JSON; anything else as a string (`300s`).
pub fn parse_set(s: &str) -> Result<Axis, StudyError> {
    let (path, vals) = s.split_once('=').ok_or_else(|| {
        StudyError::Input(format!(
            "--set {s:?}: write PATH=V1,V2,..., e.g. topology.dns.ttl=60s,300s"
        ))
    })?;
    let values: Vec<Value> = vals
        .split(',')
        .map(|v| {
            serde_json::from_str(v.trim()).unwrap_or_else(|_| Value::String(v.trim().to_owned()))
        })
        .collect();
    if path.trim().is_empty() || values.iter().any(|v| v == &Value::String(String::new())) {
        return Err(StudyError::Input(format!(
            "--set {s:?}: empty path or value"
        )));
    }
    Ok(Axis {
        path: path.trim().to_owned(),
        values,
    })
}

/// Sets the value at a dotted path with `[i]` indices; the path must exist.
pub fn set_path(root: &mut Value, path: &str, v: Value) -> Result<(), StudyError> {
    let mut cur = root;
    let mut walked = String::new();
    let parts: Vec<&str> = path.split('.').collect();
    for (k, part) in parts.iter().enumerate() {
        let (key, idx) = match part.find('[') {
            Some(b) => (&part[..b], Some(&part[b..])),
            None => (*part, None),
        };
        let last = k + 1 == parts.len() && idx.is_none();
        let here = if walked.is_empty() {
            "the top level".to_owned()
        } else {
            walked.clone()
        };
        let obj = cur
            .as_object_mut()
            .ok_or_else(|| StudyError::Input(format!("--set {path}: {here} is not an object")))?;
        if last {
            if !obj.contains_key(key) && !known_optional(key) {
                return Err(StudyError::Input(format!(
                    "--set {path}: no field `{key}` at {here}; fields there are {}",
                    obj.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            obj.insert(key.to_owned(), v);
            return Ok(());
        }
        cur = obj.get_mut(key).ok_or_else(|| {
            StudyError::Input(format!("--set {path}: no field `{key}` at {here}"))
        })?;
        walked = if walked.is_empty() {
            key.to_owned()
        } else {
            format!("{walked}.{key}")
        };
        if let Some(idx) = idx {
            for i in idx.split(']').filter(|x| !x.is_empty()) {
                let n: usize = i
                    .trim_start_matches('[')
                    .parse()
                    .map_err(|_| StudyError::Input(format!("--set {path}: bad index {i}]")))?;
                let len = cur.as_array().map_or(0, Vec::len);
                cur = cur
                    .as_array_mut()
                    .and_then(|a| a.get_mut(n))
                    .ok_or_else(|| {
                        StudyError::Input(format!(
                            "--set {path}: {walked} has {len} elements, no [{n}]"
                        ))
                    })?;
                walked = format!("{walked}[{n}]");
            }
            if k + 1 == parts.len() {
                *cur = v;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Fields that may be absent in a file (they have defaults) but can still be swept.
fn known_optional(key: &str) -> bool {
    matches!(
        key,
        "dns"
            | "transport"
            | "backup"
            | "replication"
            | "timing"
            | "ttl"
            | "propagation"
            | "pinned_client_share"
            | "restart_period"
            | "multi_ip"
            | "edge"
            | "shadow_redundancy"
            | "safety_net_hold"
            | "dac_mode"
            | "dynamic_quorum"
            | "mount_dial"
            | "messages_per_user_per_day"
            | "profile"
            | "message_size"
            | "buckets"
            | "outlook_retry"
            | "web_retry"
            | "mobile_retry"
            | "helpdesk_per_hour"
            | "cached_online_share"
            | "detection"
            | "decision"
            | "heartbeat"
            | "failover"
            | "mount_concurrency"
            | "swap_outage"
            | "merge_mailboxes_per_hour"
            | "merge_data_rate"
            | "restore_rate"
            | "restore_total_rate"
            | "restore_streams"
            | "replay_rate"
            | "log_copy_rate"
            | "seed_rate"
            | "log_volume"
            | "every"
            | "first"
            | "site"
            | "capacity_mailboxes"
            | "replay_lag"
            | "circular_logging"
            | "repair_after"
            | "on_time_within"
            | "rto_target"
            | "switchback_after"
            | "alternate_server"
    )
}

/// Every combination of the axes' values, first axis slowest.
pub fn grid(axes: &[Axis]) -> Vec<Vec<Value>> {
    let mut out = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|p| {
                a.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(v.clone());
                    q
                })
            })
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_values() {
        let a = parse_set("topology.dns.ttl=60s,300s,3600s").expect("ok");
        assert_eq!(a.values, vec![json!("60s"), json!("300s"), json!("3600s")]);
        let b = parse_set("workload.messages_per_user_per_day=10,60").expect("ok");
        assert_eq!(b.values, vec![json!(10), json!(60)]);
        assert!(parse_set("nothing").is_err());
        let mut v = json!({"topology": {"dns": {"ttl": "5m"}, "databases": [{"size": "1GB"}]}});
        set_path(&mut v, "topology.dns.ttl", json!("1h")).expect("set");
        set_path(&mut v, "topology.databases[0].size", json!("2GB")).expect("set");
        assert_eq!(v["topology"]["dns"]["ttl"], "1h");
        assert_eq!(v["topology"]["databases"][0]["size"], "2GB");
        let e = set_path(&mut v, "topology.dsn.ttl", json!("1h"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no field `dsn`"), "{e}");
        let e = set_path(&mut v, "topology.databases[3].size", json!("1GB"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("has 1 elements"), "{e}");
        assert_eq!(grid(&[a, b]).len(), 6);
    }
}
