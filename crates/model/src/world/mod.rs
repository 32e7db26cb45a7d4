//! The world: every rule module driven together by the engine.
//!
//! [`World`] owns the state of the organisation and reacts to [`Event`]s: injected
//! [`Fault`]s, administrator [`Action`]s (scheduled by the scenario layer at the moment
//! they complete), and its own follow-ups (heartbeat detection, Active Manager failovers,
//! mail ticks, client retries, helpdesk work, restores, merges). It never decides what an
//! administrator does.
//!
//! After every discrete change the world *refreshes*: it re-derives which partition has
//! quorum (at heartbeat time), where each database is served, whether a rogue cluster
//! serves a second copy (split brain), and which client buckets can send and receive. Mail
//! moves in batches every tick. All state is arrays of counts indexed by typed ids.

mod actions;
pub mod config;

use dialtone_engine::stats::TimeAverage;
use dialtone_engine::{
    Ctx, EventId, Model, RngStreams, SimDuration, SimTime, StreamExt, StreamNameError, StreamRng,
    TraceSink,
};

pub use actions::{Action, ActionError, DbRef};
pub use config::WorldConfig;

use crate::active_manager::{Candidate, Choice, choose};
use crate::clients::{Bucket, ClientKind, next_tick};
use crate::dac::{Dac, StartView};
use crate::database::{CopyHealth, Database, DbKind, DbState, FailReason};
use crate::dns::{Record, RecordKind};
use crate::ids::{BucketId, CohortId, DatabaseId, HomeId, LinkId, ServerId, SiteId};
use crate::network::Network;
use crate::quorum::{Cluster, Presence};
use crate::server::{Server, Services};
use crate::transport::{Fates, Path, SHADOW, Transport};

/// A service of a mailbox server, for partial failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// The cluster service.
    Cluster,
    /// Client access.
    ClientAccess,
    /// Transport.
    Transport,
    /// Unified messaging.
    UnifiedMessaging,
}

/// Something that breaks or is repaired, injected by the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A site loses (`on = false`) or regains power.
    SitePower {
        /// The site.
        site: SiteId,
        /// Power state after the event.
        on: bool,
    },
    /// A server loses or regains power (also a witness server).
    ServerPower {
        /// The server.
        server: ServerId,
        /// Power state after the event.
        on: bool,
    },
    /// A WAN link is cut or repaired.
    Link {
        /// The link.
        link: LinkId,
        /// State after the event.
        up: bool,
    },
    /// One service on a server stops or starts (partial datacenter failure).
    Service {
        /// The server.
        server: ServerId,
        /// The service.
        service: ServiceKind,
        /// State after the event.
        up: bool,
    },
    /// Logical corruption written to a database; it replicates to copies that replay it.
    Corruption {
        /// The database.
        db: DatabaseId,
    },
    /// The authoritative DNS server is lost (`up = false`) or back: record changes made
    /// while it is down take effect when it returns.
    DnsServer {
        /// State after the event.
        up: bool,
    },
    /// The disk holding one copy is lost (the active copy: the database fails).
    DiskLost {
        /// The database.
        db: DatabaseId,
        /// Index of the copy.
        copy: usize,
    },
}

/// What happens in the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A mail batch per mailbox group; replication advances.
    MailTick,
    /// The cluster's heartbeat timeout: quorum is evaluated.
    Heartbeat,
    /// Active Manager's failover of a database completes.
    Failover(DatabaseId),
    /// A client bucket's retry or DNS refresh is due.
    BucketWake(BucketId),
    /// The helpdesk reconfigures more profiles.
    HelpdeskTick,
    /// A scheduled full backup of every database.
    Backup,
    /// A restore into a recovery database finishes.
    RestoreDone(DatabaseId),
    /// The swap outage of a mailbox group ends.
    SwapDone(HomeId),
    /// A merge of a mailbox group progresses.
    MergeTick(HomeId),
    /// A fault happens.
    Fault(Fault),
    /// An administrator action completes now.
    Action(Action),
}

/// A mailbox group: the users whose mailboxes were on one original database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    /// The database they were on at the start.
    pub original: DatabaseId,
    /// The database their mailboxes point to now (Set-Mailbox -Database).
    pub current: DatabaseId,
    /// Users (= mailboxes).
    pub users: u64,
    /// Users whose pre-failure items are in `current`.
    pub history_ready: u64,
    /// Messages delivered into a dial tone database that are not yet merged back.
    pub dial_tone_messages: u64,
    /// Recovery database holding this group's restored data or its swapped-out dial tone
    /// data.
    pub recovery: Option<DatabaseId>,
    /// Whether the recovery database holds the dial tone data (after a swap), so a merge
    /// brings new mail in rather than history.
    pub recovery_holds_dial_tone: bool,
    /// Mailboxes merged so far by a running merge.
    pub merged: u64,
    /// A merge is running.
    pub merging: bool,
    /// Both databases are dismounted for a swap.
    pub swapping: bool,
}

/// Counters the metrics layer reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Tallies {
    /// Per cohort: users who cannot both send and receive, integrated over time.
    pub without_service: Vec<TimeAverage>,
    /// Per cohort: users without their pre-failure mail, integrated over time.
    pub without_history: Vec<TimeAverage>,
    /// Per cohort: users reading their offline copy instead, integrated over time.
    pub offline_readable: Vec<TimeAverage>,
    /// Databases served twice at once (split brain), integrated over time.
    pub split_brain: TimeAverage,
    /// Messages delivered to the losing side of a split brain.
    pub split_brain_messages: u64,
    /// Profile changes made by the helpdesk.
    pub profile_changes: u64,
    /// Administrator actions that failed their preconditions.
    pub failed_actions: u64,
    /// Change points `(time, users)` of the total of users without send/receive; the
    /// users-in-service curve and time-to-service percentiles come from it.
    pub without_service_curve: Vec<(SimTime, u64)>,
    /// Change points of the total of users without their history.
    pub without_history_curve: Vec<(SimTime, u64)>,
    /// Per client kind (in [`KIND_LABELS`] order): change points of users without
    /// send/receive, and of users without history.
    pub by_kind: Vec<(Curve, Curve)>,
}

/// Change points `(time, users)`: each value holds from its time to the next.
pub type Curve = Vec<(SimTime, u64)>;

/// Client kinds in the order of [`Tallies::by_kind`].
pub const KIND_LABELS: [&str; 5] = [
    "outlook-cached",
    "outlook-online",
    "outlook-no-autodiscover",
    "web",
    "mobile",
];

fn kind_index(k: ClientKind) -> usize {
    KIND_LABELS
        .iter()
        .position(|l| *l == k.label())
        .unwrap_or(0)
}

/// The state of the organisation.
#[derive(Debug)]
pub struct World {
    config: WorldConfig,
    net: Network,
    servers: Vec<Server>,
    /// Member index of each server in the DAG.
    member: Vec<Option<usize>>,
    cluster: Cluster,
    dac: Dac,
    /// The witness the authoritative cluster uses.
    witness: Option<ServerId>,
    /// Server powered-and-site-up at the last refresh (to detect boots).
    was_up: Vec<bool>,
    booted_at: Vec<SimTime>,
    /// Databases; production ones first, then those created at run time.
    pub dbs: Vec<Database>,
    /// Per member, per database: the copy it last saw active while it was in the running
    /// cluster. A rogue cluster mounts what its members believe.
    member_view: Vec<Vec<usize>>,
    /// Mailbox groups, one per original database.
    pub homes: Vec<Home>,
    client_access: Record,
    mx: Record,
    mx_phase: SimDuration,
    cohorts: Vec<config::CohortConfig>,
    /// Client buckets.
    pub buckets: Vec<Bucket>,
    bucket_wake: Vec<Option<(SimTime, EventId)>>,
    /// Mail ledger.
    pub transport: Transport,
    mail_rng: Vec<StreamRng>,
    /// Members that were in the quorum partition at the last evaluation. The partition is
    /// tracked by its members, not by its label: labels renumber when partitions merge.
    quorum_members: Vec<ServerId>,
    /// Members of each rogue partition at the last evaluation.
    rogue_members: Vec<Vec<ServerId>>,
    /// Where each database is served by the authoritative cluster.
    serving: Vec<Option<ServerId>>,
    /// Where each database is served by a rogue cluster.
    rogue_serving: Vec<Option<ServerId>>,
    failover_pending: Vec<Option<EventId>>,
    heartbeat_pending: Option<EventId>,
    helpdesk: Vec<(HomeId, ServerId)>,
    helpdesk_credit: u64,
    helpdesk_running: bool,
    /// Dial tone database of each group, once created.
    dial_tone: Vec<Option<usize>>,
    /// Databases holding restored data.
    restored: Vec<bool>,
    /// Merge throughput per group, mailboxes per hour.
    merge_rate: Vec<u64>,
    /// Per group: an in-place restore of the original database is running (`true`) or
    /// finished (`false`).
    restoring_in_place: Vec<bool>,
    /// Per cohort: users and connected users (kept incrementally).
    cohort_users: Vec<u64>,
    cohort_connected: Vec<u64>,
    /// Per server: active mailboxes it serves (recomputed at each refresh).
    server_load: Vec<u64>,
    /// Per site: a client access server is up there (recomputed at each refresh).
    cas_site_up: Vec<bool>,
    /// Whether the authoritative DNS server runs.
    pub(crate) dns_up: bool,
    /// DNS changes waiting for the DNS server.
    pub(crate) pending_dns: Vec<(RecordKind, SiteId)>,
    /// Per database: `(first time it stopped being served, last time it came back)`.
    pub outages: Vec<(Option<SimTime>, Option<SimTime>)>,
    /// Counters for metrics.
    pub tallies: Tallies,
}

/// Split `total` into `parts` counts, exactly.
fn split_even(total: u64, parts: u64) -> Vec<u64> {
    (0..parts)
        .map(|i| total / parts + u64::from(i < total % parts))
        .collect()
}

impl World {
    /// Builds the world at time zero: everything up, every database mounted on its first
    /// copy, every client connected. Client phases come from the "clients" stream.
    pub fn new(config: WorldConfig, streams: &RngStreams) -> Result<Self, StreamNameError> {
        let net = Network::new(config.sites, &config.links);
        let servers: Vec<Server> = config
            .servers
            .iter()
            .map(|s| Server {
                site: s.site,
                capacity_mailboxes: s.capacity_mailboxes,
                schema_version: s.schema_version,
                powered: true,
                services: Services::ALL,
            })
            .collect();
        let mut member = vec![None; servers.len()];
        for (i, m) in config.dag.members.iter().enumerate() {
            member[m.index()] = Some(i);
        }
        let n = config.dag.members.len();
        let cluster = Cluster::new(n, config.dag.witness.is_some(), config.dag.dynamic_quorum);
        let dac = Dac::new(config.dag.dac_mode, n, config.sites);
        let dbs: Vec<Database> = config
            .databases
            .iter()
            .map(|d| Database::new(d.params, &d.copies))
            .collect();
        let mut users = vec![0u64; dbs.len()];
        for c in &config.cohorts {
            users[c.home.index()] += c.users;
        }
        let homes = (0..dbs.len())
            .map(|i| Home {
                original: DatabaseId::from(i),
                current: DatabaseId::from(i),
                users: users[i],
                history_ready: users[i],
                dial_tone_messages: 0,
                recovery: None,
                recovery_holds_dial_tone: false,
                merged: 0,
                merging: false,
                swapping: false,
            })
            .collect();
        let mut crng = streams.stream("clients")?;
        let ttl = config.dns.ttl.min(crate::dns::RESOLVER_TTL_CAP);
        let mut buckets = Vec::new();
        for (ci, c) in config.cohorts.iter().enumerate() {
            let k = u64::from(config.clients.buckets.max(1));
            let home_server = config.databases[c.home.index()].copies[0].server;
            let retry = retry_of(&config.clients, c.kind);
            for share in split_even(c.users, k) {
                let pinned = share * u64::from(config.dns.pinned_ppm) / 1_000_000;
                for (users, is_pinned) in [(share - pinned, false), (pinned, true)] {
                    if users == 0 {
                        continue;
                    }
                    let period = if is_pinned {
                        config.dns.restart_period
                    } else {
                        ttl
                    };
                    let dns_phase =
                        SimDuration::from_millis((crng.unit() * period.as_millis() as f64) as u64);
                    let retry_phase =
                        SimDuration::from_millis((crng.unit() * retry.as_millis() as f64) as u64);
                    buckets.push(Bucket {
                        cohort: CohortId::from(ci),
                        users,
                        pinned: is_pinned,
                        dns_phase,
                        retry_phase,
                        connected: users,
                        profiles: if c.kind.follows_moves() {
                            Vec::new()
                        } else {
                            vec![(home_server, users)]
                        },
                        knows_location: true,
                    });
                }
            }
        }
        let mx_phase = SimDuration::from_millis((crng.unit() * ttl.as_millis() as f64) as u64);
        let mail_rng = (0..dbs.len())
            .map(|i| streams.substream("mail", i as u64))
            .collect::<Result<Vec<_>, _>>()?;
        let ndb = dbs.len();
        let ncoh = config.cohorts.len();
        let nbuckets = buckets.len();
        let serving = (0..ndb)
            .map(|i| Some(config.databases[i].copies[0].server))
            .collect();
        let mut w = World {
            net,
            member,
            cluster,
            dac,
            witness: config.dag.witness,
            was_up: vec![true; servers.len()],
            booted_at: vec![SimTime::ZERO; servers.len()],
            servers,
            member_view: vec![vec![0; ndb]; n],
            homes,
            client_access: Record::new(
                RecordKind::ClientAccess,
                config.dns.ttl,
                config.dns.client_access_site.0,
            ),
            mx: Record::new(RecordKind::Mx, config.dns.ttl, config.dns.mx_site.0),
            mx_phase,
            cohorts: config.cohorts.clone(),
            buckets,
            bucket_wake: vec![None; nbuckets],
            transport: Transport::new(config.transport),
            mail_rng,
            quorum_members: Vec::new(),
            rogue_members: Vec::new(),
            serving,
            rogue_serving: vec![None; ndb],
            failover_pending: vec![None; ndb],
            heartbeat_pending: None,
            helpdesk: Vec::new(),
            helpdesk_credit: 0,
            helpdesk_running: false,
            dial_tone: Vec::new(),
            restored: Vec::new(),
            merge_rate: Vec::new(),
            restoring_in_place: Vec::new(),
            cohort_users: vec![0; ncoh],
            cohort_connected: vec![0; ncoh],
            server_load: Vec::new(),
            cas_site_up: Vec::new(),
            dns_up: true,
            pending_dns: Vec::new(),
            outages: vec![(None, None); ndb],
            tallies: Tallies {
                without_service: vec![TimeAverage::new(SimTime::ZERO, 0); ncoh],
                without_history: vec![TimeAverage::new(SimTime::ZERO, 0); ncoh],
                offline_readable: vec![TimeAverage::new(SimTime::ZERO, 0); ncoh],
                split_brain: TimeAverage::new(SimTime::ZERO, 0),
                split_brain_messages: 0,
                profile_changes: 0,
                failed_actions: 0,
                without_service_curve: vec![(SimTime::ZERO, 0)],
                without_history_curve: vec![(SimTime::ZERO, 0)],
                by_kind: vec![
                    (vec![(SimTime::ZERO, 0)], vec![(SimTime::ZERO, 0)]);
                    KIND_LABELS.len()
                ],
            },
            dbs,
            config,
        };
        for b in &w.buckets {
            w.cohort_users[b.cohort.index()] += b.users;
            w.cohort_connected[b.cohort.index()] += b.connected;
        }
        w.evaluate_quorum();
        w.precompute();
        Ok(w)
    }

    /// The configuration the world was built from.
    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// Mail fates so far.
    pub fn fates(&self) -> Fates {
        self.transport.fates()
    }

    /// Whether server `s` has power (its own and its site's).
    pub fn server_up(&self, s: ServerId) -> bool {
        let srv = &self.servers[s.index()];
        srv.powered && self.net.site_up(srv.site)
    }

    fn site_of(&self, s: ServerId) -> SiteId {
        self.servers[s.index()].site
    }

    fn servers_reach(&self, a: ServerId, b: ServerId) -> bool {
        self.server_up(a)
            && self.server_up(b)
            && self.net.reachable(self.site_of(a), self.site_of(b))
    }

    /// Network partition label of a server, `None` when down.
    fn partition_of(&self, s: ServerId) -> Option<u32> {
        if self.server_up(s) {
            self.net.component(self.site_of(s))
        } else {
            None
        }
    }

    /// The network partition a server is in (`None` when down); equal labels can talk.
    pub fn partition_label(&self, s: ServerId) -> Option<u32> {
        self.partition_of(s)
    }

    /// Where database `d` is served by the authoritative cluster, if anywhere.
    pub fn serving(&self, d: DatabaseId) -> Option<ServerId> {
        self.serving[d.index()]
    }

    /// Where database `d` is served by a rogue cluster, if anywhere (split brain).
    pub fn rogue_serving(&self, d: DatabaseId) -> Option<ServerId> {
        self.rogue_serving[d.index()]
    }

    /// Whether member server `s` may mount: in the quorum partition, cluster service up,
    /// DAC gate open. Non-members need only be up.
    fn may_mount_on(&self, s: ServerId) -> bool {
        if !self.server_up(s) {
            return false;
        }
        match self.member[s.index()] {
            None => true,
            Some(m) => {
                let srv = &self.servers[s.index()];
                self.cluster.is_member(m)
                    && srv.services.cluster
                    && self.quorum().is_some()
                    && self.partition_of(s) == self.quorum()
                    && self.dac.may_mount(m, srv.site.index(), true)
            }
        }
    }

    fn presence(&self, witness: Option<ServerId>) -> (Vec<Option<u32>>, Option<u32>) {
        let parts = self
            .config
            .dag
            .members
            .iter()
            .map(|&s| {
                if self.servers[s.index()].services.cluster {
                    self.partition_of(s)
                } else {
                    None
                }
            })
            .collect();
        let w = witness.and_then(|w| self.partition_of(w));
        (parts, w)
    }

    /// Rules `quorum.*`: evaluates the cluster now.
    fn evaluate_quorum(&mut self) {
        let (parts, wp) = self.presence(self.witness);
        let out = self.cluster.evaluate(&Presence {
            member_partition: &parts,
            witness_partition: wp,
        });
        // Stale members remember the original witness.
        let (_, old_wp) = self.presence(self.config.dag.witness);
        let stale = self.cluster.clone().evaluate(&Presence {
            member_partition: &parts,
            witness_partition: old_wp,
        });
        let members_in = |label: u32| -> Vec<ServerId> {
            self.config
                .dag
                .members
                .iter()
                .zip(&parts)
                .filter(|(_, p)| **p == Some(label))
                .map(|(&m, _)| m)
                .collect()
        };
        self.quorum_members = out.quorum.map_or(Vec::new(), members_in);
        // A stale member that can reach the running cluster joins it; a rogue cluster
        // exists only apart from it.
        self.rogue_members = stale
            .rogue
            .into_iter()
            .filter(|&r| Some(r) != out.quorum)
            .map(members_in)
            .collect();
    }

    /// The label of the partition with quorum now: that of the first member, still up,
    /// of the partition that had it at the last evaluation.
    fn quorum(&self) -> Option<u32> {
        self.quorum_members
            .iter()
            .find_map(|&m| self.partition_of(m))
    }

    /// Labels of rogue partitions now (never the quorum partition's).
    fn rogue(&self) -> Vec<u32> {
        let q = self.quorum();
        self.rogue_members
            .iter()
            .filter_map(|ms| ms.iter().find_map(|&m| self.partition_of(m)))
            .filter(|&r| Some(r) != q)
            .collect()
    }

    /// Rules `dac.bit_*`: members that came up since the last refresh start Active
    /// Manager; members that went down lose their bit.
    fn boot_members(&mut self, now: SimTime) {
        for s in 0..self.servers.len() {
            let sid = ServerId::from(s);
            let up = self.server_up(sid);
            if up == self.was_up[s] {
                continue;
            }
            self.was_up[s] = up;
            if up {
                self.booted_at[s] = now;
            }
            let Some(m) = self.member[s] else { continue };
            if !up {
                self.dac.on_down(m);
                continue;
            }
            let reachable: Vec<bool> = self
                .config
                .dag
                .members
                .iter()
                .map(|&o| self.servers_reach(sid, o))
                .collect();
            let witness = self
                .witness
                .filter(|&w| self.servers_reach(sid, w))
                .map(|w| self.booted_at[w.index()]);
            let site = self.site_of(sid).index();
            self.dac.on_start(&StartView {
                member: m,
                site,
                reachable: &reachable,
                witness,
                now,
            });
        }
        // AD replication inside each partition (rule dac.stopped_list).
        let mut by_part: Vec<(u32, usize)> = (0..self.net.sites())
            .filter_map(|s| self.net.component(SiteId::from(s)).map(|c| (c, s)))
            .collect();
        by_part.sort_unstable();
        let mut i = 0;
        while i < by_part.len() {
            let c = by_part[i].0;
            let group: Vec<usize> = by_part[i..]
                .iter()
                .take_while(|(cc, _)| *cc == c)
                .map(|&(_, s)| s)
                .collect();
            i += group.len();
            self.dac.replicate(&group);
        }
    }

    /// Per-refresh tables every bucket evaluation reads: server load and CAS sites.
    fn precompute(&mut self) {
        self.server_load.clear();
        self.server_load.resize(self.servers.len(), 0);
        for h in 0..self.homes.len() {
            if let Some(s) = self.home_server(HomeId::from(h)) {
                self.server_load[s.index()] += self.homes[h].users;
            }
        }
        self.cas_site_up.clear();
        self.cas_site_up.resize(self.net.sites(), false);
        for i in 0..self.servers.len() {
            let s = &self.servers[i];
            if s.services.client_access
                && self.is_mailbox_server(ServerId::from(i))
                && self.server_up(ServerId::from(i))
            {
                self.cas_site_up[s.site.index()] = true;
            }
        }
    }

    /// Re-derives where every database is served, schedules failovers, updates the split
    /// brain indicator and every client bucket.
    fn refresh<E: From<Event>, S: TraceSink>(&mut self, now: SimTime, ctx: &mut Ctx<'_, E, S>) {
        self.boot_members(now);
        // Members in the running partition see the current active copies.
        if let Some(q) = self.quorum() {
            for (m, &s) in self.config.dag.members.iter().enumerate() {
                if self.partition_of(s) == Some(q) {
                    let view = &mut self.member_view[m];
                    view.resize(self.dbs.len(), 0);
                    for (d, db) in self.dbs.iter().enumerate() {
                        view[d] = db.active;
                    }
                }
            }
        }
        let mut split = 0u64;
        for d in 0..self.dbs.len() {
            let db = &self.dbs[d];
            let active_server = db.copies[db.active].config.server;
            let prev = self.serving[d];
            let ok = db.state == DbState::Mounted
                && db.kind != DbKind::Recovery
                && self.may_mount_on(active_server)
                && !self
                    .homes
                    .iter()
                    .any(|h| h.swapping && h.current.index() == d);
            self.serving[d] = ok.then_some(active_server);
            if self.outages.len() <= d {
                self.outages.resize(d + 1, (None, None));
            }
            if prev.is_some() && self.serving[d].is_none() && self.outages[d].0.is_none() {
                self.outages[d].0 = Some(now);
            }
            if prev.is_none() && self.serving[d].is_some() {
                self.outages[d].1 = Some(now);
            }
            if prev.is_some() && self.serving[d].is_none() {
                ctx.trace_with("db", "unavailable", || self.db_name(d).to_string());
            }
            if prev.is_none() && self.serving[d].is_some() {
                ctx.trace_with("db", "serving", || self.db_name(d).to_string());
            }
            // Active Manager steps in for a replicated database whose active copy is
            // lost while the DAG has quorum.
            let wants_failover = self.serving[d].is_none()
                && self.quorum().is_some()
                && self.dbs[d].copies.len() > 1
                && matches!(
                    self.dbs[d].state,
                    DbState::Mounted | DbState::Failed(FailReason::DiskLost)
                )
                && self.failover_pending[d].is_none();
            if wants_failover {
                let at = now.saturating_add(self.config.timing.failover);
                if let Ok(id) = ctx.schedule(at, Event::Failover(DatabaseId::from(d)).into()) {
                    self.failover_pending[d] = Some(id);
                }
            }
            // Rule quorum.stale_config + dac.mount_gate on the rogue side.
            self.rogue_serving[d] = self.rogue_server(d);
            if self.serving[d].is_some() && self.rogue_serving[d].is_some() {
                split += 1;
            }
        }
        self.tallies.split_brain.set(now, split);
        self.precompute();
        for b in 0..self.buckets.len() {
            self.evaluate_bucket(BucketId::from(b), now, ctx);
        }
        // History may have changed without any connection changing (a move back, a
        // swap, a merge step).
        for c in 0..self.cohorts.len() {
            self.update_cohort(CohortId::from(c), now);
        }
    }

    /// Where a rogue cluster serves database `d`: the copy its members last saw active,
    /// if that copy's server is in the rogue partition and its DAC gate is open.
    fn rogue_server(&self, d: usize) -> Option<ServerId> {
        if self.dbs[d].kind != DbKind::Production {
            return None;
        }
        for r in self.rogue() {
            let Some(m) = (0..self.config.dag.members.len())
                .find(|&m| self.partition_of(self.config.dag.members[m]) == Some(r))
            else {
                continue;
            };
            let copy = self.member_view[m].get(d).copied().unwrap_or(0);
            let s = self.dbs[d].copies.get(copy)?.config.server;
            let mounts = self.partition_of(s) == Some(r)
                && self.member[s.index()]
                    .is_some_and(|ms| self.dac.may_mount(ms, self.site_of(s).index(), true));
            if mounts {
                return Some(s);
            }
        }
        None
    }

    fn db_name(&self, d: usize) -> &str {
        self.config
            .databases
            .get(d)
            .map_or("runtime-db", |s| s.name.as_str())
    }

    /// Which server serves the mailboxes of home `h` now, if any.
    fn home_server(&self, h: HomeId) -> Option<ServerId> {
        self.serving[self.homes[h.index()].current.index()]
    }

    /// Rules `clients.*`, `dns.*`, `server.capacity`: how many users of bucket `b` may be
    /// connected now, and when something bucket-specific could change that.
    fn bucket_allowed(&self, b: BucketId, now: SimTime) -> (u64, Option<SimTime>) {
        let bk = &self.buckets[b.index()];
        let cohort = self.cohorts[bk.cohort.index()];
        let h = cohort.home;
        let Some(server) = self.home_server(h) else {
            return (0, None);
        };
        // DNS for the client access namespace.
        let period = if bk.pinned {
            self.config.dns.restart_period
        } else {
            self.client_access.effective_ttl()
        };
        let mut site = SiteId(self.client_access.cached_every(now, period, bk.dns_phase));
        if self.config.dns.multi_ip
            && !(self.cas_site_up.get(site.index()).copied().unwrap_or(false)
                && self.net.reachable(site, self.site_of(server)))
        {
            // Rule world.multi_ip: the client tries the namespace's other addresses.
            if let Some(s) = (0..self.net.sites()).map(SiteId::from).find(|&s| {
                self.cas_site_up.get(s.index()).copied().unwrap_or(false)
                    && self.net.reachable(s, self.site_of(server))
            }) {
                site = s;
            }
        }
        let cas_ok = self.cas_site_up.get(site.index()).copied().unwrap_or(false)
            && self.net.reachable(site, self.site_of(server));
        if !cas_ok {
            let stale = self.client_access.authoritative(now) != site.0;
            let wake = stale.then(|| next_tick(now, period, bk.dns_phase));
            return (0, wake);
        }
        let retry = retry_of(&self.config.clients, cohort.kind);
        let located = if cohort.kind.follows_moves() {
            if bk.knows_location {
                bk.users
            } else {
                return (0, Some(next_tick(now, retry, bk.retry_phase)));
            }
        } else {
            // Rule clients.profile: the profile must name a server with a copy of the
            // current database.
            let db = &self.dbs[self.homes[h.index()].current.index()];
            bk.profiles
                .iter()
                .filter(|(s, _)| db.copies.iter().any(|c| c.config.server == *s))
                .map(|(_, n)| n)
                .sum()
        };
        // Rule server.capacity.
        let active = self.server_load[server.index()];
        let served = crate::server::served(active, self.servers[server.index()].capacity_mailboxes);
        let allowed = if active == 0 {
            located
        } else {
            (u128::from(located) * u128::from(served) / u128::from(active)) as u64
        };
        (allowed, None)
    }

    fn evaluate_bucket<E: From<Event>, S: TraceSink>(
        &mut self,
        b: BucketId,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let (allowed, wake) = self.bucket_allowed(b, now);
        let bk = &self.buckets[b.index()];
        let cohort = self.cohorts[bk.cohort.index()];
        let retry = retry_of(&self.config.clients, cohort.kind);
        let mut wake_at = wake;
        if allowed < bk.connected {
            self.set_connected(b, allowed, now);
        } else if allowed > bk.connected {
            // Rule clients.retry: reconnect at the next retry.
            let t = next_tick(now, retry, bk.retry_phase);
            if t == now {
                self.set_connected(b, allowed, now);
            } else {
                wake_at = Some(wake_at.map_or(t, |w| w.min(t)));
            }
        }
        if let Some(t) = wake_at {
            self.schedule_wake(b, t, ctx);
        }
    }

    fn schedule_wake<E: From<Event>, S: TraceSink>(
        &mut self,
        b: BucketId,
        t: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if let Some((pending, id)) = self.bucket_wake[b.index()] {
            if pending <= t && ctx.is_pending(id) {
                return;
            }
            ctx.cancel(id);
        }
        if let Ok(id) = ctx.schedule(t, Event::BucketWake(b).into()) {
            self.bucket_wake[b.index()] = Some((t, id));
        }
    }

    fn set_connected(&mut self, b: BucketId, connected: u64, now: SimTime) {
        let bk = &mut self.buckets[b.index()];
        let c = bk.cohort;
        self.cohort_connected[c.index()] =
            self.cohort_connected[c.index()] - bk.connected + connected;
        bk.connected = connected;
        self.update_cohort(c, now);
    }

    /// Re-derives cohort `c`'s tallies (service, history, offline reading) from its
    /// connected users and its group's history.
    fn update_cohort(&mut self, c: CohortId, now: SimTime) {
        let cohort = self.cohorts[c.index()];
        let h = cohort.home.index();
        let c = c.index();
        let (conn, users) = (self.cohort_connected[c], self.cohort_users[c]);
        let home = &self.homes[h];
        let with_history = if home.users == 0 {
            0
        } else {
            (u128::from(conn) * u128::from(home.history_ready) / u128::from(home.users)) as u64
        };
        let before = (
            self.tallies.without_service[c].value(),
            self.tallies.without_history[c].value(),
        );
        let offline = if cohort.kind.has_offline_copy() {
            users - with_history
        } else {
            0
        };
        let without_history = users - with_history - offline;
        self.tallies.without_service[c].set(now, users - conn);
        self.tallies.without_history[c].set(now, without_history);
        self.tallies.offline_readable[c].set(now, offline);
        push_change(
            &mut self.tallies.without_service_curve,
            now,
            before.0,
            users - conn,
        );
        push_change(
            &mut self.tallies.without_history_curve,
            now,
            before.1,
            without_history,
        );
        let k = &mut self.tallies.by_kind[kind_index(cohort.kind)];
        push_change(&mut k.0, now, before.0, users - conn);
        push_change(&mut k.1, now, before.1, without_history);
    }

    /// Users of cohort `c` who can send and receive now.
    pub fn connected(&self, c: CohortId) -> u64 {
        self.cohort_connected[c.index()]
    }

    fn schedule_heartbeat<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if self.heartbeat_pending.is_some_and(|id| ctx.is_pending(id)) {
            return;
        }
        let at = now.saturating_add(self.config.timing.heartbeat_detect);
        self.heartbeat_pending = ctx.schedule(at, Event::Heartbeat.into()).ok();
    }

    /// Advances replication of every database to `now` under the connectivity that held
    /// since the last update.
    fn advance_replication(&mut self, now: SimTime) {
        for d in 0..self.dbs.len() {
            let db = &self.dbs[d];
            let active = db.copies[db.active].config.server;
            let conn: Vec<bool> = db
                .copies
                .iter()
                .map(|c| self.servers_reach(active, c.config.server))
                .collect();
            self.dbs[d].advance(now, |i| conn[i]);
        }
    }

    fn apply_fault<E: From<Event>, S: TraceSink>(
        &mut self,
        f: Fault,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        match f {
            Fault::SitePower { site, on } => {
                ctx.trace_with("site", if on { "power-on" } else { "power-loss" }, || {
                    format!("site {}", site.0)
                });
                self.power_site(site, on, now, ctx);
            }
            Fault::ServerPower { server, on } => {
                ctx.trace_with("server", if on { "power-on" } else { "power-off" }, || {
                    self.config.servers[server.index()].name.clone()
                });
                self.power_server(server, on, now, ctx);
            }
            Fault::Link { link, up } => {
                ctx.trace_with("link", if up { "repaired" } else { "cut" }, || {
                    format!("link {}", link.0)
                });
                self.net.set_link_up(link, up);
                self.schedule_heartbeat(now, ctx);
            }
            Fault::Service {
                server,
                service,
                up,
            } => {
                let s = &mut self.servers[server.index()].services;
                match service {
                    ServiceKind::Cluster => s.cluster = up,
                    ServiceKind::ClientAccess => s.client_access = up,
                    ServiceKind::Transport => s.transport = up,
                    ServiceKind::UnifiedMessaging => s.unified_messaging = up,
                }
                if service == ServiceKind::Cluster {
                    self.schedule_heartbeat(now, ctx);
                }
            }
            Fault::Corruption { db } => {
                ctx.trace("db", "corruption");
                self.dbs[db.index()].corrupt_logically();
            }
            Fault::DnsServer { up } => {
                self.dns_up = up;
                if up {
                    for (record, site) in std::mem::take(&mut self.pending_dns) {
                        self.change_dns(record, site, now, ctx);
                    }
                }
            }
            Fault::DiskLost { db, copy } => {
                let d = &mut self.dbs[db.index()];
                if copy == d.active {
                    d.state = DbState::Failed(FailReason::DiskLost);
                } else if let Some(c) = d.copies.get_mut(copy) {
                    c.health = CopyHealth::FailedAndSuspended;
                }
            }
        }
    }

    /// Rules `am.*`: Active Manager's failover of database `d`.
    fn failover<S: TraceSink, E: From<Event>>(
        &mut self,
        d: usize,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        self.failover_pending[d] = None;
        let db = &self.dbs[d];
        let old = db.copies[db.active].config.server;
        if db.state == DbState::Mounted && self.may_mount_on(old) {
            return; // the active copy is back
        }
        let candidates: Vec<Candidate> = (0..db.copies.len())
            .map(|i| {
                let c = &db.copies[i];
                let s = c.config.server;
                let healthy = if i == db.active {
                    db.state == DbState::Mounted
                } else {
                    c.health == CopyHealth::Healthy
                };
                Candidate {
                    copy: i,
                    eligible: healthy
                        && !c.activation_blocked
                        && !db.copy_corrupt(i)
                        && self.may_mount_on(s),
                    copy_queue: db.copy_queue(i),
                    preference: c.config.preference,
                    dial: self.config.dag.mount_dial,
                    acll: i != db.active && self.servers_reach(old, s),
                }
            })
            .collect();
        match choose(&candidates) {
            Choice::Mount { copy, lost_logs } => {
                let lost = if copy == db.active {
                    0
                } else {
                    if lost_logs == 0 {
                        // ACLL copied the missing logs first.
                        let head = self.dbs[d].log_gen;
                        self.dbs[d].copies[copy].copied = head;
                    }
                    self.dbs[d].activate(copy)
                };
                self.dbs[d].state = DbState::Mounted;
                ctx.trace_with("active-manager", "failover", || {
                    format!("{} to copy {copy}, {lost} messages lost", self.db_name(d))
                });
                if lost > 0
                    && let Some(h) = self.home_of(d)
                {
                    self.transport
                        .lossy_mount(now, DatabaseId::from(h.index()), lost);
                }
            }
            Choice::NoneWithinDial | Choice::NoCandidate => {
                ctx.trace_with("active-manager", "no-mount", || self.db_name(d).to_owned());
            }
        }
    }

    fn home_of(&self, d: usize) -> Option<HomeId> {
        self.homes
            .iter()
            .position(|h| h.current.index() == d)
            .map(HomeId::from)
    }

    /// Rule: inbound mail for each mailbox group this tick (Poisson, office-hours profile).
    fn mail_tick<E: From<Event>, S: TraceSink>(&mut self, now: SimTime, ctx: &mut Ctx<'_, E, S>) {
        let m = self.config.mail;
        let day_ms = 86_400_000.0;
        let share = m.tick.as_millis() as f64 / day_ms;
        let factor = if m.office_hours {
            office_factor(now)
        } else {
            1.0
        };
        for h in 0..self.homes.len() {
            let mean = self.homes[h].users as f64 * m.messages_per_user_per_day * share * factor;
            let count = poisson(&mut self.mail_rng[h], mean);
            if count > 0 {
                let out = self.with_transport(|t, v| t.offer(now, DatabaseId::from(h), count, v));
                self.write_deliveries(now, out);
            }
        }
        let out = self.with_transport(|t, v| t.step(now, v));
        self.write_deliveries(now, out);
        let _ = ctx.schedule_in(m.tick, Event::MailTick.into());
    }

    fn write_deliveries(&mut self, now: SimTime, out: Vec<(DatabaseId, ServerId, u64)>) {
        for (home, from, count) in out {
            let h = home.index();
            let d = self.homes[h].current.index();
            let authoritative =
                self.serving[d].is_some_and(|s| from == SHADOW || self.servers_reach(from, s));
            let active_server = self.dbs[d].copies[self.dbs[d].active].config.server;
            // Rule world.split_brain: a rogue cluster writing to the copy the
            // authoritative view also calls active (while nobody else serves it) writes
            // real mail; writing to any other copy diverges: it is discarded when the
            // partition heals and counts as split-brain mail.
            let rogue_same_copy =
                self.serving[d].is_none() && self.rogue_serving[d] == Some(active_server);
            if authoritative || rogue_same_copy {
                self.dbs[d].write(now, count);
                if self.dbs[d].kind == DbKind::DialTone {
                    self.homes[h].dial_tone_messages += count;
                }
            } else {
                // Written to a diverged rogue copy: the losing side of a split brain.
                self.tallies.split_brain_messages += count;
                self.transport.discard(home, count);
            }
        }
    }

    /// Runs `f` on the mail ledger with a read-only view of the rest of the world.
    fn with_transport<R>(&mut self, f: impl FnOnce(&mut Transport, &PathView<'_>) -> R) -> R {
        // Empty queues do not allocate, so moving the ledger out is free.
        let mut t = std::mem::replace(&mut self.transport, Transport::new(self.config.transport));
        let r = f(&mut t, &PathView { w: self });
        self.transport = t;
        r
    }

    /// Rule `clients.profile`: the helpdesk reconfigures `helpdesk_per_hour` profiles an
    /// hour, one minute at a time, in the order the work was asked for.
    fn helpdesk_tick<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        self.helpdesk_credit += self.config.clients.helpdesk_per_hour;
        let mut budget = self.helpdesk_credit / 60;
        self.helpdesk_credit %= 60;
        let mut worked = false;
        while budget > 0 {
            let Some(&(h, target)) = self.helpdesk.first() else {
                break;
            };
            for b in 0..self.buckets.len() {
                if budget == 0 {
                    break;
                }
                let c = self.cohorts[self.buckets[b].cohort.index()];
                if c.home != h || c.kind.follows_moves() {
                    continue;
                }
                let need = self.buckets[b].users - self.buckets[b].profiled_for(target);
                if need > 0 {
                    let moved = self.buckets[b].reprofile(target, budget.min(need));
                    budget -= moved;
                    self.tallies.profile_changes += moved;
                    worked = true;
                }
            }
            let done = self.buckets.iter().all(|bk| {
                let c = self.cohorts[bk.cohort.index()];
                c.home != h || c.kind.follows_moves() || bk.profiled_for(target) == bk.users
            });
            if done {
                self.helpdesk.remove(0);
            } else {
                break;
            }
        }
        if worked {
            self.refresh(now, ctx);
        }
        if self.helpdesk.is_empty() {
            self.helpdesk_running = false;
            self.helpdesk_credit = 0;
        } else {
            let _ = ctx.schedule_in(SimDuration::from_millis(60_000), Event::HelpdeskTick.into());
        }
    }

    /// Handles one event. Generic over the outer event type so a scenario runner can
    /// embed world events in its own.
    pub fn handle_event<E: From<Event>, S: TraceSink>(
        &mut self,
        ev: Event,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let now = ctx.now();
        self.advance_replication(now);
        match ev {
            Event::MailTick => {
                let before: Vec<DbState> = self.dbs.iter().map(|d| d.state).collect();
                self.mail_tick(now, ctx);
                // A database may have failed (log volume full) while advancing.
                if self.dbs.iter().zip(&before).any(|(d, b)| d.state != *b) {
                    self.refresh(now, ctx);
                }
            }
            Event::Heartbeat => {
                self.heartbeat_pending = None;
                self.evaluate_quorum();
                ctx.trace_with("cluster", "evaluated", || {
                    format!("quorum in {:?}, rogue {:?}", self.quorum(), self.rogue())
                });
                self.refresh(now, ctx);
            }
            Event::Failover(d) => {
                self.failover(d.index(), now, ctx);
                self.refresh(now, ctx);
            }
            Event::BucketWake(b) => {
                self.bucket_wake[b.index()] = None;
                let bk = &mut self.buckets[b.index()];
                let cohort = self.cohorts[bk.cohort.index()];
                let retry = retry_of(&self.config.clients, cohort.kind);
                // Rule clients.autodiscover: a failed connection at a retry runs
                // Autodiscover and learns the new location.
                if !bk.knows_location && next_tick(now, retry, bk.retry_phase) == now {
                    bk.knows_location = true;
                }
                self.evaluate_bucket(b, now, ctx);
            }
            Event::HelpdeskTick => self.helpdesk_tick(now, ctx),
            Event::Backup => {
                for db in &mut self.dbs {
                    if db.kind == DbKind::Production && db.state == DbState::Mounted {
                        db.backup();
                    }
                }
                if let Some(every) = self.config.timing.backup_every {
                    let _ = ctx.schedule_in(every, Event::Backup.into());
                }
            }
            Event::RestoreDone(rdb) => {
                let d = rdb.index();
                if self.dbs[d].kind == DbKind::Recovery {
                    self.dbs[d].state = DbState::Mounted;
                } else if let Some(h) = self.homes.iter().position(|h| h.original == rdb) {
                    // An in-place restore: the database is ready for Mount-Database.
                    self.restoring_in_place.resize(self.homes.len(), false);
                    self.restoring_in_place[h] = false;
                }
                ctx.trace("restore", "done");
                self.refresh(now, ctx);
            }
            Event::SwapDone(h) => {
                self.homes[h.index()].swapping = false;
                self.refresh(now, ctx);
            }
            Event::MergeTick(h) => self.merge_tick(h, now, ctx),
            Event::Fault(f) => {
                // Corruption and disk loss are detected by the store at once; server
                // and network faults wait for the heartbeat (scheduled by apply_fault).
                self.apply_fault(f, now, ctx);
                self.refresh(now, ctx);
            }
            Event::Action(a) => {
                let _ = self.act_now(&a, now, ctx);
            }
        }
    }

    /// Applies an administrator action now and reports whether it was accepted (a
    /// playbook needs to know). Same effect as handling `Event::Action`.
    pub fn act<E: From<Event>, S: TraceSink>(
        &mut self,
        a: &Action,
        ctx: &mut Ctx<'_, E, S>,
    ) -> Result<(), ActionError> {
        let now = ctx.now();
        self.advance_replication(now);
        self.act_now(a, now, ctx)
    }

    fn act_now<E: From<Event>, S: TraceSink>(
        &mut self,
        a: &Action,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) -> Result<(), ActionError> {
        let res = self.apply_action(a, now, ctx);
        match &res {
            Err(e) => {
                self.tallies.failed_actions += 1;
                ctx.trace_with("admin", "refused", || format!("{}: {e}", a.name()));
            }
            Ok(()) => ctx.trace_with("admin", "done", || a.name().to_owned()),
        }
        self.refresh(now, ctx);
        res
    }

    /// Whether `s` is a mailbox server (not a witness): it runs client access and
    /// transport.
    pub fn is_mailbox_server(&self, s: ServerId) -> bool {
        Some(s) != self.config.dag.witness && Some(s) != self.config.dag.alternate_witness
    }

    /// Whether a site has power.
    pub fn site_up(&self, s: SiteId) -> bool {
        self.net.site_up(s)
    }

    /// Whether group `h`'s mailboxes are served now.
    pub fn home_served(&self, h: HomeId) -> bool {
        self.home_server(h).is_some()
    }

    /// Whether a restore for group `h` has finished (its recovery database, or its
    /// original restored in place, is mounted or ready to mount).
    pub fn restore_finished(&self, h: HomeId) -> bool {
        let home = &self.homes[h.index()];
        let rdb_ready = home
            .recovery
            .is_some_and(|d| self.dbs[d.index()].state == DbState::Mounted);
        let in_place = self.restoring_in_place.get(h.index()).copied() == Some(false)
            && self
                .restored
                .get(home.original.index())
                .copied()
                .unwrap_or(false);
        rdb_ready || in_place
    }

    /// Whether group `h` has no merge running and nothing left to merge.
    pub fn merge_finished(&self, h: HomeId) -> bool {
        let home = &self.homes[h.index()];
        !home.merging && (home.dial_tone_messages == 0 || !home.recovery_holds_dial_tone)
    }

    /// Whether every copy of group `h`'s original database is healthy (resynchronised).
    pub fn copies_healthy(&self, h: HomeId) -> bool {
        let db = &self.dbs[self.homes[h.index()].original.index()];
        db.copies
            .iter()
            .enumerate()
            .all(|(i, c)| i == db.active || c.health == CopyHealth::Healthy)
    }

    /// The world's own recurring events, to schedule once before running: the first
    /// mail tick and the first backup.
    pub fn initial_events(&self) -> Vec<(SimTime, Event)> {
        let mut v = vec![(
            SimTime::ZERO.saturating_add(self.config.mail.tick),
            Event::MailTick,
        )];
        if self.config.timing.backup_every.is_some() {
            v.push((
                SimTime::ZERO.saturating_add(self.config.timing.backup_first),
                Event::Backup,
            ));
        }
        v
    }

    /// Closes every time integral at `now` (call at the end of a run).
    pub fn finish(&mut self, now: SimTime) {
        for t in self
            .tallies
            .without_service
            .iter_mut()
            .chain(self.tallies.without_history.iter_mut())
            .chain(self.tallies.offline_readable.iter_mut())
        {
            t.advance(now);
        }
        self.tallies.split_brain.advance(now);
    }
}

impl Model for World {
    type Event = Event;
    fn handle<S: TraceSink>(&mut self, event: Event, ctx: &mut Ctx<'_, Event, S>) {
        self.handle_event(event, ctx);
    }
}

/// The world as transport sees it.
struct PathView<'a> {
    w: &'a World,
}

impl Path for PathView<'_> {
    /// Rule `world.mx`: senders try the site their cached MX answer names; with
    /// active/active Edge they fall back to any other site (RFC 5321: MX hosts in
    /// preference order).
    fn mx_accepts(&self, now: SimTime) -> Option<ServerId> {
        let w = self.w;
        let site = SiteId(w.mx.cached(now, w.mx_phase));
        let accepts_in = |site: SiteId| {
            (0..w.servers.len()).map(ServerId::from).find(|&s| {
                w.site_of(s) == site
                    && w.server_up(s)
                    && w.servers[s.index()].services.transport
                    && w.is_mailbox_server(s)
            })
        };
        accepts_in(site).or_else(|| {
            if w.config.mail.edge_active_active {
                (0..w.net.sites()).map(SiteId::from).find_map(accepts_in)
            } else {
                None
            }
        })
    }

    fn deliverable(&self, home: DatabaseId, from: ServerId, _now: SimTime) -> bool {
        let w = self.w;
        let d = w.homes[home.index()].current.index();
        let to_authoritative =
            w.serving[d].is_some_and(|s| from == SHADOW || w.servers_reach(from, s));
        let to_rogue =
            from != SHADOW && w.rogue_serving[d].is_some_and(|s| w.servers_reach(from, s));
        to_authoritative || to_rogue
    }
}

/// Records that one cohort's count went from `old` to `new` in a total's curve; changes
/// at the same instant merge into one point.
fn push_change(curve: &mut Vec<(SimTime, u64)>, now: SimTime, old: u64, new: u64) {
    if old == new {
        return;
    }
    let last = curve.last().map_or(0, |&(_, v)| v);
    let value = (last + new).saturating_sub(old);
    match curve.last_mut() {
        Some((t, v)) if *t == now => *v = value,
        _ => curve.push((now, value)),
    }
}

fn retry_of(p: &config::ClientParams, kind: ClientKind) -> SimDuration {
    match kind {
        ClientKind::Outlook { .. } => p.outlook_retry,
        ClientKind::Web => p.web_retry,
        ClientKind::Mobile => p.mobile_retry,
    }
}

/// Office-hours profile: 08:00-18:00 on weekdays (days 0-4 of each week) carry 80% of a
/// week's mail; the factor averages to 1 over a week.
fn office_factor(now: SimTime) -> f64 {
    let ms = now.as_millis();
    let day = (ms / 86_400_000) % 7;
    let hour = (ms % 86_400_000) / 3_600_000;
    let office = day < 5 && (8..18).contains(&hour);
    // Office time is 5 x 10 = 50 of 168 hours: 0.8 of the mail in 50 h, 0.2 in 118 h.
    if office {
        0.8 * 168.0 / 50.0
    } else {
        0.2 * 168.0 / 118.0
    }
}

/// A Poisson draw (rand_distr's exact sampler), as a whole count.
fn poisson(rng: &mut StreamRng, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    match rand_distr::Poisson::new(mean) {
        Ok(p) => {
            let x: f64 = rand_distr::Distribution::sample(&p, rng);
            x as u64
        }
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests;
