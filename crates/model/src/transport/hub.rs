//! The hub queue (rule `transport.hub_queue`) kept as groups (rule `perf.hub_groups`):
//! the batches waiting for one database on one transport server with one next try form
//! a group. Retried groups wait in buckets of one next try in step order, new ones in a
//! ready list, the rest in a heap. A step pops only the groups due; a group that cannot
//! be delivered is retried as a whole, and joins the group its database last made at
//! that step when that one has the same server (they share the new next try and every
//! later fate). The work of a step is the due groups, not the queued batches.
//!
//! Batches keep their own offer time (latency and expiry are per batch), and a step
//! records its deliveries in a canonical order (rule `transport.delivery_order`), so no
//! result depends on how the groups are stored.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use dialtone_engine::{SimDuration, SimTime};
use smallvec::{SmallVec, smallvec};

use crate::ids::{DatabaseId, ServerId};

/// Room a group's batch list gets when it first holds more than one batch.
const JOINED_ROOM: usize = 16;

/// Messages the senders offered at one instant for one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Batch {
    /// When the sender first offered it (latency and expiry are measured from here).
    pub(super) offered: SimTime,
    pub(super) count: u64,
    /// Resubmitted by shadow redundancy or Safety Net.
    pub(super) recovered: bool,
}

/// Batches for database `db` held by transport server `server`, tried together at
/// `next`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Group {
    pub(super) db: DatabaseId,
    pub(super) server: ServerId,
    pub(super) next: SimTime,
    /// One inline: most groups are one batch (new mail delivered at once).
    pub(super) batches: SmallVec<[Batch; 1]>,
    /// The earliest offer time of `batches` (the first to expire).
    oldest: SimTime,
}

impl Group {
    /// A group of one batch.
    pub(super) fn one(db: DatabaseId, server: ServerId, next: SimTime, b: Batch) -> Self {
        Group {
            db,
            server,
            next,
            batches: smallvec![b],
            oldest: b.offered,
        }
    }

    /// Removes the batches offered at least `expiry` before `now`; returns their
    /// messages. Costs one comparison when none has expired.
    pub(super) fn expire(&mut self, now: SimTime, expiry: SimDuration) -> u64 {
        if now.saturating_duration_since(self.oldest) < expiry {
            return 0;
        }
        let expired = |b: &Batch| now.saturating_duration_since(b.offered) >= expiry;
        let n = self
            .batches
            .iter()
            .filter(|b| expired(b))
            .map(|b| b.count)
            .sum();
        self.batches.retain(|b| !expired(b));
        self.oldest = self
            .batches
            .iter()
            .map(|b| b.offered)
            .min()
            .unwrap_or(SimTime::MAX);
        n
    }

    /// Moves the batches of `other` (same destination and next try) into this group.
    fn join(&mut self, mut other: Group) {
        // The smaller list moves; a list leaving its inline place makes room for a few
        // steps' retries at once.
        if self.batches.len() < other.batches.len() {
            std::mem::swap(&mut self.batches, &mut other.batches);
        }
        if !self.batches.spilled() {
            self.batches.reserve(JOINED_ROOM.max(other.batches.len()));
        }
        self.batches.append(&mut other.batches);
        self.oldest = self.oldest.min(other.oldest);
    }
}

/// A group outside the buckets, ordered by next try then insertion.
#[derive(Debug, Clone)]
struct Timed {
    next: SimTime,
    seq: u64,
    group: Group,
}

impl PartialEq for Timed {
    fn eq(&self, other: &Self) -> bool {
        (self.next, self.seq) == (other.next, other.seq)
    }
}

impl Eq for Timed {}

impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.next, self.seq).cmp(&(other.next, other.seq))
    }
}

/// The groups. A step retries every group it cannot deliver `delivery_retry` later, so
/// the retried groups come in buckets of one next try, in the order of the steps: a
/// queue of buckets holds them, pushed at the back and due from the front, each group
/// pushed and popped at a constant cost. Every other group (new mail, resubmitted mail,
/// a lost server's queue, a retry earlier than the last bucket) waits in a heap.
#[derive(Debug, Clone, Default)]
pub(super) struct HubQueue {
    /// Groups due at the step that added them (new and resubmitted mail).
    ready: Vec<Group>,
    /// `(next, groups)`, next tries increasing.
    buckets: VecDeque<(SimTime, Vec<Group>)>,
    /// Buckets popped from the front so far (a bucket's number less this is its index).
    popped: u64,
    /// Emptied buckets' lists, kept for their capacity (a bucket holds a step's retries).
    spare: Vec<Vec<Group>>,
    /// The other groups, earliest first.
    heap: BinaryHeap<Reverse<Timed>>,
    /// Heap entries made so far (ties in insertion order).
    seq: u64,
    /// Per database: `(bucket number, index)` of the group [`HubQueue::retry`] last made
    /// for it, which a retry to the same server and next try joins.
    joined: Vec<(u64, usize)>,
    /// Groups held.
    groups: usize,
}

impl HubQueue {
    /// No batch waits.
    pub(super) fn is_empty(&self) -> bool {
        self.groups == 0
    }

    /// Every group.
    pub(super) fn groups(&self) -> impl Iterator<Item = &Group> {
        self.ready
            .iter()
            .chain(self.buckets.iter().flat_map(|b| &b.1))
            .chain(self.heap.iter().map(|t| &t.0.group))
    }

    /// Every batch as `(db, server, next, batch)`, sorted: what the queue holds,
    /// however it is grouped.
    #[cfg(test)]
    pub(super) fn contents(&self) -> Vec<(DatabaseId, ServerId, SimTime, Batch)> {
        let mut all: Vec<_> = self
            .groups()
            .flat_map(|g| g.batches.iter().map(|b| (g.db, g.server, g.next, *b)))
            .collect();
        all.sort_unstable();
        all
    }

    /// Adds `g`, due at the step adding it (its next try is at most that step's time),
    /// as a group of its own.
    pub(super) fn push_due(&mut self, g: Group) {
        self.ready.push(g);
        self.groups += 1;
    }

    /// Adds `g` as a group of its own.
    pub(super) fn push(&mut self, g: Group) {
        self.seq += 1;
        self.heap.push(Reverse(Timed {
            next: g.next,
            seq: self.seq,
            group: g,
        }));
        self.groups += 1;
    }

    /// Adds `g`, retried at the latest step: it joins the group last retried for its
    /// database when that one has the same server and next try (their batches share
    /// every later fate), else it becomes a group of its own in the last bucket, or in
    /// a new one when its next try is later.
    pub(super) fn retry(&mut self, g: Group) {
        let d = g.db.index();
        if let Some(into) = self.joined_group(d)
            && (into.db, into.server, into.next) == (g.db, g.server, g.next)
        {
            into.join(g);
            return;
        }
        let last = self.buckets.back().map(|b| b.0);
        if last.is_none_or(|t| t < g.next) {
            let list = self.spare.pop().unwrap_or_default();
            self.buckets.push_back((g.next, list));
        } else if last != Some(g.next) {
            self.push(g);
            return;
        }
        let number = self.popped + self.buckets.len() as u64 - 1;
        let Some(bucket) = self.buckets.back_mut() else {
            return;
        };
        bucket.1.push(g);
        if self.joined.len() <= d {
            self.joined.resize(d + 1, (u64::MAX, 0));
        }
        self.joined[d] = (number, bucket.1.len() - 1);
        self.groups += 1;
    }

    fn joined_group(&mut self, d: usize) -> Option<&mut Group> {
        let &(number, i) = self.joined.get(d)?;
        let k = usize::try_from(number.checked_sub(self.popped)?).ok()?;
        self.buckets.get_mut(k)?.1.get_mut(i)
    }

    /// The earliest next try of any group (`SimTime::MAX` when empty).
    pub(super) fn earliest(&mut self) -> SimTime {
        self.drop_empty();
        let ready = self.ready.iter().map(|g| g.next).min();
        let bucket = self.buckets.front().map_or(SimTime::MAX, |b| b.0);
        let other = self.heap.peek().map_or(SimTime::MAX, |t| t.0.next);
        ready.unwrap_or(SimTime::MAX).min(bucket).min(other)
    }

    /// Removes and returns a group due at `now` (in no particular order: a step
    /// records its deliveries in canonical order).
    pub(super) fn pop_due(&mut self, now: SimTime) -> Option<Group> {
        self.drop_empty();
        while let Some(g) = self.ready.pop() {
            self.groups -= 1;
            if g.next <= now {
                return Some(g);
            }
            self.push(g);
        }
        let g = match self.buckets.front_mut() {
            Some((next, groups)) if *next <= now => groups.pop(),
            _ if self.heap.peek().is_some_and(|t| t.0.next <= now) => {
                self.heap.pop().map(|t| t.0.group)
            }
            _ => None,
        }?;
        self.groups -= 1;
        Some(g)
    }

    /// Removes and returns every group held by `server`.
    pub(super) fn take_server(&mut self, server: ServerId) -> Vec<Group> {
        let (mut taken, kept): (Vec<Group>, Vec<Group>) = std::mem::take(&mut self.ready)
            .into_iter()
            .partition(|g| g.server == server);
        self.ready = kept;
        for (_, groups) in &mut self.buckets {
            let (of, kept): (Vec<Group>, Vec<Group>) = std::mem::take(groups)
                .into_iter()
                .partition(|g| g.server == server);
            *groups = kept;
            taken.extend(of);
        }
        let (of, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.heap)
            .into_vec()
            .into_iter()
            .partition(|t| t.0.group.server == server);
        self.heap = kept.into();
        taken.extend(of.into_iter().map(|t| t.0.group));
        // Indices within the buckets moved.
        self.joined.clear();
        self.groups -= taken.len();
        taken
    }

    /// Removes and returns every group.
    #[cfg(test)]
    pub(super) fn take_all(&mut self) -> Vec<Group> {
        let mut all: Vec<Group> = std::mem::take(&mut self.ready);
        all.extend(self.buckets.drain(..).flat_map(|b| b.1));
        all.extend(self.heap.drain().map(|t| t.0.group));
        self.popped = 0;
        self.joined.clear();
        self.groups = 0;
        all
    }

    #[inline]
    fn drop_empty(&mut self) {
        while self.buckets.front().is_some_and(|b| b.1.is_empty()) {
            if let Some((_, list)) = self.buckets.pop_front() {
                self.spare.push(list);
            }
            self.popped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(db: u32, server: u32, next: u64, counts: &[u64]) -> Group {
        let (db, server, next) = (DatabaseId(db), ServerId(server), SimTime::from_millis(next));
        let batch = |count| Batch {
            offered: SimTime::ZERO,
            count,
            recovered: false,
        };
        let mut g = Group::one(db, server, next, batch(counts[0]));
        for &c in &counts[1..] {
            g.join(Group::one(db, server, next, batch(c)));
        }
        g
    }

    #[test]
    fn groups_come_out_by_next_try_and_only_when_due() {
        let mut h = HubQueue::default();
        h.push(group(0, 1, 30, &[1]));
        h.push(group(1, 1, 10, &[2]));
        h.push(group(2, 1, 10, &[3]));
        assert_eq!(h.earliest(), SimTime::from_millis(10));
        let t = SimTime::from_millis(20);
        let due: Vec<u32> = std::iter::from_fn(|| h.pop_due(t))
            .map(|g| g.db.0)
            .collect();
        assert_eq!(due, vec![1, 2], "earliest first, ties in insertion order");
        assert_eq!(h.earliest(), SimTime::from_millis(30));
        assert!(!h.is_empty());
    }

    #[test]
    fn retries_of_one_destination_and_next_try_join_one_group() {
        // Rule perf.hub_groups: the batches of one destination retried at one step share
        // their next try, so they become one group; another server or next try does not
        // join.
        let mut h = HubQueue::default();
        h.retry(group(0, 1, 50, &[1]));
        h.retry(group(0, 1, 50, &[2, 3]));
        h.retry(group(0, 2, 50, &[4]));
        h.retry(group(0, 2, 60, &[5]));
        let sizes: Vec<usize> = h.groups().map(|g| g.batches.len()).collect();
        assert_eq!(sizes, vec![3, 1, 1]);
        assert_eq!(h.contents().len(), 5);
    }

    #[test]
    fn a_joined_group_expires_each_batch_on_time() {
        // Rule perf.hub_groups: a group keeps the offer time of its oldest batch, so
        // joining an older batch into a newer group still expires it on time.
        let b = |ms, count| Batch {
            offered: SimTime::from_millis(ms),
            count,
            recovered: false,
        };
        let (db, server, next) = (DatabaseId(0), ServerId(1), SimTime::from_millis(10));
        let mut g = Group::one(db, server, next, b(100, 2));
        g.join(Group::one(db, server, next, b(0, 3)));
        let expiry = SimDuration::from_millis(1_000);
        assert_eq!(g.expire(SimTime::from_millis(999), expiry), 0);
        assert_eq!(g.expire(SimTime::from_millis(1_050), expiry), 3);
        assert_eq!(g.batches.len(), 1);
        assert_eq!(g.expire(SimTime::from_millis(1_099), expiry), 0);
        assert_eq!(g.expire(SimTime::from_millis(1_100), expiry), 2);
        assert!(g.batches.is_empty());
    }

    #[test]
    fn a_lost_servers_groups_are_taken_from_buckets_and_heap() {
        let mut h = HubQueue::default();
        h.push(group(0, 1, 10, &[1]));
        h.push(group(1, 2, 20, &[2]));
        h.retry(group(3, 1, 40, &[4]));
        h.retry(group(4, 2, 40, &[5]));
        let lost = h.take_server(ServerId(1));
        assert_eq!(lost.len(), 2);
        assert_eq!(h.earliest(), SimTime::from_millis(20));
        assert!(h.pop_due(SimTime::from_millis(15)).is_none());
        h.push(group(2, 1, 5, &[3]));
        let t = SimTime::from_millis(50);
        let due: Vec<u32> = std::iter::from_fn(|| h.pop_due(t))
            .map(|g| g.db.0)
            .collect();
        assert_eq!(due, vec![4, 2, 1], "a due bucket, then the heap");
        assert!(h.is_empty());
        assert_eq!(h.earliest(), SimTime::MAX);
    }

    #[test]
    fn retried_groups_wait_in_buckets_by_step_and_an_earlier_retry_in_the_heap() {
        // Rule perf.hub_groups: retries come in increasing next tries (one per step);
        // one earlier than the last bucket (not made by a step) still comes out in time.
        let mut h = HubQueue::default();
        h.retry(group(0, 1, 50, &[1]));
        h.retry(group(1, 1, 60, &[2]));
        h.retry(group(2, 1, 55, &[3]));
        assert_eq!((h.buckets.len(), h.heap.len()), (2, 1));
        let at = |ms| {
            let mut h = h.clone();
            let mut due: Vec<u32> = std::iter::from_fn(|| h.pop_due(SimTime::from_millis(ms)))
                .map(|g| g.db.0)
                .collect();
            due.sort_unstable();
            due
        };
        assert_eq!(at(49), Vec::<u32>::new());
        assert_eq!(at(50), vec![0]);
        assert_eq!(at(55), vec![0, 2]);
        assert_eq!(at(60), vec![0, 1, 2]);
    }
}
