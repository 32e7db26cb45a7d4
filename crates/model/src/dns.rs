//! DNS records with TTLs and the caches in front of them.
//!
//! Rules (sources in docs/MODEL.md):
//!
//! - `dns.propagation`: an administrator's change reaches the authoritative server after a
//!   propagation delay.
//! - `dns.ttl_cap`: a Windows resolver caches at most 1 day whatever the TTL says.
//! - `dns.uniform_phase`: each cache refreshes back to back every TTL from its own phase
//!   φ ∈ [0, TTL); after the authoritative change at time A it keeps the old answer until
//!   its first refresh at or after A: stale for (φ − A) mod TTL. With φ uniform, the stale
//!   time is U(0, TTL): mean TTL/2, never more than TTL (validation.md Case 11a).
//! - `dns.pinned`: a share of clients resolve only at start-up and keep the old answer
//!   until they restart, whatever the TTL.

use dialtone_engine::{SimDuration, SimTime};

/// The longest a Windows DNS client caches an answer (MaxCacheTtl, 1 day).
pub const RESOLVER_TTL_CAP: SimDuration = SimDuration::from_millis(86_400_000);

/// Which name a record serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    /// The client access namespace (Outlook Anywhere, web, mobile).
    ClientAccess,
    /// Autodiscover.
    Autodiscover,
    /// MX for inbound mail.
    Mx,
    /// Unified messaging.
    UnifiedMessaging,
}

/// A DNS record: what it points to (a site index), and its history of changes as the
/// authoritative server sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What name this is.
    pub kind: RecordKind,
    /// Time to live.
    pub ttl: SimDuration,
    /// `(time the authoritative server answers it, target)`, ascending in time.
    changes: Vec<(SimTime, u32)>,
}

impl Record {
    /// A record pointing at `target` from the start.
    pub fn new(kind: RecordKind, ttl: SimDuration, target: u32) -> Self {
        Record {
            kind,
            ttl,
            changes: vec![(SimTime::ZERO, target)],
        }
    }

    /// Rule `dns.propagation`: an administrator changes the record at `at`; the
    /// authoritative server answers the new target from `at + propagation`. Changes must
    /// be made in time order.
    pub fn change(&mut self, at: SimTime, propagation: SimDuration, target: u32) -> SimTime {
        let effective = at.saturating_add(propagation);
        let effective = self
            .changes
            .last()
            .map_or(effective, |&(t, _)| effective.max(t));
        self.changes.push((effective, target));
        effective
    }

    /// What the authoritative server answers at `t`.
    pub fn authoritative(&self, t: SimTime) -> u32 {
        let i = self.changes.partition_point(|&(ct, _)| ct <= t);
        self.changes[i.saturating_sub(1)].1
    }

    /// Rule `dns.ttl_cap`: the TTL a Windows resolver applies.
    pub fn effective_ttl(&self) -> SimDuration {
        self.ttl.min(RESOLVER_TTL_CAP)
    }

    /// Rule `dns.uniform_phase`: what a cache with phase `phase` (in `[0, TTL)`) answers at
    /// `t`: the authoritative answer at its last refresh at or before `t`.
    pub fn cached(&self, t: SimTime, phase: SimDuration) -> u32 {
        self.cached_every(t, self.effective_ttl(), phase)
    }

    /// Like [`Record::cached`] for a cache that refreshes every `period` instead of every
    /// TTL (rule `dns.pinned`: clients that resolve only when they restart).
    pub fn cached_every(&self, t: SimTime, period: SimDuration, phase: SimDuration) -> u32 {
        let ttl = period.as_millis().max(1);
        let phase = phase.as_millis() % ttl;
        let t_ms = t.as_millis();
        let last_refresh = if t_ms < phase {
            // Before its first refresh the cache holds what it fetched at the start.
            0
        } else {
            phase + (t_ms - phase) / ttl * ttl
        };
        self.authoritative(SimTime::from_millis(last_refresh))
    }

    /// Rule `dns.uniform_phase`: the first time at or after `from` that a cache with
    /// `phase` refreshes.
    pub fn next_refresh(&self, from: SimTime, phase: SimDuration) -> SimTime {
        crate::clients::next_tick(from, self.effective_ttl(), phase)
    }

    /// The first time after `t` at which the authoritative answer changes (a change made
    /// but still propagating), if any.
    pub fn next_change(&self, t: SimTime) -> Option<SimTime> {
        let i = self.changes.partition_point(|&(ct, _)| ct <= t);
        self.changes.get(i).map(|&(ct, _)| ct)
    }

    /// How many values the record has had (its first included): a change adds one.
    pub fn change_count(&self) -> usize {
        self.changes.len()
    }

    /// The current target differs from what a cache refreshed at `t` would hold? Returns
    /// the time the last change became authoritative.
    pub fn last_change(&self) -> SimTime {
        self.changes.last().map_or(SimTime::ZERO, |&(t, _)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_engine::stats::Welford;
    use dialtone_engine::{RngStreams, StreamExt};
    use proptest::prelude::*;

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_millis(s * 1000)
    }

    #[test]
    fn propagation_delays_the_authoritative_answer() {
        let mut r = Record::new(RecordKind::ClientAccess, secs(300), 0);
        let eff = r.change(SimTime::from_millis(10_000), secs(60), 1);
        assert_eq!(eff, SimTime::from_millis(70_000));
        assert_eq!(r.authoritative(SimTime::from_millis(69_999)), 0);
        assert_eq!(r.authoritative(SimTime::from_millis(70_000)), 1);
        // While it propagates, the change is ahead; once authoritative, nothing is.
        assert_eq!(r.next_change(SimTime::from_millis(10_000)), Some(eff));
        assert_eq!(r.next_change(SimTime::from_millis(69_999)), Some(eff));
        assert_eq!(r.next_change(eff), None);
    }

    #[test]
    fn a_day_long_ttl_is_capped_at_one_day() {
        let r = Record::new(RecordKind::Mx, secs(7 * 86_400), 0);
        assert_eq!(r.effective_ttl(), RESOLVER_TTL_CAP);
    }

    #[test]
    fn mean_stale_time_is_half_the_ttl() {
        // validation.md Case 11a: T = 300 s, E = 150 s, max 300 s, P(stale > 240 s) = 0.2.
        // 40,000 changes at random times seen by caches with random phases; the SE of
        // the mean is sqrt(300^2/12 / 40000) = 0.43 s; pass within 3.29 SE.
        let mut rng = RngStreams::new(11, 0).stream("dns").expect("valid");
        let mut stale = Welford::new();
        let mut over_240 = 0u32;
        let n = 40_000;
        for _ in 0..n {
            let mut r = Record::new(RecordKind::ClientAccess, secs(300), 0);
            let at = SimTime::from_millis((rng.unit() * 86_400_000.0) as u64);
            let eff = r.change(at, SimDuration::ZERO, 1);
            let phase = SimDuration::from_millis((rng.unit() * 300_000.0) as u64);
            let seen = r.next_refresh(eff, phase);
            assert_eq!(r.cached(seen, phase), 1);
            let s = (seen - eff).as_secs_f64();
            assert!(s <= 300.0);
            over_240 += u32::from(s > 240.0);
            stale.push(s);
        }
        assert!(
            (stale.mean() - 150.0).abs() <= 3.29 * stale.std_error(),
            "mean {}",
            stale.mean()
        );
        let p = f64::from(over_240) / f64::from(n);
        assert!(
            (p - 0.2).abs() < 3.29 * (0.2f64 * 0.8 / f64::from(n)).sqrt(),
            "P(>240 s) = {p}"
        );
    }

    proptest! {
        #[test]
        fn a_cache_is_never_stale_longer_than_the_ttl(ttl_s in 1u64..100_000, at in 0u64..1u64 << 40, phase in any::<u64>()) {
            let mut r = Record::new(RecordKind::ClientAccess, secs(ttl_s), 0);
            let eff = r.change(SimTime::from_millis(at), SimDuration::ZERO, 1);
            let phase = SimDuration::from_millis(phase);
            let seen = r.next_refresh(eff, phase);
            prop_assert!(seen >= eff);
            prop_assert!(seen - eff <= r.effective_ttl());
            prop_assert_eq!(r.cached(seen, phase), 1);
            if seen > eff {
                prop_assert_eq!(r.cached(SimTime::from_millis(seen.as_millis() - 1), phase), 0);
            }
        }
    }
}
