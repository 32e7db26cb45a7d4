//! Mail transport as exact batch counts, and the fate of every message.
//!
//! Mail is counted in batches (a database and a tick) with exact counts; no message is an
//! object. Every message offered to the organisation ends in exactly one fate:
//!
//! `offered = delivered_on_time + delivered_late + bounced + lost_silently + queued`
//!
//! (`offered` is what summary.json calls `accepted`: what senders handed to the system,
//! including mail still in a sender's own queue.) `recovered` is a subset of the delivered
//! counts.
//!
//! Rules (sources in docs/MODEL.md):
//!
//! - `transport.sender_retry`: when no MX endpoint accepts, the external sender queues the
//!   batch, retries every `sender_retry` and gives up after `sender_expiry` (the sender
//!   gets a non-delivery report: `bounced`).
//! - `transport.hub_queue`: mail accepted by a transport server waits in its queue until
//!   the recipient database is mounted and reachable, retried every `delivery_retry`;
//!   after `message_expiry` the sender gets an NDR (`bounced`). Each batch keeps its own
//!   retry schedule; the queue stores them as groups (rule `perf.hub_groups`, module
//!   `hub`), and a step records its deliveries in canonical order (rule
//!   `transport.delivery_order`).
//! - `transport.on_time`: a message delivered within `late_after` of being offered is on
//!   time; otherwise late.
//! - `transport.shadow`: with shadow redundancy, a batch queued on a transport server
//!   that is lost (destroyed: [`Transport::server_lost`]) is resubmitted from its shadow
//!   copy after `shadow_resubmit` (counted `recovered` when delivered); without it the
//!   batch is `lost_silently`.
//! - `transport.power_cycle`: a transport server that loses power keeps its queue (the
//!   queue database is on disk) and delivers it when it is back; with shadow redundancy
//!   the shadow takes the batches over once the server has been down `shadow_resubmit`.
//! - `transport.safety_net`: delivered batches are held `safety_net_hold` in the Safety
//!   Net of the transport server that delivered them (the primary) and, with shadow
//!   redundancy, in a shadow Safety Net on another server. Messages a database loses
//!   (a lossy mount, a restore) are taken back from the delivered counts and counted
//!   `lost_silently`; a resubmit request brings back those still within the hold
//!   (`recovered` when delivered again).
//! - `transport.safety_net_place`: a request is answered by the primary Safety Net when
//!   its server is up, was not lost since the delivery and reaches the database's
//!   authoritative server; otherwise by the shadow
//!   Safety Net once the request has waited `safety_net_shadow_after` (12 h); without
//!   shadow redundancy a lost primary's messages stay lost.
//! - `transport.resubmit_auto`: after a lossy activation Active Manager requests the
//!   resubmission itself ([`Transport::lossy_mount`]); after a restore it is a manual step
//!   ([`Transport::restore_loss`], then [`Transport::request_resubmit`]).
//!
//! Held mail is indexed by database, so a request reads only its database's mail.

mod hub;

use std::collections::VecDeque;

use dialtone_engine::{SimDuration, SimTime};

use crate::ids::{DatabaseId, ServerId};
use hub::{Batch, Group, HubQueue};

/// How often held mail is pruned in full (rule `transport.safety_net`; a database read
/// is pruned exactly first, so this bounds memory only).
const PRUNE_EVERY: SimDuration = SimDuration::from_millis(3_600_000);

/// The pseudo-server that holds resubmitted mail (a shadow copy or Safety Net): it
/// delivers from wherever the database is reachable.
pub const SHADOW: ServerId = ServerId(u32::MAX);

/// Transport parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportParams {
    /// External senders retry this often (RFC 5321: at least 30 min).
    pub sender_retry: SimDuration,
    /// External senders give up after this (RFC 5321: at least 4-5 days).
    pub sender_expiry: SimDuration,
    /// Exchange retries delivery to a database this often (5 min).
    pub delivery_retry: SimDuration,
    /// Exchange sends an NDR after this (MessageExpirationTimeout, 2 days).
    pub message_expiry: SimDuration,
    /// Delivered within this of being offered counts as on time.
    pub late_after: SimDuration,
    /// Shadow redundancy on.
    pub shadow_redundancy: bool,
    /// A shadow takes over a lost primary's messages after this (3 h).
    pub shadow_resubmit: SimDuration,
    /// Safety Net hold time (2 days); zero turns Safety Net off.
    pub safety_net_hold: SimDuration,
    /// A resubmit request waits this long for an unreachable primary Safety Net before
    /// the shadow Safety Net answers it (12 h).
    pub safety_net_shadow_after: SimDuration,
}

/// Mail external senders offered at one instant and still hold (rule
/// `transport.sender_retry`): its batches share their offer time, so they are retried,
/// accepted or given up together, and one wave stands for all of them (a queue of waves
/// costs per instant of offer, not per database and instant).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SenderWave {
    /// Offer order: waves due at once go to the hub queue in this order.
    seq: u64,
    /// When the senders first offered it.
    offered: SimTime,
    /// When it is next tried.
    next: SimTime,
    /// `(db, count)` in offer order.
    batches: Vec<(DatabaseId, u64)>,
    /// The sum of the counts.
    count: u64,
}

/// A delivered batch (of the database whose list holds it), kept for Safety Net and for
/// undoing lossy mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Delivered {
    count: u64,
    offered: SimTime,
    at: SimTime,
    /// Quiet mail delivered over `(from, at]` whose hourly stamps are not drawn yet
    /// (rule `perf.safety_net_spread`); `at` for one delivery at one instant.
    from: SimTime,
    on_time: bool,
    recovered: bool,
    /// The transport server that delivered it: its Safety Net is the primary.
    server: ServerId,
}

/// A resubmit request waiting for a Safety Net to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Request {
    db: DatabaseId,
    batch: Delivered,
    /// When it was requested.
    at: SimTime,
}

/// Final counts of every fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fates {
    /// Offered by senders.
    pub offered: u64,
    /// Delivered within `late_after`.
    pub delivered_on_time: u64,
    /// Delivered later.
    pub delivered_late: u64,
    /// The sender was told (NDR).
    pub bounced: u64,
    /// Accepted and never delivered, nobody told.
    pub lost_silently: u64,
    /// Resubmitted by shadow redundancy or Safety Net, then delivered (subset of delivered).
    pub recovered: u64,
    /// Still in a sender's or a transport queue.
    pub queued: u64,
}

impl Fates {
    /// The conservation law.
    pub fn conserved(&self) -> bool {
        self.offered
            == self.delivered_on_time
                + self.delivered_late
                + self.bounced
                + self.lost_silently
                + self.queued
            && self.recovered <= self.delivered_on_time + self.delivered_late
    }
}

/// Latency histogram: counts per bucket of whole seconds on a log2 scale, so memory is
/// fixed whatever the number of messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// `buckets[0]`: under 1 s; `buckets[k]`: [2^(k-1), 2^k) s.
    buckets: [u64; 40],
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram { buckets: [0; 40] }
    }
}

impl LatencyHistogram {
    fn bucket(latency: SimDuration) -> usize {
        let s = latency.as_millis() / 1000;
        ((u64::BITS - s.leading_zeros()) as usize).min(39)
    }
    fn add(&mut self, latency: SimDuration, count: u64) {
        self.buckets[Self::bucket(latency)] += count;
    }
    fn remove(&mut self, latency: SimDuration, count: u64) {
        let b = &mut self.buckets[Self::bucket(latency)];
        *b = b.saturating_sub(count);
    }
    /// Upper bound in seconds of the bucket holding quantile `q` (0..=1); `None` when empty.
    pub fn quantile_upper_s(&self, q: f64) -> Option<u64> {
        let total: u64 = self.buckets.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (k, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(if k == 0 { 1 } else { 1u64 << k });
            }
        }
        None
    }
}

/// Where mail is and what became of it.
#[derive(Debug, Clone)]
pub struct Transport {
    params: TransportParams,
    /// Waves tried at least once, by `next` (a retried wave waits `sender_retry` from
    /// the step that tried it, so appending keeps the order).
    sender_queue: VecDeque<SenderWave>,
    /// Waves offered since the last step (due at once).
    fresh: Vec<SenderWave>,
    /// Waves offered so far (the next wave's `seq`).
    waves: u64,
    /// Mail accepted by transport servers (rule `perf.hub_groups`: a step pops only the
    /// groups due).
    hub_queue: HubQueue,
    /// Per database: what the current step delivered to it, in no order (rule
    /// `transport.delivery_order`; empty between steps, kept for its capacity).
    staged: Vec<Vec<(ServerId, Batch)>>,
    /// The databases with something staged, in staging order.
    touched: Vec<DatabaseId>,
    /// The groups a step retries (empty between steps, kept for its capacity).
    retried: Vec<Group>,
    /// Per database: `(step, server, deliverable)` asked last (rule `perf.hub_due`:
    /// the world does not change during a step, so one answer serves its batches).
    asked: Vec<(u64, ServerId, bool)>,
    /// Steps so far (stamps `asked`).
    steps: u64,
    /// Per database, oldest first: what was delivered to it (the Safety Net's contents).
    delivered: Vec<VecDeque<Delivered>>,
    /// Per database: deliveries pruned from `delivered`, as counts
    /// `(on_time, late, recovered)`, so older messages can still be taken back exactly.
    archive: Vec<(u64, u64, u64)>,
    /// Per database, oldest first: messages the database lost (counted lost) that Safety
    /// Net still holds, until a resubmit request or the end of the hold.
    lost_held: Vec<VecDeque<Delivered>>,
    /// Resubmit requests not yet answered.
    requests: Vec<Request>,
    /// Per server: since when it has been down (power), `None` while up.
    down_since: Vec<Option<SimTime>>,
    /// Per server: when its queue and primary Safety Net were last destroyed.
    destroyed_at: Vec<Option<SimTime>>,
    /// When held mail was last pruned in full.
    pruned_at: Option<SimTime>,
    /// When the last step ran.
    stepped_at: Option<SimTime>,
    /// When waiting requests were last answered (`None`: a server changed since).
    answered_at: Option<SimTime>,
    fates: Fates,
    /// Queue entries the steps have handled (sender waves due, hub groups popped): a
    /// deterministic measure of transport work.
    visits: u64,
    /// Latency of delivered messages.
    pub latency: LatencyHistogram,
    /// Draws the hourly stamps of quiet mail when something reads them, and the stamps'
    /// spacing (rule `perf.safety_net_spread`).
    stamps: Option<(dialtone_engine::StreamRng, SimDuration)>,
}

/// What a transport step may ask of the world.
pub trait Path {
    /// Can an external sender reach an MX endpoint now? Returns the accepting transport
    /// server.
    fn mx_accepts(&self, now: SimTime) -> Option<ServerId>;
    /// Is `db` mounted and reachable from transport server `from` now?
    fn deliverable(&self, db: DatabaseId, from: ServerId, now: SimTime) -> bool;
    /// Can transport server `from` reach the server the authoritative cluster serves
    /// `db` from (where a resubmit request comes from)? False while `db` is not served.
    fn reaches_authoritative(&self, db: DatabaseId, from: ServerId) -> bool;
}

impl Transport {
    /// An empty ledger.
    pub fn new(params: TransportParams) -> Self {
        Transport {
            params,
            sender_queue: VecDeque::new(),
            fresh: Vec::new(),
            waves: 0,
            hub_queue: HubQueue::default(),
            staged: Vec::new(),
            touched: Vec::new(),
            retried: Vec::new(),
            asked: Vec::new(),
            steps: 0,
            delivered: Vec::new(),
            archive: Vec::new(),
            lost_held: Vec::new(),
            requests: Vec::new(),
            down_since: Vec::new(),
            destroyed_at: Vec::new(),
            pruned_at: None,
            stepped_at: None,
            answered_at: None,
            fates: Fates::default(),
            visits: 0,
            latency: LatencyHistogram::default(),
            stamps: None,
        }
    }

    /// Quiet mail delivered over an interval ([`Transport::deliver_spread`]) is stamped at
    /// points `every` apart, drawn from `rng` when something reads them.
    pub fn with_stamps(mut self, rng: dialtone_engine::StreamRng, every: SimDuration) -> Self {
        self.stamps = Some((rng, every));
        self
    }

    /// Counts so far, with `queued` filled in.
    pub fn fates(&self) -> Fates {
        let queued = self
            .sender_queue
            .iter()
            .chain(&self.fresh)
            .map(|w| w.count)
            .sum::<u64>()
            + self
                .hub_queue
                .groups()
                .flat_map(|g| &g.batches)
                .map(|b| b.count)
                .sum::<u64>();
        Fates {
            queued,
            ..self.fates
        }
    }

    /// Queue entries the steps have handled so far (sender waves that were due, hub
    /// groups popped): what a step costs, counted deterministically.
    pub fn visits(&self) -> u64 {
        self.visits
    }

    /// Senders offer `count` messages for `db` at `now`. Returns the batches delivered at
    /// once, as `(db, delivering server, count)` for the database to write.
    pub fn offer(
        &mut self,
        now: SimTime,
        db: DatabaseId,
        count: u64,
        path: &impl Path,
    ) -> Vec<(DatabaseId, ServerId, u64)> {
        if count == 0 {
            return Vec::new();
        }
        self.offer_all(now, &[(db, count)], path)
    }

    /// Offers each `(db, count)` of `batch` at `now`, then steps once (see
    /// [`Transport::offer`]).
    pub fn offer_all(
        &mut self,
        now: SimTime,
        batch: &[(DatabaseId, u64)],
        path: &impl Path,
    ) -> Vec<(DatabaseId, ServerId, u64)> {
        let batches: Vec<(DatabaseId, u64)> = batch.iter().copied().filter(|b| b.1 > 0).collect();
        if !batches.is_empty() {
            let count = batches.iter().map(|b| b.1).sum();
            self.fates.offered += count;
            self.waves += 1;
            self.fresh.push(SenderWave {
                seq: self.waves,
                offered: now,
                next: now,
                batches,
                count,
            });
        }
        self.step(now, path)
    }

    /// Processes everything due at `now`: sender retries and give-ups, hub deliveries and
    /// expiries, Safety Net pruning. Returns what was delivered, per database and delivering
    /// server ([`SHADOW`] for resubmitted mail), sorted.
    pub fn step(&mut self, now: SimTime, path: &impl Path) -> Vec<(DatabaseId, ServerId, u64)> {
        self.senders(now, path);
        // Requests change only with time, a new request or a server's state.
        if self.answered_at != Some(now) {
            self.answer_requests(now, path);
        }
        // Already one entry per database and server, sorted (`record_staged`).
        let out = self.deliver_due(now, path);
        self.prune(now);
        out
    }

    /// Rule `transport.hub_queue`: every batch due at `now` is delivered, given up after
    /// `message_expiry` (bounced) or retried after `delivery_retry`. Only the groups due
    /// are looked at (rule `perf.hub_groups`), and the world is asked once per database
    /// and server (rule `perf.hub_due`; `deliver_due_scan` in the tests looks at every
    /// batch on its own). Deliveries are recorded in canonical order (rule
    /// `transport.delivery_order`).
    fn deliver_due(&mut self, now: SimTime, path: &impl Path) -> Vec<(DatabaseId, ServerId, u64)> {
        let p = self.params;
        if self.hub_queue.earliest() > now {
            return Vec::new();
        }
        self.steps += 1;
        let takes_over = self.takes_over(now);
        let mut retried = std::mem::take(&mut self.retried);
        while let Some(mut g) = self.hub_queue.pop_due(now) {
            self.visits += 1;
            if takes_over {
                self.take_over(&mut g, now);
            }
            if self.deliverable(g.db, g.server, now, path) {
                for &b in &g.batches {
                    self.stage(g.db, g.server, b);
                }
                continue;
            }
            self.fates.bounced += g.expire(now, p.message_expiry);
            if !g.batches.is_empty() {
                g.next = now.saturating_add(p.delivery_retry);
                retried.push(g);
            }
        }
        // Re-queued after the pops: a zero `delivery_retry` waits for the next step.
        for g in retried.drain(..) {
            self.hub_queue.retry(g);
        }
        self.retried = retried;
        self.record_staged(now)
    }

    /// Stages batch `b`, delivered to `db` by `server` at this step, for
    /// [`Transport::record_staged`].
    fn stage(&mut self, db: DatabaseId, server: ServerId, b: Batch) {
        let d = db.index();
        if self.staged.len() <= d {
            self.staged.resize_with(d + 1, Vec::new);
        }
        if self.staged[d].is_empty() {
            self.touched.push(db);
        }
        self.staged[d].push((server, b));
    }

    /// Rule `transport.delivery_order`: a step's deliveries are recorded by database,
    /// then offer time, then server (a take-back takes the most recently offered of one
    /// instant's deliveries first), whatever order the queue held them in. Returns them
    /// per database and server, sorted, counts summed.
    fn record_staged(&mut self, now: SimTime) -> Vec<(DatabaseId, ServerId, u64)> {
        let mut touched = std::mem::take(&mut self.touched);
        if !touched.is_sorted() {
            touched.sort_unstable();
        }
        let mut out = Vec::with_capacity(touched.len());
        let mut by_server: Vec<(ServerId, u64)> = Vec::new();
        for &db in &touched {
            let mut list = std::mem::take(&mut self.staged[db.index()]);
            if list.len() > 1 {
                list.sort_unstable_by_key(|&(server, b)| (b.offered, server, b.recovered, b.count));
            }
            by_server.clear();
            for &(server, b) in &list {
                self.record_delivery(now, db, server, b);
                match by_server.iter_mut().find(|e| e.0 == server) {
                    Some(e) => e.1 += b.count,
                    None => by_server.push((server, b.count)),
                }
            }
            by_server.sort_unstable();
            out.extend(by_server.iter().map(|&(server, n)| (db, server, n)));
            list.clear();
            self.staged[db.index()] = list;
        }
        touched.clear();
        self.touched = touched;
        out
    }

    /// Whether the shadow may take any batch over at `now`: some server has been down
    /// for `shadow_resubmit`. When none has, [`Transport::take_over`] changes nothing and
    /// a step does not ask it.
    fn takes_over(&self, now: SimTime) -> bool {
        let p = self.params;
        p.shadow_redundancy
            && self
                .down_since
                .iter()
                .flatten()
                .any(|&t| now.saturating_duration_since(t) >= p.shadow_resubmit)
    }

    /// Rule `transport.power_cycle`: the shadow takes the due group `g` over from a
    /// server down for `shadow_resubmit`.
    fn take_over(&self, g: &mut Group, now: SimTime) {
        let p = self.params;
        if p.shadow_redundancy
            && g.server != SHADOW
            && self
                .down_since(g.server)
                .is_some_and(|t| now.saturating_duration_since(t) >= p.shadow_resubmit)
        {
            g.server = SHADOW;
            for b in &mut g.batches {
                b.recovered = true;
            }
        }
    }

    /// [`Transport::step`] with every batch looked at on its own, every step, and the
    /// world asked for every batch, as before rules `perf.hub_due` and `perf.hub_groups`
    /// (tests: the reference of the shortcuts).
    #[cfg(test)]
    fn step_scan(&mut self, now: SimTime, path: &impl Path) -> Vec<(DatabaseId, ServerId, u64)> {
        self.senders(now, path);
        if self.answered_at != Some(now) {
            self.answer_requests(now, path);
        }
        let out = self.deliver_due_scan(now, path);
        self.prune(now);
        out
    }

    /// The hub queue's full scan, a batch at a time (tests: the reference of
    /// [`Transport::deliver_due`]).
    #[cfg(test)]
    fn deliver_due_scan(
        &mut self,
        now: SimTime,
        path: &impl Path,
    ) -> Vec<(DatabaseId, ServerId, u64)> {
        let p = self.params;
        for g in self.hub_queue.take_all() {
            for &b in &g.batches {
                let mut q = Group::one(g.db, g.server, g.next, b);
                if q.next > now {
                    self.hub_queue.push(q);
                    continue;
                }
                self.take_over(&mut q, now);
                let b = q.batches[0];
                if path.deliverable(q.db, q.server, now) {
                    self.stage(q.db, q.server, b);
                } else if now.saturating_duration_since(b.offered) >= p.message_expiry {
                    self.fates.bounced += b.count;
                } else {
                    q.next = now.saturating_add(p.delivery_retry);
                    self.hub_queue.push(q);
                }
            }
        }
        self.record_staged(now)
    }

    /// Rule `transport.sender_retry`: every wave due at `now` moves to the hub queue of
    /// the accepting MX endpoint in offer order (asked once: the answer is the same for
    /// every wave), or is given up after `sender_expiry` (bounced), or waits
    /// `sender_retry` more. Waves that are not due are not touched.
    fn senders(&mut self, now: SimTime, path: &impl Path) {
        let mut due = std::mem::take(&mut self.fresh);
        while let Some(w) = self.sender_queue.pop_front_if(|w| w.next <= now) {
            due.push(w);
        }
        if due.is_empty() {
            return;
        }
        self.visits += due.len() as u64;
        let p = self.params;
        if let Some(server) = path.mx_accepts(now) {
            due.sort_unstable_by_key(|w| w.seq);
            for w in due {
                for &(db, count) in &w.batches {
                    let b = Batch {
                        offered: w.offered,
                        count,
                        recovered: false,
                    };
                    self.hub_queue.push_due(Group::one(db, server, w.next, b));
                }
            }
            return;
        }
        for mut w in due {
            if now.saturating_duration_since(w.offered) >= p.sender_expiry {
                self.fates.bounced += w.count;
            } else {
                w.next = now.saturating_add(p.sender_retry);
                self.sender_queue.push_back(w);
            }
        }
    }

    /// Keeps delivered batches for the Safety Net hold (at least 2 days, to undo lossy
    /// mounts exactly even with Safety Net off); lost messages leave Safety Net at the end
    /// of the hold. A full pass runs at most every [`PRUNE_EVERY`] (only memory depends on
    /// it); a database is brought up to the last step before its deliveries are read
    /// ([`Transport::catch_up`]), so what a take-back sees is as if every step pruned.
    fn prune(&mut self, now: SimTime) {
        self.stepped_at = Some(now);
        if self
            .pruned_at
            .is_some_and(|t| now < t.saturating_add(PRUNE_EVERY))
        {
            return;
        }
        self.pruned_at = Some(now);
        for db in 0..self.delivered.len() {
            self.prune_db(db, now);
        }
        let hold = self.params.safety_net_hold;
        for held in &mut self.lost_held {
            while held
                .front()
                .is_some_and(|d| now.saturating_duration_since(d.at) > hold)
            {
                held.pop_front();
            }
        }
    }

    /// Prunes the deliveries of `db` as a step at the last step's time did.
    fn catch_up(&mut self, db: DatabaseId) {
        if let Some(t) = self.stepped_at
            && db.index() < self.delivered.len()
        {
            self.prune_db(db.index(), t);
        }
    }

    /// Moves the deliveries of `db` older than the hold (at least 2 days) at `now` into
    /// its archive counts.
    fn prune_db(&mut self, db: usize, now: SimTime) {
        let keep_for = self
            .params
            .safety_net_hold
            .max(SimDuration::from_millis(172_800_000));
        while let Some(d) = self.delivered[db]
            .front()
            .copied()
            .filter(|d| now.saturating_duration_since(d.at) > keep_for)
        {
            self.delivered[db].pop_front();
            if self.archive.len() <= db {
                self.archive.resize(db + 1, (0, 0, 0));
            }
            let a = &mut self.archive[db];
            if d.on_time {
                a.0 += d.count;
            } else {
                a.1 += d.count;
            }
            if d.recovered {
                a.2 += d.count;
            }
        }
    }

    /// Whether `path` delivers to `db` from `from` now, asked once per step, database and
    /// server (rule `perf.hub_due`).
    fn deliverable(
        &mut self,
        db: DatabaseId,
        from: ServerId,
        now: SimTime,
        path: &impl Path,
    ) -> bool {
        let d = db.index();
        if self.asked.len() <= d {
            self.asked.resize(d + 1, (0, SHADOW, false));
        }
        let (step, server, answer) = self.asked[d];
        if step == self.steps && server == from {
            return answer;
        }
        let answer = path.deliverable(db, from, now);
        self.asked[d] = (self.steps, from, answer);
        answer
    }

    fn down_since(&self, server: ServerId) -> Option<SimTime> {
        self.down_since.get(server.index()).copied().flatten()
    }

    /// Whether the Safety Net of `server` still holds what it delivered at `at`.
    fn primary_holds(&self, server: ServerId, at: SimTime) -> bool {
        server == SHADOW
            || self
                .destroyed_at
                .get(server.index())
                .copied()
                .flatten()
                .is_none_or(|lost| lost < at)
    }

    /// Rule `transport.safety_net_place`: each waiting request is answered by the primary
    /// Safety Net when its server is up and reaches the database's authoritative server,
    /// else by the shadow Safety Net once it has waited
    /// `safety_net_shadow_after`; without shadow redundancy a destroyed primary's
    /// messages stay lost.
    fn answer_requests(&mut self, now: SimTime, path: &impl Path) {
        self.answered_at = Some(now);
        let p = self.params;
        let mut i = 0;
        while i < self.requests.len() {
            let r = self.requests[i];
            let s = r.batch.server;
            let primary = self.primary_holds(s, r.batch.at);
            let reachable = s == SHADOW
                || (self.down_since(s).is_none() && path.reaches_authoritative(r.db, s));
            let from = if primary && reachable {
                Some(s)
            } else if p.shadow_redundancy
                && now.saturating_duration_since(r.at) >= p.safety_net_shadow_after
            {
                Some(SHADOW)
            } else {
                None
            };
            if let Some(server) = from {
                self.requests.swap_remove(i);
                self.fates.lost_silently -= r.batch.count;
                let b = Batch {
                    offered: r.batch.offered,
                    count: r.batch.count,
                    recovered: true,
                };
                self.hub_queue.push_due(Group::one(r.db, server, now, b));
            } else if !primary && !p.shadow_redundancy {
                self.requests.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }

    fn record_delivery(&mut self, now: SimTime, db: DatabaseId, server: ServerId, q: Batch) {
        let latency = now.saturating_duration_since(q.offered);
        let on_time = latency <= self.params.late_after;
        if on_time {
            self.fates.delivered_on_time += q.count;
        } else {
            self.fates.delivered_late += q.count;
        }
        if q.recovered {
            self.fates.recovered += q.count;
        }
        self.latency.add(latency, q.count);
        let db = db.index();
        if self.delivered.len() <= db {
            self.delivered.resize_with(db + 1, VecDeque::new);
        }
        self.delivered[db].push_back(Delivered {
            count: q.count,
            offered: q.offered,
            at: now,
            from: now,
            on_time,
            recovered: q.recovered,
            server,
        });
    }

    /// Rule `world.quiet_stretches`: nothing waits anywhere (no sender wave, no hub batch,
    /// no resubmit request), so what mail does next depends on no clock of its own.
    pub fn idle(&self) -> bool {
        self.sender_queue.is_empty()
            && self.fresh.is_empty()
            && self.hub_queue.is_empty()
            && self.requests.is_empty()
    }

    /// Rule `world.quiet_stretches`: `count` messages for `db` offered at `at` and
    /// delivered at once by `server`, as [`Transport::offer`] then a step at `at` would
    /// record them when every queue is empty, the MX endpoint accepts and the database is
    /// deliverable (the caller checks). Calls for one database come in time order.
    pub fn deliver_quiet(&mut self, at: SimTime, db: DatabaseId, server: ServerId, count: u64) {
        if count == 0 {
            return;
        }
        self.fates.offered += count;
        self.record_delivery(
            at,
            db,
            server,
            Batch {
                offered: at,
                count,
                recovered: false,
            },
        );
    }

    /// Rule `world.quiet_stretches`: `count` messages for `db` delivered at once by
    /// `server` as they arrived over `(from, to]`: as [`Transport::deliver_quiet`] at
    /// points [`Transport::with_stamps`] apart counted back from `to`, each with a binomial
    /// share (arrival times uniform). Rule `perf.safety_net_spread`: the shares are drawn
    /// only when something reads them (a take-back); until then the delivery is one
    /// record, pruned when its last stamp would be. A ledger built without
    /// [`Transport::with_stamps`] stamps it all at `to`. Calls for one database come in
    /// time order.
    pub fn deliver_spread(
        &mut self,
        from: SimTime,
        to: SimTime,
        db: DatabaseId,
        server: ServerId,
        count: u64,
    ) {
        if count == 0 {
            return;
        }
        self.deliver_quiet(to, db, server, count);
        if from < to
            && self.stamps.is_some()
            && let Some(d) = self
                .delivered
                .get_mut(db.index())
                .and_then(VecDeque::back_mut)
        {
            // One record over the interval until a take-back draws its stamps.
            d.from = from;
        }
    }

    /// Rule `perf.safety_net_spread`: replaces each spread delivery of `db` by its stamps,
    /// the latest `every` apart counted back from its end (the first may be shorter), each
    /// a binomial share of what is left with its fraction of the time left.
    fn draw_stamps(&mut self, db: DatabaseId) {
        let Some(list) = self.delivered.get_mut(db.index()) else {
            return;
        };
        if list.iter().all(|d| d.from >= d.at) {
            return;
        }
        let Some((rng, every)) = self.stamps.as_mut() else {
            return;
        };
        let step = every.as_millis().max(1);
        let mut out = VecDeque::with_capacity(list.len());
        for d in list.drain(..) {
            if d.from >= d.at {
                out.push_back(d);
                continue;
            }
            let (to, span) = (d.at.as_millis(), d.at.as_millis() - d.from.as_millis());
            let parts = span.div_ceil(step).max(1);
            let (mut left, mut start) = (d.count, d.from.as_millis());
            for j in (0..parts).rev() {
                let end = to - j * step;
                let take = if j == 0 {
                    left
                } else {
                    let p = (end - start) as f64 / (to - start) as f64;
                    crate::draw::binomial(rng, left, p)
                };
                if take > 0 {
                    let at = SimTime::from_millis(end);
                    out.push_back(Delivered {
                        count: take,
                        offered: at,
                        at,
                        from: at,
                        ..d
                    });
                }
                left -= take;
                start = end;
            }
        }
        *list = out;
        // What a step since would have pruned of the stamps.
        self.catch_up(db);
    }

    /// Rule `transport.power_cycle`: transport server `server` lost power (`up = false`)
    /// or is back. Its queue stays on it; a repeated call changes nothing.
    pub fn server_power(&mut self, now: SimTime, server: ServerId, up: bool) {
        let s = server.index();
        self.answered_at = None;
        if self.down_since.len() <= s {
            self.down_since.resize(s + 1, None);
        }
        if up {
            self.down_since[s] = None;
        } else if self.down_since[s].is_none() {
            self.down_since[s] = Some(now);
        }
    }

    /// Rule `transport.shadow`: transport server `server` is lost (destroyed) with its
    /// queue and its primary Safety Net.
    pub fn server_lost(&mut self, now: SimTime, server: ServerId) {
        let p = self.params;
        if self.destroyed_at.len() <= server.index() {
            self.destroyed_at.resize(server.index() + 1, None);
        }
        self.destroyed_at[server.index()] = Some(now);
        self.answered_at = None;
        for mut g in self.hub_queue.take_server(server) {
            if p.shadow_redundancy {
                g.server = SHADOW;
                g.next = now.saturating_add(p.shadow_resubmit);
                for b in &mut g.batches {
                    b.recovered = true;
                }
                self.hub_queue.push(g);
            } else {
                self.fates.lost_silently += g.batches.iter().map(|b| b.count).sum::<u64>();
            }
        }
    }

    /// Rules `transport.safety_net` and `transport.resubmit_auto`: a lossy mount of `db`
    /// at `now` lost the `lost` most recently delivered messages (at most what was ever
    /// delivered to it) and Active Manager requests their resubmission. Returns how many
    /// were requested from Safety Net.
    pub fn lossy_mount(&mut self, now: SimTime, db: DatabaseId, lost: u64) -> u64 {
        self.take_back(now, db, lost, true, SimTime::MAX);
        self.request_resubmit(now, db)
    }

    /// Rule `transport.restore_loss`: a restore of `db` at `now` lost the `lost` most
    /// recent messages delivered to the restored database, which last received mail at
    /// `until` (mail delivered later went to another database, a dial tone one, and is
    /// not lost): they are lost unless an administrator requests their resubmission
    /// ([`Transport::request_resubmit`], Add-ResubmitRequest) within the hold.
    pub fn restore_loss(&mut self, now: SimTime, db: DatabaseId, lost: u64, until: SimTime) {
        self.take_back(now, db, lost, true, until);
    }

    /// A resubmit request for `db` at `now` (Add-ResubmitRequest, or Active Manager's own):
    /// the messages it lost that Safety Net still holds are asked for; they return when a
    /// Safety Net answers (rule `transport.safety_net_place`), from the next step on.
    /// Returns how many.
    pub fn request_resubmit(&mut self, now: SimTime, db: DatabaseId) -> u64 {
        let hold = self.params.safety_net_hold;
        let Some(held) = self.lost_held.get_mut(db.index()) else {
            return 0;
        };
        let mut n = 0;
        for batch in held.drain(..) {
            if now.saturating_duration_since(batch.at) <= hold {
                n += batch.count;
                self.requests.push(Request { db, batch, at: now });
            }
        }
        self.answered_at = None;
        n
    }

    /// The `count` messages just delivered for `db` went to a copy that will be
    /// discarded (the losing side of a split brain): lost silently.
    pub fn discard(&mut self, db: DatabaseId, count: u64) {
        self.catch_up(db);
        let now = self
            .delivered
            .get(db.index())
            .and_then(|d| d.back())
            .map_or(SimTime::ZERO, |d| d.at);
        self.take_back(now, db, count, false, SimTime::MAX);
    }

    /// Takes the `lost` most recent deliveries of `db` made at or before `until` back:
    /// lost silently; with `held`, those Safety Net holds wait for a resubmit request.
    fn take_back(&mut self, now: SimTime, db: DatabaseId, lost: u64, held: bool, until: SimTime) {
        self.catch_up(db);
        self.draw_stamps(db);
        let p = self.params;
        let (mut left, held) = (lost, held && !p.safety_net_hold.is_zero());
        let mut taken: Vec<Delivered> = Vec::new();
        if let Some(list) = self.delivered.get_mut(db.index()) {
            // Deliveries are in time order: skip those after `until`.
            let mut i = list.partition_point(|d| d.at <= until);
            while left > 0 && i > 0 {
                let d = &mut list[i - 1];
                let take = left.min(d.count);
                left -= take;
                d.count -= take;
                let mut part = *d;
                part.count = take;
                if d.count == 0 {
                    let _ = list.remove(i - 1);
                }
                i -= 1;
                taken.push(part);
            }
        }
        for d in &taken {
            // Undo the delivery.
            if d.on_time {
                self.fates.delivered_on_time -= d.count;
            } else {
                self.fates.delivered_late -= d.count;
            }
            if d.recovered {
                self.fates.recovered -= d.count;
            }
            self.latency
                .remove(d.at.saturating_duration_since(d.offered), d.count);
            self.fates.lost_silently += d.count;
        }
        if held {
            if self.lost_held.len() <= db.index() {
                self.lost_held.resize_with(db.index() + 1, VecDeque::new);
            }
            let list = &mut self.lost_held[db.index()];
            // Oldest first.
            for d in taken.into_iter().rev() {
                if now.saturating_duration_since(d.at) <= p.safety_net_hold {
                    list.push_back(d);
                }
            }
        }
        // Older than anything kept: beyond Safety Net's reach, so lost. Their latency
        // buckets are no longer known and stay in the histogram.
        if left > 0 && db.index() < self.archive.len() {
            let a = &mut self.archive[db.index()];
            let on_time = left.min(a.0);
            let late = (left - on_time).min(a.1);
            let recovered = (on_time + late).min(a.2);
            *a = (a.0 - on_time, a.1 - late, a.2 - recovered);
            self.fates.delivered_on_time -= on_time;
            self.fates.delivered_late -= late;
            self.fates.recovered -= recovered;
            self.fates.lost_silently += on_time + late;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::Cell;

    fn params(shadow: bool, safety_net_h: u64) -> TransportParams {
        TransportParams {
            sender_retry: SimDuration::from_mins(30).unwrap_or(SimDuration::MAX),
            sender_expiry: SimDuration::from_days(4).unwrap_or(SimDuration::MAX),
            delivery_retry: SimDuration::from_mins(5).unwrap_or(SimDuration::MAX),
            message_expiry: SimDuration::from_days(2).unwrap_or(SimDuration::MAX),
            late_after: SimDuration::from_mins(5).unwrap_or(SimDuration::MAX),
            shadow_redundancy: shadow,
            shadow_resubmit: SimDuration::from_hours(3).unwrap_or(SimDuration::MAX),
            safety_net_hold: SimDuration::from_hours(safety_net_h).unwrap_or(SimDuration::MAX),
            safety_net_shadow_after: SimDuration::from_hours(12).unwrap_or(SimDuration::MAX),
        }
    }

    /// A world where the MX and the database are up or down by flag.
    struct World {
        mx: Cell<bool>,
        db_up: Cell<bool>,
        /// Server 1 is down: it delivers nothing.
        primary_down: Cell<bool>,
    }
    impl World {
        /// MX accepting, the database up, server 1 (the primary) down.
        fn new(mx: bool, db_up: bool, primary_down: bool) -> Self {
            World {
                mx: Cell::new(mx),
                db_up: Cell::new(db_up),
                primary_down: Cell::new(primary_down),
            }
        }
    }
    impl Path for World {
        fn mx_accepts(&self, _: SimTime) -> Option<ServerId> {
            self.mx.get().then_some(ServerId(1))
        }
        fn deliverable(&self, _: DatabaseId, from: ServerId, _: SimTime) -> bool {
            self.db_up.get() && !(from == ServerId(1) && self.primary_down.get())
        }
        fn reaches_authoritative(&self, db: DatabaseId, from: ServerId) -> bool {
            self.deliverable(db, from, SimTime::ZERO)
        }
    }

    fn min(m: u64) -> SimTime {
        SimTime::from_millis(m * 60_000)
    }

    #[test]
    fn mail_waits_in_the_senders_queue_and_arrives_at_the_next_retry() {
        let w = World::new(false, true, false);
        let mut t = Transport::new(params(true, 48));
        assert!(t.offer(min(0), DatabaseId(0), 10, &w).is_empty());
        w.mx.set(true);
        assert!(
            t.step(min(10), &w).is_empty(),
            "the sender retries at 30 min, not at once"
        );
        assert_eq!(t.step(min(30), &w), vec![(DatabaseId(0), ServerId(1), 10)]);
        let f = t.fates();
        assert_eq!((f.delivered_late, f.delivered_on_time), (10, 0));
        assert!(f.conserved());
    }

    #[test]
    fn senders_give_up_after_expiry_with_an_ndr() {
        let w = World::new(false, true, false);
        let mut t = Transport::new(params(true, 48));
        t.offer(min(0), DatabaseId(0), 7, &w);
        let mut m = 0;
        while t.fates().queued > 0 {
            m += 30;
            t.step(min(m), &w);
        }
        assert_eq!(m, 4 * 24 * 60);
        assert_eq!(t.fates().bounced, 7);
    }

    #[test]
    fn one_instants_deliveries_are_recorded_by_offer_time_server_and_resubmission() {
        // Rule transport.delivery_order: staged in the reverse order, recorded by offer
        // time, then server, then resubmitted, then count; returned per server.
        let mut t = Transport::new(params(true, 48));
        let b = |m, count, recovered| Batch {
            offered: min(m),
            count,
            recovered,
        };
        let db = DatabaseId(0);
        t.stage(db, SHADOW, b(1, 5, true));
        t.stage(db, ServerId(1), b(1, 5, true));
        t.stage(db, ServerId(1), b(1, 5, false));
        t.stage(db, ServerId(1), b(1, 4, false));
        t.stage(db, ServerId(2), b(0, 3, false));
        let out = t.record_staged(min(10));
        let order: Vec<(u32, bool, u64)> = t.delivered[0]
            .iter()
            .map(|d| (d.server.0, d.recovered, d.count))
            .collect();
        assert_eq!(
            order,
            vec![
                (2, false, 3),
                (1, false, 4),
                (1, false, 5),
                (1, true, 5),
                (SHADOW.0, true, 5)
            ]
        );
        assert_eq!(
            out,
            vec![(db, ServerId(1), 14), (db, ServerId(2), 3), (db, SHADOW, 5)]
        );
    }

    #[test]
    fn a_step_records_one_instants_deliveries_in_offer_order() {
        // Rule transport.delivery_order: mail offered at 0 (late by 3 h) and at 2 h 56
        // (on time: 5 min) reaches the database at one step; a lossy mount of 4 messages
        // takes the most recently offered back: the on-time ones.
        let w = World::new(true, false, false);
        let mut t = Transport::new(params(true, 48));
        let _ = t.offer(min(0), DatabaseId(0), 6, &w);
        let _ = t.offer(min(176), DatabaseId(0), 4, &w);
        w.db_up.set(true);
        assert_eq!(t.step(min(181), &w), vec![(DatabaseId(0), ServerId(1), 10)]);
        let f = t.fates();
        assert_eq!((f.delivered_late, f.delivered_on_time), (6, 4), "{f:?}");
        let _ = t.lossy_mount(min(181), DatabaseId(0), 4);
        let f = t.fates();
        assert_eq!((f.delivered_late, f.delivered_on_time), (6, 0), "{f:?}");
    }

    #[test]
    fn accepted_mail_expires_after_two_days_in_the_hub_queue() {
        let w = World::new(true, false, false);
        let mut t = Transport::new(params(true, 48));
        t.offer(min(0), DatabaseId(0), 3, &w);
        t.step(min(2 * 24 * 60 - 5), &w);
        assert_eq!(t.fates().queued, 3);
        t.step(min(2 * 24 * 60), &w);
        assert_eq!(t.fates().bounced, 3);
    }

    #[test]
    fn a_lost_transport_server_loses_mail_only_without_shadow_redundancy() {
        for shadow in [false, true] {
            let w = World::new(true, false, false);
            let mut t = Transport::new(params(shadow, 48));
            t.offer(min(0), DatabaseId(0), 5, &w);
            t.server_lost(min(1), ServerId(1));
            w.db_up.set(true);
            t.step(min(1 + 180), &w);
            let f = t.fates();
            if shadow {
                assert_eq!((f.recovered, f.delivered_late, f.lost_silently), (5, 5, 0));
            } else {
                assert_eq!((f.recovered, f.lost_silently), (0, 5));
            }
            assert!(f.conserved());
        }
    }

    #[test]
    fn quiet_mail_is_one_record_until_a_take_back_draws_its_hourly_stamps() {
        // Rule perf.safety_net_spread: 1,000 messages delivered over (0, 5 h] are one
        // record, counted delivered on time at once; a lossy mount at 5 h draws the
        // hourly stamps and takes the 300 most recent back: the 5 h stamp holds about
        // 200, so the rest comes from the 4 h one.
        let hour = SimDuration::from_hours(1).unwrap_or(SimDuration::MAX);
        let h = |n: u64| SimTime::from_millis(n * 3_600_000);
        let rng = dialtone_engine::RngStreams::new(3, 0).stream("mail-stamps");
        let mut t = Transport::new(params(true, 48)).with_stamps(rng.expect("stream"), hour);
        t.deliver_spread(h(0), h(5), DatabaseId(0), ServerId(1), 1_000);
        assert_eq!(t.delivered[0].len(), 1);
        let f = t.fates();
        assert_eq!((f.offered, f.delivered_on_time), (1_000, 1_000));
        assert_eq!(t.lossy_mount(h(5), DatabaseId(0), 300), 300);
        let stamps: Vec<SimTime> = t.delivered[0].iter().map(|d| d.at).collect();
        assert!(
            stamps.iter().all(|at| at.as_millis() % 3_600_000 == 0),
            "{stamps:?}"
        );
        assert_eq!(t.delivered[0].iter().map(|d| d.count).sum::<u64>(), 700);
        let lost: Vec<(SimTime, u64)> = t
            .requests
            .iter()
            .map(|r| (r.batch.at, r.batch.count))
            .collect();
        assert_eq!(lost.iter().map(|l| l.1).sum::<u64>(), 300);
        assert!(
            lost.iter().any(|l| l.0 == h(4)) && lost.iter().all(|l| l.0 >= h(4)),
            "{lost:?}"
        );
        assert!(t.fates().conserved());
    }

    #[test]
    fn a_lossy_mount_loses_mail_that_safety_net_recovers() {
        for hold_h in [0, 48] {
            let w = World::new(true, true, false);
            let mut t = Transport::new(params(true, hold_h));
            t.offer(min(0), DatabaseId(0), 100, &w);
            t.offer(min(1), DatabaseId(1), 50, &w);
            t.offer(min(2), DatabaseId(0), 20, &w);
            let resubmitted = t.lossy_mount(min(3), DatabaseId(0), 30);
            t.step(min(3), &w);
            let f = t.fates();
            assert!(f.conserved(), "{f:?}");
            if hold_h == 0 {
                assert_eq!((resubmitted, f.lost_silently, f.recovered), (0, 30, 0));
            } else {
                assert_eq!((resubmitted, f.lost_silently, f.recovered), (30, 0, 30));
                assert_eq!(
                    f.delivered_on_time, 170,
                    "redelivered within 5 min of offer"
                );
            }
        }
    }

    /// Delivers `count` messages for `db` at minute `m` (through server 1).
    fn deliver(t: &mut Transport, w: &World, m: u64, db: u32, count: u64) {
        t.offer(min(m), DatabaseId(db), count, w);
    }

    #[test]
    fn a_resubmit_is_answered_by_the_primary_when_up_else_by_the_shadow_after_12_hours() {
        for primary_up in [true, false] {
            let w = World::new(true, true, false);
            let mut t = Transport::new(params(true, 48));
            deliver(&mut t, &w, 0, 0, 10);
            if !primary_up {
                t.server_power(min(5), ServerId(1), false);
            }
            assert_eq!(t.lossy_mount(min(10), DatabaseId(0), 10), 10);
            let out = t.step(min(10), &w);
            if primary_up {
                assert_eq!(out, vec![(DatabaseId(0), ServerId(1), 10)], "the primary");
                continue;
            }
            assert!(out.is_empty());
            assert_eq!(t.fates().lost_silently, 10);
            assert!(
                t.step(min(10 + 12 * 60 - 5), &w).is_empty(),
                "not before 12 h"
            );
            assert_eq!(
                t.step(min(10 + 12 * 60), &w),
                vec![(DatabaseId(0), SHADOW, 10)],
                "the shadow, 12 h after the request"
            );
            let f = t.fates();
            assert_eq!((f.recovered, f.lost_silently), (10, 0));
            assert!(f.conserved());
        }
    }

    #[test]
    fn a_primary_back_within_12_hours_answers_and_a_lost_one_needs_the_shadow() {
        let w = World::new(true, true, false);
        // Power back after an hour: the primary answers then.
        let mut t = Transport::new(params(true, 48));
        deliver(&mut t, &w, 0, 0, 10);
        t.server_power(min(5), ServerId(1), false);
        t.lossy_mount(min(10), DatabaseId(0), 10);
        t.server_power(min(70), ServerId(1), true);
        assert_eq!(t.step(min(70), &w), vec![(DatabaseId(0), ServerId(1), 10)]);
        // Server lost: its Safety Net is gone; the shadow answers after 12 h, or nobody.
        for shadow in [true, false] {
            let mut t = Transport::new(params(shadow, 48));
            deliver(&mut t, &w, 0, 0, 10);
            t.server_power(min(5), ServerId(1), false);
            t.server_lost(min(5), ServerId(1));
            t.server_power(min(60), ServerId(1), true);
            t.lossy_mount(min(70), DatabaseId(0), 10);
            assert!(
                t.step(min(71), &w).is_empty(),
                "the rebuilt primary holds nothing"
            );
            t.step(min(70 + 12 * 60), &w);
            let f = t.fates();
            let recovered = if shadow { 10 } else { 0 };
            assert_eq!((f.recovered, f.lost_silently), (recovered, 10 - recovered));
            assert!(f.conserved());
        }
    }

    #[test]
    fn a_primary_cut_off_from_the_database_does_not_answer_until_it_reaches_it() {
        let w = World::new(true, true, false);
        let mut t = Transport::new(params(true, 48));
        deliver(&mut t, &w, 0, 0, 10);
        // Server 1 is up but cannot reach the database's server (a WAN cut).
        w.primary_down.set(true);
        t.lossy_mount(min(10), DatabaseId(0), 10);
        assert!(t.step(min(10), &w).is_empty());
        assert_eq!(t.fates().lost_silently, 10, "no answer while cut off");
        w.primary_down.set(false);
        assert_eq!(t.step(min(60), &w), vec![(DatabaseId(0), ServerId(1), 10)]);
    }

    #[test]
    fn a_restore_loss_is_resubmitted_only_when_requested() {
        let w = World::new(true, true, false);
        let mut t = Transport::new(params(true, 48));
        deliver(&mut t, &w, 0, 0, 10);
        t.restore_loss(min(10), DatabaseId(0), 10, SimTime::MAX);
        t.step(min(60), &w);
        assert_eq!((t.fates().lost_silently, t.fates().recovered), (10, 0));
        assert_eq!(t.request_resubmit(min(60), DatabaseId(0)), 10);
        t.step(min(60), &w);
        assert_eq!((t.fates().lost_silently, t.fates().recovered), (0, 10));
        // Beyond the hold, Safety Net no longer has them.
        deliver(&mut t, &w, 100, 0, 5);
        t.restore_loss(min(110), DatabaseId(0), 5, SimTime::MAX);
        t.step(min(100 + 49 * 60), &w);
        assert_eq!(t.request_resubmit(min(100 + 49 * 60), DatabaseId(0)), 0);
        assert_eq!(t.fates().lost_silently, 5);
    }

    #[test]
    fn a_restore_loses_mail_the_restored_database_received_not_later_dial_tone_mail() {
        // Rule transport.restore_loss: 10 delivered on time before the failure at minute
        // 5, then 7 queued while no database serves and delivered late into a dial tone
        // database at minute 60; the restore loses 4 of the first 10, none of the 7.
        let w = World::new(true, true, false);
        let mut t = Transport::new(params(true, 48));
        deliver(&mut t, &w, 0, 0, 10);
        w.db_up.set(false);
        deliver(&mut t, &w, 10, 0, 7);
        w.db_up.set(true);
        assert_eq!(t.step(min(60), &w), vec![(DatabaseId(0), ServerId(1), 7)]);
        let before = t.fates();
        assert_eq!((before.delivered_on_time, before.delivered_late), (10, 7));
        t.restore_loss(min(120), DatabaseId(0), 4, min(5));
        let after = t.fates();
        assert_eq!(
            after.delivered_late, 7,
            "the dial tone mail stays delivered"
        );
        assert_eq!(after.delivered_on_time, 6);
        assert_eq!(after.lost_silently, 4);
    }

    #[test]
    fn a_power_cycle_loses_nothing_while_a_server_loss_without_shadow_loses_its_queue() {
        for shadow in [false, true] {
            for destroyed in [false, true] {
                let w = World::new(true, false, false);
                let mut t = Transport::new(params(shadow, 48));
                t.offer(min(0), DatabaseId(0), 5, &w);
                t.server_power(min(1), ServerId(1), false);
                if destroyed {
                    t.server_lost(min(1), ServerId(1));
                }
                t.server_power(min(16), ServerId(1), true);
                w.db_up.set(true);
                t.step(min(16 + 180), &w);
                let f = t.fates();
                assert!(f.conserved());
                let lost = if destroyed && !shadow { 5 } else { 0 };
                assert_eq!(f.lost_silently, lost, "shadow {shadow}, lost {destroyed}");
                assert_eq!(f.delivered_late, 5 - lost);
            }
        }
    }

    #[test]
    fn the_shadow_takes_over_the_queue_of_a_server_down_for_3_hours() {
        for shadow in [false, true] {
            let w = World::new(true, false, false);
            let mut t = Transport::new(params(shadow, 48));
            t.offer(min(0), DatabaseId(0), 5, &w);
            t.server_power(min(1), ServerId(1), false);
            w.primary_down.set(true);
            w.db_up.set(true);
            assert!(t.step(min(1 + 175), &w).is_empty());
            let out = t.step(min(1 + 180), &w);
            if shadow {
                assert_eq!(out, vec![(DatabaseId(0), SHADOW, 5)]);
                assert_eq!(t.fates().recovered, 5);
            } else {
                assert!(out.is_empty(), "the queue waits for its server");
                t.server_power(min(300), ServerId(1), true);
                w.primary_down.set(false);
                assert_eq!(t.step(min(300), &w), vec![(DatabaseId(0), ServerId(1), 5)]);
            }
        }
    }

    #[test]
    fn mail_held_by_senders_costs_per_retry_not_per_step() {
        // Rule transport.sender_retry, cost: a permanent outage of the MX endpoint keeps
        // 4 days of mail in the senders' queues; a step handles only the waves due (one
        // per offer instant, retried every 30 min), not every queued batch.
        let w = World::new(false, true, false);
        let mut t = Transport::new(params(true, 48));
        let ticks = 7 * 288;
        for k in 0..ticks {
            let batch: Vec<(DatabaseId, u64)> = (0..100).map(|d| (DatabaseId(d), 3)).collect();
            let _ = t.offer_all(min(5 * k), &batch, &w);
        }
        let f = t.fates();
        assert!(f.bounced > 0 && f.queued > 0 && f.conserved(), "{f:?}");
        // Each wave is due once when offered and once per 30 min for 4 days.
        let per_wave = 4 * 48 + 2;
        assert!(t.visits() <= ticks * per_wave, "{} visits", t.visits());
        assert!(t.visits() >= ticks * 4 * 48 / 2, "{} visits", t.visits());
    }

    #[test]
    fn waves_due_together_are_delivered_in_offer_order() {
        // Rule transport.sender_retry: a wave tried earlier waits behind a later one in
        // the senders' queue; when both are due they reach the hub, and their deliveries
        // are recorded in offer order (rule transport.delivery_order), as one queue of
        // messages would deliver them.
        let w = World::new(false, false, false);
        let mut t = Transport::new(params(true, 48));
        let _ = t.offer(min(0), DatabaseId(0), 5, &w);
        let _ = t.offer(min(1), DatabaseId(0), 7, &w);
        let _ = t.step(min(30), &w); // retries the first only: it now waits till 60
        w.mx.set(true);
        w.db_up.set(true);
        assert_eq!(t.step(min(65), &w), vec![(DatabaseId(0), ServerId(1), 12)]);
        let order: Vec<(u64, SimTime)> = t.delivered[0]
            .iter()
            .map(|d| (d.count, d.offered))
            .collect();
        assert_eq!(order, vec![(5, min(0)), (7, min(1))]);
    }

    #[test]
    fn a_take_back_sees_deliveries_pruned_as_of_the_last_step() {
        // Rule transport.safety_net: mail older than the hold at the last step is counted
        // without its latency (archived); the full pass runs hourly, so a take-back first
        // prunes its database up to the last step, exactly as a per-step prune would.
        let w = World::new(true, true, false);
        let mut t = Transport::new(params(true, 48));
        deliver(&mut t, &w, 0, 0, 5);
        let end = 48 * 60 + 10;
        for m in (5..=end).step_by(5) {
            let _ = t.step(min(m), &w);
        }
        let _ = t.lossy_mount(min(end), DatabaseId(0), 5);
        let f = t.fates();
        assert_eq!((f.lost_silently, f.delivered_on_time), (5, 0), "{f:?}");
        // Archived at 48 h 5 min: its latency stays in the histogram.
        assert_eq!(t.latency.quantile_upper_s(0.5), Some(1));
    }

    #[test]
    fn latency_quantiles_come_from_the_histogram() {
        let mut h = LatencyHistogram::default();
        h.add(SimDuration::from_millis(500), 90);
        h.add(SimDuration::from_millis(3_000_000), 10);
        assert_eq!(h.quantile_upper_s(0.5), Some(1));
        assert_eq!(h.quantile_upper_s(0.99), Some(4096));
        assert_eq!(LatencyHistogram::default().quantile_upper_s(0.5), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Offer(u32, u64),
        Advance(u64),
        Mx(bool),
        Db(bool),
        ServerLost,
        LossyMount(u32, u64),
        Power(bool),
        RestoreLoss(u32, u64),
        Resubmit(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u32..3, 0u64..500).prop_map(|(d, c)| Op::Offer(d, c)),
            4 => (1u64..600).prop_map(Op::Advance),
            1 => any::<bool>().prop_map(Op::Mx),
            1 => any::<bool>().prop_map(Op::Db),
            1 => Just(Op::ServerLost),
            1 => (0u32..3, 0u64..300).prop_map(|(d, c)| Op::LossyMount(d, c)),
            1 => any::<bool>().prop_map(Op::Power),
            1 => (0u32..3, 0u64..300).prop_map(|(d, c)| Op::RestoreLoss(d, c)),
            1 => (0u32..3).prop_map(Op::Resubmit),
        ]
    }

    /// A world where each database is up or down by flag; the MX always accepts, on
    /// transport server `mx` (1 or 2); the queue of server `cut` delivers nothing.
    struct Dbs {
        up: std::cell::RefCell<Vec<bool>>,
        mx: Cell<u32>,
        cut: Cell<Option<u32>>,
    }
    impl Path for Dbs {
        fn mx_accepts(&self, _: SimTime) -> Option<ServerId> {
            Some(ServerId(self.mx.get()))
        }
        fn deliverable(&self, db: DatabaseId, from: ServerId, _: SimTime) -> bool {
            self.up.borrow()[db.index()] && (from == SHADOW || self.cut.get() != Some(from.0))
        }
        fn reaches_authoritative(&self, db: DatabaseId, _: ServerId) -> bool {
            self.up.borrow()[db.index()]
        }
    }

    #[derive(Debug, Clone)]
    enum HubOp {
        Offer(u32, u64),
        Advance(u64),
        Flip(u32),
        Mx(u32),
        Cut(Option<u32>),
        Power(u32, bool),
        Lost(u32),
        Take(u32, u64),
    }

    fn hub_op() -> impl Strategy<Value = HubOp> {
        prop_oneof![
            6 => (0u32..6, 1u64..50).prop_map(|(d, c)| HubOp::Offer(d, c)),
            5 => (0u64..120).prop_map(HubOp::Advance),
            1 => (0u64..3_000).prop_map(HubOp::Advance),
            2 => (0u32..6).prop_map(HubOp::Flip),
            1 => (1u32..3).prop_map(HubOp::Mx),
            1 => prop::option::of(1u32..3).prop_map(HubOp::Cut),
            1 => (1u32..3, any::<bool>()).prop_map(|(s, up)| HubOp::Power(s, up)),
            1 => (1u32..3).prop_map(HubOp::Lost),
            1 => (0u32..6, 1u64..200).prop_map(|(d, c)| HubOp::Take(d, c)),
        ]
    }

    /// Everything a later operation can observe of a transport.
    fn observed(t: &Transport) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?}",
            t.fates(),
            t.hub_queue.contents(),
            t.delivered,
            t.lost_held,
            t.latency
        )
    }

    proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            /// Rules perf.hub_due and perf.hub_groups: a step that pops only the groups due
            /// (and asks the world once per database and server) leaves exactly what a
            /// look at every batch on its own at every step leaves: the same deliveries
            /// recorded in the same order, the same queue contents, the same fates; the
            /// queue's earliest next try is exact, it holds no empty group and is empty
            /// (for `idle`) exactly when the reference's is. Expiry and take-over times
            /// come in minutes as well as in days, so the proptest reaches them.
            #[test]
            fn a_step_visiting_due_batches_equals_a_full_scan(
                ops in prop::collection::vec(hub_op(), 1..300),
                shadow in any::<bool>(),
                expiry_min in prop_oneof![Just(20u64), Just(48 * 60)],
                resubmit_min in prop_oneof![Just(10u64), Just(180)],
            ) {
                let w = Dbs {
                    up: std::cell::RefCell::new(vec![false; 6]),
                    mx: Cell::new(1),
                    cut: Cell::new(None),
                };
                let mut p = params(shadow, 48);
                p.message_expiry = SimDuration::from_mins(expiry_min).unwrap_or(SimDuration::MAX);
                p.shadow_resubmit = SimDuration::from_mins(resubmit_min).unwrap_or(SimDuration::MAX);
                let mut fast = Transport::new(p);
                let mut scan = fast.clone();
                // Steps seconds apart: most fall between a batch's retries.
                let at = |s: u64| SimTime::from_millis(s * 1000);
                let mut now = 0u64;
                for op in ops {
                    match op {
                        HubOp::Offer(d, c) => {
                            let batch = [(DatabaseId(d), c), (DatabaseId((d + 1) % 6), c + 1)];
                            let a = fast.offer_all(at(now), &batch, &w);
                            scan.fates.offered += batch.iter().map(|b| b.1).sum::<u64>();
                            scan.waves += 1;
                            scan.fresh.push(SenderWave {
                                seq: scan.waves,
                                offered: at(now),
                                next: at(now),
                                batches: batch.to_vec(),
                                count: batch.iter().map(|b| b.1).sum(),
                            });
                            prop_assert_eq!(a, scan.step_scan(at(now), &w));
                        }
                        HubOp::Advance(s) => {
                            now += s;
                            let out = fast.step(at(now), &w);
                            // One entry per database and server, sorted.
                            prop_assert!(out.windows(2).all(|p| (p[0].0, p[0].1) < (p[1].0, p[1].1)));
                            prop_assert_eq!(out, scan.step_scan(at(now), &w));
                        }
                        HubOp::Flip(d) => {
                            let mut up = w.up.borrow_mut();
                            up[d as usize] = !up[d as usize];
                        }
                        HubOp::Mx(s) => w.mx.set(s),
                        HubOp::Cut(c) => w.cut.set(c),
                        HubOp::Power(s, up) => {
                            fast.server_power(at(now), ServerId(s), up);
                            scan.server_power(at(now), ServerId(s), up);
                        }
                        HubOp::Lost(s) => {
                            fast.server_lost(at(now), ServerId(s));
                            scan.server_lost(at(now), ServerId(s));
                        }
                        HubOp::Take(d, c) => {
                            fast.discard(DatabaseId(d), c);
                            scan.discard(DatabaseId(d), c);
                        }
                    }
                    prop_assert_eq!(observed(&fast), observed(&scan));
    let first = fast.hub_queue.contents().iter().map(|q| q.2).min();
                    prop_assert_eq!(first.unwrap_or(SimTime::MAX), fast.hub_queue.earliest());
                    prop_assert!(fast.hub_queue.groups().all(|g| !g.batches.is_empty()));
                    prop_assert_eq!(fast.hub_queue.is_empty(), first.is_none());
                    prop_assert_eq!(fast.idle(), scan.idle());
                }
            }
        }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Mail conservation under random faults: every offered message has exactly one
        /// fate at every instant.
        #[test]
        fn every_message_has_exactly_one_fate(
            ops in prop::collection::vec(op(), 1..200),
            shadow in any::<bool>(),
            hold in prop_oneof![Just(0u64), Just(48u64)],
        ) {
            let w = World { mx: Cell::new(true), db_up: Cell::new(true), primary_down: Cell::new(false) };
            let mut t = Transport::new(params(shadow, hold));
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Offer(d, c) => { t.offer(min(now), DatabaseId(d), c, &w); }
                    Op::Advance(m) => { now += m; t.step(min(now), &w); }
                    Op::Mx(b) => w.mx.set(b),
                    Op::Db(b) => w.db_up.set(b),
                    Op::ServerLost => t.server_lost(min(now), ServerId(1)),
                    Op::LossyMount(d, c) => { t.lossy_mount(min(now), DatabaseId(d), c); }
                    Op::Power(up) => t.server_power(min(now), ServerId(1), up),
                    Op::RestoreLoss(d, c) => t.restore_loss(min(now), DatabaseId(d), c, SimTime::MAX),
                    Op::Resubmit(d) => { t.request_resubmit(min(now), DatabaseId(d)); }
                }
                let f = t.fates();
                prop_assert!(f.conserved(), "{:?}", f);
            }
        }

        /// The per-database index takes back and resubmits the same mail as a scan of
        /// every delivery, newest first, would.
        #[test]
        fn the_per_database_index_returns_the_same_mail_as_a_scan(
            deliveries in prop::collection::vec((0u32..3, 1u64..50, 0u64..120), 1..100),
            db in 0u32..3,
            lost in 0u64..500,
            hold_h in 1u64..60,
        ) {
            let w = World { mx: Cell::new(true), db_up: Cell::new(true), primary_down: Cell::new(false) };
            let mut t = Transport::new(params(true, hold_h));
            let mut flat = Vec::new();
            let mut now = 0;
            for (d, c, gap) in deliveries {
                now += gap;
                t.offer(min(now), DatabaseId(d), c, &w);
                flat.push((d, c, now));
            }
            let mut left = lost;
            let mut expect = 0;
            for &(d, c, at) in flat.iter().rev() {
                if d != db || left == 0 {
                    continue;
                }
                let take = left.min(c);
                left -= take;
                if now - at <= hold_h * 60 {
                    expect += take;
                }
            }
            prop_assert_eq!(t.lossy_mount(min(now), DatabaseId(db), lost), expect);
            prop_assert_eq!(t.fates().lost_silently, lost - left, "lost until answered");
            t.step(min(now), &w);
            prop_assert_eq!(t.fates().lost_silently, lost - left - expect);
        }
    }
}
