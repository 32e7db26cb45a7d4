//! The standard set of `dialtone bench` and the fingerprints of its runs.
//!
//! The set: every scenario file of a folder (`scenarios/`), [`SHIPPED_REPLICATIONS`]
//! replications each, and two scaled copies of `enterprise-two-sites` made in memory by
//! [`scale`] (as `benches/scale/scale-scenario.py` writes them): ten times the databases,
//! and a 365-day horizon (a steady year: the failure, then the switchback; and the
//! shipped playbook's year, which never switches back), [`SCALED_REPLICATIONS`] each.
//!
//! A fingerprint digests what replications `0..R` of a scenario did, as OMNeT++'s
//! fingerprints do: each replication's trace (the engine's `HashTrace`: every record's
//! time, component, what and detail, in order) and its number of events, folded in
//! replication order with FNV-1a 64. It depends only on the scenario, its seed and `R`:
//! not on the machine, the thread count, or how replications are split among threads or
//! shards (each replication is digested on its own). Any change of behaviour that shows
//! in the trace or moves an event changes it.

use std::path::{Path, PathBuf};

use dialtone_engine::HashTrace;
use dialtone_scenario::Scenario;
use rayon::prelude::*;
use serde_json::Value;

use crate::{StudyError, replay_command};

/// Replications of each shipped scenario.
pub const SHIPPED_REPLICATIONS: u64 = 10;
/// Replications of each scaled scenario (one takes seconds).
pub const SCALED_REPLICATIONS: u64 = 1;
/// The scenario the scaled copies are made of.
pub const SCALE_BASE: &str = "enterprise-two-sites";

/// Where a bench scenario comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A scenario file, as it is.
    File(PathBuf),
    /// A scaled copy of a scenario file ([`scale`]).
    Scaled {
        /// The file scaled.
        base: PathBuf,
        /// Times the databases.
        databases_factor: usize,
        /// The horizon in days, if changed.
        days: Option<u32>,
        /// The strategy replaced by `switchback` (the DAC switchover followed by the
        /// switchback, `switchback_after` 1 d): a year that returns to steady operation.
        switchback: bool,
    },
}

/// One scenario of the bench set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchCase {
    /// Its name (the file's stem, or the base's with the scaling).
    pub name: String,
    /// Replications `0..replications` are run and fingerprinted.
    pub replications: u64,
    /// A shipped file (`true`) or a scaled copy (left out by `--quick`).
    pub shipped: bool,
    /// Where it comes from.
    pub source: Source,
}

/// The standard set of the scenario folder `dir`: its files in name order, then the
/// scaled copies of [`SCALE_BASE`] if the folder has it.
pub fn standard_set(dir: &Path) -> Result<Vec<BenchCase>, StudyError> {
    let io = |e| StudyError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut set: Vec<BenchCase> = files
        .into_iter()
        .map(|f| BenchCase {
            name: stem(&f),
            replications: SHIPPED_REPLICATIONS,
            shipped: true,
            source: Source::File(f),
        })
        .collect();
    let base = dir.join(format!("{SCALE_BASE}.json"));
    if base.is_file() {
        // The steady year: the same failure, then the switchback, so the other 363 days
        // are ordinary mail. The shipped playbook's year (no switchback: dc1's copies
        // stay stopped, every log volume fills at ~230 days and no mail is delivered
        // after that) is kept, named for what it measures.
        for (suffix, databases_factor, days, switchback) in [
            ("x10-databases", 10, None, false),
            ("365-days-switchback", 1, Some(365), true),
            ("365-days-no-switchback", 1, Some(365), false),
        ] {
            set.push(BenchCase {
                name: format!("{SCALE_BASE}-{suffix}"),
                replications: SCALED_REPLICATIONS,
                shipped: false,
                source: Source::Scaled {
                    base: base.clone(),
                    databases_factor,
                    days,
                    switchback,
                },
            });
        }
    }
    Ok(set)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned())
}

impl BenchCase {
    /// The validated scenario (warnings are not printed).
    pub fn load(&self) -> Result<Scenario, StudyError> {
        let bad = |e: dialtone_scenario::ScenarioError| StudyError::Input(e.to_string());
        match &self.source {
            Source::File(f) => dialtone_scenario::load(f).map_err(bad),
            Source::Scaled {
                base,
                databases_factor,
                days,
                switchback,
            } => {
                let file = base.display().to_string();
                let text = std::fs::read_to_string(base).map_err(|source| StudyError::Io {
                    path: file.clone(),
                    source,
                })?;
                let mut doc: Value = serde_json::from_str(&text)
                    .map_err(|e| StudyError::Input(format!("{file}: {e}")))?;
                scale(&mut doc, *databases_factor, *days)
                    .map_err(|e| StudyError::Input(format!("{file}: {e}")))?;
                if *switchback {
                    doc["strategy"] =
                        serde_json::json!({"name": "switchback", "switchback_after": "1d"});
                }
                let label = format!("{file} scaled as {}", self.name);
                dialtone_scenario::parse(&label, &self.name, &doc.to_string()).map_err(bad)
            }
        }
    }
}

/// Scales a scenario document as `benches/scale/scale-scenario.py` does: `k` times the
/// databases, each with 1/k of the mailboxes and size (users and mail stay the same),
/// database `j` keeping the copies of original database `j mod D`; `days` sets the
/// horizon.
pub fn scale(doc: &mut Value, k: usize, days: Option<u32>) -> Result<(), String> {
    if k > 1 {
        let dbs = doc
            .pointer("/topology/databases")
            .and_then(Value::as_array)
            .filter(|d| !d.is_empty())
            .ok_or("topology.databases is not a non-empty list")?
            .clone();
        let n = dbs.len() * k;
        let width = n.to_string().len();
        let scaled: Vec<Value> = (0..n)
            .map(|j| {
                let mut db = dbs[j % dbs.len()].clone();
                db["name"] = format!("db{:0width$}", j + 1).into();
                let m = db["mailboxes"].as_u64().unwrap_or(1);
                db["mailboxes"] = (m / k as u64).max(1).into();
                if let Some(size) = db["size"].as_str().and_then(|s| scaled_size(s, k)) {
                    db["size"] = size.into();
                }
                db
            })
            .collect();
        doc["topology"]["databases"] = scaled.into();
    }
    if let Some(d) = days {
        doc["run"]["horizon"] = format!("{d}d").into();
    }
    Ok(())
}

/// `"250GB"` over `k`, in MB (the script's rule); other sizes are kept.
fn scaled_size(size: &str, k: usize) -> Option<String> {
    let gb: u64 = size.strip_suffix("GB")?.parse().ok()?;
    Some(format!("{}MB", (gb * 1000 / k as u64).max(1)))
}

/// What one replication did, digested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicationDigest {
    /// The replication.
    pub replication: u64,
    /// The digest of its trace.
    pub trace: u64,
    /// Its trace records.
    pub records: u64,
    /// Its events.
    pub events: u64,
}

/// Runs replications `0..replications` of `scenario` with `seed` on `threads` threads (0:
/// all cores), each digesting its trace; returns them in replication order.
pub fn digests(
    scenario: &Scenario,
    seed: u64,
    replications: u64,
    threads: usize,
) -> Result<Vec<ReplicationDigest>, StudyError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|_| StudyError::Threads(threads))?;
    pool.install(|| {
        (0..replications)
            .into_par_iter()
            .map(|r| {
                let (_, h, events) =
                    dialtone_scenario::run_counted(scenario, seed, r, HashTrace::default())
                        .map_err(|source| StudyError::Run {
                            replication: r,
                            replay: replay_command(scenario, seed, r),
                            source,
                        })?;
                Ok(ReplicationDigest {
                    replication: r,
                    trace: h.digest(),
                    records: h.records(),
                    events,
                })
            })
            .collect()
    })
}

/// The fingerprint of replications in order: 16 hex digits.
pub fn fingerprint(digests: &[ReplicationDigest]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for d in digests {
        for v in [d.replication, d.trace, d.records, d.events] {
            for b in v.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(r: u64, trace: u64) -> ReplicationDigest {
        ReplicationDigest {
            replication: r,
            trace,
            records: 3,
            events: 10,
        }
    }

    #[test]
    fn a_fingerprint_changes_with_any_replication_and_its_order() {
        let a = [digest(0, 1), digest(1, 2)];
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_ne!(fingerprint(&a), fingerprint(&[digest(0, 1), digest(1, 3)]));
        assert_ne!(fingerprint(&a), fingerprint(&[a[1], a[0]]));
        let mut more = a[1];
        more.events += 1;
        assert_ne!(fingerprint(&a), fingerprint(&[a[0], more]));
        assert_eq!(fingerprint(&a).len(), 16);
    }

    #[test]
    fn scaling_multiplies_databases_and_divides_their_mailboxes_and_size() {
        let mut doc = serde_json::json!({
            "topology": {"databases": [
                {"name": "a", "mailboxes": 500, "size": "250GB", "copies": [1]},
                {"name": "b", "mailboxes": 5, "size": "10MB", "copies": [2]}
            ]},
            "run": {"horizon": "7d"}
        });
        scale(&mut doc, 10, Some(365)).expect("scales");
        let dbs = doc["topology"]["databases"].as_array().expect("list");
        assert_eq!(dbs.len(), 20);
        assert_eq!(dbs[0]["name"], "db01");
        assert_eq!(dbs[19]["name"], "db20");
        assert_eq!(dbs[2]["mailboxes"], 50);
        assert_eq!(dbs[2]["size"], "25000MB");
        assert_eq!(dbs[3]["mailboxes"], 1);
        assert_eq!(dbs[3]["size"], "10MB");
        assert_eq!(dbs[3]["copies"], serde_json::json!([2]));
        assert_eq!(doc["run"]["horizon"], "365d");
    }
}
