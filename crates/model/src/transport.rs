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
//!   after `message_expiry` the sender gets an NDR (`bounced`).
//! - `transport.on_time`: a message delivered within `late_after` of being offered is on
//!   time; otherwise late.
//! - `transport.shadow`: with shadow redundancy, a batch queued on a transport server
//!   that is lost is resubmitted from its shadow copy after `shadow_resubmit` (counted
//!   `recovered` when delivered); without it the batch is `lost_silently`.
//! - `transport.safety_net`: delivered batches are held `safety_net_hold`; after a lossy
//!   mount the lost messages are taken back from the delivered counts and, when Safety
//!   Net is on and they are within the hold, resubmitted (`recovered` when delivered
//!   again); otherwise they are `lost_silently`.

use std::collections::VecDeque;

use dialtone_engine::{SimDuration, SimTime};

use crate::ids::{DatabaseId, ServerId};

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
}

/// A batch waiting somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Queued {
    db: DatabaseId,
    count: u64,
    /// When the sender first offered it (latency is measured from here).
    offered: SimTime,
    /// When it is next tried.
    next: SimTime,
    /// Resubmitted by shadow redundancy or Safety Net.
    recovered: bool,
    /// The transport server holding it (hub queue only).
    server: ServerId,
}

/// A delivered batch, kept for Safety Net and for undoing lossy mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Delivered {
    db: DatabaseId,
    count: u64,
    offered: SimTime,
    at: SimTime,
    on_time: bool,
    recovered: bool,
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
    sender_queue: VecDeque<Queued>,
    hub_queue: Vec<Queued>,
    delivered: VecDeque<Delivered>,
    /// Per database: deliveries pruned from `delivered`, as counts
    /// `(on_time, late, recovered)`, so older messages can still be taken back exactly.
    archive: Vec<(u64, u64, u64)>,
    fates: Fates,
    /// Latency of delivered messages.
    pub latency: LatencyHistogram,
}

/// What a transport step may ask of the world.
pub trait Path {
    /// Can an external sender reach an MX endpoint now? Returns the accepting transport
    /// server.
    fn mx_accepts(&self, now: SimTime) -> Option<ServerId>;
    /// Is `db` mounted and reachable from transport server `from` now?
    fn deliverable(&self, db: DatabaseId, from: ServerId, now: SimTime) -> bool;
}

impl Transport {
    /// An empty ledger.
    pub fn new(params: TransportParams) -> Self {
        Transport {
            params,
            sender_queue: VecDeque::new(),
            hub_queue: Vec::new(),
            delivered: VecDeque::new(),
            archive: Vec::new(),
            fates: Fates::default(),
            latency: LatencyHistogram::default(),
        }
    }

    /// Counts so far, with `queued` filled in.
    pub fn fates(&self) -> Fates {
        let queued = self.sender_queue.iter().map(|q| q.count).sum::<u64>()
            + self.hub_queue.iter().map(|q| q.count).sum::<u64>();
        Fates {
            queued,
            ..self.fates
        }
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
        self.fates.offered += count;
        let q = Queued {
            db,
            count,
            offered: now,
            next: now,
            recovered: false,
            server: ServerId(0),
        };
        self.sender_queue.push_back(q);
        self.step(now, path)
    }

    /// Processes everything due at `now`: sender retries and give-ups, hub deliveries and
    /// expiries, Safety Net pruning. Returns what was delivered, per database and delivering
    /// server ([`SHADOW`] for resubmitted mail), sorted.
    pub fn step(&mut self, now: SimTime, path: &impl Path) -> Vec<(DatabaseId, ServerId, u64)> {
        let p = self.params;
        // Rule transport.sender_retry.
        let mut keep = VecDeque::with_capacity(self.sender_queue.len());
        while let Some(mut q) = self.sender_queue.pop_front() {
            if q.next > now {
                keep.push_back(q);
                continue;
            }
            if let Some(server) = path.mx_accepts(now) {
                q.server = server;
                self.hub_queue.push(q);
            } else if now.saturating_duration_since(q.offered) >= p.sender_expiry {
                self.fates.bounced += q.count;
            } else {
                q.next = now.saturating_add(p.sender_retry);
                keep.push_back(q);
            }
        }
        self.sender_queue = keep;
        // Rule transport.hub_queue.
        let mut out: Vec<(DatabaseId, ServerId, u64)> = Vec::new();
        let mut i = 0;
        while i < self.hub_queue.len() {
            let q = self.hub_queue[i];
            if q.next > now {
                i += 1;
                continue;
            }
            if path.deliverable(q.db, q.server, now) {
                self.hub_queue.swap_remove(i);
                self.record_delivery(now, q);
                match out
                    .iter_mut()
                    .find(|(d, s, _)| *d == q.db && *s == q.server)
                {
                    Some((_, _, c)) => *c += q.count,
                    None => out.push((q.db, q.server, q.count)),
                }
            } else if now.saturating_duration_since(q.offered) >= p.message_expiry {
                self.hub_queue.swap_remove(i);
                self.fates.bounced += q.count;
            } else {
                self.hub_queue[i].next = now.saturating_add(p.delivery_retry);
                i += 1;
            }
        }
        // Keep delivered batches for the Safety Net hold (at least 2 days, to undo lossy
        // mounts exactly even with Safety Net off).
        let keep_for = p.safety_net_hold.max(SimDuration::from_millis(172_800_000));
        while let Some(d) = self
            .delivered
            .front()
            .copied()
            .filter(|d| now.saturating_duration_since(d.at) > keep_for)
        {
            self.delivered.pop_front();
            let a = self.archive_mut(d.db);
            if d.on_time {
                a.0 += d.count;
            } else {
                a.1 += d.count;
            }
            if d.recovered {
                a.2 += d.count;
            }
        }
        out.sort_by_key(|&(d, s, _)| (d, s));
        out
    }

    fn archive_mut(&mut self, db: DatabaseId) -> &mut (u64, u64, u64) {
        if self.archive.len() <= db.index() {
            self.archive.resize(db.index() + 1, (0, 0, 0));
        }
        &mut self.archive[db.index()]
    }

    fn record_delivery(&mut self, now: SimTime, q: Queued) {
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
        self.delivered.push_back(Delivered {
            db: q.db,
            count: q.count,
            offered: q.offered,
            at: now,
            on_time,
            recovered: q.recovered,
        });
    }

    /// Rule `transport.shadow`: transport server `server` is lost with its queue.
    pub fn server_lost(&mut self, now: SimTime, server: ServerId) {
        let p = self.params;
        let mut i = 0;
        while i < self.hub_queue.len() {
            if self.hub_queue[i].server != server {
                i += 1;
                continue;
            }
            if p.shadow_redundancy {
                let q = &mut self.hub_queue[i];
                q.recovered = true;
                q.next = now.saturating_add(p.shadow_resubmit);
                q.server = SHADOW;
                i += 1;
            } else {
                let q = self.hub_queue.swap_remove(i);
                self.fates.lost_silently += q.count;
            }
        }
    }

    /// Rule `transport.safety_net`: a lossy mount of `db` at `now` lost the `lost` most
    /// recently delivered messages (at most what was ever delivered to it). Returns how
    /// many were resubmitted.
    pub fn lossy_mount(&mut self, now: SimTime, db: DatabaseId, lost: u64) -> u64 {
        let resubmit = !self.params.safety_net_hold.is_zero();
        self.take_back(now, db, lost, resubmit)
    }

    /// The `count` messages just delivered for `db` went to a copy that will be
    /// discarded (the losing side of a split brain): lost silently.
    pub fn discard(&mut self, db: DatabaseId, count: u64) {
        let now = self.delivered.back().map_or(SimTime::ZERO, |d| d.at);
        self.take_back(now, db, count, false);
    }

    fn take_back(&mut self, now: SimTime, db: DatabaseId, lost: u64, resubmit: bool) -> u64 {
        let p = self.params;
        let mut left = lost;
        let mut resubmitted = 0;
        let mut i = self.delivered.len();
        while left > 0 && i > 0 {
            i -= 1;
            let d = self.delivered[i];
            if d.db != db {
                continue;
            }
            let take = left.min(d.count);
            left -= take;
            self.delivered[i].count -= take;
            // Undo the delivery.
            if d.on_time {
                self.fates.delivered_on_time -= take;
            } else {
                self.fates.delivered_late -= take;
            }
            if d.recovered {
                self.fates.recovered -= take;
            }
            self.latency
                .remove(d.at.saturating_duration_since(d.offered), take);
            let held = resubmit && now.saturating_duration_since(d.at) <= p.safety_net_hold;
            if held {
                resubmitted += take;
                self.hub_queue.push(Queued {
                    db,
                    count: take,
                    offered: d.offered,
                    next: now,
                    recovered: true,
                    server: SHADOW,
                });
            } else {
                self.fates.lost_silently += take;
            }
        }
        self.delivered.retain(|d| d.count > 0);
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
        resubmitted
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
        }
    }

    /// A world where the MX and the database are up or down by flag.
    struct World {
        mx: Cell<bool>,
        db_up: Cell<bool>,
    }
    impl Path for World {
        fn mx_accepts(&self, _: SimTime) -> Option<ServerId> {
            self.mx.get().then_some(ServerId(1))
        }
        fn deliverable(&self, _: DatabaseId, _: ServerId, _: SimTime) -> bool {
            self.db_up.get()
        }
    }

    fn min(m: u64) -> SimTime {
        SimTime::from_millis(m * 60_000)
    }

    #[test]
    fn mail_waits_in_the_senders_queue_and_arrives_at_the_next_retry() {
        let w = World {
            mx: Cell::new(false),
            db_up: Cell::new(true),
        };
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
        let w = World {
            mx: Cell::new(false),
            db_up: Cell::new(true),
        };
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
    fn accepted_mail_expires_after_two_days_in_the_hub_queue() {
        let w = World {
            mx: Cell::new(true),
            db_up: Cell::new(false),
        };
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
            let w = World {
                mx: Cell::new(true),
                db_up: Cell::new(false),
            };
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
    fn a_lossy_mount_loses_mail_that_safety_net_recovers() {
        for hold_h in [0, 48] {
            let w = World {
                mx: Cell::new(true),
                db_up: Cell::new(true),
            };
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
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u32..3, 0u64..500).prop_map(|(d, c)| Op::Offer(d, c)),
            4 => (1u64..600).prop_map(Op::Advance),
            1 => any::<bool>().prop_map(Op::Mx),
            1 => any::<bool>().prop_map(Op::Db),
            1 => Just(Op::ServerLost),
            1 => (0u32..3, 0u64..300).prop_map(|(d, c)| Op::LossyMount(d, c)),
        ]
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
            let w = World { mx: Cell::new(true), db_up: Cell::new(true) };
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
                }
                let f = t.fates();
                prop_assert!(f.conserved(), "{:?}", f);
            }
        }
    }
}
