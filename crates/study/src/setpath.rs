//! `--set PATH=VALUE`: a scenario parameter addressed by its JSON path, set in the
//! scenario's JSON before validation.
//!
//! A path is keys separated by `.`; a list element is `[i]` or a numeric segment `.i`:
//! `topology.dns.ttl`, `clients[1].share`, `clients.1.share`,
//! `topology.databases[0].copies[2].replay_lag`.

use serde_json::Value;

use crate::StudyError;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A field of an object.
    Key(String),
    /// An element of a list (0-based).
    Index(usize),
}

/// Splits a path into its segments: `clients[1].share` and `clients.1.share` both give
/// `[Key("clients"), Index(1), Key("share")]`.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, StudyError> {
    let bad = |why: &str| {
        StudyError::Input(format!(
            "{path}: {why}; write a path such as topology.dns.ttl, clients[1].share or clients.1.share"
        ))
    };
    let mut segs = Vec::new();
    for part in path.trim().split('.') {
        let (key, rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if key.is_empty() && rest.is_empty() {
            return Err(bad("empty segment"));
        }
        if !key.is_empty() {
            segs.push(match key.parse::<usize>() {
                Ok(i) => Segment::Index(i),
                Err(_) => Segment::Key(key.to_owned()),
            });
        } else if segs.is_empty() {
            return Err(bad("the path starts with an index"));
        }
        let mut rest = rest;
        while !rest.is_empty() {
            let inner = rest
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .ok_or_else(|| bad(&format!("bad index in {part:?}")))?;
            let i = inner
                .0
                .trim()
                .parse::<usize>()
                .map_err(|_| bad(&format!("[{}] is not a list index", inner.0)))?;
            segs.push(Segment::Index(i));
            rest = inner.1;
        }
    }
    Ok(segs)
}

/// The one spelling of a path: `clients.1.share` and `clients[1].share` are both
/// `clients[1].share`, so a path is recognised however it was written (a path swept twice,
/// a results.csv column).
pub fn canonical(path: &str) -> Result<String, StudyError> {
    Ok(show(&parse_path(path)?))
}

fn show(walked: &[Segment]) -> String {
    if walked.is_empty() {
        return "the top level".into();
    }
    let mut s = String::new();
    for seg in walked {
        match seg {
            Segment::Key(k) if s.is_empty() => s.push_str(k),
            Segment::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Sets the value at `path` (see the module docs); the path must exist, apart from a
/// last field that may be absent because it has a default.
pub fn set_path(root: &mut Value, path: &str, v: Value) -> Result<(), StudyError> {
    let segs = parse_path(path)?;
    let err = |m: String| StudyError::Input(format!("{path}: {m}"));
    let mut cur = root;
    for (k, seg) in segs.iter().enumerate() {
        let here = show(&segs[..k]);
        let last = k + 1 == segs.len();
        match seg {
            Segment::Key(key) => {
                let obj = cur.as_object_mut().ok_or_else(|| {
                    err(format!(
                        "{here} is not an object (an element of a list is [i] or .i)"
                    ))
                })?;
                if last {
                    if !obj.contains_key(key) && !known_optional(key) {
                        return Err(err(format!(
                            "no field `{key}` at {here}; fields there are {}",
                            obj.keys().cloned().collect::<Vec<_>>().join(", ")
                        )));
                    }
                    obj.insert(key.clone(), v);
                    return Ok(());
                }
                cur = obj
                    .get_mut(key)
                    .ok_or_else(|| err(format!("no field `{key}` at {here}")))?;
            }
            Segment::Index(i) => {
                let list = cur
                    .as_array_mut()
                    .ok_or_else(|| err(format!("{here} is not a list, so [{i}] does not apply")))?;
                let len = list.len();
                let el = list
                    .get_mut(*i)
                    .ok_or_else(|| err(format!("{here} has {len} elements, no [{i}]")))?;
                if last {
                    *el = v;
                    return Ok(());
                }
                cur = el;
            }
        }
    }
    Err(err("empty path".into()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "topology": {"dns": {"ttl": "5m"}, "databases": [{"size": "1GB", "copies": [{"server": "a"}, {"server": "b"}]}]},
            "clients": [{"kind": "outlook", "share": 0.6}, {"kind": "web", "share": 0.4}]
        })
    }

    #[test]
    fn a_numeric_segment_and_a_bracket_both_index_a_list() {
        let mut v = doc();
        set_path(&mut v, "clients.1.share", json!(0.3)).expect("dot index");
        assert_eq!(v["clients"][1]["share"], json!(0.3));
        set_path(&mut v, "clients[0].share", json!(0.7)).expect("bracket index");
        assert_eq!(v["clients"][0]["share"], json!(0.7));
        set_path(&mut v, "topology.databases.0.copies.1.server", json!("c")).expect("nested");
        set_path(&mut v, "topology.databases[0].copies[0].server", json!("d")).expect("nested");
        assert_eq!(v["topology"]["databases"][0]["copies"][1]["server"], "c");
        assert_eq!(v["topology"]["databases"][0]["copies"][0]["server"], "d");
        assert_eq!(
            parse_path("clients.1.share").expect("path"),
            parse_path("clients[1].share").expect("path")
        );
    }

    #[test]
    fn both_spellings_have_one_canonical_form() {
        for p in ["clients.1.share", "clients[1].share", " clients.1.share"] {
            assert_eq!(canonical(p).expect("ok"), "clients[1].share");
        }
        assert_eq!(
            canonical("topology.databases.0.copies[2].replay_lag").expect("ok"),
            "topology.databases[0].copies[2].replay_lag"
        );
    }

    #[test]
    fn bad_paths_say_where_they_went_wrong() {
        let mut v = doc();
        let e = |v: &mut Value, p: &str| set_path(v, p, json!(1)).unwrap_err().to_string();
        assert!(e(&mut v, "topology.dsn.ttl").contains("no field `dsn`"));
        assert!(e(&mut v, "clients.5.share").contains("clients has 2 elements, no [5]"));
        assert!(e(&mut v, "clients[x].share").contains("not a list index"));
        assert!(e(&mut v, "topology.dns.0").contains("topology.dns is not a list"));
        assert!(e(&mut v, "clients.share").contains("clients is not an object"));
        assert!(e(&mut v, "clients..share").contains("empty segment"));
        set_path(&mut v, "topology.dns.ttl", json!("1h")).expect("set");
        assert_eq!(v["topology"]["dns"]["ttl"], "1h");
    }
}
