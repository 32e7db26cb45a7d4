//! Primitive administrator actions: the cmdlets and manual steps of the seed documents.
//!
//! Each action takes effect at the moment it completes (the scenario layer draws its
//! duration and schedules it), checks its preconditions, and fails with an
//! [`ActionError`] that says why, leaving the world unchanged.

use dialtone_engine::{Ctx, DurationDist, SimDuration, SimTime, TraceSink};

use super::{Event, World};
use crate::database::{CopyConfig, CopyHealth, Database, DbKind, DbParams, DbState, check_schema};
use crate::dns::RecordKind;
use crate::ids::{DatabaseId, ServerId, SiteId};
use crate::quorum::Presence;

/// Which database of a mailbox group an action means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbRef {
    /// The group's original database.
    Original,
    /// The dial tone database created for it.
    DialTone,
    /// Its recovery database.
    Recovery,
}

/// An administrator action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Stop-DatabaseAvailabilityGroup for `servers`, run from `from_site`; with
    /// `configuration_only` it writes to AD only and touches no server.
    StopDag {
        /// Members to mark stopped.
        servers: Vec<ServerId>,
        /// Where the administrator runs it.
        from_site: SiteId,
        /// -ConfigurationOnly.
        configuration_only: bool,
    },
    /// Restore-DatabaseAvailabilityGroup for the members in `site`.
    RestoreDag {
        /// The surviving site.
        site: SiteId,
    },
    /// Start-DatabaseAvailabilityGroup for `servers`, run from `from_site`.
    StartDag {
        /// Members to start.
        servers: Vec<ServerId>,
        /// Where the administrator runs it.
        from_site: SiteId,
    },
    /// Set-DatabaseAvailabilityGroup -WitnessServer.
    SetWitness {
        /// The new witness server.
        server: ServerId,
    },
    /// `net start clussvc /forcequorum` on a member.
    ForceQuorum {
        /// The member.
        server: ServerId,
    },
    /// Evict a node from the cluster (Failover Cluster Manager).
    EvictNode {
        /// The member.
        server: ServerId,
    },
    /// `cluster node /forcecleanup` on a member.
    ForceCleanup {
        /// The member.
        server: ServerId,
    },
    /// `net stop clussvc` (`running = false`) or `net start clussvc`.
    ClusterService {
        /// The member.
        server: ServerId,
        /// Service state after the action.
        running: bool,
    },
    /// Mount-Database.
    Mount {
        /// The mailbox group.
        home: usize,
        /// Which of its databases.
        db: DbRef,
    },
    /// Dismount-Database.
    Dismount {
        /// The mailbox group.
        home: usize,
        /// Which of its databases.
        db: DbRef,
    },
    /// Move-ActiveMailboxDatabase to a server holding a copy.
    MoveActive {
        /// The mailbox group (its original database).
        home: usize,
        /// The target server.
        to: ServerId,
        /// -SkipLagChecks / -MountDialOverride:None: accept data loss beyond the dial.
        skip_checks: bool,
    },
    /// Set-MailboxServer -DatabaseCopyAutoActivationPolicy Blocked / Unrestricted.
    BlockActivation {
        /// The server.
        server: ServerId,
        /// Blocked after the action.
        blocked: bool,
    },
    /// Update-MailboxDatabaseCopy (reseed) of the copy on `server`.
    Reseed {
        /// The mailbox group.
        home: usize,
        /// Server of the copy.
        server: ServerId,
    },
    /// Remove-MailboxDatabaseCopy (lets logs truncate; the copy needs a reseed later).
    RemoveCopy {
        /// The mailbox group.
        home: usize,
        /// Server of the copy.
        server: ServerId,
    },
    /// New-MailboxDatabase: an empty dial tone database for a group, on `server`
    /// (dismounted until mounted).
    CreateDialTone {
        /// The mailbox group.
        home: usize,
        /// Where.
        server: ServerId,
    },
    /// Set-Mailbox -Database for every mailbox of a group (configuration only).
    MoveMailboxes {
        /// The mailbox group.
        home: usize,
        /// To which of its databases.
        to: DbRef,
    },
    /// Restore the group's last backup into a recovery database on `server` and roll
    /// forward the surviving logs; the database mounts when the restore finishes.
    RestoreBackup {
        /// The mailbox group.
        home: usize,
        /// Where.
        server: ServerId,
    },
    /// Restore the group's original database in place from its last backup (on its own
    /// server, rebuilt if needed) and roll forward the surviving logs; it is ready to
    /// mount when the restore finishes.
    RestoreInPlace {
        /// The mailbox group.
        home: usize,
    },
    /// Swap the restored database with the dial tone database (both dismounted briefly).
    Swap {
        /// The mailbox group.
        home: usize,
    },
    /// New-MailboxRestoreRequest for every mailbox (2003: ExMerge / Recover Mailbox Data
    /// "Merge" or "Copy"), at a throughput in mailboxes per hour (default: the world's).
    Merge {
        /// The mailbox group.
        home: usize,
        /// Throughput override.
        mailboxes_per_hour: Option<u64>,
    },
    /// The helpdesk reconfigures Outlook profiles (without Autodiscover) to `server`.
    ReconfigureProfiles {
        /// The mailbox group.
        home: usize,
        /// The server the profiles must name.
        server: ServerId,
    },
    /// Change a DNS record to point at `site`.
    ChangeDns {
        /// The record.
        record: RecordKind,
        /// The new target.
        site: SiteId,
    },
    /// Power a server off or on.
    PowerServer {
        /// The server.
        server: ServerId,
        /// State after the action.
        on: bool,
    },
    /// Power a whole site off or on (an administrator terminating a datacenter).
    PowerSite {
        /// The site.
        site: SiteId,
        /// State after the action.
        on: bool,
    },
    /// Rebuild a lost server under the same name (Setup /m:RecoverServer, or the 2003
    /// rebuild): it comes up with empty disks; its copies need reseeding.
    RebuildServer {
        /// The server.
        server: ServerId,
    },
}

impl Action {
    /// The cmdlet or manual step this action stands for, for traces and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Action::StopDag { .. } => "Stop-DatabaseAvailabilityGroup",
            Action::RestoreDag { .. } => "Restore-DatabaseAvailabilityGroup",
            Action::StartDag { .. } => "Start-DatabaseAvailabilityGroup",
            Action::SetWitness { .. } => "Set-DatabaseAvailabilityGroup -WitnessServer",
            Action::ForceQuorum { .. } => "net start clussvc /forcequorum",
            Action::EvictNode { .. } => "evict cluster node",
            Action::ForceCleanup { .. } => "cluster node /forcecleanup",
            Action::ClusterService { .. } => "net stop|start clussvc",
            Action::Mount { .. } => "Mount-Database",
            Action::Dismount { .. } => "Dismount-Database",
            Action::MoveActive { .. } => "Move-ActiveMailboxDatabase",
            Action::BlockActivation { .. } => "Set-MailboxServer -DatabaseCopyAutoActivationPolicy",
            Action::Reseed { .. } => "Update-MailboxDatabaseCopy",
            Action::RemoveCopy { .. } => "Remove-MailboxDatabaseCopy",
            Action::CreateDialTone { .. } => "New-MailboxDatabase (dial tone)",
            Action::MoveMailboxes { .. } => "Set-Mailbox -Database",
            Action::RestoreBackup { .. } => "restore backup to recovery database",
            Action::RestoreInPlace { .. } => "restore backup in place",
            Action::Swap { .. } => "swap databases",
            Action::Merge { .. } => "New-MailboxRestoreRequest",
            Action::ReconfigureProfiles { .. } => "helpdesk profile changes",
            Action::ChangeDns { .. } => "change DNS record",
            Action::PowerServer { .. } => "power server",
            Action::PowerSite { .. } => "power site",
            Action::RebuildServer { .. } => "Setup /m:RecoverServer",
        }
    }

    /// How long the administrator's step takes when a playbook does not say. Physical
    /// work that follows (restore, reseed, merge, swap outage, helpdesk) is timed by the
    /// world from its throughputs. Sources in docs/MODEL.md ("Administrator actions").
    pub fn default_duration(&self) -> DurationDist {
        let m = |mins: u64| SimDuration::from_millis(mins * 60_000);
        let s = |secs: u64| SimDuration::from_millis(secs * 1000);
        match self {
            // Microsoft: server switchover "30 seconds per database".
            Action::MoveActive { .. } => DurationDist::Fixed(s(30)),
            // Microsoft: recover a DAG member with Setup /m:RecoverServer, 30 minutes.
            Action::RebuildServer { .. } => DurationDist::Fixed(m(30)),
            // Microsoft: restore requests and copies, "2 minutes" of administrator time.
            Action::Merge { .. }
            | Action::Reseed { .. }
            | Action::RestoreBackup { .. }
            | Action::RestoreInPlace { .. } => DurationDist::Fixed(m(2)),
            // Microsoft: dial tone recovery, 5 minutes plus restore and data movement,
            // split over its administrative steps.
            Action::CreateDialTone { .. } => DurationDist::Fixed(m(2)),
            Action::MoveMailboxes { .. } => DurationDist::Fixed(m(2)),
            Action::Mount { .. } | Action::Dismount { .. } => DurationDist::Fixed(s(30)),
            // No published figure: dialtone's assumptions, lognormal to reflect people.
            Action::StopDag { .. } | Action::RestoreDag { .. } | Action::StartDag { .. } => {
                DurationDist::LogNormal {
                    mean: m(5),
                    sd: m(2),
                }
            }
            Action::ForceQuorum { .. }
            | Action::EvictNode { .. }
            | Action::ForceCleanup { .. }
            | Action::ClusterService { .. }
            | Action::SetWitness { .. }
            | Action::BlockActivation { .. }
            | Action::RemoveCopy { .. } => DurationDist::LogNormal {
                mean: m(2),
                sd: m(1),
            },
            Action::Swap { .. } => DurationDist::LogNormal {
                mean: m(10),
                sd: m(5),
            },
            Action::ChangeDns { .. } => DurationDist::LogNormal {
                mean: m(5),
                sd: m(2),
            },
            Action::PowerServer { .. } | Action::PowerSite { .. } => DurationDist::LogNormal {
                mean: m(5),
                sd: m(3),
            },
            Action::ReconfigureProfiles { .. } => DurationDist::Fixed(SimDuration::ZERO),
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// Site-resilience cmdlets need DAC mode.
    #[error("{0} works only in DAC mode (DatacenterActivationMode = DagOnly)")]
    NeedsDacMode(&'static str),
    /// Restore-DAG before Stop-DAG.
    #[error("Restore-DAG needs every member outside the site marked stopped first (run Stop-DAG)")]
    NotStopped,
    /// No alternate witness.
    #[error("Restore-DAG needs the alternate witness configured")]
    NoAlternateWitness,
    /// Quorum cannot be re-established.
    #[error("cannot shrink quorum safely: the surviving members do not hold a majority")]
    CannotShrinkQuorum,
    /// Not a DAG member.
    #[error("server {0} is not a DAG member")]
    NotMember(u32),
    /// Evicted from the cluster.
    #[error("server {0} was evicted from the cluster; add it back first")]
    Evicted(u32),
    /// A server that must be reachable is not.
    #[error("server {0} is down or unreachable")]
    Unreachable(u32),
    /// The witness must not be a member.
    #[error("the witness server cannot be a DAG member")]
    WitnessIsMember,
    /// No running cluster to act on.
    #[error("the cluster has no quorum anywhere")]
    NoQuorum,
    /// Mount refused.
    #[error("cannot mount: {0}")]
    CannotMount(&'static str),
    /// No copy on the target.
    #[error("no copy of the database on server {0}")]
    NoCopy(u32),
    /// Beyond the mount dial.
    #[error("copy queue of {0} logs exceeds the mount dial; use skip checks to accept the loss")]
    BeyondDial(u64),
    /// A database that does not exist yet.
    #[error("the mailbox group has no {0:?} database")]
    NoSuchDatabase(DbRef),
    /// Schema mismatch.
    #[error(transparent)]
    Schema(#[from] crate::database::SchemaMismatch),
    /// The backups are in a site that is down or cut off.
    #[error(
        "the backups are kept in site {0}, which is down or unreachable from the target server"
    )]
    BackupUnreachable(u32),
    /// Swap prerequisites.
    #[error("swap needs a mounted restored database and a dial tone database in use")]
    SwapNotReady,
    /// Merge prerequisites.
    #[error("merge needs a mounted recovery database")]
    MergeNotReady,
    /// No such mailbox group.
    #[error("no mailbox group {0}")]
    NoHome(usize),
    /// A copy that cannot be reseeded now.
    #[error("cannot reseed: the active copy is not mounted or not reachable")]
    CannotReseed,
}

impl World {
    fn db_ref(&self, home: usize, r: DbRef) -> Result<usize, ActionError> {
        let h = self.homes.get(home).ok_or(ActionError::NoHome(home))?;
        match r {
            DbRef::Original => Ok(h.original.index()),
            DbRef::DialTone => self
                .dial_tone_of(home)
                .ok_or(ActionError::NoSuchDatabase(r)),
            DbRef::Recovery => h
                .recovery
                .map(|d| d.index())
                .ok_or(ActionError::NoSuchDatabase(r)),
        }
    }

    fn dial_tone_of(&self, home: usize) -> Option<usize> {
        self.dial_tone.get(home).copied().flatten()
    }

    fn member_of(&self, s: ServerId) -> Result<usize, ActionError> {
        self.member[s.index()].ok_or(ActionError::NotMember(s.0))
    }

    fn reachable_sites(&self, from: SiteId) -> Vec<usize> {
        (0..self.net.sites())
            .filter(|&s| self.net.reachable(from, SiteId::from(s)))
            .collect()
    }

    fn push_db(&mut self, db: Database) -> usize {
        self.dbs.push(db);
        self.serving.push(None);
        self.rogue_serving.push(None);
        self.failover_pending.push(None);
        self.dbs.len() - 1
    }

    fn new_db(&self, home: usize, server: ServerId, kind: DbKind, size_mb: u64) -> Database {
        let base = self.config.databases[self.homes[home].original.index()].params;
        let params = DbParams { size_mb, ..base };
        let mut db = Database::new(
            params,
            &[CopyConfig {
                server,
                preference: 1,
                replay_lag: SimDuration::ZERO,
            }],
        );
        db.kind = kind;
        db.state = DbState::Dismounted;
        db
    }

    /// Applies `a` at `now`.
    pub(super) fn apply_action<E: From<Event>, S: TraceSink>(
        &mut self,
        a: &Action,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) -> Result<(), ActionError> {
        use ActionError as E_;
        match a {
            Action::StopDag {
                servers,
                from_site,
                configuration_only,
            } => {
                if !self.config.dag.dac_mode {
                    return Err(E_::NeedsDacMode("Stop-DatabaseAvailabilityGroup"));
                }
                let members = servers
                    .iter()
                    .map(|&s| self.member_of(s))
                    .collect::<Result<Vec<_>, _>>()?;
                let sites = self.reachable_sites(*from_site);
                self.dac.mark(&members, true, &sites);
                if !configuration_only {
                    for &s in servers {
                        if self.server_up(s) && self.net.reachable(*from_site, self.site_of(s)) {
                            self.servers[s.index()].services.cluster = false;
                        }
                    }
                }
                self.schedule_heartbeat(now, ctx);
            }
            Action::RestoreDag { site } => {
                if !self.config.dag.dac_mode {
                    return Err(E_::NeedsDacMode("Restore-DatabaseAvailabilityGroup"));
                }
                let members = self.config.dag.members.clone();
                let (inside, outside): (Vec<usize>, Vec<usize>) =
                    (0..members.len()).partition(|&m| self.site_of(members[m]) == *site);
                if outside
                    .iter()
                    .any(|&m| !self.dac.stopped_in(site.index(), m))
                {
                    return Err(E_::NotStopped);
                }
                let survivors = inside
                    .iter()
                    .filter(|&&m| self.cluster.is_member(m))
                    .count();
                let use_alternate = survivors.is_multiple_of(2) || survivors == 1;
                let witness = if use_alternate {
                    Some(
                        self.config
                            .dag
                            .alternate_witness
                            .ok_or(E_::NoAlternateWitness)?,
                    )
                } else {
                    self.witness
                };
                // Check that the shrunk cluster has quorum before changing anything.
                let mut trial = self.cluster.clone();
                for &m in &outside {
                    trial.evict(m);
                }
                trial.set_witness_configured(
                    witness.is_some() && use_alternate || self.witness.is_some(),
                );
                let (parts, _) = self.presence(None);
                let parts: Vec<Option<u32>> = parts
                    .iter()
                    .enumerate()
                    .map(|(m, p)| {
                        if inside.contains(&m) && self.server_up(members[m]) {
                            Some(self.net.component(*site).unwrap_or(u32::MAX))
                        } else {
                            *p
                        }
                    })
                    .collect();
                let wp = witness.and_then(|w| self.partition_of(w));
                if trial
                    .evaluate(&Presence {
                        member_partition: &parts,
                        witness_partition: wp,
                    })
                    .quorum
                    .is_none()
                {
                    return Err(E_::CannotShrinkQuorum);
                }
                for &m in &outside {
                    self.cluster.evict(m);
                }
                self.witness = witness;
                self.cluster.set_witness_configured(witness.is_some());
                for &m in &inside {
                    self.servers[members[m].index()].services.cluster = true;
                }
                self.dac.restore(&inside, now);
                self.evaluate_quorum();
            }
            Action::StartDag { servers, from_site } => {
                if !self.config.dag.dac_mode {
                    return Err(E_::NeedsDacMode("Start-DatabaseAvailabilityGroup"));
                }
                let mut members = Vec::new();
                for &s in servers {
                    let m = self.member_of(s)?;
                    if !self.server_up(s) || !self.net.reachable(*from_site, self.site_of(s)) {
                        return Err(E_::Unreachable(s.0));
                    }
                    members.push(m);
                }
                let sites = self.reachable_sites(*from_site);
                self.dac.mark(&members, false, &sites);
                for (&s, &m) in servers.iter().zip(&members) {
                    self.cluster.add_back(m);
                    self.servers[s.index()].services.cluster = true;
                }
                self.schedule_heartbeat(now, ctx);
            }
            Action::SetWitness { server } => {
                if self.member[server.index()].is_some() {
                    return Err(E_::WitnessIsMember);
                }
                self.witness = Some(*server);
                self.cluster.set_witness_configured(true);
                self.schedule_heartbeat(now, ctx);
            }
            Action::ForceQuorum { server } => {
                let m = self.member_of(*server)?;
                if !self.cluster.is_member(m) {
                    return Err(E_::Evicted(server.0));
                }
                if !self.server_up(*server) {
                    return Err(E_::Unreachable(server.0));
                }
                self.servers[server.index()].services.cluster = true;
                let (parts, wp) = self.presence(self.witness);
                self.cluster.force_quorum(
                    m,
                    &Presence {
                        member_partition: &parts,
                        witness_partition: wp,
                    },
                );
                // Quorum and rogue partitions are always derived together.
                self.evaluate_quorum();
            }
            Action::EvictNode { server } => {
                let m = self.member_of(*server)?;
                if self.quorum().is_none() {
                    return Err(E_::NoQuorum);
                }
                self.cluster.evict(m);
                // Evicting a node the cluster can reach also cleans its configuration.
                if self.partition_of(*server).is_some()
                    && self.partition_of(*server) == self.quorum()
                {
                    self.cluster.cleanup(m);
                }
                self.evaluate_quorum();
            }
            Action::ForceCleanup { server } => {
                let m = self.member_of(*server)?;
                if !self.server_up(*server) {
                    return Err(E_::Unreachable(server.0));
                }
                self.cluster.cleanup(m);
                self.servers[server.index()].services.cluster = false;
                self.evaluate_quorum();
            }
            Action::ClusterService { server, running } => {
                self.member_of(*server)?;
                self.servers[server.index()].services.cluster = *running;
                self.schedule_heartbeat(now, ctx);
            }
            Action::Mount { home, db } => {
                let d = self.db_ref(*home, *db)?;
                let dbx = &self.dbs[d];
                let s = dbx.copies[dbx.active].config.server;
                if matches!(dbx.state, DbState::Failed(_)) {
                    return Err(E_::CannotMount("the database has failed"));
                }
                if *db == DbRef::Original
                    && self.restoring_in_place.get(*home).copied() == Some(true)
                {
                    return Err(E_::CannotMount("its restore has not finished"));
                }
                if !self.server_up(s) {
                    return Err(E_::Unreachable(s.0));
                }
                if !self.may_mount_on(s) {
                    return Err(E_::CannotMount(
                        "no quorum, or DAC has no automount consensus",
                    ));
                }
                self.dbs[d].state = DbState::Mounted;
            }
            Action::Dismount { home, db } => {
                let d = self.db_ref(*home, *db)?;
                if self.dbs[d].state == DbState::Mounted {
                    self.dbs[d].state = DbState::Dismounted;
                }
            }
            Action::MoveActive {
                home,
                to,
                skip_checks,
            } => {
                let d = self.db_ref(*home, DbRef::Original)?;
                let copy = self.dbs[d].copy_on(*to).ok_or(E_::NoCopy(to.0))?;
                if !self.may_mount_on(*to) {
                    return Err(E_::CannotMount("target has no quorum or DAC consensus"));
                }
                let c = &self.dbs[d].copies[copy];
                if copy != self.dbs[d].active && c.health != CopyHealth::Healthy {
                    return Err(E_::CannotMount("target copy is not healthy"));
                }
                if self.dbs[d].copy_corrupt(copy) {
                    return Err(E_::CannotMount("target copy is corrupt"));
                }
                let old = self.dbs[d].copies[self.dbs[d].active].config.server;
                if self.servers_reach(old, *to) {
                    let head = self.dbs[d].log_gen;
                    self.dbs[d].copies[copy].copied = head;
                }
                let queue = self.dbs[d].copy_queue(copy);
                if !skip_checks && queue > self.config.dag.mount_dial.max_lost_logs() {
                    return Err(E_::BeyondDial(queue));
                }
                let lost = if copy == self.dbs[d].active {
                    0
                } else {
                    self.dbs[d].activate(copy)
                };
                self.dbs[d].state = DbState::Mounted;
                if lost > 0 {
                    self.transport
                        .lossy_mount(now, crate::ids::DatabaseId::from(*home), lost);
                }
            }
            Action::BlockActivation { server, blocked } => {
                for db in &mut self.dbs {
                    for c in &mut db.copies {
                        if c.config.server == *server {
                            c.activation_blocked = *blocked;
                        }
                    }
                }
            }
            Action::Reseed { home, server } => {
                let d = self.db_ref(*home, DbRef::Original)?;
                let copy = self.dbs[d].copy_on(*server).ok_or(E_::NoCopy(server.0))?;
                if copy == self.dbs[d].active
                    || self.dbs[d].copies[copy].health == CopyHealth::Healthy
                {
                    return Ok(()); // nothing to reseed: it resynchronises by itself
                }
                let active = self.dbs[d].copies[self.dbs[d].active].config.server;
                if self.dbs[d].state != DbState::Mounted || !self.servers_reach(active, *server) {
                    return Err(E_::CannotReseed);
                }
                let rate = self.config.timing.seed_mb_per_s;
                self.dbs[d].reseed(copy, now, rate);
            }
            Action::RemoveCopy { home, server } => {
                let d = self.db_ref(*home, DbRef::Original)?;
                let copy = self.dbs[d].copy_on(*server).ok_or(E_::NoCopy(server.0))?;
                if copy != self.dbs[d].active {
                    self.dbs[d].copies[copy].health = CopyHealth::FailedAndSuspended;
                }
            }
            Action::CreateDialTone { home, server } => {
                let orig = self.db_ref(*home, DbRef::Original)?;
                check_schema(
                    self.dbs[orig].params.schema_version,
                    self.servers[server.index()].schema_version,
                )?;
                if !self.server_up(*server) {
                    return Err(E_::Unreachable(server.0));
                }
                let db = self.new_db(*home, *server, DbKind::DialTone, 0);
                let id = self.push_db(db);
                if self.dial_tone.len() <= *home {
                    self.dial_tone.resize(*home + 1, None);
                }
                self.dial_tone[*home] = Some(id);
            }
            Action::MoveMailboxes { home, to } => {
                let d = self.db_ref(*home, *to)?;
                let orig = self.homes[*home].original.index();
                let target_server = self.dbs[d].copies[self.dbs[d].active].config.server;
                check_schema(
                    self.dbs[orig].params.schema_version,
                    self.servers[target_server.index()].schema_version,
                )?;
                let old_server = self.dbs[self.homes[*home].current.index()].copies[0]
                    .config
                    .server;
                let from = self.homes[*home].current.index();
                if self.dbs[from].kind == DbKind::DialTone && self.dbs[d].kind != DbKind::DialTone {
                    // Moving back: the dial tone database now holds the mail to merge.
                    self.dbs[from].state = DbState::Mounted;
                    self.dbs[from].kind = DbKind::Recovery;
                    self.homes[*home].recovery = Some(DatabaseId::from(from));
                    self.homes[*home].recovery_holds_dial_tone = true;
                }
                self.homes[*home].current = DatabaseId::from(d);
                self.homes[*home].history_ready = if self.dbs[d].kind == DbKind::DialTone {
                    0
                } else if self.db_has_history(d) {
                    self.homes[*home].users
                } else {
                    0
                };
                if old_server != target_server {
                    for b in 0..self.buckets.len() {
                        let c = self.cohorts[self.buckets[b].cohort as usize];
                        if c.home.index() == *home && c.kind.follows_moves() {
                            self.buckets[b].knows_location = false;
                        }
                    }
                }
            }
            Action::RestoreBackup { home, server } => {
                let orig = self.db_ref(*home, DbRef::Original)?;
                self.check_restore_target(*server)?;
                check_schema(
                    self.dbs[orig].params.schema_version,
                    self.servers[server.index()].schema_version,
                )?;
                let (_, kept) = self.dbs[orig].restorable();
                let lost = self.dbs[orig].messages - kept;
                let size = self.dbs[orig].params.size_mb;
                let mut rdb = self.new_db(*home, *server, DbKind::Recovery, size);
                rdb.messages = kept;
                let id = self.push_db(rdb);
                self.restored.resize(self.dbs.len(), false);
                self.restored[id] = true;
                self.homes[*home].recovery = Some(DatabaseId::from(id));
                self.homes[*home].recovery_holds_dial_tone = false;
                self.restore_running(*home, id, lost, now, ctx);
            }
            Action::RestoreInPlace { home } => {
                let orig = self.db_ref(*home, DbRef::Original)?;
                let server = self.dbs[orig].copies[self.dbs[orig].active].config.server;
                self.check_restore_target(server)?;
                let (head, kept) = self.dbs[orig].restorable();
                let lost = self.dbs[orig].messages - kept;
                self.dbs[orig].restore_to(head, kept);
                self.restored.resize(self.dbs.len(), false);
                self.restored[orig] = true;
                self.restoring_in_place.resize(self.homes.len(), false);
                self.restoring_in_place[*home] = true;
                self.restore_running(*home, orig, lost, now, ctx);
            }
            Action::Swap { home } => {
                let h = *home;
                let cur = self.homes.get(h).ok_or(E_::NoHome(h))?.current.index();
                let Some(rdb) = self.homes[h].recovery.map(|d| d.index()) else {
                    return Err(E_::SwapNotReady);
                };
                if self.dbs[cur].kind != DbKind::DialTone
                    || self.dbs[rdb].state != DbState::Mounted
                    || self.homes[h].recovery_holds_dial_tone
                {
                    return Err(E_::SwapNotReady);
                }
                // Exchange the files: the dial tone object now holds the restored data
                // and the recovery database the dial tone data.
                let restored_messages = self.dbs[rdb].messages;
                let dial_messages = self.dbs[cur].messages;
                self.dbs[cur].kind = DbKind::Production;
                self.dbs[cur].messages = restored_messages;
                self.dbs[rdb].messages = dial_messages;
                self.restored.resize(self.dbs.len(), false);
                self.restored[cur] = true;
                self.homes[h].recovery_holds_dial_tone = true;
                self.homes[h].history_ready = self.homes[h].users;
                self.homes[h].swapping = true;
                let done = now.saturating_add(self.config.timing.swap_outage);
                let _ = ctx.schedule(done, Event::SwapDone(h).into());
            }
            Action::Merge {
                home,
                mailboxes_per_hour,
            } => {
                let h = *home;
                let Some(rdb) = self.homes.get(h).ok_or(E_::NoHome(h))?.recovery else {
                    return Err(E_::MergeNotReady);
                };
                if self.dbs[rdb.index()].state != DbState::Mounted {
                    return Err(E_::MergeNotReady);
                }
                self.homes[h].merging = true;
                self.homes[h].merged = 0;
                self.merge_rate.resize(self.homes.len(), 0);
                self.merge_rate[h] =
                    mailboxes_per_hour.unwrap_or(self.config.timing.merge_mailboxes_per_hour);
                let _ = ctx.schedule_in(MERGE_TICK, Event::MergeTick(h).into());
            }
            Action::ReconfigureProfiles { home, server } => {
                if *home >= self.homes.len() {
                    return Err(E_::NoHome(*home));
                }
                self.helpdesk.push((*home, *server));
                if !self.helpdesk_running {
                    self.helpdesk_running = true;
                    let _ = ctx
                        .schedule_in(SimDuration::from_millis(60_000), Event::HelpdeskTick.into());
                }
            }
            Action::ChangeDns { record, site } if !self.dns_up => {
                // Changes wait for the DNS server.
                self.pending_dns.push((*record, *site));
            }
            Action::ChangeDns { record, site } => {
                let prop = self.config.dns.propagation;
                match record {
                    RecordKind::Mx => {
                        self.mx.change(now, prop, site.0);
                    }
                    RecordKind::ClientAccess | RecordKind::Autodiscover => {
                        let eff = self.client_access.change(now, prop, site.0);
                        // Every cache learns it at its next refresh after `eff`.
                        for b in 0..self.buckets.len() {
                            let period = if self.buckets[b].pinned {
                                self.config.dns.restart_period
                            } else {
                                self.client_access.effective_ttl()
                            };
                            let t =
                                crate::clients::next_tick(eff, period, self.buckets[b].dns_phase);
                            self.schedule_wake(b, t, ctx);
                        }
                    }
                    RecordKind::UnifiedMessaging => {}
                }
            }
            Action::PowerServer { server, on } => {
                self.servers[server.index()].powered = *on;
                if !on {
                    self.transport.server_lost(now, *server);
                }
                self.schedule_heartbeat(now, ctx);
            }
            Action::PowerSite { site, on } => {
                self.net.set_site_up(*site, *on);
                if !on {
                    for i in 0..self.servers.len() {
                        if self.servers[i].site == *site {
                            self.transport.server_lost(now, ServerId::from(i));
                        }
                    }
                }
                self.schedule_heartbeat(now, ctx);
            }
            Action::RebuildServer { server } => {
                self.servers[server.index()].powered = true;
                for db in &mut self.dbs {
                    let active = db.active;
                    for (i, c) in db.copies.iter_mut().enumerate() {
                        if c.config.server == *server && i != active {
                            c.health = CopyHealth::FailedAndSuspended;
                        }
                    }
                }
                self.schedule_heartbeat(now, ctx);
            }
        }
        Ok(())
    }

    /// A restore onto `server` needs it up and the backup site reachable from it.
    fn check_restore_target(&self, server: ServerId) -> Result<(), ActionError> {
        if !self.server_up(server) {
            return Err(ActionError::Unreachable(server.0));
        }
        if let Some(site) = self.config.timing.backup_site
            && !self.net.reachable(site, self.site_of(server))
        {
            return Err(ActionError::BackupUnreachable(site.0));
        }
        Ok(())
    }

    /// A restore into database `target` has started: the messages it cannot recover go
    /// through Safety Net, and it finishes after size / restore rate.
    fn restore_running<E: From<Event>, S: TraceSink>(
        &mut self,
        home: usize,
        target: usize,
        lost: u64,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if lost > 0 {
            self.transport
                .lossy_mount(now, DatabaseId::from(home), lost);
        }
        let secs = self.dbs[target]
            .params
            .size_mb
            .div_ceil(self.config.timing.restore_mb_per_s.max(1));
        let done = now.saturating_add(SimDuration::from_secs(secs).unwrap_or(SimDuration::MAX));
        let _ = ctx.schedule(done, Event::RestoreDone(DatabaseId::from(target)).into());
    }

    /// Whether database `d` holds its mailboxes' pre-failure items.
    fn db_has_history(&self, d: usize) -> bool {
        let db = &self.dbs[d];
        match db.kind {
            DbKind::DialTone => false,
            DbKind::Recovery => true,
            DbKind::Production => {
                self.restored.get(d).copied().unwrap_or(false)
                    || !matches!(db.state, DbState::Failed(_))
            }
        }
    }

    /// A merge progresses by one tick.
    pub(super) fn merge_tick<E: From<Event>, S: TraceSink>(
        &mut self,
        h: usize,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let users = self.homes[h].users;
        let rate = self.merge_rate.get(h).copied().unwrap_or(0);
        let step = (rate * MERGE_TICK.as_millis()).div_ceil(3_600_000).max(1);
        let home = &mut self.homes[h];
        home.merged = (home.merged + step).min(users);
        if !home.recovery_holds_dial_tone {
            home.history_ready = home.history_ready.max(home.merged);
        }
        if home.merged >= users {
            home.merging = false;
            if home.recovery_holds_dial_tone {
                home.dial_tone_messages = 0;
            } else {
                // History merged into the dial tone database: it is the production
                // database from now on (dial tone "staying" on the alternate server).
                let cur = home.current.index();
                home.dial_tone_messages = 0;
                if self.dbs[cur].kind == DbKind::DialTone {
                    self.dbs[cur].kind = DbKind::Production;
                }
            }
            ctx.trace("merge", "done");
        } else {
            let _ = ctx.schedule_in(MERGE_TICK, Event::MergeTick(h).into());
        }
        self.refresh(now, ctx);
    }

    /// Messages delivered into a dial tone database and not merged back, for a group.
    pub fn left_in_dial_tone(&self, h: usize) -> u64 {
        let home = &self.homes[h];
        if home.users == 0 {
            return home.dial_tone_messages;
        }
        let unmerged = if home.merging && home.recovery_holds_dial_tone {
            home.users - home.merged
        } else {
            home.users
        };
        (u128::from(home.dial_tone_messages) * u128::from(unmerged) / u128::from(home.users)) as u64
    }
}

/// How often a running merge reports progress.
pub(super) const MERGE_TICK: SimDuration = SimDuration::from_millis(300_000);
