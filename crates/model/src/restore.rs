//! Restores from backup: reading the data from the backup location, which concurrent
//! restores share, then replaying the logs rolled forward.
//!
//! Rules (sources in docs/MODEL.md):
//!
//! - `restore.rate`: a restore reads its database (`size_mb`) from the backup location
//!   at `stream` bytes/s; restores running at the same time share the location's
//!   `total`: while `n` read, each reads at `min(stream, total / n)` (processor
//!   sharing). The rate changes only when a restore starts or finishes reading, so
//!   finish times are exact and recomputed at those moments.
//! - `restore.streams`: at most `streams` restores read at once; the others wait in a
//!   queue in the order they were started (FIFO) and take a stream when one finishes
//!   reading. A queued restore reads nothing: its read time counts from the moment it
//!   gets a stream.
//! - `restore.replay`: after reading, the restored database replays the logs it rolls
//!   forward (1 MB each) at `replay` bytes/s; then it mounts (a recovery database) or
//!   is ready to mount (in place).
//!
//! Integer arithmetic throughout: what is left to read is kept in byte-milliseconds per
//! second (bytes × 1000), so `dt` ms at `r` bytes/s removes exactly `dt · r`.

use std::collections::VecDeque;

use dialtone_engine::{SimDuration, SimTime};

use crate::database::LOG_KB;
use crate::ids::DatabaseId;

/// Throughputs of restores, bytes per second (each at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreRates {
    /// What one restore stream reads from the backup location.
    pub stream: u64,
    /// What the backup location delivers in total, shared by concurrent restores.
    pub total: u64,
    /// Log replay into the restored database.
    pub replay: u64,
    /// How many restores read at once (rule `restore.streams`; at least 1).
    pub streams: usize,
}

impl RestoreRates {
    /// Rule `restore.replay`: the time to replay `logs` logs.
    pub fn replay_time(&self, logs: u64) -> SimDuration {
        let millibytes = u128::from(logs) * u128::from(LOG_KB) * 1024 * 1000;
        let ms = millibytes.div_ceil(u128::from(self.replay.max(1)));
        SimDuration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

/// One restore reading from the backup location.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reading {
    /// The database being restored into.
    db: DatabaseId,
    /// Left to read, bytes × 1000.
    left: u128,
    /// Replay that follows the read.
    replay: SimDuration,
}

/// The restores reading from the backup location now, and those waiting for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restores {
    rates: RestoreRates,
    reading: Vec<Reading>,
    /// Restores waiting for a stream, first started first.
    queued: VecDeque<Reading>,
    /// When `left` was last brought up to date.
    updated: SimTime,
}

impl Restores {
    /// No restore running.
    pub fn new(rates: RestoreRates) -> Self {
        Restores {
            rates,
            reading: Vec::new(),
            queued: VecDeque::new(),
            updated: SimTime::ZERO,
        }
    }

    /// The throughputs.
    pub fn rates(&self) -> RestoreRates {
        self.rates
    }

    /// Rule `restore.rate`: what each reading restore gets now, bytes/s.
    pub fn rate(&self) -> u64 {
        let n = self.reading.len().max(1) as u64;
        self.rates.stream.min(self.rates.total / n).max(1)
    }

    /// Brings what is left to read up to `now` at the current rate.
    fn advance(&mut self, now: SimTime) {
        let dt = now.saturating_duration_since(self.updated).as_millis();
        self.updated = self.updated.max(now);
        let done = u128::from(dt) * u128::from(self.rate());
        for r in &mut self.reading {
            r.left = r.left.saturating_sub(done);
        }
    }

    /// A restore of `bytes` into `db` is started at `now`: it reads at once if a stream
    /// is free, otherwise it joins the end of the queue (rule `restore.streams`); it then
    /// replays `logs` logs. A restore already reading or queued into `db` is abandoned
    /// (restarted).
    pub fn start(&mut self, now: SimTime, db: DatabaseId, bytes: u64, logs: u64) {
        self.advance(now);
        self.reading.retain(|r| r.db != db);
        self.queued.retain(|r| r.db != db);
        self.queued.push_back(Reading {
            db,
            left: u128::from(bytes) * 1000,
            replay: self.rates.replay_time(logs),
        });
        self.fill_streams();
    }

    /// Rule `restore.streams`: queued restores take the free streams, first queued first.
    fn fill_streams(&mut self) {
        while self.reading.len() < self.rates.streams.max(1) {
            match self.queued.pop_front() {
                Some(r) => self.reading.push(r),
                None => break,
            }
        }
    }

    /// Whether a restore into `db` is reading or waiting for a stream.
    pub fn is_reading(&self, db: DatabaseId) -> bool {
        self.reading.iter().chain(&self.queued).any(|r| r.db == db)
    }

    /// How many restores wait for a stream.
    pub fn queued(&self) -> usize {
        self.queued.len()
    }

    /// The first restore to finish reading at the current rate, and when (the earliest
    /// started among equal times).
    pub fn next_done(&self) -> Option<(SimTime, DatabaseId)> {
        let rate = u128::from(self.rate());
        self.reading
            .iter()
            .map(|r| {
                let ms = u64::try_from(r.left.div_ceil(rate)).unwrap_or(u64::MAX);
                (
                    self.updated.saturating_add(SimDuration::from_millis(ms)),
                    r.db,
                )
            })
            .min_by_key(|&(t, _)| t)
    }

    /// The restores that have finished reading by `now`, in the order they started,
    /// each with the replay that follows; the queued ones take the freed streams and
    /// the others share the location from now on.
    pub fn take_done(&mut self, now: SimTime) -> Vec<(DatabaseId, SimDuration)> {
        self.advance(now);
        let mut done = Vec::new();
        self.reading.retain(|r| {
            if r.left == 0 {
                done.push((r.db, r.replay));
                false
            } else {
                true
            }
        });
        self.fill_streams();
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1 << 30;

    /// 45 GB/h per stream, 300 GB/h in total, 10 MB/s replay (the scenario defaults).
    fn rates() -> RestoreRates {
        RestoreRates {
            stream: 45 * GB / 3600,
            total: 300 * GB / 3600,
            replay: 10 << 20,
            streams: 7,
        }
    }

    /// Runs restores of `sizes` GB all started at 0 (none replaying) and returns when
    /// each finished reading, in hours.
    fn finish_hours(r: RestoreRates, sizes: &[u64]) -> Vec<f64> {
        let mut pool = Restores::new(r);
        for (i, &gb) in sizes.iter().enumerate() {
            pool.start(SimTime::ZERO, DatabaseId::from(i), gb * GB, 0);
        }
        let mut at = vec![0.0; sizes.len()];
        while let Some((t, _)) = pool.next_done() {
            for (db, _) in pool.take_done(t) {
                at[db.index()] = t.as_millis() as f64 / 3_600_000.0;
            }
        }
        at
    }

    #[test]
    fn restore_time_scales_with_the_database_size() {
        let one = finish_hours(rates(), &[90])[0];
        let two = finish_hours(rates(), &[180])[0];
        assert!((one - 2.0).abs() < 1e-3, "90 GB at 45 GB/h: {one} h");
        assert!((two / one - 2.0).abs() < 1e-3, "{two} h vs {one} h");
    }

    #[test]
    fn concurrent_restores_share_the_backup_locations_total_rate() {
        // Ten 90 GB restores on ten streams against 300 GB/h: 30 GB/h each, 3 h, not 2 h.
        let wide = RestoreRates {
            streams: 10,
            ..rates()
        };
        let ten = finish_hours(wide, &[90; 10]);
        assert!(ten.iter().all(|&h| (h - 3.0).abs() < 1e-3), "{ten:?}");
        // Two fit under the cap: each runs at its stream rate.
        let two = finish_hours(rates(), &[90; 2]);
        assert!(two.iter().all(|&h| (h - 2.0).abs() < 1e-3), "{two:?}");
        // A tight cap: two restores take twice as long as one.
        let tight = RestoreRates {
            total: 45 * GB / 3600,
            ..rates()
        };
        let alone = finish_hours(tight, &[90])[0];
        let pair = finish_hours(tight, &[90, 90]);
        assert!(
            pair.iter().all(|&h| (h - 2.0 * alone).abs() < 1e-3),
            "{pair:?}"
        );
    }

    #[test]
    fn a_finished_restore_frees_its_share() {
        // 45 and 90 GB sharing 45 GB/h: 22.5 GB/h each until the small one finishes at
        // 2 h (45 GB read by each), then the large one reads its last 45 GB alone in 1 h.
        let tight = RestoreRates {
            total: 45 * GB / 3600,
            ..rates()
        };
        let at = finish_hours(tight, &[45, 90]);
        assert!((at[0] - 2.0).abs() < 1e-3, "{at:?}");
        assert!((at[1] - 3.0).abs() < 1e-3, "{at:?}");
    }

    #[test]
    fn a_restore_started_later_slows_the_running_one_from_then_on() {
        let tight = RestoreRates {
            total: 45 * GB / 3600,
            ..rates()
        };
        let mut pool = Restores::new(tight);
        pool.start(SimTime::ZERO, DatabaseId(0), 90 * GB, 0);
        let hour = SimTime::from_millis(3_600_000);
        pool.start(hour, DatabaseId(1), 90 * GB, 0);
        // db0: 45 GB in the first hour alone, then 45 GB at 22.5 GB/h: done at 3 h.
        let (t, db) = pool.next_done().expect("running");
        assert_eq!(db, DatabaseId(0));
        assert!((t.as_millis() as f64 / 3_600_000.0 - 3.0).abs() < 1e-3);
    }

    #[test]
    fn restarting_a_restore_abandons_the_one_reading() {
        let mut pool = Restores::new(rates());
        pool.start(SimTime::ZERO, DatabaseId(0), 90 * GB, 0);
        let hour = SimTime::from_millis(3_600_000);
        pool.start(hour, DatabaseId(0), 90 * GB, 0);
        let (t, _) = pool.next_done().expect("running");
        let hours = t.as_millis() as f64 / 3_600_000.0;
        assert!(
            (hours - 3.0).abs() < 1e-3,
            "90 GB at 45 GB/h from 1 h: {hours}"
        );
        assert_eq!(pool.take_done(t).len(), 1);
    }

    /// Milliseconds to read `bytes` at `rate` bytes/s (what the pool computes).
    fn read_ms(bytes: u64, rate: u64) -> u64 {
        (u128::from(bytes) * 1000).div_ceil(u128::from(rate)) as u64
    }

    #[test]
    fn an_eighth_restore_waits_for_one_of_seven_streams() {
        // Seven read at 300/7 GB/h each (under the 45 GB/h stream cap); the eighth
        // waits, reads nothing, and starts alone at 45 GB/h when the first seven finish.
        let r = rates();
        let mut pool = Restores::new(r);
        for i in 0..8 {
            pool.start(SimTime::ZERO, DatabaseId(i), 90 * GB, 0);
        }
        assert_eq!(pool.queued(), 1);
        assert!(pool.is_reading(DatabaseId(7)), "queued counts as restoring");
        let first = read_ms(90 * GB, r.total / 7);
        let (t, db) = pool.next_done().expect("running");
        assert_eq!((t, db), (SimTime::from_millis(first), DatabaseId(0)));
        let done: Vec<_> = pool.take_done(t).into_iter().map(|(d, _)| d).collect();
        assert_eq!(done, (0..7).map(DatabaseId).collect::<Vec<_>>());
        assert_eq!(pool.queued(), 0);
        let (t8, db8) = pool.next_done().expect("the eighth reads");
        assert_eq!(db8, DatabaseId(7));
        assert_eq!(t8, SimTime::from_millis(first + read_ms(90 * GB, r.stream)));
        // 2.1 h for the seven, then 2 h alone.
        assert!((t8.as_millis() as f64 / 3_600_000.0 - 4.1).abs() < 1e-3);
    }

    #[test]
    fn queued_restores_take_streams_first_started_first() {
        // One stream: 90 GB (2 h), then 45 GB (1 h), then 9 GB (12 min), in the order
        // they were started, whatever their sizes.
        let one = RestoreRates {
            streams: 1,
            ..rates()
        };
        let at = finish_hours(one, &[90, 45, 9]);
        assert!((at[0] - 2.0).abs() < 1e-3, "{at:?}");
        assert!((at[1] - 3.0).abs() < 1e-3, "{at:?}");
        assert!((at[2] - 3.2).abs() < 1e-3, "{at:?}");
    }

    #[test]
    fn a_restarted_queued_restore_goes_to_the_back_of_the_queue() {
        let one = RestoreRates {
            streams: 1,
            ..rates()
        };
        let mut pool = Restores::new(one);
        for i in 0..3 {
            pool.start(SimTime::ZERO, DatabaseId(i), 45 * GB, 0);
        }
        pool.start(SimTime::ZERO, DatabaseId(1), 45 * GB, 0);
        assert_eq!(pool.queued(), 2);
        let mut order = Vec::new();
        while let Some((t, _)) = pool.next_done() {
            order.extend(pool.take_done(t).into_iter().map(|(d, _)| d.index()));
        }
        assert_eq!(order, vec![0, 2, 1]);
    }

    #[test]
    fn replay_takes_the_logs_over_the_replay_rate() {
        let r = rates();
        assert_eq!(r.replay_time(0), SimDuration::ZERO);
        // 3,600 logs of 1 MB at 10 MB/s: 6 minutes.
        assert_eq!(r.replay_time(3600), SimDuration::from_millis(360_000));
        assert_eq!(r.replay_time(7200), SimDuration::from_millis(720_000));
        let mut pool = Restores::new(r);
        pool.start(SimTime::ZERO, DatabaseId(0), GB, 3600);
        let (t, _) = pool.next_done().expect("running");
        let done = pool.take_done(t);
        assert_eq!(
            done,
            vec![(DatabaseId(0), SimDuration::from_millis(360_000))]
        );
        assert!(pool.next_done().is_none());
    }
}
