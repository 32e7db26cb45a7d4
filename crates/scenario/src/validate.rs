//! From a scenario file to a validated [`Scenario`]: parse (serde, unknown fields are
//! errors), then check every cross-reference and limit, collecting *all* problems with
//! the JSON path of the field, what is wrong and what would be right.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use dialtone_engine::{DurationDist, SimDuration, SimTime};
use dialtone_model::active_manager::MountDial;
use dialtone_model::clients::ClientKind;
use dialtone_model::database::{CopyConfig, DbParams};
use dialtone_model::server::apportion;
use dialtone_model::transport::TransportParams;
use dialtone_model::world::ServiceKind;
use dialtone_model::world::config::{
    ClientParams, CohortConfig, DagConfig as WDag, DbConfig, DnsConfig as WDns, MailConfig,
    ServerConfig as WServer, Timing, WorldConfig,
};
use dialtone_model::{DatabaseId, HomeId, LinkId, ServerId, SiteId};

use crate::playbook::{self, Step};
use crate::spec::*;

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
    /// Mailboxes per database.
    pub const MAILBOXES_PER_DB: u64 = 1_000_000;
    /// Database size, MB (Microsoft's supported maximum, about 16 TB).
    pub const DB_SIZE_MB: u64 = 16 << 20;
    /// Cohort phase buckets.
    pub const BUCKETS: u32 = 64;
    /// Horizon: 10 years.
    pub const HORIZON_DAYS: u64 = 3650;
    /// Replications in one run file.
    pub const REPLICATIONS: u64 = 10_000_000;
    /// Failures.
    pub const FAILURES: usize = 1_000;
    /// Playbook steps.
    pub const STEPS: usize = 1_000;
    /// Replay lag (Microsoft's maximum).
    pub const LAG_DAYS: u64 = 14;
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
}

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

/// A validated scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (the file stem).
    pub name: String,
    /// The file as parsed.
    pub spec: ScenarioSpec,
    /// The world it builds.
    pub world: WorldConfig,
    /// Names by id.
    pub names: Names,
    /// Failures.
    pub failures: Vec<Failure>,
    /// The strategy's name.
    pub strategy: String,
    /// Its playbook.
    pub playbook: Vec<Step>,
    /// The failure (index) whose first occurrence starts the operators' clock.
    pub trigger: Option<usize>,
    /// Detection delay.
    pub detection: DurationDist,
    /// Decision delay.
    pub decision: DurationDist,
    /// Simulated horizon.
    pub horizon: SimTime,
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: u64,
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        file: file.clone(),
        source,
    })?;
    let name = path
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    parse(&file, &name, &text)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse(file: &str, name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let spec = parse_spec(file, text)?;
    validate(file, name, spec, None)
}

/// Parses scenario text into the raw spec.
pub fn parse_spec(file: &str, text: &str) -> Result<ScenarioSpec, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ScenarioError::Invalid {
            file: file.to_owned(),
            issues: vec![Issue {
                path: if path == "." { String::new() } else { path },
                message: inner.to_string(),
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
    let built = v.build(&spec);
    match built {
        Some(mut sc) if v.issues.is_empty() => {
            sc.name = name.to_owned();
            sc.spec = spec;
            Ok(sc)
        }
        _ => Err(ScenarioError::Invalid {
            file: file.to_owned(),
            issues: v.issues,
        }),
    }
}

struct Validator {
    issues: Vec<Issue>,
}

fn index_of(names: &[String], n: &str) -> Option<usize> {
    names.iter().position(|x| x == n)
}

impl Validator {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.into(),
            message: message.into(),
        });
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

    fn positive(&mut self, path: &str, d: SimDuration) {
        if d.is_zero() {
            self.err(path, "must be longer than zero");
        }
    }

    fn site(&mut self, path: &str, sites: &[String], n: &str) -> Option<SiteId> {
        let r = index_of(sites, n).map(SiteId::from);
        if r.is_none() {
            self.err(
                path,
                format!("unknown site {n:?}; sites are {}", list(sites)),
            );
        }
        r
    }

    fn build(&mut self, s: &ScenarioSpec) -> Option<Scenario> {
        let t = &s.topology;
        // Sites and links.
        let sites: Vec<String> = t.sites.iter().map(|x| x.name.clone()).collect();
        if sites.is_empty() {
            self.err("topology.sites", "at least one site is needed");
        }
        if sites.len() > limits::SITES {
            self.err(
                "topology.sites",
                format!(
                    "{} sites is more than the limit of {}",
                    sites.len(),
                    limits::SITES
                ),
            );
        }
        self.unique("topology.sites", &sites, "site");
        let mut links = Vec::new();
        let mut link_names = Vec::new();
        for (i, l) in t.links.iter().enumerate() {
            let a = self.site(
                &format!("topology.links[{i}].between[0]"),
                &sites,
                &l.between[0],
            );
            let b = self.site(
                &format!("topology.links[{i}].between[1]"),
                &sites,
                &l.between[1],
            );
            if l.between[0] == l.between[1] {
                self.err(
                    format!("topology.links[{i}].between"),
                    "a link joins two different sites",
                );
            }
            link_names.push(
                l.name
                    .clone()
                    .unwrap_or_else(|| format!("{}-{}", l.between[0], l.between[1])),
            );
            if let (Some(a), Some(b)) = (a, b) {
                links.push((a, b));
            }
            if let Some(lat) = l.latency
                && lat > SimDuration::from_millis(500)
            {
                self.err(
                    format!("topology.links[{i}].latency"),
                    "DAG members need at most 500 ms round trip between each other",
                );
            }
        }
        let mut dup = BTreeMap::new();
        for (i, n) in link_names.iter().enumerate() {
            if dup.insert(n.clone(), i).is_some() {
                self.err(
                    format!("topology.links[{i}]"),
                    format!("duplicate link {n:?}; give links distinct `name`s"),
                );
            }
        }
        // Servers and witnesses.
        let mut server_names: Vec<String> = t.servers.iter().map(|x| x.name.clone()).collect();
        if t.servers.len() > limits::SERVERS {
            self.err(
                "topology.servers",
                format!("more than {} servers", limits::SERVERS),
            );
        }
        let mut servers = Vec::new();
        for (i, sv) in t.servers.iter().enumerate() {
            let site = self.site(&format!("topology.servers[{i}].site"), &sites, &sv.site);
            if sv.capacity_mailboxes == Some(0) {
                self.err(
                    format!("topology.servers[{i}].capacity_mailboxes"),
                    "capacity must be at least 1 mailbox (omit it for no limit)",
                );
            }
            servers.push(WServer {
                name: sv.name.clone(),
                site: site.unwrap_or(SiteId(0)),
                capacity_mailboxes: sv.capacity_mailboxes,
                schema_version: sv.schema_version,
            });
        }
        let dag = &t.dag;
        let mut witness_ids = [None, None];
        for (k, (w, field)) in [
            (&dag.witness, "witness"),
            (&dag.alternate_witness, "alternate_witness"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(w) = w else { continue };
            let path = format!("topology.dag.{field}");
            if dag.members.contains(&w.server) {
                self.err(
                    format!("{path}.server"),
                    format!(
                        "the witness {:?} is a DAG member; the witness server cannot be a member",
                        w.server
                    ),
                );
            } else if index_of(&server_names, &w.server).is_some() && k == 0 {
                self.err(
                    format!("{path}.server"),
                    format!(
                        "{:?} is a mailbox server; name a separate witness server",
                        w.server
                    ),
                );
            }
            let site = self.site(&format!("{path}.site"), &sites, &w.site);
            if let Some(existing) = index_of(&server_names, &w.server) {
                witness_ids[k] = Some(ServerId::from(existing));
            } else {
                server_names.push(w.server.clone());
                servers.push(WServer {
                    name: w.server.clone(),
                    site: site.unwrap_or(SiteId(0)),
                    capacity_mailboxes: None,
                    schema_version: 0,
                });
                witness_ids[k] = Some(ServerId::from(servers.len() - 1));
            }
        }
        if let (Some(a), Some(b)) = (&dag.witness, &dag.alternate_witness)
            && a.server == b.server
        {
            self.err(
                "topology.dag.alternate_witness.server",
                "the alternate witness must differ from the witness",
            );
        }
        self.unique(
            "topology.servers",
            &t.servers.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
            "server",
        );
        let mut members = Vec::new();
        for (i, m) in dag.members.iter().enumerate() {
            match index_of(
                &t.servers.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
                m,
            ) {
                Some(ix) => {
                    if members.contains(&ServerId::from(ix)) {
                        self.err(
                            format!("topology.dag.members[{i}]"),
                            format!("{m:?} is listed twice"),
                        );
                    }
                    members.push(ServerId::from(ix));
                }
                None => self.err(
                    format!("topology.dag.members[{i}]"),
                    format!(
                        "unknown server {m:?}; servers are {}",
                        list(&t.servers.iter().map(|x| x.name.clone()).collect::<Vec<_>>())
                    ),
                ),
            }
        }
        if members.len() > limits::DAG_MEMBERS {
            self.err(
                "topology.dag.members",
                format!("a DAG holds at most {} members", limits::DAG_MEMBERS),
            );
        }
        let schemas: Vec<u32> = members
            .iter()
            .map(|m| t.servers[m.index()].schema_version)
            .collect();
        if schemas.windows(2).any(|w| w[0] != w[1]) {
            self.err(
                "topology.dag.members",
                "all DAG members must run the same Exchange version (schema_version)",
            );
        }
        if members.len().is_multiple_of(2) && dag.witness.is_none() && !members.is_empty() {
            self.err("topology.dag.witness", "a DAG with an even number of members needs a witness (Node and File Share Majority)");
        }
        // Databases.
        let db_names: Vec<String> = t.databases.iter().map(|x| x.name.clone()).collect();
        if db_names.is_empty() {
            self.err("topology.databases", "at least one database is needed");
        }
        if db_names.len() > limits::DATABASES {
            self.err(
                "topology.databases",
                format!("more than {} databases", limits::DATABASES),
            );
        }
        self.unique("topology.databases", &db_names, "database");
        let rep = &t.replication;
        let ms_per_log = ((1000.0 * (1u64 << 20) as f64) / rep.log_copy_rate.0)
            .round()
            .max(1.0) as u64;
        let message_kb = s.workload.message_size.kb();
        let mut dbs = Vec::new();
        for (i, db) in t.databases.iter().enumerate() {
            let path = format!("topology.databases[{i}]");
            let size_mb = db.size.mb();
            if size_mb == 0 {
                self.err(
                    format!("{path}.size"),
                    "size must be more than zero (e.g. \"400GB\")",
                );
            }
            if size_mb > limits::DB_SIZE_MB {
                self.err(
                    format!("{path}.size"),
                    "larger than the supported maximum of 16TB",
                );
            }
            if db.mailboxes == 0 || db.mailboxes > limits::MAILBOXES_PER_DB {
                self.err(
                    format!("{path}.mailboxes"),
                    format!(
                        "mailboxes must be between 1 and {}",
                        limits::MAILBOXES_PER_DB
                    ),
                );
            }
            if db.copies.is_empty() {
                self.err(
                    format!("{path}.copies"),
                    "a database needs at least one copy",
                );
            }
            let mut copies = Vec::new();
            for (j, c) in db.copies.iter().enumerate() {
                let cp = format!("{path}.copies[{j}]");
                let Some(ix) = index_of(
                    &t.servers.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
                    &c.server,
                ) else {
                    self.err(
                        format!("{cp}.server"),
                        format!("unknown server {:?}", c.server),
                    );
                    continue;
                };
                let sid = ServerId::from(ix);
                if !members.contains(&sid) && db.copies.len() > 1 {
                    self.err(
                        format!("{cp}.server"),
                        format!(
                            "{:?} is not a DAG member; replicated copies must be on DAG members",
                            c.server
                        ),
                    );
                }
                if copies.iter().any(|x: &CopyConfig| x.server == sid) {
                    self.err(
                        format!("{cp}.server"),
                        format!("two copies of {:?} on {:?}", db.name, c.server),
                    );
                }
                let lag = c.replay_lag.unwrap_or(SimDuration::ZERO);
                if lag > SimDuration::from_days(limits::LAG_DAYS).unwrap_or(SimDuration::MAX) {
                    self.err(format!("{cp}.replay_lag"), "replay lag is at most 14 days");
                }
                copies.push(CopyConfig {
                    server: sid,
                    preference: c.preference.unwrap_or(j as u32 + 1),
                    replay_lag: lag,
                });
            }
            let mut prefs: Vec<u32> = copies.iter().map(|c| c.preference).collect();
            prefs.sort_unstable();
            if prefs.windows(2).any(|w| w[0] == w[1]) || prefs.first().is_some_and(|&p| p == 0) {
                self.err(
                    format!("{path}.copies"),
                    "activation preferences must be distinct and start at 1",
                );
            }
            copies.sort_by_key(|c| c.preference);
            if copies.first().is_some_and(|c| !c.replay_lag.is_zero()) {
                self.err(
                    format!("{path}.copies"),
                    "the most preferred copy starts active and cannot be lagged",
                );
            }
            let schema = copies.first().map_or(15, |c| {
                t.servers
                    .get(c.server.index())
                    .map_or(15, |x| x.schema_version)
            });
            dbs.push(DbConfig {
                name: db.name.clone(),
                params: DbParams {
                    size_mb,
                    mailboxes: db.mailboxes,
                    message_kb: message_kb.max(1),
                    ms_per_log,
                    log_volume_logs: (rep.log_volume.mb()).max(1),
                    circular_logging: db.circular_logging.unwrap_or(db.copies.len() >= 3),
                    schema_version: schema,
                },
                copies,
            });
        }
        // DNS, transport, backup, timing.
        let dns = &t.dns;
        self.positive("topology.dns.ttl", dns.ttl);
        self.positive("topology.dns.restart_period", dns.restart_period);
        if !(0.0..=1.0).contains(&dns.pinned_client_share) {
            self.err(
                "topology.dns.pinned_client_share",
                "a share is between 0 and 1",
            );
        }
        let default_site = dbs
            .first()
            .and_then(|d| d.copies.first())
            .map_or(SiteId(0), |c| {
                servers.get(c.server.index()).map_or(SiteId(0), |s| s.site)
            });
        let ca_site = match &dns.client_access_site {
            Some(n) => self
                .site("topology.dns.client_access_site", &sites, n)
                .unwrap_or(default_site),
            None => default_site,
        };
        let mx_site = match &dns.mx_site {
            Some(n) => self
                .site("topology.dns.mx_site", &sites, n)
                .unwrap_or(ca_site),
            None => ca_site,
        };
        let tr = &t.transport;
        for (p, d) in [
            ("sender_retry", tr.sender_retry),
            ("sender_expiry", tr.sender_expiry),
            ("delivery_retry", tr.delivery_retry),
            ("message_expiration", tr.message_expiration),
        ] {
            self.positive(&format!("topology.transport.{p}"), d);
        }
        let backup_site = t
            .backup
            .site
            .as_ref()
            .and_then(|n| self.site("topology.backup.site", &sites, n));
        if t.backup.every.is_some_and(|e| e.is_zero()) {
            self.err(
                "topology.backup.every",
                "must be longer than zero (or null for no backups)",
            );
        }
        self.positive("topology.timing.failover", t.timing.failover);
        // Clients.
        if s.clients.is_empty() {
            self.err("clients", "at least one client kind is needed");
        }
        let total: f64 = s.clients.iter().map(|c| c.share).sum();
        for (i, c) in s.clients.iter().enumerate() {
            if !(c.share.is_finite() && c.share >= 0.0) {
                self.err(
                    format!("clients[{i}].share"),
                    "a share is a number between 0 and 1",
                );
            }
            if c.kind != ClientKindSpec::Outlook && (c.cached_mode || !c.autodiscover) {
                self.err(
                    format!("clients[{i}]"),
                    "autodiscover and cached_mode apply to Outlook only",
                );
            }
        }
        if !s.clients.is_empty() && (total - 1.0).abs() > 1e-6 {
            self.err("clients", format!("shares add up to {total}, not 1"));
        }
        let cb = &s.client_behaviour;
        if cb.buckets == 0 || cb.buckets > limits::BUCKETS {
            self.err(
                "client_behaviour.buckets",
                format!("between 1 and {}", limits::BUCKETS),
            );
        }
        for (p, d) in [
            ("outlook_retry", cb.outlook_retry),
            ("web_retry", cb.web_retry),
            ("mobile_retry", cb.mobile_retry),
        ] {
            self.positive(&format!("client_behaviour.{p}"), d);
        }
        let w = &s.workload;
        if !(w.messages_per_user_per_day.is_finite()
            && (0.0..=10_000.0).contains(&w.messages_per_user_per_day))
        {
            self.err("workload.messages_per_user_per_day", "between 0 and 10,000");
        }
        if w.message_size.0 == 0 {
            self.err(
                "workload.message_size",
                "must be more than zero (e.g. \"75KB\")",
            );
        }
        if w.tick < SimDuration::from_millis(1000) || w.tick > SimDuration::from_millis(3_600_000) {
            self.err("workload.tick", "between 1s and 1h");
        }
        // Run.
        let r = &s.run;
        self.positive("run.horizon", r.horizon);
        if r.horizon > SimDuration::from_days(limits::HORIZON_DAYS).unwrap_or(SimDuration::MAX) {
            self.err("run.horizon", "at most 3650d (10 years)");
        }
        if r.max_events == 0 || r.max_events > 100_000_000_000 {
            self.err("run.max_events", "between 1 and 100,000,000,000");
        }
        if r.replications == 0 || r.replications > limits::REPLICATIONS {
            self.err(
                "run.replications",
                format!("between 1 and {}", limits::REPLICATIONS),
            );
        }
        self.positive("metrics.on_time_within", s.metrics.on_time_within);
        // Cohorts.
        let shares: Vec<u64> = s
            .clients
            .iter()
            .map(|c| (c.share.max(0.0) * 1e9).round() as u64)
            .collect();
        let mut cohorts = Vec::new();
        for (i, db) in dbs.iter().enumerate() {
            for (c, users) in s
                .clients
                .iter()
                .zip(apportion(db.params.mailboxes, &shares))
            {
                if users == 0 {
                    continue;
                }
                let kind = match c.kind {
                    ClientKindSpec::Outlook => ClientKind::Outlook {
                        autodiscover: c.autodiscover,
                        cached_mode: c.cached_mode,
                    },
                    ClientKindSpec::Web => ClientKind::Web,
                    ClientKindSpec::Mobile => ClientKind::Mobile,
                };
                cohorts.push(CohortConfig {
                    home: HomeId::from(i),
                    kind,
                    users,
                });
            }
        }
        let names = Names {
            sites: sites.clone(),
            servers: server_names.clone(),
            databases: db_names.clone(),
            links: link_names.clone(),
        };
        let world = WorldConfig {
            sites: sites.len(),
            links,
            servers,
            dag: WDag {
                members: members.clone(),
                witness: witness_ids[0],
                alternate_witness: witness_ids[1],
                dac_mode: dag.dac_mode,
                dynamic_quorum: dag.dynamic_quorum,
                mount_dial: match dag.mount_dial {
                    MountDialSpec::Lossless => MountDial::Lossless,
                    MountDialSpec::GoodAvailability => MountDial::GoodAvailability,
                    MountDialSpec::BestAvailability => MountDial::BestAvailability,
                },
            },
            databases: dbs,
            dns: WDns {
                ttl: dns.ttl,
                propagation: dns.propagation,
                pinned_ppm: (dns.pinned_client_share.clamp(0.0, 1.0) * 1e6).round() as u32,
                restart_period: dns.restart_period,
                client_access_site: ca_site,
                mx_site,
                multi_ip: dns.multi_ip,
            },
            cohorts,
            clients: ClientParams {
                buckets: cb.buckets.clamp(1, limits::BUCKETS),
                outlook_retry: cb.outlook_retry,
                web_retry: cb.web_retry,
                mobile_retry: cb.mobile_retry,
                helpdesk_per_hour: cb.helpdesk_per_hour,
            },
            transport: TransportParams {
                sender_retry: tr.sender_retry,
                sender_expiry: tr.sender_expiry,
                delivery_retry: tr.delivery_retry,
                message_expiry: tr.message_expiration,
                late_after: s.metrics.on_time_within,
                shadow_redundancy: tr.shadow_redundancy,
                shadow_resubmit: tr.shadow_resubmit,
                safety_net_hold: tr.safety_net_hold,
            },
            mail: MailConfig {
                messages_per_user_per_day: w.messages_per_user_per_day,
                tick: w.tick,
                office_hours: w.profile == ProfileSpec::OfficeHours,
                edge_active_active: tr.edge == EdgeSpec::ActiveActive,
            },
            timing: Timing {
                heartbeat_detect: t.timing.heartbeat,
                failover: t.timing.failover,
                seed_mb_per_s: rep.seed_rate.mb_per_s(),
                restore_mb_per_s: t.backup.restore_rate.mb_per_s(),
                merge_mailboxes_per_hour: t.timing.merge_mailboxes_per_hour.max(1),
                swap_outage: t.timing.swap_outage,
                backup_every: t.backup.every,
                backup_first: t.backup.first,
                backup_site,
            },
        };
        // Failures.
        let failures = self.failures(s, &names, &world);
        // Strategy.
        let horizon = SimTime::ZERO.saturating_add(r.horizon);
        let playbook = if self.issues.is_empty() {
            match playbook::build(s, &names, &world, &failures) {
                Ok(p) => p,
                Err(issues) => {
                    self.issues.extend(issues);
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let trigger = playbook::trigger(&s.strategy.name, &failures);
        Some(Scenario {
            name: String::new(),
            spec: s.clone(),
            world,
            names,
            failures,
            strategy: s.strategy.name.clone(),
            trigger,
            playbook,
            detection: s.strategy.operators.detection.0.clone(),
            decision: s.strategy.operators.decision.0.clone(),
            horizon,
            seed: r.seed,
            replications: r.replications,
        })
    }

    fn failures(&mut self, s: &ScenarioSpec, names: &Names, world: &WorldConfig) -> Vec<Failure> {
        if s.failures.len() > limits::FAILURES {
            self.err(
                "failures",
                format!("more than {} failures", limits::FAILURES),
            );
        }
        let mut out = Vec::new();
        for (i, f) in s.failures.iter().enumerate() {
            let path = format!("failures[{i}]");
            let t = f.target.as_str();
            let target = match f.kind {
                FailureKind::SitePowerLoss => {
                    index_of(&names.sites, t).map(|x| Target::Site(SiteId::from(x)))
                }
                FailureKind::ServerLoss | FailureKind::ServerOutage => index_of(&names.servers, t)
                    .filter(|&x| x < s.topology.servers.len())
                    .map(|x| Target::Server(ServerId::from(x))),
                FailureKind::DatabaseCorruption => {
                    index_of(&names.databases, t).map(|x| Target::Database(DatabaseId::from(x)))
                }
                FailureKind::DiskLoss => t.split_once('@').and_then(|(d, sv)| {
                    let di = index_of(&names.databases, d)?;
                    let si = index_of(&names.servers, sv)?;
                    let ci = world.databases[di]
                        .copies
                        .iter()
                        .position(|c| c.server.index() == si)?;
                    Some(Target::Copy(DatabaseId::from(di), ci))
                }),
                FailureKind::WanCut => {
                    index_of(&names.links, t).map(|x| Target::Link(LinkId::from(x)))
                }
                FailureKind::WitnessLoss => [world.dag.witness, world.dag.alternate_witness]
                    .into_iter()
                    .flatten()
                    .find(|w| names.servers[w.index()] == t)
                    .map(Target::Witness),
                FailureKind::PartialDatacenter => {
                    let mut svc = Vec::new();
                    for (j, x) in f.services.iter().enumerate() {
                        match x.as_str() {
                            "cluster" => svc.push(ServiceKind::Cluster),
                            "client-access" => svc.push(ServiceKind::ClientAccess),
                            "transport" => svc.push(ServiceKind::Transport),
                            "unified-messaging" => svc.push(ServiceKind::UnifiedMessaging),
                            other => self.err(format!("{path}.services[{j}]"), format!("unknown service {other:?}: use cluster, client-access, transport or unified-messaging")),
                        }
                    }
                    if f.services.is_empty() {
                        self.err(
                            format!("{path}.services"),
                            "a partial datacenter failure names the services that stop",
                        );
                    }
                    index_of(&names.sites, t).map(|x| Target::Partial(SiteId::from(x), svc))
                }
                FailureKind::DnsServerLoss => Some(Target::Dns),
            };
            let Some(target) = target else {
                let what = match f.kind {
                    FailureKind::SitePowerLoss | FailureKind::PartialDatacenter => {
                        format!("a site: {}", list(&names.sites))
                    }
                    FailureKind::ServerLoss | FailureKind::ServerOutage => {
                        format!(
                            "a mailbox server: {}",
                            list(
                                &names.servers[..s.topology.servers.len().min(names.servers.len())]
                            )
                        )
                    }
                    FailureKind::DatabaseCorruption => {
                        format!("a database: {}", list(&names.databases))
                    }
                    FailureKind::DiskLoss => "\"DATABASE@SERVER\" naming a copy".to_owned(),
                    FailureKind::WanCut => format!("a link: {}", list(&names.links)),
                    FailureKind::WitnessLoss => {
                        "the witness or alternate witness server".to_owned()
                    }
                    FailureKind::DnsServerLoss => String::new(),
                };
                self.err(
                    format!("{path}.target"),
                    format!("unknown target {t:?}; expected {what}"),
                );
                continue;
            };
            let when = match (&f.at, &f.time_to_failure) {
                (Some(at), None) => {
                    if f.time_to_repair.is_some() {
                        self.err(
                            format!("{path}.time_to_repair"),
                            "a scripted failure uses repair_after, not time_to_repair",
                        );
                    }
                    if let Some(r) = f.repair_after {
                        self.positive(&format!("{path}.repair_after"), r);
                    }
                    if at.since_start() >= s.run.horizon {
                        self.err(
                            format!("{path}.at"),
                            format!(
                                "{at} is at or after the horizon ({}); it would never happen",
                                s.run.horizon
                            ),
                        );
                    }
                    When::At {
                        at: *at,
                        repair_after: f.repair_after,
                    }
                }
                (None, Some(ttf)) => {
                    if f.repair_after.is_some() {
                        self.err(
                            format!("{path}.repair_after"),
                            "a stochastic failure uses time_to_repair, not repair_after",
                        );
                    }
                    When::Stochastic {
                        ttf: ttf.0.clone(),
                        ttr: f.time_to_repair.as_ref().map(|d| d.0.clone()),
                    }
                }
                (Some(_), Some(_)) => {
                    self.err(
                        path.clone(),
                        "give either `at` (scripted) or `time_to_failure` (stochastic), not both",
                    );
                    continue;
                }
                (None, None) => {
                    self.err(
                        path.clone(),
                        "a failure needs `at` (scripted) or `time_to_failure` (stochastic)",
                    );
                    continue;
                }
            };
            out.push(Failure {
                kind: f.kind,
                target,
                when,
            });
        }
        out
    }
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
