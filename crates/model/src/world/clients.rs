//! Clients of the world: phase buckets connecting and retrying through DNS, client access
//! and server capacity; cohorts' tallies; the helpdesk's profile changes (rules
//! `clients.*`, `dns.*`, `server.capacity`, `world.multi_ip`).

use dialtone_engine::{Ctx, SimDuration, SimTime, StreamExt, StreamRng, TraceSink};

use super::{Event, World, WorldConfig, config};
use crate::clients::{Bucket, ClientKind, RefreshIndex, next_tick};
use crate::database::{CopyHealth, Database};
use crate::ids::{BucketId, CohortId, HomeId, ServerId, SiteId};

impl World {
    /// The per-refresh table every bucket evaluation reads besides the server load
    /// (kept by [`World::update_load`]): the sites with client access.
    pub(super) fn precompute(&mut self) {
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
            // current database that holds its data.
            let db = &self.dbs[self.homes[h.index()].current.index()];
            bk.profiles
                .iter()
                .filter(|(s, _)| holds_copy(db, *s))
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

    /// Rules `clients.*`: re-derives bucket `b`'s connections now. Returns what that
    /// changed (see [`Evaluated`]).
    fn evaluate_bucket<E: From<Event>, S: TraceSink>(
        &mut self,
        b: BucketId,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) -> Evaluated {
        let (allowed, wake) = self.bucket_allowed(b, now);
        let bk = &self.buckets[b.index()];
        let cohort = self.cohorts[bk.cohort.index()];
        let retry = retry_of(&self.config.clients, cohort.kind);
        let mut wake_at = wake;
        let mut quiet = allowed == bk.connected && wake.is_none();
        // Nothing changes but a wake (rule perf.clients_waiting).
        let mut unchanged = allowed == bk.connected;
        if allowed < bk.connected {
            self.set_connected(b, allowed, now);
        } else if allowed > bk.connected {
            // Rule clients.retry: reconnect at the next retry.
            let t = next_tick(now, retry, bk.retry_phase);
            if t == now {
                self.set_connected(b, allowed, now);
            } else {
                unchanged = true;
                wake_at = Some(wake_at.map_or(t, |w| w.min(t)));
            }
        }
        if let Some(t) = wake_at {
            self.schedule_wake(b, t, ctx);
        }
        let on = self.bucket_on_rogue(b, now);
        let old = std::mem::replace(&mut self.bucket_rogue[b.index()], on);
        if on != old {
            quiet = false;
            self.on_rogue_total = self.on_rogue_total - old + on;
            self.tallies.on_rogue.set(now, self.on_rogue_total);
        }
        match self.bucket_wake[b.index()] {
            _ if quiet => Evaluated::Quiet,
            Some((w, _)) if unchanged && on == old && wake_at.is_some() && w > now => {
                Evaluated::Waiting(w)
            }
            _ => Evaluated::Loud,
        }
    }

    /// Rule `world.split_brain_sent`: the users of bucket `b` without the authoritative
    /// cluster's service whose client-access site reaches a rogue cluster serving their
    /// database: they work, and send, on a copy the partition's end discards (they count
    /// without service: their work is lost).
    fn bucket_on_rogue(&self, b: BucketId, now: SimTime) -> u64 {
        let bk = &self.buckets[b.index()];
        let cohort = self.cohorts[bk.cohort.index()];
        let d = self.homes[cohort.home.index()].current.index();
        let Some(rogue) = self.rogue_serving[d] else {
            return 0;
        };
        let period = if bk.pinned {
            self.config.dns.restart_period
        } else {
            self.client_access.effective_ttl()
        };
        let site = SiteId(self.client_access.cached_every(now, period, bk.dns_phase));
        let reaches = self.cas_site_up.get(site.index()).copied().unwrap_or(false)
            && self.net.reachable(site, self.site_of(rogue));
        if reaches { bk.users - bk.connected } else { 0 }
    }

    pub(super) fn schedule_wake<E: From<Event>, S: TraceSink>(
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
        let before = self.cohort_connected[c.index()];
        self.cohort_connected[c.index()] = before - bk.connected + connected;
        bk.connected = connected;
        self.track_user_outages(c, before, now);
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
        if self.client_inputs.cohorts_seen[h] != (home.users, home.history_ready)
            && !self.client_inputs.cohorts_stale[h]
        {
            // Updated with other values than the last refresh saw: the next one updates
            // the group's cohorts again.
            self.client_inputs.cohorts_stale[h] = true;
            self.client_inputs.stale.push(h as u32);
        }
        let with_history = if home.users == 0 {
            0
        } else {
            (u128::from(conn) * u128::from(home.history_ready) / u128::from(home.users)) as u64
        };
        let states = crate::clients::user_states(
            cohort.kind,
            users,
            conn,
            with_history,
            self.config.clients.cached_online_ppm,
        );
        self.tallies
            .set_cohort(CohortId::from(c), cohort.kind, now, states);
    }

    /// Users of cohort `c` who can send and receive now.
    pub fn connected(&self, c: CohortId) -> u64 {
        self.cohort_connected[c.index()]
    }

    /// Rule `clients.profile`: the helpdesk reconfigures `helpdesk_per_hour` profiles an
    /// hour, one minute at a time, in the order the work was asked for.
    pub(super) fn helpdesk_tick<E: From<Event>, S: TraceSink>(
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
            if self.profile_change_obsolete(h, target) {
                // Rule clients.helpdesk_obsolete: the mailboxes have moved on (back).
                self.helpdesk.remove(0);
                continue;
            }
            for i in 0..self.bucket_quiet.group_buckets(h.index()).len() {
                if budget == 0 {
                    break;
                }
                let b = self.bucket_quiet.group_buckets(h.index())[i] as usize;
                if self.cohorts[self.buckets[b].cohort.index()]
                    .kind
                    .follows_moves()
                {
                    continue;
                }
                let need = self.buckets[b].users - self.buckets[b].profiled_for(target);
                if need > 0 {
                    let moved = self.buckets[b].reprofile(target, budget.min(need));
                    self.bucket_quiet.unquiet(b);
                    budget -= moved;
                    self.tallies.profile_changes += moved;
                    worked = true;
                }
            }
            let done = self.bucket_quiet.group_buckets(h.index()).iter().all(|&b| {
                let bk = &self.buckets[b as usize];
                self.cohorts[bk.cohort.index()].kind.follows_moves()
                    || bk.profiled_for(target) == bk.users
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
}

impl World {
    /// Rule `metrics.residual_outage`: cohort `c` went from `before` connected users at
    /// `now`: users who lose service open outages, users who regain it close a
    /// proportional share of the cohort's open ones (its users are alike; exact when
    /// they return together). State per cohort, never per user or bucket.
    fn track_user_outages(&mut self, c: CohortId, before: u64, now: SimTime) {
        let connected = self.cohort_connected[c.index()];
        let open = &mut self.down_since[c.index()];
        if connected < before {
            open.start(before - connected, now.as_millis());
        } else if connected > before {
            open.end(
                connected - before,
                now.as_millis(),
                &mut self.tallies.residual,
            );
        }
    }

    /// Rule `metrics.residual_outage`: outages still open at `end` are counted as
    /// ending there (censored by the horizon).
    pub(super) fn close_user_outages(&mut self, end: SimTime) {
        for open in &mut self.down_since {
            open.close(end.as_millis(), &mut self.tallies.residual);
        }
    }

    /// Rule `clients.helpdesk_obsolete`: a queued profile change to `target` is obsolete
    /// once group `h`'s current database has no copy there (its mailboxes moved back or
    /// elsewhere); the helpdesk drops it rather than change profiles to a server that no
    /// longer holds the mailboxes.
    fn profile_change_obsolete(&self, h: HomeId, target: ServerId) -> bool {
        let db = &self.dbs[self.homes[h.index()].current.index()];
        !holds_copy(db, target)
    }
}

/// What a bucket's evaluation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evaluated {
    /// Nothing: no connection, no wake, no user on a rogue copy.
    Quiet,
    /// Nothing but a wake, pending at this time (after now). Rule `perf.clients_waiting`:
    /// evaluated again before then with the same inputs (its group's, the world's, the DNS
    /// answers'), it finds the same connections allowed, asks for a wake at the same
    /// retry or DNS tick (the first at or after a time before `W`, which the last
    /// evaluation asked for too), keeps the pending one, and changes nothing again.
    Waiting(SimTime),
    /// A connection, a user on a rogue copy, or a wake that could not be kept.
    Loud,
}

/// Split `total` into `parts` counts, exactly.
fn split_even(total: u64, parts: u64) -> Vec<u64> {
    (0..parts)
        .map(|i| total / parts + u64::from(i < total % parts))
        .collect()
}

fn retry_of(p: &config::ClientParams, kind: ClientKind) -> SimDuration {
    match kind {
        ClientKind::Outlook { .. } => p.outlook_retry,
        ClientKind::Web => p.web_retry,
        ClientKind::Mobile => p.mobile_retry,
    }
}

/// The phase buckets of every cohort at time zero, all connected: each cohort is split
/// evenly into `clients.buckets` shares and each share into TTL-honouring and pinned
/// users; DNS and retry phases are drawn from `rng` (the "clients" stream), bucket by
/// bucket.
pub(super) fn start_buckets(config: &WorldConfig, rng: &mut StreamRng) -> Vec<Bucket> {
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
                let dns_phase = phase(rng, period);
                let retry_phase = phase(rng, retry);
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
    buckets
}

/// The buckets and cohorts of each of `groups` mailbox groups (all buckets loud).
pub(super) fn refresh_index(
    config: &WorldConfig,
    buckets: &[Bucket],
    groups: usize,
) -> RefreshIndex {
    RefreshIndex::new(
        groups,
        buckets
            .iter()
            .map(|b| config.cohorts[b.cohort.index()].home.index()),
        config.cohorts.iter().map(|c| c.home.index()),
    )
}

/// A uniform phase in `[0, period)` drawn from `rng`.
pub(super) fn phase(rng: &mut StreamRng, period: SimDuration) -> SimDuration {
    SimDuration::from_millis((rng.unit() * period.as_millis() as f64) as u64)
}

impl World {
    /// Re-derives the connections of every bucket whose evaluation may change something
    /// (scheduling their wakes) and the tallies of every cohort whose inputs changed.
    pub(super) fn refresh_clients<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        self.precompute();
        let mut groups = std::mem::take(&mut self.changes.scratch_groups);
        self.changes.groups.take_sorted(&mut groups);
        if self.exhaustive_refresh {
            groups.clear();
            groups.extend(0..self.homes.len() as u32);
        }
        self.update_load(&mut groups);
        let (same, settled) = self.take_client_inputs(now, &groups);
        for b in self.buckets_to_visit(same, now) {
            let b = b as usize;
            let e = self.evaluate_bucket(BucketId::from(b), now, ctx);
            self.record_evaluation(b, e, settled, now);
        }
        for &h in &self.client_inputs.dirty {
            self.client_inputs.home_dirty[h as usize] = false;
        }
        self.client_inputs.dirty.clear();
        self.update_changed_cohorts(now, &groups);
        self.track_group_outages(now, &groups);
        self.changes.scratch_groups = groups;
    }

    /// Records bucket `b`'s evaluation `e` at a refresh at `now`. Rule
    /// `perf.clients_dns_due`: while its DNS answers are not `settled` (the record changed
    /// less than a cache period before the last refresh), a bucket whose evaluation
    /// changed nothing waits for its next DNS refresh after `now`, when its cached answer
    /// may change, or until a change still propagating becomes authoritative, when its
    /// cached answer may become stale, rather than being evaluated at every refresh.
    fn record_evaluation(&mut self, b: usize, e: Evaluated, settled: [bool; 2], now: SimTime) {
        let bk = &self.buckets[b];
        let dns_due = (!settled[usize::from(bk.pinned)]).then(|| {
            let period = if bk.pinned {
                self.config.dns.restart_period
            } else {
                self.client_access.effective_ttl()
            };
            let tick = next_tick(
                now.saturating_add(SimDuration::from_millis(1)),
                period,
                bk.dns_phase,
            );
            // A change still propagating makes cached answers stale when it becomes
            // authoritative: the bucket is evaluated again then, as every refresh would.
            self.client_access
                .next_change(now)
                .map_or(tick, |e| tick.min(e))
        });
        match (e, dns_due) {
            (Evaluated::Waiting(w), due) => {
                let until = due.map_or(w, |t| t.min(w));
                self.bucket_quiet.evaluated_waiting(b, until);
            }
            (Evaluated::Quiet, Some(t)) => self.bucket_quiet.evaluated_waiting(b, t),
            (e, _) => self.bucket_quiet.evaluated(b, e == Evaluated::Quiet),
        }
    }

    /// The buckets a refresh evaluates, in index order: every bucket when the world's
    /// inputs changed (`same` false), else those that are loud, whose group's inputs
    /// changed, or whose wait is over (rules `perf.clients_waiting`,
    /// `perf.clients_dns_due`).
    fn buckets_to_visit(&mut self, same: bool, now: SimTime) -> Vec<u32> {
        let loud = self.bucket_quiet.take_loud();
        if self.exhaustive_refresh || !same {
            return (0..self.buckets.len() as u32).collect();
        }
        let mut visit = loud;
        // Rule perf.clients_waiting: a waiting bucket is skipped before its wake.
        self.bucket_quiet.take_due(now, &mut visit);
        for &h in &self.client_inputs.dirty {
            visit.extend_from_slice(self.bucket_quiet.group_buckets(h as usize));
        }
        visit.sort_unstable();
        visit.dedup();
        visit
    }

    /// Re-derives the tallies of the cohorts of every group whose users or history
    /// changed since the last refresh, or whose cohorts were updated since with other
    /// ones (a move back, a swap, a merge step change history without any connection
    /// changing): among `groups` (those checked at this refresh, rule
    /// `perf.refresh_changes`) and those whose cohorts went stale.
    fn update_changed_cohorts(&mut self, now: SimTime, groups: &[u32]) {
        let mut list = std::mem::take(&mut self.client_inputs.stale);
        if !list.is_empty() {
            list.extend_from_slice(groups);
            list.sort_unstable();
            list.dedup();
        }
        let visit = if list.is_empty() { groups } else { &list };
        for &h in visit {
            let h = h as usize;
            let seen = (self.homes[h].users, self.homes[h].history_ready);
            let ci = &mut self.client_inputs;
            if !(ci.cohorts_stale[h] || ci.cohorts_seen[h] != seen || self.exhaustive_refresh) {
                continue;
            }
            ci.cohorts_seen[h] = seen;
            ci.cohorts_stale[h] = false;
            for i in 0..self.bucket_quiet.group_cohorts(h).len() {
                let c = self.bucket_quiet.group_cohorts(h)[i];
                self.update_cohort(CohortId(c), now);
            }
        }
        list.clear();
        self.client_inputs.stale = list;
    }

    /// Bucket `b`'s retry or DNS refresh is due.
    pub(super) fn wake_bucket<E: From<Event>, S: TraceSink>(
        &mut self,
        b: BucketId,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        self.bucket_wake[b.index()] = None;
        let bk = &mut self.buckets[b.index()];
        let cohort = self.cohorts[bk.cohort.index()];
        let retry = retry_of(&self.config.clients, cohort.kind);
        // Rule clients.autodiscover: a failed connection at a retry runs Autodiscover and
        // learns the new location.
        if !bk.knows_location && next_tick(now, retry, bk.retry_phase) == now {
            bk.knows_location = true;
        }
        self.evaluate_bucket(b, now, ctx);
        // Its state is no longer the one the last refresh saw quiet.
        self.bucket_quiet.unquiet(b.index());
    }
}

/// Everything a bucket's evaluation reads besides the bucket, the time and the DNS
/// record's answers, at a refresh of the clients: when none of it changed, the record
/// has not changed for a cache period before the last refresh, and a bucket's
/// evaluation then changed nothing, evaluating it again changes nothing either (its
/// inputs and answer are the same; only an evaluation that changes something reads the
/// time otherwise), so a refresh skips it. Also what the cohorts' tallies read of their
/// group at the last refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientInputs {
    /// When the inputs were taken.
    pub(crate) at: Option<SimTime>,
    cas_site_up: Vec<bool>,
    components: Vec<Option<u32>>,
    dns_changes: usize,
    /// Per mailbox group, `None` when its inputs could not be summarised.
    homes: Vec<Option<HomeInputs>>,
    /// Per group: its inputs changed at the current refresh (listed in `dirty`).
    home_dirty: Vec<bool>,
    dirty: Vec<u32>,
    /// Per group: `(users, users with history)` when its cohorts were last updated at a
    /// refresh, and whether a cohort was updated since with other values.
    pub(crate) cohorts_seen: Vec<(u64, u64)>,
    pub(crate) cohorts_stale: Vec<bool>,
    /// The groups whose cohorts went stale since the last refresh.
    stale: Vec<u32>,
}

/// What a bucket of one mailbox group reads of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HomeInputs {
    database: usize,
    server: Option<ServerId>,
    /// Rule `server.capacity`: `(served, active)` mailboxes of its server when it serves
    /// fewer than are active (else every located user may connect, whatever the load).
    over_capacity: Option<(u64, u64)>,
    rogue: Option<ServerId>,
    /// A bit per server: it holds a copy of the database with its data (rule
    /// `clients.profile`).
    holds: u64,
}

impl ClientInputs {
    /// Inputs for `groups` mailbox groups that no refresh has read yet: every group's
    /// cohorts are due.
    pub(crate) fn new(groups: usize) -> Self {
        ClientInputs {
            homes: vec![None; groups],
            home_dirty: vec![false; groups],
            cohorts_seen: vec![(0, 0); groups],
            cohorts_stale: vec![true; groups],
            stale: (0..groups as u32).collect(),
            ..Default::default()
        }
    }
}

impl World {
    /// Takes the client buckets' inputs now (after `precompute` and `update_load`): marks
    /// every group of `groups` whose inputs changed dirty (rule `perf.refresh_changes`:
    /// the others' did not change), and returns whether the world's inputs are the same
    /// as at the last refresh and, per pinned flag, whether the DNS answers are settled
    /// (the world's inputs the same and the record stable for a cache period before the
    /// last refresh).
    fn take_client_inputs(&mut self, now: SimTime, groups: &[u32]) -> (bool, [bool; 2]) {
        let components: Vec<Option<u32>> = (0..self.net.sites())
            .map(|s| self.net.component(SiteId::from(s)))
            .collect();
        let dns_changes = self.client_access.change_count();
        let ci = &self.client_inputs;
        let same = ci.cas_site_up == self.cas_site_up
            && ci.components == components
            && ci.dns_changes == dns_changes;
        let last_change = self.client_access.last_change();
        let dns_settled = |period: SimDuration| {
            same && ci
                .at
                .is_some_and(|last| last_change.saturating_add(period) <= last)
        };
        let settled = [
            dns_settled(self.client_access.effective_ttl()),
            dns_settled(self.config.dns.restart_period),
        ];
        for &h in groups {
            let h = h as usize;
            let now_inputs = self.home_inputs(h);
            let ci = &mut self.client_inputs;
            let old = std::mem::replace(&mut ci.homes[h], now_inputs);
            if now_inputs.is_none() || old != now_inputs {
                ci.home_dirty[h] = true;
                ci.dirty.push(h as u32);
            }
            if now_inputs.is_none() {
                // Not summarised: checked again at every refresh.
                self.changes.groups.mark(h);
            }
        }
        let ci = &mut self.client_inputs;
        ci.at = Some(now);
        ci.cas_site_up.clone_from(&self.cas_site_up);
        ci.components = components;
        ci.dns_changes = dns_changes;
        (same, settled)
    }

    /// What the buckets of group `h` read now, `None` when it cannot be summarised.
    fn home_inputs(&self, h: usize) -> Option<HomeInputs> {
        let d = self.homes[h].current.index();
        let server = self.serving[d];
        let db = &self.dbs[d];
        // The servers `holds_copy` says yes for, one pass over the copies.
        let mut holds = 0u64;
        for (i, c) in db.copies.iter().enumerate() {
            if i == db.active || c.health != CopyHealth::FailedAndSuspended {
                holds |= 1u64.checked_shl(c.config.server.0)?;
            }
        }
        Some(HomeInputs {
            database: d,
            server,
            over_capacity: server.and_then(|s| self.over_capacity(s)),
            rogue: self.rogue_serving[d],
            holds,
        })
    }
}

#[cfg(debug_assertions)]
impl World {
    /// Rule `perf.refresh_changes`'s invariant for group `h` (debug builds, after a
    /// refresh): its clients' inputs, its cohorts' tallies and its outage are what
    /// checking it again would find.
    pub(super) fn check_group_exact(&self, h: usize) {
        let ci = &self.client_inputs;
        match self.home_inputs(h) {
            Some(inputs) => assert_eq!(ci.homes[h], Some(inputs), "group {h}'s inputs unseen"),
            None => assert!(self.changes.groups.is_marked(h), "group {h} not marked"),
        }
        let home = &self.homes[h];
        assert!(
            !ci.cohorts_stale[h] && ci.cohorts_seen[h] == (home.users, home.history_ready),
            "group {h}'s cohorts not updated"
        );
        let (served, whole, _) = self.group_state(h);
        assert!(
            self.group_outages[h].observed(served, whole),
            "group {h}'s outage not observed"
        );
    }

    /// Rules `perf.clients_waiting`, `perf.clients_dns_due`, `perf.clients_dirty_groups`
    /// (debug builds, after a refresh at `now`): evaluating a bucket that the next
    /// refresh skips (quiet, or waiting until after `now`) would change nothing: no
    /// connection, no user on a rogue copy, and no wake before the one pending (none
    /// for a quiet bucket).
    pub(super) fn check_buckets_exact(&self, now: SimTime) {
        for b in 0..self.buckets.len() {
            let waits = self.bucket_quiet.waits(b);
            if !self.bucket_quiet.is_quiet(b) && waits.is_none() {
                continue; // loud: the next refresh evaluates it
            }
            assert!(waits.is_none_or(|w| w > now), "bucket {b} is due");
            let (allowed, wake) = self.bucket_allowed(BucketId::from(b), now);
            let bk = &self.buckets[b];
            let retry = retry_of(&self.config.clients, self.cohorts[bk.cohort.index()].kind);
            let retry_at = next_tick(now, retry, bk.retry_phase);
            assert!(
                allowed == bk.connected || (allowed > bk.connected && retry_at != now),
                "bucket {b} would connect or disconnect"
            );
            let asked = if allowed > bk.connected {
                Some(wake.map_or(retry_at, |w| w.min(retry_at)))
            } else {
                wake
            };
            if let Some(t) = asked {
                let pending = self.bucket_wake[b].map(|(p, _)| p);
                assert!(
                    waits.is_some() && pending.is_some_and(|p| p <= t),
                    "bucket {b} would ask for a wake at {t:?} (pending {pending:?})"
                );
            }
            assert_eq!(
                self.bucket_on_rogue(BucketId::from(b), now),
                self.bucket_rogue[b],
                "bucket {b}'s users on a rogue copy"
            );
        }
    }
}

/// Rule `clients.profile`: whether `server` holds a copy of `db` with its data: the
/// active copy, or a passive copy that has not failed, lost its disk or been removed.
fn holds_copy(db: &Database, server: ServerId) -> bool {
    db.copies.iter().enumerate().any(|(i, c)| {
        c.config.server == server && (i == db.active || c.health != CopyHealth::FailedAndSuspended)
    })
}
