//! Primitive administrator actions: the cmdlets and manual steps of the seed documents.
//!
//! Each action takes effect at the moment it completes (the scenario layer draws its
//! duration and schedules it), checks its preconditions, and fails with an
//! [`ActionError`] that says why, leaving the world unchanged.
//!
//! This module holds the vocabulary ([`Action`], [`DbRef`], [`ActionError`]) and
//! `World::apply_action`, a dispatch to one method per action. The methods live by
//! concern: `cluster` (DAG and cluster cmdlets), `databases` (mounts, copies,
//! activation), `recovery` (dial tone, restores, swap, merge), `operations` (DNS,
//! power, rebuilds, the helpdesk). A new action is a variant here, an arm in
//! `apply_action`, its method in one of those files, and its tests.

mod cluster;
mod databases;
mod operations;
mod recovery;

use dialtone_engine::{Ctx, DurationDist, SimDuration, SimTime, TraceSink};

use super::components::Component;
use super::{Event, World};
use crate::dns::RecordKind;
use crate::ids::{HomeId, ServerId, SiteId};

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
    /// Add-DatabaseAvailabilityGroupServer: an evicted member rejoins the DAG and its
    /// cluster (a switchback without DAC mode).
    AddDagServer {
        /// The member.
        server: ServerId,
    },
    /// `cluster <DAG> /quorum /nodemajority`: the cluster stops using a witness (an odd
    /// number of survivors without DAC mode).
    NodeMajority,
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
        home: HomeId,
        /// Which of its databases.
        db: DbRef,
    },
    /// Dismount-Database.
    Dismount {
        /// The mailbox group.
        home: HomeId,
        /// Which of its databases.
        db: DbRef,
    },
    /// Move-ActiveMailboxDatabase to a server holding a copy.
    MoveActive {
        /// The mailbox group (its original database).
        home: HomeId,
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
        home: HomeId,
        /// Server of the copy.
        server: ServerId,
    },
    /// Remove-MailboxDatabaseCopy (lets logs truncate; the copy needs a reseed later).
    RemoveCopy {
        /// The mailbox group.
        home: HomeId,
        /// Server of the copy.
        server: ServerId,
    },
    /// New-MailboxDatabase: an empty dial tone database for a group, on `server`
    /// (dismounted until mounted).
    CreateDialTone {
        /// The mailbox group.
        home: HomeId,
        /// Where.
        server: ServerId,
    },
    /// Set-Mailbox -Database for every mailbox of a group (configuration only).
    MoveMailboxes {
        /// The mailbox group.
        home: HomeId,
        /// To which of its databases.
        to: DbRef,
    },
    /// Restore the group's last backup into a recovery database on `server` and roll
    /// forward the surviving logs; the database mounts when the restore finishes.
    RestoreBackup {
        /// The mailbox group.
        home: HomeId,
        /// Where.
        server: ServerId,
    },
    /// Restore the group's original database in place from its last backup (on its own
    /// server, rebuilt if needed) and roll forward the surviving logs; it is ready to
    /// mount when the restore finishes.
    RestoreInPlace {
        /// The mailbox group.
        home: HomeId,
    },
    /// Add-ResubmitRequest: ask Safety Net to resubmit the mail the group's restored
    /// database lost (delivered after the backup, its logs gone). Active Manager asks by
    /// itself after a lossy activation; after a restore it is this manual step.
    ResubmitRequest {
        /// The mailbox group.
        home: HomeId,
    },
    /// Swap the restored database with the dial tone database (both dismounted briefly).
    Swap {
        /// The mailbox group.
        home: HomeId,
    },
    /// New-MailboxRestoreRequest for every mailbox (2003: ExMerge / Recover Mailbox Data
    /// "Merge" or "Copy"), at a throughput in mailboxes per hour (default: the world's).
    Merge {
        /// The mailbox group.
        home: HomeId,
        /// Throughput override.
        mailboxes_per_hour: Option<u64>,
    },
    /// The helpdesk reconfigures Outlook profiles (without Autodiscover) to `server`.
    ReconfigureProfiles {
        /// The mailbox group.
        home: HomeId,
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
    /// Power a server off or on: the administrators' own cause of it being off (powering
    /// on ends no failure; no repair ends it).
    PowerServer {
        /// The server.
        server: ServerId,
        /// State after the action.
        on: bool,
    },
    /// Power a whole site off or on (an administrator terminating a datacenter): the
    /// administrators' own cause, like [`Action::PowerServer`].
    PowerSite {
        /// The site.
        site: SiteId,
        /// State after the action.
        on: bool,
    },
    /// Rebuild a lost server under the same name (Setup /m:RecoverServer, or the 2003
    /// rebuild): new hardware ends every cause of its power and disks; it comes up with
    /// empty disks; its copies need reseeding.
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
            Action::AddDagServer { .. } => "Add-DatabaseAvailabilityGroupServer",
            Action::NodeMajority => "cluster /quorum /nodemajority",
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
            Action::ResubmitRequest { .. } => "Add-ResubmitRequest",
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
            // No published figure: one cmdlet, like Set-Mailbox (dialtone).
            Action::ResubmitRequest { .. } => DurationDist::Fixed(m(2)),
            Action::Mount { .. } | Action::Dismount { .. } => DurationDist::Fixed(s(30)),
            // No published figure: dialtone's assumptions, lognormal to reflect people.
            Action::StopDag { .. }
            | Action::RestoreDag { .. }
            | Action::StartDag { .. }
            | Action::AddDagServer { .. } => DurationDist::LogNormal {
                mean: m(5),
                sd: m(2),
            },
            Action::ForceQuorum { .. }
            | Action::EvictNode { .. }
            | Action::ForceCleanup { .. }
            | Action::ClusterService { .. }
            | Action::SetWitness { .. }
            | Action::NodeMajority
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
    /// Rule `db.restore_needs_backup`: nothing to restore from.
    #[error("no backup of the database was taken before it failed: there is nothing to restore")]
    NoBackup,
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
    NoHome(u32),
    /// A copy that cannot be reseeded now.
    #[error("cannot reseed: the active copy is not mounted or not reachable")]
    CannotReseed,
    /// A failure of the cluster service is still active: it cannot start.
    #[error("the cluster service on server {0} cannot start: a failure of it is still active")]
    ServiceFailed(u32),
    /// The copy's disk is still failed.
    #[error("cannot reseed: the copy's disk is still failed (repair it or rebuild the server)")]
    DiskDown,
}

/// What an accepted action leaves for the world to schedule once it has taken effect.
#[derive(Debug)]
enum FollowUp {
    /// Nothing.
    Nothing,
    /// The cluster notices the change at its next heartbeat.
    Heartbeat,
    /// A follow-up event at a time (a restore or a swap outage ending).
    At(SimTime, Event),
    /// A follow-up event after a delay (merge progress, helpdesk work).
    After(SimDuration, Event),
    /// A restore started: the next restore to finish reading is rescheduled.
    Restores,
}

/// What an action's method returns: its follow-up, or why it was refused.
type Outcome = Result<FollowUp, ActionError>;

impl World {
    /// Applies `a` at `now`: checks its preconditions and changes the world, then
    /// schedules its follow-up; or refuses with the reason and changes nothing.
    pub(super) fn apply_action<E: From<Event>, S: TraceSink>(
        &mut self,
        a: &Action,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) -> Result<(), ActionError> {
        let follow_up = match *a {
            Action::StopDag {
                ref servers,
                from_site,
                configuration_only,
            } => self.stop_dag(servers, from_site, configuration_only, now),
            Action::RestoreDag { site } => self.restore_dag(site, now),
            Action::StartDag {
                ref servers,
                from_site,
            } => self.start_dag(servers, from_site, now),
            Action::AddDagServer { server } => self.add_dag_server(server, now),
            Action::NodeMajority => self.node_majority(),
            Action::SetWitness { server } => self.set_witness(server),
            Action::ForceQuorum { server } => self.force_quorum(server, now),
            Action::EvictNode { server } => self.evict_node(server),
            Action::ForceCleanup { server } => self.force_cleanup(server, now),
            Action::ClusterService { server, running } => {
                self.cluster_service(server, running, now)
            }
            Action::Mount { home, db } => self.mount(home, db),
            Action::Dismount { home, db } => self.dismount(home, db),
            Action::MoveActive {
                home,
                to,
                skip_checks,
            } => self.move_active(home, to, skip_checks, now),
            Action::BlockActivation { server, blocked } => self.block_activation(server, blocked),
            Action::Reseed { home, server } => self.reseed(home, server, now),
            Action::RemoveCopy { home, server } => self.remove_copy(home, server),
            Action::CreateDialTone { home, server } => self.create_dial_tone(home, server),
            Action::MoveMailboxes { home, to } => self.move_mailboxes(home, to),
            Action::RestoreBackup { home, server } => self.restore_backup(home, server, now),
            Action::RestoreInPlace { home } => self.restore_in_place(home, now),
            Action::ResubmitRequest { home } => self.resubmit_request(home, now),
            Action::Swap { home } => self.swap(home, now),
            Action::Merge {
                home,
                mailboxes_per_hour,
            } => self.merge(home, mailboxes_per_hour, now),
            Action::ReconfigureProfiles { home, server } => self.reconfigure_profiles(home, server),
            Action::ChangeDns { record, site } => {
                self.change_dns(record, site, now, ctx);
                Ok(FollowUp::Nothing)
            }
            Action::PowerServer { server, on } => {
                self.power(Component::ServerPower(server), on, now)
            }
            Action::PowerSite { site, on } => self.power(Component::SitePower(site), on, now),
            Action::RebuildServer { server } => self.rebuild_server(server, now),
        }?;
        match follow_up {
            FollowUp::Nothing => {}
            FollowUp::Heartbeat => self.schedule_heartbeat(now, ctx),
            FollowUp::At(t, ev) => {
                let _ = ctx.schedule(t, ev.into());
            }
            FollowUp::After(d, ev) => {
                let _ = ctx.schedule_in(d, ev.into());
            }
            FollowUp::Restores => self.schedule_restores(ctx),
        }
        Ok(())
    }

    /// The group `home`, or why not.
    fn home(&self, home: HomeId) -> Result<&super::Home, ActionError> {
        self.homes
            .get(home.index())
            .ok_or(ActionError::NoHome(home.0))
    }

    /// The database of group `home` that `r` names (an index into `dbs`).
    fn db_ref(&self, home: HomeId, r: DbRef) -> Result<usize, ActionError> {
        let h = self.home(home)?;
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

    fn dial_tone_of(&self, home: HomeId) -> Option<usize> {
        self.dial_tone.get(home.index()).copied().flatten()
    }

    fn member_of(&self, s: ServerId) -> Result<usize, ActionError> {
        self.member[s.index()].ok_or(ActionError::NotMember(s.0))
    }
}
