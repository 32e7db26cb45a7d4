//! The validated description a [`super::World`] is built from. The scenario layer turns a
//! file into this; nothing here parses or validates user input.

use dialtone_engine::SimDuration;

use crate::active_manager::MountDial;
use crate::clients::ClientKind;
use crate::database::{CopyConfig, DbParams};
use crate::ids::{HomeId, ServerId, SiteId};
use crate::restore::RestoreRates;
use crate::transport::TransportParams;

/// A server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// A name for traces.
    pub name: String,
    /// Its site.
    pub site: SiteId,
    /// Active mailboxes served before service degrades.
    pub capacity_mailboxes: Option<u64>,
    /// Database schema version.
    pub schema_version: u32,
}

/// The DAG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagConfig {
    /// Member servers, in membership order.
    pub members: Vec<ServerId>,
    /// The witness server (not a member).
    pub witness: Option<ServerId>,
    /// The alternate witness, used by Restore-DAG.
    pub alternate_witness: Option<ServerId>,
    /// DAC mode.
    pub dac_mode: bool,
    /// Dynamic quorum (Windows 2012 R2 and later).
    pub dynamic_quorum: bool,
    /// AutoDatabaseMountDial of every member.
    pub mount_dial: MountDial,
}

/// A database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbConfig {
    /// A name for traces.
    pub name: String,
    /// Parameters.
    pub params: DbParams,
    /// Copies; the first is active at the start.
    pub copies: Vec<CopyConfig>,
}

/// DNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsConfig {
    /// TTL of every record.
    pub ttl: SimDuration,
    /// Delay before a change reaches the authoritative server.
    pub propagation: SimDuration,
    /// Share of clients pinned to their start-up answer, parts per million.
    pub pinned_ppm: u32,
    /// Pinned clients restart (and resolve again) this often.
    pub restart_period: SimDuration,
    /// Site the client access namespace points to at the start.
    pub client_access_site: SiteId,
    /// Site the MX record points to at the start.
    pub mx_site: SiteId,
    /// The client access namespace lists every site's address (multi-IP): clients fail
    /// over to any reachable site with client access, without a DNS change.
    pub multi_ip: bool,
}

/// A cohort: the users of one mailbox group (original database) on one client kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CohortConfig {
    /// Their mailbox group (numbered like its original database).
    pub home: HomeId,
    /// Their client.
    pub kind: ClientKind,
    /// How many users.
    pub users: u64,
}

/// Client behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientParams {
    /// Phase buckets per cohort (each split into TTL-honouring and pinned users).
    pub buckets: u32,
    /// Outlook reconnect interval.
    pub outlook_retry: SimDuration,
    /// Web users retry (refresh) this often.
    pub web_retry: SimDuration,
    /// Mobile devices retry this often.
    pub mobile_retry: SimDuration,
    /// Helpdesk profile changes per hour (Outlook without Autodiscover).
    pub helpdesk_per_hour: u64,
    /// Rule `clients.cached_choice`: share of cached-mode users offered a dial tone
    /// mailbox who work online in it rather than offline in the old copy, parts per
    /// million.
    pub cached_online_ppm: u32,
}

/// Mail workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MailConfig {
    /// Messages received per user per day, averaged over the day.
    pub messages_per_user_per_day: f64,
    /// Messages each user sends per day (rule `world.split_brain_sent`).
    pub sent_per_user_per_day: f64,
    /// Length of a mail batch.
    pub tick: SimDuration,
    /// Office-hours profile (08:00-18:00 weekdays carry 80% of mail) instead of flat.
    pub office_hours: bool,
    /// Edge/MX in every site accepts mail at all times (active/active); otherwise only the
    /// site the MX record names (active/passive: a switchover changes the record).
    pub edge_active_active: bool,
    /// Rule `world.quiet_stretches`: while nothing waits, mail is handled a stretch at a
    /// time (between change points) instead of every tick; off: every tick.
    pub quiet_stretches: bool,
    /// The end of the run, when known: no quiet stretch runs past it (the mail ticks up
    /// to it run, as without stretches). Unknown: a stretch past the end is offered up to
    /// its last grid point by [`super::World::finish`].
    pub horizon: Option<dialtone_engine::SimTime>,
}

/// Timing of automatic behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Time for the cluster to declare a node down (heartbeat threshold).
    pub heartbeat_detect: SimDuration,
    /// Active Manager's failover duration once the failure is detected: the time one
    /// database takes to mount (rule `world.mount_concurrency`).
    pub failover: SimDuration,
    /// How many databases Active Manager mounts at once after a failover or Restore-DAG
    /// (rule `world.mount_concurrency`).
    pub mount_concurrency: u32,
    /// Reseed speed, MB/s.
    pub seed_mb_per_s: u64,
    /// Restores from backup: per-stream and total read rates, log replay rate.
    pub restore: RestoreRates,
    /// Merge (restore request) per-mailbox overhead, as mailboxes per hour with no data
    /// to move (rule `world.merge`).
    pub merge_mailboxes_per_hour: u64,
    /// Merge (restore request) data throughput, bytes per second (rule `world.merge`).
    pub merge_bytes_per_s: u64,
    /// Both databases are dismounted this long during a swap.
    pub swap_outage: SimDuration,
    /// Full backups this often (none when `None`).
    pub backup_every: Option<SimDuration>,
    /// Time of the first backup.
    pub backup_first: SimDuration,
    /// Site where backups are kept; a restore needs it up and reachable (`None`: anywhere).
    pub backup_site: Option<SiteId>,
}

/// Everything a world is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldConfig {
    /// Number of sites.
    pub sites: usize,
    /// Site names for the trace ("dc1"), by site id; a site without one is "site N".
    pub site_names: Vec<String>,
    /// WAN links between sites.
    pub links: Vec<(SiteId, SiteId)>,
    /// Link names for the trace, by link id; a link without one is "link N".
    pub link_names: Vec<String>,
    /// Servers (members, witnesses, others).
    pub servers: Vec<ServerConfig>,
    /// The DAG.
    pub dag: DagConfig,
    /// Databases.
    pub databases: Vec<DbConfig>,
    /// DNS.
    pub dns: DnsConfig,
    /// Cohorts.
    pub cohorts: Vec<CohortConfig>,
    /// Client behaviour.
    pub clients: ClientParams,
    /// Transport.
    pub transport: TransportParams,
    /// Mail.
    pub mail: MailConfig,
    /// Timing.
    pub timing: Timing,
}

impl WorldConfig {
    /// The name of site `s` for the trace: its scenario name, or "site N".
    pub fn site_name(&self, s: SiteId) -> String {
        self.site_names
            .get(s.index())
            .cloned()
            .unwrap_or_else(|| format!("site {}", s.0))
    }

    /// The name of link `l` for the trace: its scenario name, or "link N".
    pub fn link_name(&self, l: usize) -> String {
        self.link_names
            .get(l)
            .cloned()
            .unwrap_or_else(|| format!("link {l}"))
    }
}
