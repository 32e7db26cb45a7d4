//! `dialtone-study`: Monte Carlo studies over a scenario.
//!
//! - Replication `r` of a study with master seed `S` runs with streams `(S, r)`: its
//!   result does not depend on which thread runs it, on the thread count, or on the
//!   shard, and two strategies run with the same `(S, r)` see the same failures, mail and
//!   clients (common random numbers).
//! - Rows are kept sorted by replication index and every statistic is a pure function
//!   of the sorted rows, so a study split into shards and merged gives byte-identical
//!   outputs.
//! - [`stats`] defines the statistics; [`io`] the files of every output folder (a run's,
//!   a study's: replications.csv, summary.json, study.json, the resume journal; a
//!   comparison's, a sweep's), written atomically and read back typed; [`compare`] and
//!   [`sweep`] the two derived studies, both made of arms ([`arms`]: several studies on
//!   common random numbers, sharded, resumed and merged like a study); [`axis`] and
//!   [`setpath`] the grammar of `--set` and `--variant`; [`folder`] the contract every
//!   output folder keeps (one writer at a time, a manifest written last).
#![warn(missing_docs, unreachable_pub)]

pub mod arms;
pub mod axis;
pub mod bench;
pub mod compare;
pub mod cost;
pub mod folder;
pub mod human;
pub mod io;
pub mod results;
pub mod setpath;
pub mod stats;
pub mod sweep;
pub mod verdict;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use dialtone_scenario::metrics::{DatabaseMetrics, Kind, SCHEMA_VERSION, nullable};
use dialtone_scenario::validate::limits;
use dialtone_scenario::{RunError, Scenario, Summary};
use rayon::prelude::*;
use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// One metric column: its name and how to read it from a run's summary.
pub type Column = (&'static str, fn(&Summary) -> Option<f64>);

/// The metric columns of replications.csv and summary.json, in order. Stable: new ones may
/// be added at the end, none is renamed.
pub const COLUMNS: &[Column] = &[
    ("user_minutes_without_send_receive", |s| {
        Some(s.metrics.user_minutes_without_send_receive)
    }),
    ("user_minutes_without_history", |s| {
        Some(s.metrics.user_minutes_without_history)
    }),
    ("user_minutes_offline_readable", |s| {
        Some(s.metrics.user_minutes_offline_readable)
    }),
    ("time_to_service_p50_s", |s| s.metrics.time_to_service_p50_s),
    ("time_to_service_p95_s", |s| s.metrics.time_to_service_p95_s),
    ("time_to_service_all_s", |s| s.metrics.time_to_service_all_s),
    ("time_to_history_all_s", |s| s.metrics.time_to_history_all_s),
    ("split_brain_ms", |s| Some(s.metrics.split_brain_ms as f64)),
    ("split_brain_messages", |s| {
        Some(s.metrics.split_brain_messages as f64)
    }),
    ("operator_hours", |s| Some(s.metrics.operator_hours)),
    ("profile_changes", |s| {
        Some(s.metrics.profile_changes as f64)
    }),
    ("failed_actions", |s| Some(s.metrics.failed_actions as f64)),
    ("mail_accepted", |s| Some(s.metrics.mail.accepted as f64)),
    ("mail_delivered_on_time", |s| {
        Some(s.metrics.mail.delivered_on_time as f64)
    }),
    ("mail_delivered_late", |s| {
        Some(s.metrics.mail.delivered_late as f64)
    }),
    ("mail_bounced", |s| Some(s.metrics.mail.bounced as f64)),
    ("mail_lost_silently", |s| {
        Some(s.metrics.mail.lost_silently as f64)
    }),
    ("mail_recovered", |s| Some(s.metrics.mail.recovered as f64)),
    ("mail_left_in_dial_tone", |s| {
        Some(s.metrics.mail.left_in_dial_tone as f64)
    }),
    ("mail_queued_at_end", |s| {
        Some(s.metrics.mail.queued_at_end as f64)
    }),
    ("rto_max_s", |s| worst_rto(s, |d| d.rto_s)),
    ("availability", |s| {
        // Share of user-time with send and receive.
        let users: u64 = s.cohorts.iter().map(|c| c.users).sum();
        let total = users as f64 * s.horizon_s / 60.0;
        (total > 0.0).then(|| 1.0 - s.metrics.user_minutes_without_send_receive / total)
    }),
    ("helpdesk_hours", |s| Some(s.metrics.helpdesk_hours)),
    ("rto_send_receive_max_s", |s| {
        worst_rto(s, |d| d.rto_send_receive_s)
    }),
    ("residual_outage_s", |s| s.metrics.residual_outage_s),
    // Every message that never reached a mailbox: bounced, lost silently or still queued
    // at the end (the architect's "how much mail not delivered").
    ("mail_not_delivered", |s| {
        let m = &s.metrics.mail;
        Some((m.bounced + m.lost_silently + m.queued_at_end) as f64)
    }),
];

/// The slowest database's RTO (`rto` of each database); null if one never came back.
fn worst_rto(s: &Summary, rto: fn(&DatabaseMetrics) -> Option<f64>) -> Option<f64> {
    let mut worst: Option<f64> = Some(0.0);
    for d in &s.databases {
        match (d.down_s, rto(d)) {
            (Some(_), Some(r)) => worst = worst.map(|w| w.max(r)),
            (Some(_), None) => worst = None,
            _ => {}
        }
    }
    worst
}

/// One replication's metric values, in [`COLUMNS`] order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Replication index.
    pub replication: u64,
    /// Values in column order; `None` is null.
    pub values: Vec<Option<f64>>,
}

impl Row {
    /// The row of a run's summary.
    pub fn of(s: &Summary) -> Row {
        Row {
            replication: s.replication,
            values: COLUMNS.iter().map(|(_, f)| f(s)).collect(),
        }
    }
}

/// Why a study failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StudyError {
    /// A replication failed (a bug, or an event budget exceeded): names it and the
    /// command that replays it alone.
    #[error("replication {replication} failed: {source}\n  replay it alone: {replay}")]
    Run {
        /// Which.
        replication: u64,
        /// The `dialtone run` command that replays exactly this replication.
        replay: String,
        /// Why.
        source: RunError,
    },
    /// The thread pool could not be built.
    #[error("cannot start {0} worker threads")]
    Threads(usize),
    /// Bad input (a shard spec, a sweep path, inconsistent shard outputs...).
    #[error("{0}")]
    Input(String),
    /// An input file is malformed or of another kind or schema_version: names the file and
    /// the key.
    #[error(transparent)]
    Read(#[from] io::ReadError),
    /// An output folder is locked by another writer, or incomplete.
    #[error(transparent)]
    Folder(#[from] folder::FolderError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A deterministic slice of replications: shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// 1..=count.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// Parses `"i/n"` with 1 <= i <= n <= the replication limit (a shard holds at least
    /// one replication of the largest study).
    pub fn parse(s: &str) -> Result<Shard, StudyError> {
        let bad = || {
            StudyError::Input(format!(
                "--shard {s:?}: write it as i/n with 1 <= i <= n <= {}, e.g. 2/3",
                crate::human::human_count(limits::REPLICATIONS as f64)
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count || count > limits::REPLICATIONS {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The replication indices of this shard out of `total`: a contiguous block.
    pub fn range(&self, total: u64) -> std::ops::Range<u64> {
        let lo = (u128::from(self.index - 1) * u128::from(total) / u128::from(self.count)) as u64;
        let hi = (u128::from(self.index) * u128::from(total) / u128::from(self.count)) as u64;
        lo..hi
    }
}

/// Runs the replications `indices` of `scenario` with master `seed` on `threads` threads
/// (0: all cores). `done` is called, from worker threads, with each finished row (for
/// progress and the resume journal). Returns the rows sorted by replication.
pub fn run_replications(
    scenario: &Scenario,
    seed: u64,
    indices: &[u64],
    threads: usize,
    done: &(dyn Fn(&Row) + Sync),
) -> Result<Vec<Row>, StudyError> {
    run_replications_with(scenario, seed, indices, threads, &|row, _, _| done(row))
}

/// [`run_replications`] whose `done(row, events, micros)` also receives the events the
/// replication processed and its wall time in microseconds (its cost, for
/// [`cost::slow`]; never in an output file). Memory grows with the rows finished, never reserved
/// for all of `indices` before they run.
pub fn run_replications_with(
    scenario: &Scenario,
    seed: u64,
    indices: &[u64],
    threads: usize,
    done: &(dyn Fn(&Row, u64, u64) + Sync),
) -> Result<Vec<Row>, StudyError> {
    run_replications_until(
        scenario,
        seed,
        indices,
        threads,
        done,
        &AtomicBool::new(false),
    )
}

/// [`run_replications_with`] that starts no replication once `stop` is set (by another
/// thread: an interrupt): those running finish, the rest are skipped, and the rows
/// finished so far come back. Whoever set `stop` knows the rows are incomplete.
pub fn run_replications_until(
    scenario: &Scenario,
    seed: u64,
    indices: &[u64],
    threads: usize,
    done: &(dyn Fn(&Row, u64, u64) + Sync),
    stop: &AtomicBool,
) -> Result<Vec<Row>, StudyError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|_| StudyError::Threads(threads))?;
    // On a failure, replications after the lowest failed index are skipped and those
    // before it still run, so the failure reported is the lowest failing index whatever
    // the thread count: the same error message every time.
    let lowest_failed = AtomicU64::new(u64::MAX);
    let first_error: Mutex<Option<StudyError>> = Mutex::new(None);
    // `filter_map` is not an indexed iterator: `collect` grows as rows arrive instead of
    // reserving one slot per index up front (10 GB for a huge --replications).
    let mut rows: Vec<Row> = pool.install(|| {
        indices
            .par_iter()
            .filter_map(|&r| {
                if r > lowest_failed.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                    return None;
                }
                let start = std::time::Instant::now();
                match dialtone_scenario::runner::run_counted(
                    scenario,
                    seed,
                    r,
                    dialtone_engine::NoTrace,
                ) {
                    Ok((s, _, events)) => {
                        let row = Row::of(&s);
                        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                        done(&row, events, micros);
                        Some(row)
                    }
                    Err(source) => {
                        lowest_failed.fetch_min(r, Ordering::Relaxed);
                        let e = StudyError::Run {
                            replication: r,
                            replay: replay_command(scenario, seed, r),
                            source,
                        };
                        keep_lowest(&first_error, e);
                        None
                    }
                }
            })
            .collect()
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    rows.sort_by_key(|r| r.replication);
    Ok(rows)
}

/// Keeps in `slot` the failure of the lowest replication index.
fn keep_lowest(slot: &Mutex<Option<StudyError>>, e: StudyError) {
    let index = |e: &StudyError| match e {
        StudyError::Run { replication, .. } => *replication,
        _ => u64::MAX,
    };
    let mut g = slot.lock().unwrap_or_else(|p| p.into_inner());
    if g.as_ref().is_none_or(|f| index(&e) < index(f)) {
        *g = Some(e);
    }
}

/// The command that replays replication `r` of a study of `scenario` with master seed
/// `seed` on its own (`dialtone run --replication`).
/// A scenario built from settings (a compare variant, a sweep point) replays with
/// `run --set` for each, the strategy aside (`--strategy` names it).
pub fn replay_command(scenario: &Scenario, seed: u64, r: u64) -> String {
    let o = &scenario.origin;
    let mut cmd = format!("dialtone run {}", shell_word(&o.file));
    for (path, v) in o.sets.iter().filter(|(p, _)| p != sweep::STRATEGY) {
        // A string that would parse as JSON (`"5"`) keeps its quotes, so --set reads
        // it back as the same value.
        let text = match v {
            serde_json::Value::String(t)
                if serde_json::from_str::<serde_json::Value>(t).is_err() =>
            {
                t.clone()
            }
            other => other.to_string(),
        };
        cmd.push_str(" --set ");
        cmd.push_str(&shell_word(&format!("{path}={text}")));
    }
    cmd.push_str(&format!(
        " --strategy {} --seed {seed} --replication {r}",
        scenario.strategy
    ));
    cmd
}

/// `w` as one word of a POSIX shell: as it is when it holds only characters no shell
/// treats specially, else in single quotes.
fn shell_word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// study.json (`kind` `study-meta`): what identifies a study, enough to merge shards and
/// to check they belong together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyMeta {
    /// Always [`Kind::StudyMeta`].
    pub kind: Kind,
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Strategy.
    pub strategy: String,
    /// Master seed.
    pub seed: u64,
    /// Replications in the whole study.
    pub replications: u64,
    /// The RTO target (seconds) for the share meeting it.
    pub rto_target_s: f64,
    /// A digest of the validated scenario, so shards of different files never merge.
    pub scenario_digest: String,
    /// This output's shard, if it is one.
    #[serde(deserialize_with = "nullable")]
    pub shard: Option<Shard>,
}

/// summary.json of a study (`kind` `study`; also each strategy of a comparison and each
/// point of a sweep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySummary {
    /// Always [`Kind::Study`].
    pub kind: Kind,
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Strategy.
    pub strategy: String,
    /// Master seed.
    pub seed: u64,
    /// Replications summarised.
    pub replications: u64,
    /// Statistics per metric, in column order (a JSON object with exactly the [`COLUMNS`]).
    #[serde(serialize_with = "as_map", deserialize_with = "metric_map")]
    pub metrics: Vec<(String, stats::Stat)>,
    /// Targets met: share of replications whose slowest database came back within the RTO
    /// target (a database that never came back misses it), and share without split brain.
    pub targets: Targets,
}

/// Serialises `(key, value)` pairs as a JSON object, keeping their order.
pub fn as_map<V: Serialize, S: serde::Serializer>(
    v: &[(String, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(k, x)| (k, x)))
}

/// Reads a JSON object into `(key, value)` pairs in the file's order (the inverse of
/// [`as_map`]).
pub fn from_map<'de, D, V>(d: D) -> Result<Vec<(String, V)>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Pairs<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for Pairs<V> {
        type Value = Vec<(String, V)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut v = Vec::new();
            while let Some(pair) = m.next_entry::<String, V>()? {
                v.push(pair);
            }
            Ok(v)
        }
    }
    d.deserialize_map(Pairs(std::marker::PhantomData))
}

/// A JSON object keyed by exactly the metric [`COLUMNS`]: an unknown or a missing metric
/// is an error (as an unknown or missing key of a struct is).
struct MetricMap<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for MetricMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<(String, V)> = from_map(d)?;
        if let Some((k, _)) = v.iter().find(|(k, _)| !COLUMNS.iter().any(|(n, _)| n == k)) {
            return Err(D::Error::custom(format!("unknown field `{k}`")));
        }
        if let Some((n, _)) = COLUMNS.iter().find(|(n, _)| !v.iter().any(|(k, _)| k == n)) {
            return Err(D::Error::missing_field(n));
        }
        Ok(MetricMap(v))
    }
}

/// Reads [`StudySummary::metrics`]: every column present, no other.
fn metric_map<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    d: D,
) -> Result<Vec<(String, V)>, D::Error> {
    MetricMap::deserialize(d).map(|m| m.0)
}

/// `(metric, value)` pairs in column order.
type PerMetric<V> = Vec<(String, V)>;

/// Reads [`compare::Comparison::differences`]: per strategy, every column.
fn metric_maps<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    d: D,
) -> Result<Vec<(String, PerMetric<V>)>, D::Error> {
    let v: Vec<(String, MetricMap<V>)> = from_map(d)?;
    Ok(v.into_iter().map(|(k, m)| (k, m.0)).collect())
}

impl StudySummary {
    /// The statistics of metric `name` (every column is present in a summary read back).
    pub fn metric(&self, name: &str) -> Option<&stats::Stat> {
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }
}

/// Shares of replications meeting targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// The RTO target, seconds.
    pub rto_target_s: f64,
    /// Share with every database back within the target.
    pub rto_met_share: f64,
    /// Share with no split brain.
    pub no_split_brain_share: f64,
    /// Share with no mail lost silently.
    pub no_mail_lost_share: f64,
}

/// Summarises sorted rows.
pub fn summarize(meta: &StudyMeta, rows: &[Row]) -> StudySummary {
    let col = |i: usize| {
        rows.iter()
            .map(|r| r.values.get(i).copied().flatten())
            .collect::<Vec<_>>()
    };
    let metrics = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (name, _))| ((*name).to_owned(), stats::describe(&col(i))))
        .collect();
    let idx = |name: &str| COLUMNS.iter().position(|(n, _)| *n == name).unwrap_or(0);
    let n = rows.len().max(1) as f64;
    let share = |i: usize, ok: &dyn Fn(Option<f64>) -> bool| {
        rows.iter()
            .filter(|r| ok(r.values.get(i).copied().flatten()))
            .count() as f64
            / n
    };
    let target = meta.rto_target_s;
    StudySummary {
        kind: Kind::Study,
        schema_version: SCHEMA_VERSION,
        scenario: meta.scenario.clone(),
        strategy: meta.strategy.clone(),
        seed: meta.seed,
        replications: rows.len() as u64,
        metrics,
        targets: Targets {
            rto_target_s: target,
            rto_met_share: share(idx("rto_max_s"), &|v| v.is_some_and(|x| x <= target)),
            no_split_brain_share: share(idx("split_brain_ms"), &|v| v == Some(0.0)),
            no_mail_lost_share: share(idx("mail_lost_silently"), &|v| v == Some(0.0)),
        },
    }
}

/// The metadata of a study of `scenario`.
pub fn meta(scenario: &Scenario, seed: u64, replications: u64, shard: Option<Shard>) -> StudyMeta {
    StudyMeta {
        kind: Kind::StudyMeta,
        schema_version: SCHEMA_VERSION,
        scenario: scenario.name.clone(),
        strategy: scenario.strategy.name().to_owned(),
        seed,
        replications,
        rto_target_s: scenario.rto_target.as_secs_f64(),
        scenario_digest: scenario.digest(),
        shard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn shards_cover_every_replication_once() {
        for total in [0u64, 1, 7, 10, 1000, 10_001] {
            for count in [1u64, 3, 7, 16] {
                let mut all = Vec::new();
                for index in 1..=count {
                    all.extend(Shard { index, count }.range(total));
                }
                assert_eq!(
                    all,
                    (0..total).collect::<Vec<_>>(),
                    "total {total}, {count} shards"
                );
            }
        }
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("x").is_err());
        assert!(Shard::parse("1/10000001").is_err());
        assert!(Shard::parse("1/10000000").is_ok());
        assert_eq!(Shard::parse("2/3").ok(), Some(Shard { index: 2, count: 3 }));
    }

    #[test]
    fn a_replay_command_sets_values_so_run_reads_them_back() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scenarios/site-failure-dac.json");
        let mut sc = dialtone_scenario::load(&path).expect("scenario");
        sc.origin.file = "my dir/x.json".into();
        sc.origin.sets = vec![
            ("topology.dns.ttl".into(), Value::String("1h".into())),
            ("strategy".into(), Value::String("none".into())),
            ("clients[0].share".into(), serde_json::json!(0.7)),
            ("description".into(), Value::String("5".into())),
            ("description".into(), Value::String("it's".into())),
        ];
        assert_eq!(
            replay_command(&sc, 3, 4),
            format!(
                "dialtone run 'my dir/x.json' --set topology.dns.ttl=1h \
                 --set 'clients[0].share=0.7' --set 'description=\"5\"' \
                 --set 'description=it'\\''s' --strategy {} --seed 3 --replication 4",
                sc.strategy
            )
        );
    }
}
