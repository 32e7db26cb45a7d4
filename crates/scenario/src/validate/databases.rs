//! `topology.databases`: sizes, mailboxes, copies on DAG members with distinct
//! activation preferences, lag, circular logging.

use dialtone_engine::SimDuration;
use dialtone_model::ServerId;
use dialtone_model::database::{CopyConfig, DbParams};
use dialtone_model::world::config::DbConfig;

use super::topology::Topology;
use super::{Validator, limits};
use crate::spec::{DatabaseSpec, ScenarioSpec};

impl Validator {
    pub(super) fn databases(&mut self, s: &ScenarioSpec, topo: &Topology) -> Vec<DbConfig> {
        let t = &s.topology;
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
        // Replay into a passive or activated copy is the same ESE log replay as into a
        // restored database: one rate (`backup.replay_rate`), rule `db.replay`.
        let ms_per_replay_log = ((1000.0 * (1u64 << 20) as f64) / t.backup.replay_rate.0)
            .round()
            .max(1.0) as u64;
        let mailbox_servers: Vec<String> = t.servers.iter().map(|x| x.name.clone()).collect();
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
            let copies = self.copies(&path, db, &mailbox_servers, &topo.dag.members);
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
                    message_kb: s.workload.message_size.kb().max(1),
                    ms_per_log,
                    ms_per_replay_log,
                    log_volume_logs: (rep.log_volume.mb()).max(1),
                    circular_logging: db.circular_logging.unwrap_or_else(|| {
                        circular_by_default(t.backup.every.is_some(), db.copies.len())
                    }),
                    schema_version: schema,
                },
                copies,
            });
        }
        dbs
    }

    /// A database's copies, most preferred first.
    fn copies(
        &mut self,
        path: &str,
        db: &DatabaseSpec,
        mailbox_servers: &[String],
        members: &[ServerId],
    ) -> Vec<CopyConfig> {
        if db.copies.is_empty() {
            self.err(
                format!("{path}.copies"),
                "a database needs at least one copy",
            );
        }
        let mut copies = Vec::new();
        for (j, c) in db.copies.iter().enumerate() {
            let cp = format!("{path}.copies[{j}]");
            let Some(sid) = self.lookup::<ServerId>(
                &format!("{cp}.server"),
                mailbox_servers,
                &c.server,
                "server",
            ) else {
                continue;
            };
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
        if copies
            .iter()
            .any(|c| c.preference as usize > limits::DAG_MEMBERS)
        {
            self.err(
                format!("{path}.copies"),
                format!(
                    "activation preference between 1 and {} (one a DAG member)",
                    limits::DAG_MEMBERS
                ),
            );
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
        copies
    }
}

/// Rule `db.circular_default`: circular logging is on by default only for native data
/// protection, a database with 3 or more copies in an organisation that takes no
/// backups. An organisation that backs up leaves it off so the backup truncates the logs
/// and a restore can roll forward through them (exchange-facts §3, §8).
pub(crate) fn circular_by_default(backups: bool, copies: usize) -> bool {
    !backups && copies >= 3
}
