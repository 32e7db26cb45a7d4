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
//!
//! This file holds [`World`] (its state, construction, read accessors, `refresh` and the
//! event dispatch). The rest, one concern a file: `events` (events, faults),
//! `components` (what can be down, and its causes), `quorum` (cluster, quorum, DAC,
//! heartbeat), `replication` (replication, serving, failover), `clients` (buckets,
//! cohorts, helpdesk), `mail` (mail ticks, transport's view), `homes` (mailbox groups),
//! `tallies` (what metrics read), `actions` (administrator actions, one method each),
//! `config` (the input).

mod actions;
mod changes;
mod clients;
mod components;
pub mod config;
mod dbs;
mod events;
mod homes;
mod mail;
mod quiet;
mod quorum;
mod replication;
mod serving;
mod tallies;
mod touched;

use std::sync::Arc;

use dialtone_engine::{
    Ctx, EventId, Model, RngStreams, SimDuration, SimTime, StreamNameError, StreamRng, TraceSink,
};

pub use actions::{Action, ActionError, DbRef};
pub use config::WorldConfig;
pub use events::{Event, Fault, ServiceKind};
pub use homes::{GroupOutage, Home};
pub use tallies::{Curve, KIND_LABELS, Tallies};

use clients::{phase, start_buckets};
use components::ComponentCauses;

use crate::clients::Bucket;
use crate::dac::Dac;
use crate::database::Database;
use crate::dns::{Record, RecordKind};
use crate::ids::{DatabaseId, HomeId, ServerId, SiteId};
use crate::network::Network;
use crate::quorum::Cluster;
use crate::restore::Restores;
use crate::seeding::Seeds;
use crate::server::{Server, Services};
use crate::transport::{Fates, Transport};

/// The state of the organisation. Fields are `pub(crate)` for the rule modules and tests;
/// other crates read through the accessors (`databases`, `homes`, `tallies`, ...).
#[derive(Debug)]
pub struct World {
    pub(crate) config: Arc<WorldConfig>,
    pub(crate) net: Network,
    pub(crate) servers: Vec<Server>,
    /// The active causes of every component that can be down (rule `causes.stack`); the
    /// network's site and link state, the servers' power and services, `dns_up` and the
    /// copies' disks follow them.
    pub(crate) causes: ComponentCauses,
    /// Member index of each server in the DAG.
    pub(crate) member: Vec<Option<usize>>,
    pub(crate) cluster: Cluster,
    pub(crate) dac: Dac,
    /// The witness the authoritative cluster uses.
    pub(crate) witness: Option<ServerId>,
    /// Server powered-and-site-up at the last refresh (to detect boots).
    pub(crate) was_up: Vec<bool>,
    pub(crate) booted_at: Vec<SimTime>,
    /// Databases; production ones first, then those created at run time.
    pub(crate) dbs: dbs::Dbs,
    /// Per member, per database: the copy it last saw active while it was in the running
    /// cluster. A rogue cluster mounts what its members believe.
    pub(crate) member_views: serving::MemberViews,
    /// Mailbox groups, one per original database.
    pub(crate) homes: homes::Homes,
    pub(crate) client_access: Record,
    pub(crate) mx: Record,
    pub(crate) mx_phase: SimDuration,
    pub(crate) cohorts: Vec<config::CohortConfig>,
    /// Client buckets.
    pub(crate) buckets: Vec<Bucket>,
    pub(crate) bucket_wake: Vec<Option<(SimTime, EventId)>>,
    /// Mail ledger.
    pub(crate) transport: Transport,
    /// Inbound mail not yet offered (rule `world.arrivals`).
    pub(crate) arrivals: mail::Arrivals,
    /// Draws the mail sent from rogue copies (rule `world.split_brain_sent`).
    pub(crate) sent_rng: StreamRng,
    /// Per bucket: its users working on a rogue copy; and their total.
    pub(crate) bucket_rogue: Vec<u64>,
    pub(crate) on_rogue_total: u64,
    /// Members that were in the quorum partition at the last evaluation. The partition is
    /// tracked by its members, not by its label: labels renumber when partitions merge.
    pub(crate) quorum_members: Vec<ServerId>,
    /// Members of each rogue partition at the last evaluation.
    pub(crate) rogue_members: Vec<Vec<ServerId>>,
    /// Where each database is served by the authoritative cluster.
    pub(crate) serving: Vec<Option<ServerId>>,
    /// Where each database is served by a rogue cluster.
    pub(crate) rogue_serving: Vec<Option<ServerId>>,
    pub(crate) failover_pending: Vec<Option<EventId>>,
    /// When each of Active Manager's mount slots is next free (rule
    /// `world.mount_concurrency`).
    pub(crate) mount_slots: Vec<SimTime>,
    /// Counts the changes that could let a database mount: faults, heartbeats,
    /// administrator actions (rule `am.retry`).
    pub(crate) am_epoch: u64,
    /// Per database: after a failover that mounted nothing, the `am_epoch` it saw and how
    /// many times in a row it failed (rule `am.retry`).
    pub(crate) no_mount: Vec<Option<(u64, u32)>>,
    pub(crate) heartbeat_pending: Option<EventId>,
    pub(crate) helpdesk: Vec<(HomeId, ServerId)>,
    pub(crate) helpdesk_credit: u64,
    pub(crate) helpdesk_running: bool,
    /// Dial tone database of each group, once created.
    pub(crate) dial_tone: Vec<Option<usize>>,
    /// Databases holding restored data.
    pub(crate) restored: Vec<bool>,
    /// Per group: when its running merge started and how long it takes (rule
    /// `world.merge`).
    pub(crate) merge_plan: Vec<(SimTime, SimDuration)>,
    /// Per group: an in-place restore of the original database is running (`true`) or
    /// finished (`false`).
    pub(crate) restoring_in_place: Vec<bool>,
    /// Restores reading from the backup location (they share its throughput).
    pub(crate) restores: Restores,
    /// The pending event for the next restore to finish reading.
    pub(crate) restore_event: Option<EventId>,
    /// Reseeds in progress, sharing their source servers (rule `db.seed_source`).
    pub(crate) seeds: Seeds,
    /// Per cohort: users and connected users (kept incrementally).
    pub(crate) cohort_users: Vec<u64>,
    pub(crate) cohort_connected: Vec<u64>,
    /// Per server: active mailboxes it serves (recomputed at each refresh).
    pub(crate) server_load: Vec<u64>,
    /// Per site: a client access server is up there (recomputed at each refresh).
    pub(crate) cas_site_up: Vec<bool>,
    /// Whether the authoritative DNS server runs.
    pub(crate) dns_up: bool,
    /// DNS changes waiting for the DNS server.
    pub(crate) pending_dns: Vec<(RecordKind, SiteId)>,
    /// Per database: `(first time it stopped being served, last time it came back)`.
    pub(crate) outages: Vec<(Option<SimTime>, Option<SimTime>)>,
    /// Per mailbox group: its outage (rule `metrics.rto`).
    pub(crate) group_outages: Vec<GroupOutage>,
    /// Per cohort: the open outages of its users without service (rule
    /// `metrics.residual_outage`).
    pub(crate) down_since: Vec<crate::residual::OpenOutages>,
    /// Counters for metrics.
    pub(crate) tallies: Tallies,
    /// When replication was last advanced.
    pub(crate) replication_clock: SimTime,
    /// What each server's log shipping depended on at the last replication advance.
    pub(crate) shipping_inputs: dbs::ShippingInputs,
    /// What client buckets read, at the last refresh of the clients.
    pub(crate) client_inputs: clients::ClientInputs,
    /// Per bucket: its evaluation at the last refresh of the clients changed nothing, and
    /// nothing changed the bucket since; the buckets and cohorts of each group.
    pub(crate) bucket_quiet: crate::clients::RefreshIndex,
    /// What serving read of the servers and the cluster at the last refresh.
    pub(crate) serve_tables: serving::ServeTables,
    /// What changed since the last refresh: the databases to serve and the groups to
    /// check (rule `perf.refresh_changes`).
    pub(crate) changes: changes::Changes,
    /// Tests only: every refresh serves every database, checks every group, evaluates
    /// every bucket and updates every cohort.
    pub(crate) exhaustive_refresh: bool,
    /// Tests only: a failed failover retries on a timer even while the DAG lacks quorum,
    /// as before rule `am.retry_quorum`.
    pub(crate) retry_without_quorum: bool,
}

impl World {
    /// Builds the world at time zero: everything up, every database mounted on its first
    /// copy, every client connected. Client phases come from the "clients" stream.
    pub fn new(
        config: impl Into<Arc<WorldConfig>>,
        streams: &RngStreams,
    ) -> Result<Self, StreamNameError> {
        let config: Arc<WorldConfig> = config.into();
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
        let homes = Home::at_start(&config);
        let ngroups = homes.len();
        let mut crng = streams.stream("clients")?;
        let buckets = start_buckets(&config, &mut crng);
        let ttl = config.dns.ttl.min(crate::dns::RESOLVER_TTL_CAP);
        let mx_phase = phase(&mut crng, ttl);
        let mail_rng = (0..dbs.len())
            .map(|i| streams.substream("mail", i as u64))
            .collect::<Result<Vec<_>, _>>()?;
        let users: Vec<u64> = homes.iter().map(|h| h.users).collect();
        let arrivals =
            mail::Arrivals::new(mail_rng, streams.stream("mail-split")?, config.mail, &users);
        let ndb = dbs.len();
        let servers_n = servers.len();
        let ncoh = config.cohorts.len();
        let nbuckets = buckets.len();
        let refresh_index = clients::refresh_index(&config, &buckets, ngroups);
        let serving = (0..ndb)
            .map(|i| Some(config.databases[i].copies[0].server))
            .collect();
        let mut w = World {
            causes: ComponentCauses::new(config.sites, servers.len(), config.links.len()),
            net,
            member,
            cluster,
            dac,
            witness: config.dag.witness,
            was_up: vec![true; servers.len()],
            booted_at: vec![SimTime::ZERO; servers.len()],
            servers,
            member_views: serving::MemberViews::new(n, ndb),
            homes: homes::Homes::new(homes),
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
            transport: Transport::new(config.transport).with_stamps(
                streams.stream("mail-stamps")?,
                quiet::stamp_step(config.mail.tick),
            ),
            arrivals,
            sent_rng: streams.stream("sent")?,
            bucket_rogue: vec![0; nbuckets],
            on_rogue_total: 0,
            quorum_members: Vec::new(),
            rogue_members: Vec::new(),
            serving,
            rogue_serving: vec![None; ndb],
            failover_pending: vec![None; ndb],
            mount_slots: vec![SimTime::ZERO; config.timing.mount_concurrency.max(1) as usize],
            am_epoch: 0,
            no_mount: vec![None; ndb],
            heartbeat_pending: None,
            helpdesk: Vec::new(),
            helpdesk_credit: 0,
            helpdesk_running: false,
            dial_tone: Vec::new(),
            restored: Vec::new(),
            merge_plan: Vec::new(),
            restoring_in_place: Vec::new(),
            restores: Restores::new(config.timing.restore),
            restore_event: None,
            seeds: Seeds::new(config.timing.seed_mb_per_s),
            cohort_users: vec![0; ncoh],
            cohort_connected: vec![0; ncoh],
            server_load: vec![0; servers_n],
            cas_site_up: Vec::new(),
            dns_up: true,
            pending_dns: Vec::new(),
            outages: vec![(None, None); ndb],
            tallies: Tallies::new(ncoh),
            group_outages: vec![GroupOutage::default(); ngroups],
            down_since: vec![Default::default(); ncoh],
            shipping_inputs: dbs::ShippingInputs::new(servers_n, config.sites),
            dbs: dbs::Dbs::new(dbs),
            config,
            replication_clock: SimTime::ZERO,
            client_inputs: clients::ClientInputs::new(ngroups),
            bucket_quiet: refresh_index,
            serve_tables: serving::ServeTables::default(),
            changes: changes::Changes::new(ndb, ngroups, servers_n),
            exhaustive_refresh: false,
            retry_without_quorum: false,
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

    /// The databases: production ones first, then those created at run time.
    pub fn databases(&self) -> &[Database] {
        self.dbs.as_slice()
    }

    /// The mailbox groups, one per original database.
    pub fn homes(&self) -> &[Home] {
        self.homes.as_slice()
    }

    /// The client buckets.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// The mail ledger (fates, latency).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Per database: `(first time it stopped being served, last time it came back)`.
    pub fn outages(&self) -> &[(Option<SimTime>, Option<SimTime>)] {
        &self.outages
    }

    /// The counters the metrics layer reads.
    pub fn tallies(&self) -> &Tallies {
        &self.tallies
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

    /// Re-derives, after any change, where every database is served (scheduling
    /// failovers), the split brain indicator and every client bucket and cohort: those
    /// a change since the last refresh may have moved (rule `perf.refresh_changes`).
    fn refresh<E: From<Event>, S: TraceSink>(&mut self, now: SimTime, ctx: &mut Ctx<'_, E, S>) {
        self.settle_seeds(now);
        self.boot_members(now);
        let views_moved = self.refresh_member_views();
        self.note_changes();
        let mut tables = std::mem::take(&mut self.changes.next_tables);
        self.take_serve_tables(&mut tables);
        // The tables of the last refresh are in `serve_tables` (empty before the first).
        let all = views_moved || self.exhaustive_refresh || tables != self.serve_tables;
        let mut serve = std::mem::take(&mut self.changes.scratch_dbs);
        self.take_to_serve(all, &mut serve);
        for &d in &serve {
            let d = d as usize;
            let before = (self.serving[d], self.rogue_serving[d]);
            self.serve_database(d, &tables, now, ctx);
            self.note_served(d, before, tables.has_quorum);
        }
        self.changes.scratch_dbs = serve;
        self.tallies.split_brain.set(now, self.changes.split);
        self.refresh_clients(now, ctx);
        #[cfg(debug_assertions)]
        {
            self.check_refresh_exact(&tables);
            self.check_buckets_exact(now);
        }
        self.changes.next_tables = std::mem::replace(&mut self.serve_tables, tables);
    }

    /// Handles one event. Generic over the outer event type so a scenario runner can
    /// embed world events in its own.
    pub fn handle_event<E: From<Event>, S: TraceSink>(
        &mut self,
        ev: Event,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let now = ctx.now();
        // Rules world.arrivals and world.arrivals_touched; clients and the helpdesk route
        // no mail, write nothing and advance no replication.
        let check = if matches!(ev, Event::BucketWake(_) | Event::HelpdeskTick) {
            touched::UntouchedCheck::default()
        } else {
            let touched = self.touched_by_event(&ev);
            self.split_before(touched, || format!("{ev:?}"), ctx)
        };
        let change = !matches!(
            ev,
            Event::MailTick | Event::BucketWake(_) | Event::HelpdeskTick
        );
        if matches!(ev, Event::Heartbeat | Event::Fault(..) | Event::Action(_)) {
            // Rule am.retry: a server, a copy or quorum may have changed.
            self.am_epoch += 1;
        }
        match ev {
            Event::MailTick => self.mail_tick(now, ctx),
            Event::Heartbeat => self.heartbeat(now, ctx),
            Event::Failover(d) => {
                self.failover(d.index(), now, ctx);
                self.refresh(now, ctx);
            }
            Event::BucketWake(b) => self.wake_bucket(b, now, ctx),
            Event::HelpdeskTick => self.helpdesk_tick(now, ctx),
            Event::Backup => self.backup(ctx),
            Event::RestoreDone(rdb) => self.restore_done(rdb, now, ctx),
            Event::SwapDone(h) => {
                self.homes[h.index()].swapping = false;
                self.refresh(now, ctx);
            }
            Event::MergeTick(h) => self.merge_tick(h, now, ctx),
            Event::ActivationDone(d) => {
                self.activation_done(d.index(), now);
                self.refresh(now, ctx);
            }
            Event::Fault(f, cause) => {
                // Corruption and disk loss are detected by the store at once; server
                // and network faults wait for the heartbeat (scheduled by apply_fault).
                self.apply_fault(f, cause, now, ctx);
                self.refresh(now, ctx);
            }
            Event::Action(a) => {
                let _ = self.act_now(&a, now, ctx);
            }
        }
        if change {
            // Rule world.quiet_stretches: a change may end a quiet stretch.
            self.recheck_stretch(now, ctx);
        }
        self.check_after(now, check);
    }

    /// Applies an administrator action now and reports whether it was accepted (a
    /// playbook needs to know). Same effect as handling `Event::Action`.
    pub fn act<E: From<Event>, S: TraceSink>(
        &mut self,
        a: &Action,
        ctx: &mut Ctx<'_, E, S>,
    ) -> Result<(), ActionError> {
        let now = ctx.now();
        let touched = self.touched_by_action(a);
        let check = self.split_before(touched, || a.name().to_owned(), ctx);
        self.am_epoch += 1;
        let res = self.act_now(a, now, ctx);
        self.recheck_stretch(now, ctx);
        self.check_after(now, check);
        res
    }

    fn act_now<E: From<Event>, S: TraceSink>(
        &mut self,
        a: &Action,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) -> Result<(), ActionError> {
        let cluster_before = (self.quorum(), self.rogue());
        let res = self.apply_action(a, now, ctx);
        match &res {
            Err(e) => {
                self.tallies.failed_actions += 1;
                ctx.trace_with("admin", "refused", || format!("{}: {e}", a.name()));
            }
            Ok(()) => ctx.trace_with("admin", "done", || a.name().to_owned()),
        }
        // Actions that evaluate quorum themselves (Restore-DAG, forcequorum, evict) say
        // so on the timeline, like a heartbeat does.
        if (self.quorum(), self.rogue()) != cluster_before {
            self.trace_quorum(ctx);
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

    /// Whether sites `a` and `b` both have power and reach each other over the WAN.
    pub fn sites_connected(&self, a: SiteId, b: SiteId) -> bool {
        self.net.reachable(a, b)
    }

    /// The world's own recurring events, to schedule once before running: the first
    /// mail tick and the first backup.
    pub fn initial_events(&self) -> Vec<(SimTime, Event)> {
        let mut v = vec![(self.arrivals.next_tick(), Event::MailTick)];
        if self.config.timing.backup_every.is_some() {
            v.push((
                SimTime::ZERO.saturating_add(self.config.timing.backup_first),
                Event::Backup,
            ));
        }
        v
    }
}

impl Model for World {
    type Event = Event;
    fn handle<S: TraceSink>(&mut self, event: Event, ctx: &mut Ctx<'_, Event, S>) {
        self.handle_event(event, ctx);
    }
}

#[cfg(test)]
mod tests;
