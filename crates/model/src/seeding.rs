//! Reseeds (Update-MailboxDatabaseCopy) in progress, sharing their source servers.
//!
//! Rule (source in docs/MODEL.md):
//!
//! - `db.seed_source`: a reseed copies the database (`size_mb`) from its source server
//!   (the server holding the active copy when the reseed starts). A source delivers
//!   `rate` bytes/s in total: while `n` seeds read from it, each gets `rate / n`
//!   (processor sharing); seeds from different sources do not slow each other. The
//!   share changes only when a seed from the same source starts, finishes or is
//!   abandoned, so finish times are exact: they are recomputed when a seed starts or is
//!   abandoned (a finish is already in the schedule).
//!
//! Integer arithmetic: what is left is kept in bytes × 1000, so `dt` ms at `r` bytes/s
//! removes exactly `dt · r`.

use dialtone_engine::{SimDuration, SimTime};

use crate::ids::{DatabaseId, ServerId};

/// Which copy is being seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeedKey {
    /// The database.
    pub db: DatabaseId,
    /// The copy's index in the database.
    pub copy: usize,
}

/// One seed in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seed {
    key: SeedKey,
    source: ServerId,
    /// Left to copy, bytes × 1000.
    left: u128,
    /// When it finishes if no seed from its source starts or is abandoned meanwhile.
    done: SimTime,
}

/// The reseeds in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds {
    /// What one source server delivers to all its seeds together, bytes/s (at least 1).
    rate: u64,
    running: Vec<Seed>,
    /// When `left` was last brought up to date.
    updated: SimTime,
}

impl Seeds {
    /// No seed running; each source delivers `mb_per_s` MB/s.
    pub fn new(mb_per_s: u64) -> Self {
        Seeds {
            rate: mb_per_s.saturating_mul(1 << 20).max(1),
            running: Vec::new(),
            updated: SimTime::ZERO,
        }
    }

    /// Whether no seed is running.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// The seeds running, in the order they started, each with when it finishes.
    pub fn running(&self) -> impl Iterator<Item = (SeedKey, SimTime)> + '_ {
        self.running.iter().map(|s| (s.key, s.done))
    }

    /// Copy `key` starts seeding `bytes` from `source` at `now` (a seed of the same copy
    /// already running is abandoned); every finish time is recomputed.
    pub fn start(&mut self, now: SimTime, key: SeedKey, source: ServerId, bytes: u64) {
        self.advance(now);
        self.running.retain(|s| s.key != key);
        self.running.push(Seed {
            key,
            source,
            left: u128::from(bytes) * 1000,
            done: now,
        });
        self.reschedule();
    }

    /// At `now`, forgets the seeds that finished and those abandoned (`seeding(key, done)`
    /// false: the copy is no longer seeding to that finish time). Returns whether finish
    /// times changed (a seed was abandoned: its source's other seeds speed up).
    pub fn settle(&mut self, now: SimTime, seeding: impl Fn(SeedKey, SimTime) -> bool) -> bool {
        self.running.retain(|s| s.done > now);
        if self.running.iter().all(|s| seeding(s.key, s.done)) {
            return false;
        }
        self.advance(now);
        self.running.retain(|s| seeding(s.key, s.done));
        self.reschedule();
        true
    }

    /// The distinct sources of the running seeds, in order.
    fn sources(&self) -> Vec<ServerId> {
        let mut v: Vec<ServerId> = self.running.iter().map(|s| s.source).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Brings what is left up to `now`, source by source.
    fn advance(&mut self, now: SimTime) {
        let dt = u128::from(now.saturating_duration_since(self.updated).as_millis());
        self.updated = self.updated.max(now);
        for src in self.sources() {
            self.advance_source(src, dt);
        }
    }

    /// `dt` ms of source `src` shared by its unfinished seeds, phase by phase (a phase
    /// ends when the smallest finishes).
    fn advance_source(&mut self, src: ServerId, mut dt: u128) {
        let rate = u128::from(self.rate);
        loop {
            let live = self
                .running
                .iter()
                .filter(|s| s.source == src && s.left > 0);
            let n = live.clone().count() as u128;
            let Some(min) = live.map(|s| s.left).min() else {
                return;
            };
            let need = (min * n).div_ceil(rate);
            let step = if need <= dt {
                dt -= need;
                min
            } else {
                dt * rate / n
            };
            for s in self.running.iter_mut().filter(|s| s.source == src) {
                s.left = s.left.saturating_sub(step);
            }
            if step < min {
                return;
            }
        }
    }

    /// Rule `db.seed_source`: every seed's finish time from what is left now, if nothing
    /// starts or stops: a source's seeds finish smallest first, each phase taking what
    /// the smallest has left times the seeds sharing, over the rate.
    fn reschedule(&mut self) {
        let rate = u128::from(self.rate);
        for src in self.sources() {
            let mut order: Vec<usize> = (0..self.running.len())
                .filter(|&i| self.running[i].source == src)
                .collect();
            order.sort_by_key(|&i| (self.running[i].left, i));
            let n = order.len() as u128;
            let (mut ms, mut served) = (0u128, 0u128);
            for (k, &i) in order.iter().enumerate() {
                let left = self.running[i].left;
                ms += ((left - served) * (n - k as u128)).div_ceil(rate);
                served = left;
                let d = SimDuration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
                self.running[i].done = self.updated.saturating_add(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn key(db: usize, copy: usize) -> SeedKey {
        SeedKey {
            db: DatabaseId::from(db),
            copy,
        }
    }

    fn secs(s: u64) -> SimTime {
        SimTime::from_millis(s * 1000)
    }

    /// When each of `n` 400 GB seeds from one source at 20 MB/s, all started at 0, ends.
    fn from_one_source(n: usize) -> Vec<SimTime> {
        let mut seeds = Seeds::new(20);
        for c in 0..n {
            seeds.start(SimTime::ZERO, key(0, c), ServerId(0), 400_000 * MB);
        }
        seeds.running().map(|(_, t)| t).collect()
    }

    #[test]
    fn seeds_from_one_source_share_its_rate() {
        // 400,000 MB at 20 MB/s: 20,000 s alone, twice and three times that shared.
        assert_eq!(from_one_source(1), vec![secs(20_000)]);
        assert_eq!(from_one_source(2), vec![secs(40_000); 2]);
        assert_eq!(from_one_source(3), vec![secs(60_000); 3]);
    }

    #[test]
    fn seeds_from_two_sources_do_not_slow_each_other() {
        let mut seeds = Seeds::new(20);
        seeds.start(SimTime::ZERO, key(0, 1), ServerId(0), 400_000 * MB);
        seeds.start(SimTime::ZERO, key(1, 1), ServerId(1), 400_000 * MB);
        let done: Vec<_> = seeds.running().map(|(_, t)| t).collect();
        assert_eq!(done, vec![secs(20_000); 2]);
    }

    #[test]
    fn a_smaller_seed_finishes_first_and_frees_its_share() {
        // 100 GB and 400 GB from one source: 10 MB/s each until the small one is done
        // at 10,000 s (100,000 MB each), then 300,000 MB alone at 20 MB/s: 25,000 s.
        let mut seeds = Seeds::new(20);
        seeds.start(SimTime::ZERO, key(0, 1), ServerId(0), 400_000 * MB);
        seeds.start(SimTime::ZERO, key(1, 1), ServerId(0), 100_000 * MB);
        let done: Vec<_> = seeds.running().collect();
        assert_eq!(
            done,
            vec![(key(0, 1), secs(25_000)), (key(1, 1), secs(10_000))]
        );
        // The finished seed is forgotten without moving the other.
        assert!(!seeds.settle(secs(10_000), |_, _| true));
        assert_eq!(seeds.running().count(), 1);
    }

    #[test]
    fn a_seed_started_later_slows_the_running_one_from_then_on() {
        // Alone for 10,000 s (200,000 MB), then 10 MB/s each: the first has 200,000 MB
        // left, 20,000 s shared: done at 30,000 s; the second then has 200,000 MB left,
        // alone: 10,000 s more, done at 40,000 s.
        let mut seeds = Seeds::new(20);
        seeds.start(SimTime::ZERO, key(0, 1), ServerId(0), 400_000 * MB);
        seeds.start(secs(10_000), key(0, 2), ServerId(0), 400_000 * MB);
        let done: Vec<_> = seeds.running().collect();
        assert_eq!(
            done,
            vec![(key(0, 1), secs(30_000)), (key(0, 2), secs(40_000))]
        );
    }

    #[test]
    fn an_abandoned_seed_gives_its_share_back() {
        // Two share the source for 10,000 s (100,000 MB each), then one is abandoned:
        // the other copies its last 300,000 MB alone in 15,000 s.
        let mut seeds = Seeds::new(20);
        seeds.start(SimTime::ZERO, key(0, 1), ServerId(0), 400_000 * MB);
        seeds.start(SimTime::ZERO, key(0, 2), ServerId(0), 400_000 * MB);
        assert!(seeds.settle(secs(10_000), |k, _| k != key(0, 2)));
        let done: Vec<_> = seeds.running().collect();
        assert_eq!(done, vec![(key(0, 1), secs(25_000))]);
    }
}
