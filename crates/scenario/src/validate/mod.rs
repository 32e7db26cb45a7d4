//! From a scenario file to a validated [`Scenario`]: parse (serde, unknown fields are
//! errors), then check every cross-reference and limit, collecting *all* problems with
//! the JSON path of the field, what is wrong and what would be right.
//!
//! One file a concern: `topology` (sites, links, servers, witnesses, the DAG, DNS,
//! transport, backup, timing), `databases`, `clients` (client kinds, behaviour, workload,
//! cohorts), `failures`, `strategy` (whether the organisation can run the strategy, and
//! its playbook). Validation checks and builds in one pass so that every check sees
//! resolved ids; a [`Scenario`] holds only validated data. Warnings (`warnings`) flag what
//! is valid but probably a mistake; they never fail validation.

mod clients;
pub(crate) use clients::shares_sum_message;
mod databases;
mod failures;
mod layout;
pub(crate) mod strategy;
mod topology;
mod warnings;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use dialtone_engine::{DurationDist, SimDuration, SimTime};
use dialtone_model::world::ServiceKind;
use dialtone_model::world::WorldConfig;
use dialtone_model::{DatabaseId, LinkId, ServerId, SiteId};

use crate::playbook::{Org, Step};
use crate::spec::step::FIELD_SEP;
use crate::spec::{FailureKind, ScenarioSpec};
use crate::strategy::Strategy;
pub use strategy::StrategyOptions;
pub use warnings::Warning;

/// Documented upper bounds, checked at validation (docs/SCENARIOS.md, "Limits").
pub mod limits {
    /// Sites.
    pub const SITES: usize = 64;
    /// Mailbox servers (a DAG holds at most 16 members; other servers may stand alone).
    pub const SERVERS: usize = 256;
    /// DAG members (Microsoft's limit).
    pub const DAG_MEMBERS: usize = 16;
    /// Databases.
    pub const DATABASES: usize = 10_000;
    /// Parallel restore streams from the backup location (one a database at most).
    pub const RESTORE_STREAMS: u32 = DATABASES as u32;
    /// Mailboxes per database.
    pub const MAILBOXES_PER_DB: u64 = 1_000_000;
    /// Database size, MB (Microsoft's supported maximum, about 16 TB).
    pub const DB_SIZE_MB: u64 = 16 << 20;
    /// Cohort phase buckets.
    pub const BUCKETS: u32 = 64;
    /// Horizon: 10 years.
    pub const HORIZON_DAYS: u64 = 3650;
    /// Replications of a study, compare arm or sweep point (`run.replications` and
    /// `--replications`).
    pub const REPLICATIONS: u64 = 10_000_000;
    /// Event budget of one replication (`run.max_events`).
    pub const MAX_EVENTS: u64 = 100_000_000_000;
    /// Worker threads of a study, compare or sweep (`--threads`): more threads than
    /// cores only cost memory (each has its own stack) and a start-up wait.
    pub const THREADS: usize = 256;
    /// Mailboxes one server can hold (`topology.servers[].capacity_mailboxes`): every
    /// database's mailboxes at the most.
    pub const SERVER_CAPACITY: u64 = DATABASES as u64 * MAILBOXES_PER_DB;
    /// Profiles the helpdesk reconfigures an hour, mailboxes a merge handles an hour
    /// (`client_behaviour.helpdesk_per_hour`, `timing.merge_mailboxes_per_hour`): high
    /// enough to model "instant" (a thousand largest databases an hour), low enough that a
    /// ten-year count of them cannot overflow.
    pub const PER_HOUR: u64 = 1_000 * MAILBOXES_PER_DB;
    /// Failures.
    pub const FAILURES: usize = 1_000;
    /// Playbook steps.
    pub const STEPS: usize = 1_000;
    /// Replay lag (Microsoft's maximum).
    pub const LAG_DAYS: u64 = 14;
    /// People in one crew (`strategy.operators.count`, `crews[].count`).
    pub const CREW_SIZE: u32 = 1_000;
    /// Named repair crews.
    pub const CREWS: usize = 64;
}

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// JSON path of the field, e.g. `topology.databases[2].copies[0].server`.
    pub path: String,
    /// What is wrong and, where useful, what would be right.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a scenario cannot be used. Always fatal to the run; the CLI exits 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file has problems; every one found is listed.
    #[error("{file}: {} problem(s):\n{}", issues.len(), issues.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        file: String,
        /// Every problem found.
        issues: Vec<Issue>,
    },
}

/// What fails, resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A site.
    Site(SiteId),
    /// A mailbox server.
    Server(ServerId),
    /// A database.
    Database(DatabaseId),
    /// One copy of a database.
    Copy(DatabaseId, usize),
    /// A link.
    Link(LinkId),
    /// The witness server.
    Witness(ServerId),
    /// Some services of every server in a site.
    Partial(SiteId, Vec<ServiceKind>),
    /// The DNS server.
    Dns,
}

/// When a failure happens.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// Once, at a time, repaired after a delay or never.
    At {
        /// When.
        at: SimTime,
        /// Repair delay.
        repair_after: Option<SimDuration>,
    },
    /// Alternating time to failure and time to repair over the horizon.
    Stochastic {
        /// Time to failure.
        ttf: DurationDist,
        /// Time to repair (`None`: the first failure is permanent).
        ttr: Option<DurationDist>,
    },
}

/// A validated failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The kind.
    pub kind: FailureKind,
    /// What fails.
    pub target: Target,
    /// When.
    pub when: When,
    /// The crew that repairs it (an index into [`Scenario::crews`]; `None`: the repair
    /// needs nobody and starts at once).
    pub crew: Option<usize>,
}

/// A crew of people who each do one piece of work at a time: the operators (always
/// [`Scenario::crews`]`[0]`) or a repair crew of the file's `crews`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crew {
    /// `operators`, or the crew's name.
    pub name: String,
    /// How many work at once (at least 1).
    pub count: u32,
}

/// The name of the operators' crew, [`Scenario::crews`]`[0]`.
pub const OPERATORS: &str = "operators";

/// Names of everything, by id (for outputs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names {
    /// Site names.
    pub sites: Vec<String>,
    /// Server names (mailbox servers, then witnesses).
    pub servers: Vec<String>,
    /// Database names.
    pub databases: Vec<String>,
    /// Link names.
    pub links: Vec<String>,
}

/// A validated scenario, ready to run. It holds only validated data: ids instead of
/// names, durations instead of strings, the playbook built for its strategy.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (the file stem).
    pub name: String,
    /// The file it came from, for messages.
    pub file: String,
    /// What the scenario shows and what to expect (the file's `description`).
    pub description: String,
    /// The world it builds (shared by every replication's `World`).
    pub world: Arc<WorldConfig>,
    /// Names by id.
    pub names: Names,
    /// Failures.
    pub failures: Vec<Failure>,
    /// The strategy.
    pub strategy: Strategy,
    /// The strategy's options.
    pub options: StrategyOptions,
    /// Its playbook.
    pub playbook: Vec<Step>,
    /// What is valid but probably a mistake (printed, never fatal).
    pub warnings: Vec<Warning>,
    /// The failure (index) whose first occurrence starts the operators' clock.
    pub trigger: Option<usize>,
    /// Detection delay.
    pub detection: DurationDist,
    /// Decision delay.
    pub decision: DurationDist,
    /// The crews: `[0]` the operators who run the playbook (`strategy.operators.count`),
    /// then the file's `crews`.
    pub crews: Vec<Crew>,
    /// Simulated horizon.
    pub horizon: SimTime,
    /// Event budget of one replication (`run.max_events`).
    pub max_events: u64,
    /// Target recovery time, for studies (`metrics.rto_target`).
    pub rto_target: SimDuration,
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: u64,
    /// How to rebuild it from its file (a replay command names it).
    pub origin: Origin,
    /// Digest of the file's content apart from the strategy name.
    content_digest: String,
}

/// Where a scenario came from: the file as given and the settings applied to its JSON
/// before validation (`run --set`, a compare variant, a sweep point, Python's
/// `with_values`), in order. A `(strategy, name)` setting is the strategy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    /// The file as given.
    pub file: String,
    /// `(path, value)` settings, in the order applied.
    pub sets: Vec<(String, serde_json::Value)>,
}

impl Origin {
    /// This origin with `sets` applied after its own settings (a variant or sweep point
    /// of a scenario that already carries settings).
    pub fn then(&self, sets: &[(String, serde_json::Value)]) -> Origin {
        Origin {
            file: self.file.clone(),
            sets: [self.sets.as_slice(), sets].concat(),
        }
    }
}

impl Scenario {
    /// A digest of the scenario and its strategy (FNV-1a 64, hex): studies of different
    /// files or strategies never merge.
    pub fn digest(&self) -> String {
        digest(&format!("{}\n{}", self.content_digest, self.strategy))
    }

    /// The same organisation, failures and settings under another strategy: validated
    /// against the organisation like the file's own (the same refusals), on the same
    /// random streams (common random numbers).
    pub fn with_strategy(&self, strategy: Strategy) -> Result<Scenario, ScenarioError> {
        let org = Org {
            world: &self.world,
            names: &self.names,
        };
        let (playbook, trigger) = strategy::plan(strategy, &self.options, org, &self.failures)
            .and_then(|p| {
                backups_for(&self.world, &self.names, &p.0)
                    .map(|()| p)
                    .map_err(|i| vec![i])
            })
            .map_err(|issues| ScenarioError::Invalid {
                file: self.file.clone(),
                issues,
            })?;
        Ok(Scenario {
            strategy,
            warnings: warnings::warnings(
                &self.world,
                &self.names,
                &self.failures,
                &playbook,
                self.horizon,
            ),
            playbook,
            trigger,
            ..self.clone()
        })
    }
}

/// Rule `db.restore_needs_backup`: a playbook that restores a database from backup needs
/// an organisation that takes backups.
fn backups_for(world: &WorldConfig, names: &Names, playbook: &[Step]) -> Result<(), Issue> {
    match warnings::restored(world, playbook).iter().position(|&r| r) {
        Some(d) if world.timing.backup_every.is_none() => Err(Issue {
            path: "topology.backup.every".into(),
            message: format!(
                "the strategy restores {:?} from backup, but no backups are taken \
                 (backup.every is null): set backup.every (e.g. \"1d\") or choose a \
                 strategy that does not restore",
                names.databases.get(d).cloned().unwrap_or_default()
            ),
        }),
        _ => Ok(()),
    }
}

/// FNV-1a 64 of a text, in hex.
pub fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A scenario file's text with the two names it goes by: `file` (the path as given,
/// used in every message) and `name` (the file's stem, used in results; `scenario` when
/// the path has none).
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as given, for messages.
    pub file: String,
    /// The file's stem.
    pub name: String,
    /// The whole text, byte-order mark included.
    pub text: String,
}

/// Reads a scenario file without parsing it: the one place a path becomes text.
pub fn read(path: &Path) -> Result<Source, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        file: file.clone(),
        source,
    })?;
    Ok(Source {
        file,
        name: stem(path),
        text,
    })
}

/// The name a scenario at `path` goes by in results: the file's stem.
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned())
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let src = read(path)?;
    parse(&src.file, &src.name, &src.text)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse(file: &str, name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let spec = parse_spec(file, text)?;
    validate(file, name, spec, None)
}

/// A UTF-8 byte-order mark, which some Windows editors put at the start of a file.
const BOM: char = '\u{feff}';

/// The JSON text of a file: without a leading UTF-8 byte-order mark.
pub fn json_text(text: &str) -> &str {
    text.strip_prefix(BOM).unwrap_or(text)
}

/// The error for text after the end of the JSON document (`{...}{...}`, `} garbage`):
/// it names the line and column, and what to do.
fn trailing(file: &str, e: &serde_json::Error) -> ScenarioError {
    ScenarioError::Invalid {
        file: file.to_owned(),
        issues: vec![Issue {
            path: String::new(),
            message: format!(
                "text after the end of the JSON document at line {} column {}: a file holds \
                 one JSON object; delete what follows its closing `}}` (or merge the two \
                 objects into one)",
                e.line(),
                e.column()
            ),
        }],
    }
}

/// Parses a whole file's text as one JSON value, as [`parse_spec`] reads it: a leading
/// byte-order mark is skipped and text after the document is refused.
pub fn parse_json(file: &str, text: &str) -> Result<serde_json::Value, ScenarioError> {
    let mut de = serde_json::Deserializer::from_str(json_text(text));
    let v = serde::Deserialize::deserialize(&mut de).map_err(|e| ScenarioError::Invalid {
        file: file.to_owned(),
        issues: vec![Issue {
            path: String::new(),
            message: e.to_string(),
        }],
    })?;
    de.end().map_err(|e| trailing(file, &e))?;
    Ok(v)
}

/// Parses scenario text into the raw spec. A leading UTF-8 byte-order mark is skipped;
/// text after the JSON document is refused.
pub fn parse_spec(file: &str, text: &str) -> Result<ScenarioSpec, ScenarioError> {
    let mut de = serde_json::Deserializer::from_str(json_text(text));
    let spec = deserialize_spec(file, &mut de)?;
    de.end().map_err(|e| trailing(file, &e))?;
    Ok(spec)
}

fn deserialize_spec(
    file: &str,
    de: &mut serde_json::Deserializer<serde_json::de::StrRead<'_>>,
) -> Result<ScenarioSpec, ScenarioError> {
    serde_path_to_error::deserialize(de).map_err(|e| {
        let mut path = e.path().to_string();
        let mut message = e.into_inner().to_string();
        // A custom step's error about one field carries the field (spec::step).
        if let Some((field, rest)) = message.split_once(FIELD_SEP) {
            path = format!("{path}.{field}");
            message = rest.to_owned();
        }
        ScenarioError::Invalid {
            file: file.to_owned(),
            issues: vec![Issue {
                path: if path == "." { String::new() } else { path },
                message,
            }],
        }
    })
}

/// Validates a raw spec. `strategy` overrides the file's strategy name (CLI
/// `--strategy`).
pub fn validate(
    file: &str,
    name: &str,
    mut spec: ScenarioSpec,
    strategy: Option<&str>,
) -> Result<Scenario, ScenarioError> {
    if let Some(s) = strategy {
        spec.strategy.name = s.to_owned();
    }
    let mut v = Validator { issues: Vec::new() };
    let origins = v.expand_layouts(&mut spec.topology);
    let built = if v.issues.is_empty() {
        v.build(&spec, file, name)
    } else {
        None
    };
    match built {
        Some(sc) if v.issues.is_empty() => Ok(sc),
        _ => {
            let names: Vec<String> = spec
                .topology
                .databases
                .iter()
                .map(|d| d.name.clone())
                .collect();
            for issue in &mut v.issues {
                origins.relocate(issue, &names);
            }
            Err(ScenarioError::Invalid {
                file: file.to_owned(),
                issues: v.issues,
            })
        }
    }
}

/// Collects every problem found; each concern's checks are in its own file.
struct Validator {
    issues: Vec<Issue>,
}

/// The index of `name` in `names`.
pub(crate) fn find(names: &[String], name: &str) -> Option<usize> {
    names.iter().position(|x| x == name)
}

/// The id of `name` among `names`, or the message "unknown WHAT NAME; WHATs are ...".
pub(crate) fn lookup<I: From<usize>>(
    names: &[String],
    name: &str,
    what: &str,
) -> Result<I, String> {
    find(names, name)
        .map(I::from)
        .ok_or_else(|| format!("unknown {what} {name:?}; {what}s are {}", list(names)))
}

impl Validator {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }

    /// [`lookup`], reporting an unknown name at `path`.
    fn lookup<I: From<usize>>(
        &mut self,
        path: &str,
        names: &[String],
        n: &str,
        what: &str,
    ) -> Option<I> {
        lookup(names, n, what).map_err(|m| self.err(path, m)).ok()
    }

    fn site(&mut self, path: &str, sites: &[String], n: &str) -> Option<SiteId> {
        self.lookup(path, sites, n, "site")
    }

    fn unique(&mut self, path: &str, names: &[String], what: &str) {
        let mut seen = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            if n.trim().is_empty() {
                self.err(format!("{path}[{i}].name"), format!("{what} name is empty"));
            }
            if let Some(first) = seen.insert(n.as_str(), i) {
                self.err(
                    format!("{path}[{i}].name"),
                    format!("duplicate {what} name {n:?} (also at {path}[{first}])"),
                );
            }
        }
    }

    /// A count outside `lo..=hi`: "between LO and HI (got N)".
    fn count_in(&mut self, path: &str, n: u64, lo: u64, hi: u64, what: &str) {
        if n < lo || n > hi {
            self.err(
                path,
                format!(
                    "{what}: between {} and {} (got {})",
                    show(lo),
                    show(hi),
                    show(n)
                ),
            );
        }
    }

    fn positive(&mut self, path: &str, d: SimDuration) {
        if d.is_zero() {
            self.err(path, "must be longer than zero");
        }
    }

    fn build(&mut self, s: &ScenarioSpec, file: &str, name: &str) -> Option<Scenario> {
        let topo = self.topology(&s.topology);
        let databases = self.databases(s, &topo);
        let services = self.services(s, &topo, &databases);
        let clients = self.clients(s);
        let mail = self.workload(s);
        self.run_settings(s);
        let names = Names {
            sites: topo.sites.clone(),
            servers: topo.server_names.clone(),
            databases: s
                .topology
                .databases
                .iter()
                .map(|x| x.name.clone())
                .collect(),
            links: topo.link_names.clone(),
        };
        let world = WorldConfig {
            sites: topo.sites.len(),
            site_names: topo.sites.clone(),
            links: topo.links,
            link_names: topo.link_names.clone(),
            servers: topo.servers,
            dag: topo.dag,
            cohorts: clients::cohorts(s, &databases),
            databases,
            dns: services.dns,
            clients,
            transport: services.transport,
            mail,
            timing: services.timing,
        };
        let crews = self.crews(s);
        let failures = self.failures(s, &names, &world, &crews);
        // A strategy is judged only against an organisation without other problems.
        if !self.issues.is_empty() {
            return None;
        }
        let org = Org {
            world: &world,
            names: &names,
        };
        let planned = strategy::options(&s.strategy, s.topology.active_directory_elsewhere, org)
            .and_then(|(strategy, options)| {
                let (playbook, trigger) = strategy::plan(strategy, &options, org, &failures)?;
                Ok((strategy, options, playbook, trigger))
            });
        let (strategy, options, playbook, trigger) = match planned {
            Ok(p) => p,
            Err(issues) => {
                self.issues.extend(issues);
                return None;
            }
        };
        if let Err(issue) = backups_for(&world, &names, &playbook) {
            self.issues.push(issue);
            return None;
        }
        let horizon = SimTime::ZERO.saturating_add(s.run.horizon);
        let warnings = warnings::warnings(&world, &names, &failures, &playbook, horizon);
        let mut content = s.clone();
        content.strategy.name.clear();
        Some(Scenario {
            name: name.to_owned(),
            file: file.to_owned(),
            description: s.description.clone(),
            world: Arc::new(world),
            names,
            failures,
            strategy,
            options,
            warnings,
            playbook,
            trigger,
            detection: s.strategy.operators.detection.0.clone(),
            decision: s.strategy.operators.decision.0.clone(),
            crews,
            horizon: SimTime::ZERO.saturating_add(s.run.horizon),
            max_events: s.run.max_events,
            rto_target: s.metrics.rto_target,
            seed: s.run.seed,
            replications: s.run.replications,
            origin: Origin {
                file: file.to_owned(),
                sets: Vec::new(),
            },
            content_digest: digest(&serde_json::to_string(&content).unwrap_or_default()),
        })
    }

    /// `run` and `metrics`.
    fn run_settings(&mut self, s: &ScenarioSpec) {
        let r = &s.run;
        self.positive("run.horizon", r.horizon);
        if r.horizon > SimDuration::from_days(limits::HORIZON_DAYS).unwrap_or(SimDuration::MAX) {
            self.err("run.horizon", "at most 3650d (10 years)");
        }
        if r.max_events == 0 || r.max_events > limits::MAX_EVENTS {
            self.err("run.max_events", "between 1 and 100,000,000,000");
        }
        if r.replications == 0 || r.replications > limits::REPLICATIONS {
            self.err(
                "run.replications",
                format!("between 1 and {}", limits::REPLICATIONS),
            );
        }
        self.positive("metrics.on_time_within", s.metrics.on_time_within);
        self.operator_delays(s);
    }

    /// Detection and decision delays longer than the horizon: the playbook would start
    /// after the run ends, and every run would report it never started.
    fn operator_delays(&mut self, s: &ScenarioSpec) {
        let o = &s.strategy.operators;
        let horizon = s.run.horizon.as_secs_f64();
        for (field, d) in [("detection", &o.detection.0), ("decision", &o.decision.0)] {
            let mean = d.mean_secs();
            if mean > horizon {
                self.err(
                    format!("strategy.operators.{field}"),
                    format!(
                        "the {field} delay averages {}, longer than run.horizon ({}): the \
                         administrators would act after the run ends, so the playbook would \
                         never start; give minutes or hours (default: {}) or a longer horizon",
                        show_secs(mean),
                        show_secs(horizon),
                        if field == "detection" {
                            "10m"
                        } else {
                            "lognormal(20m, 10m)"
                        }
                    ),
                );
            }
        }
    }
}

/// Seconds as a duration for people ("3d4h"); "more than 10 years" beyond what a
/// duration holds.
fn show_secs(s: f64) -> String {
    SimDuration::from_secs_f64(s)
        .filter(|d| d.as_secs_f64() <= 3650.0 * 86_400.0)
        .map_or("more than 10 years".into(), |d| d.to_string())
}

/// A count with thousands separators: "10,000,000".
fn show(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none defined".into();
    }
    let v: Vec<String> = names.iter().take(8).map(|n| format!("{n:?}")).collect();
    let more = if names.len() > 8 {
        format!(" and {} more", names.len() - 8)
    } else {
        String::new()
    };
    format!("{}{more}", v.join(", "))
}
