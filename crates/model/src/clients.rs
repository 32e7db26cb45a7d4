//! Client populations as cohorts of counts.
//!
//! A cohort is the users of one mailbox group (the mailboxes of one original database)
//! using one client kind. No user is an object: a cohort is split into a fixed number of
//! *phase buckets*, each a count of users who share a DNS cache phase and a retry phase
//! (drawn once from the "clients" stream), and each bucket into those who honour DNS TTLs
//! and those pinned to the answer they got at start-up. Memory is proportional to cohorts
//! × buckets, never to users.
//!
//! Rules (sources in docs/MODEL.md):
//!
//! - `clients.retry`: a disconnected client retries every `retry` from its phase; it
//!   regains service at its first retry at or after the moment every condition holds.
//! - `clients.autodiscover`: Outlook with Autodiscover, web and mobile clients find a
//!   moved mailbox at their first connection attempt after the move (a failed connection
//!   runs Autodiscover; web and mobile are redirected by the server).
//! - `clients.profile`: Outlook without Autodiscover reaches its mailbox only when its
//!   profile names the mailbox's current server; the helpdesk reconfigures profiles one
//!   user at a time at a rate.
//! - `clients.cached_mode`: cached-mode Outlook can read its offline copy while its
//!   mailbox is unavailable or replaced by a dial tone database; it cannot send.
//! - `clients.cached_choice`: offered a dial tone mailbox, a cached-mode user either
//!   works online in it (send and receive, no history) or offline in the old copy (no
//!   send or receive); a share works online. Each user-minute is counted once.
//! - `clients.pinned`: pinned clients refresh DNS only when they restart, every
//!   `restart_period` from their phase.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use dialtone_engine::{SimDuration, SimTime};

use crate::ids::{CohortId, ServerId};

/// What a cohort's users run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKind {
    /// Outlook.
    Outlook {
        /// Uses Autodiscover (Outlook 2007 and later).
        autodiscover: bool,
        /// Cached Exchange mode (keeps an offline copy).
        cached_mode: bool,
    },
    /// Outlook on the web.
    Web,
    /// Exchange ActiveSync devices.
    Mobile,
}

impl ClientKind {
    /// Rule `clients.autodiscover`: does this kind follow a moved mailbox by itself?
    pub fn follows_moves(self) -> bool {
        match self {
            ClientKind::Outlook { autodiscover, .. } => autodiscover,
            ClientKind::Web | ClientKind::Mobile => true,
        }
    }

    /// Rule `clients.cached_mode`.
    pub fn has_offline_copy(self) -> bool {
        matches!(
            self,
            ClientKind::Outlook {
                cached_mode: true,
                ..
            }
        )
    }

    /// A short stable name for reports.
    pub fn label(self) -> &'static str {
        match self {
            ClientKind::Outlook {
                autodiscover: true,
                cached_mode: true,
            } => "outlook-cached",
            ClientKind::Outlook {
                autodiscover: true,
                cached_mode: false,
            } => "outlook-online",
            ClientKind::Outlook {
                autodiscover: false,
                ..
            } => "outlook-no-autodiscover",
            ClientKind::Web => "web",
            ClientKind::Mobile => "mobile",
        }
    }
}

/// Rule `clients.retry`: the first time at or after `from` at which a client retrying
/// every `period` from `phase` tries again.
pub fn next_tick(from: SimTime, period: SimDuration, phase: SimDuration) -> SimTime {
    let p = period.as_millis().max(1);
    let phase = phase.as_millis() % p;
    let f = from.as_millis();
    if f <= phase {
        return SimTime::from_millis(phase);
    }
    let k = (f - phase).div_ceil(p);
    SimTime::from_millis(phase.saturating_add(k.saturating_mul(p)))
}

/// Parts per million: the unit of [`user_states`]' share.
pub const PPM: u64 = 1_000_000;

/// Rules `clients.cached_mode` and `clients.cached_choice`: of a cohort's `users`, of
/// whom `connected` could send and receive and `with_history` of those see their
/// history, how many are `[without send/receive, online without history, reading the
/// offline copy]`. Cached-mode users who could connect but lack their history choose:
/// `online_ppm` parts per million work online in the (dial tone) mailbox, the others
/// work offline in the old copy and so cannot send or receive; cached-mode users who
/// cannot connect read the old copy. A user reading offline is always also without
/// send/receive: the two are never both credited. Kinds without an offline copy have no
/// history while disconnected.
pub fn user_states(
    kind: ClientKind,
    users: u64,
    connected: u64,
    with_history: u64,
    online_ppm: u32,
) -> [u64; 3] {
    let disconnected = users - connected;
    let without_history = connected - with_history;
    if !kind.has_offline_copy() {
        return [disconnected, disconnected + without_history, 0];
    }
    let online = u64::from(online_ppm).min(PPM);
    let offline_choosers =
        (u128::from(without_history) * u128::from(PPM - online) / u128::from(PPM)) as u64;
    [
        disconnected + offline_choosers,
        without_history - offline_choosers,
        disconnected + offline_choosers,
    ]
}

/// One phase bucket of a cohort: users who behave alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The cohort it belongs to.
    pub cohort: CohortId,
    /// Users in it.
    pub users: u64,
    /// Refreshes DNS only at restart.
    pub pinned: bool,
    /// Phase of its DNS cache (or restart) cycle.
    pub dns_phase: SimDuration,
    /// Phase of its retry cycle.
    pub retry_phase: SimDuration,
    /// Users who can send and receive now.
    pub connected: u64,
    /// The server its (non-Autodiscover) profile names, per user count:
    /// `profiles[i] = (server, users)`. Autodiscover kinds keep it empty.
    pub profiles: Vec<(ServerId, u64)>,
    /// When the current mailbox location became known to it (Autodiscover kinds), or
    /// `None` if it does not know it yet.
    pub knows_location: bool,
}

impl Bucket {
    /// Users whose profile names `server`.
    pub fn profiled_for(&self, server: ServerId) -> u64 {
        self.profiles
            .iter()
            .filter(|(s, _)| *s == server)
            .map(|(_, n)| n)
            .sum()
    }

    /// Rule `clients.profile`: moves `n` users' profiles to `server` (taking them from
    /// other servers in list order). Returns how many moved.
    pub fn reprofile(&mut self, server: ServerId, n: u64) -> u64 {
        let mut left = n;
        for entry in self.profiles.iter_mut() {
            if entry.0 == server || left == 0 {
                continue;
            }
            let take = left.min(entry.1);
            entry.1 -= take;
            left -= take;
        }
        let moved = n - left;
        match self.profiles.iter_mut().find(|(s, _)| *s == server) {
            Some(e) => e.1 += moved,
            None => self.profiles.push((server, moved)),
        }
        self.profiles.retain(|(_, n)| *n > 0);
        moved
    }
}

/// Which client buckets and cohorts a refresh of the clients must visit (issue 14): the
/// buckets and cohorts of each mailbox group, and the *loud* buckets: those whose last
/// evaluation changed something or that something changed since (a retry, the helpdesk,
/// a move). A quiet bucket of a group whose inputs did not change is skipped; a loud one
/// is always evaluated. The loud list holds each bucket at most once. A *waiting* bucket
/// (rule `perf.clients_waiting`) is one whose last evaluation changed nothing but left a
/// wake pending at a time `W`: it is skipped like a quiet one at refreshes before `W`.
#[derive(Debug, Clone, Default)]
pub struct RefreshIndex {
    quiet: Vec<bool>,
    loud: Vec<u32>,
    /// Per bucket: it is waiting until this time (and listed in `waiting`).
    waits: Vec<Option<SimTime>>,
    /// Waiting buckets by their times, earliest first; an entry whose bucket no longer
    /// waits until its time is dropped when met (rule `perf.clients_dns_due`: a refresh
    /// costs the buckets due, not the buckets waiting).
    waiting: BinaryHeap<Reverse<(SimTime, u32)>>,
    group_buckets: Vec<Vec<u32>>,
    group_cohorts: Vec<Vec<u32>>,
}

impl RefreshIndex {
    /// The index of `groups` groups, given the group of each bucket and of each cohort
    /// (in their order); every bucket starts loud.
    pub fn new(
        groups: usize,
        bucket_groups: impl IntoIterator<Item = usize>,
        cohort_groups: impl IntoIterator<Item = usize>,
    ) -> Self {
        let mut group_buckets = vec![Vec::new(); groups];
        let mut loud = Vec::new();
        for (b, g) in bucket_groups.into_iter().enumerate() {
            group_buckets[g].push(b as u32);
            loud.push(b as u32);
        }
        let mut group_cohorts = vec![Vec::new(); groups];
        for (c, g) in cohort_groups.into_iter().enumerate() {
            group_cohorts[g].push(c as u32);
        }
        RefreshIndex {
            quiet: vec![false; loud.len()],
            waits: vec![None; loud.len()],
            waiting: BinaryHeap::new(),
            loud,
            group_buckets,
            group_cohorts,
        }
    }

    /// Whether bucket `b`'s last evaluation at a refresh changed nothing and nothing
    /// changed it since.
    pub fn is_quiet(&self, b: usize) -> bool {
        self.quiet[b]
    }

    /// The time bucket `b` waits until, if it waits (skipped by refreshes before then).
    pub fn waits(&self, b: usize) -> Option<SimTime> {
        self.waits[b]
    }

    /// Something changed bucket `b`: the next refresh evaluates it.
    pub fn unquiet(&mut self, b: usize) {
        let waited = self.waits[b].take().is_some();
        if std::mem::replace(&mut self.quiet[b], false) || waited {
            self.loud.push(b as u32);
        }
    }

    /// Takes the waiting buckets whose time has come (`now` or earlier) and appends
    /// them to `visit`; the caller evaluates each and records it.
    pub fn take_due(&mut self, now: SimTime, visit: &mut Vec<u32>) {
        while let Some(&Reverse((w, b))) = self.waiting.peek() {
            if w <= now {
                self.waiting.pop();
                if self.waits[b as usize] == Some(w) {
                    self.waits[b as usize] = None;
                    visit.push(b);
                }
            } else {
                break;
            }
        }
    }

    /// Takes the loud buckets (in no particular order); the caller evaluates each and
    /// records it with [`RefreshIndex::evaluated`].
    pub fn take_loud(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.loud)
    }

    /// Bucket `b` was evaluated at a refresh (and is not in the loud list): `quiet` when
    /// that changed nothing.
    pub fn evaluated(&mut self, b: usize, quiet: bool) {
        self.quiet[b] = quiet;
        self.waits[b] = None;
        if !quiet {
            self.loud.push(b as u32);
        }
    }

    /// Bucket `b` was evaluated at a refresh (and is not in the loud list): that changed
    /// nothing but left its wake pending at `until`, so it waits until then.
    pub fn evaluated_waiting(&mut self, b: usize, until: SimTime) {
        self.quiet[b] = false;
        if self.waits[b] != Some(until) {
            self.waits[b] = Some(until);
            self.waiting.push(Reverse((until, b as u32)));
        }
    }

    /// The buckets of group `g`, in index order.
    pub fn group_buckets(&self, g: usize) -> &[u32] {
        &self.group_buckets[g]
    }

    /// The cohorts of group `g`, in index order.
    pub fn group_cohorts(&self, g: usize) -> &[u32] {
        &self.group_cohorts[g]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> SimDuration {
        SimDuration::from_millis(x)
    }

    #[test]
    fn retries_land_on_the_phase_grid() {
        let t = SimTime::from_millis;
        assert_eq!(next_tick(t(0), ms(60), ms(10)), t(10));
        assert_eq!(next_tick(t(10), ms(60), ms(10)), t(10), "at a tick counts");
        assert_eq!(next_tick(t(11), ms(60), ms(10)), t(70));
        assert_eq!(
            next_tick(t(1000), ms(60), ms(70)),
            t(1030),
            "phase taken mod period"
        );
    }

    #[test]
    fn kinds_differ_in_what_they_follow_and_keep() {
        let ad = ClientKind::Outlook {
            autodiscover: true,
            cached_mode: true,
        };
        let old = ClientKind::Outlook {
            autodiscover: false,
            cached_mode: true,
        };
        assert!(ad.follows_moves() && !old.follows_moves());
        assert!(ClientKind::Web.follows_moves() && ClientKind::Mobile.follows_moves());
        assert!(ad.has_offline_copy() && !ClientKind::Web.has_offline_copy());
    }

    const CACHED: ClientKind = ClientKind::Outlook {
        autodiscover: true,
        cached_mode: true,
    };

    #[test]
    fn a_cached_user_works_either_online_or_offline_never_both() {
        // 100 users: 10 cannot connect, 90 could, 30 of those see their history.
        let all_online = user_states(CACHED, 100, 90, 30, 1_000_000);
        assert_eq!(
            all_online,
            [10, 60, 10],
            "the 60 work in the dial tone mailbox"
        );
        let all_offline = user_states(CACHED, 100, 90, 30, 0);
        assert_eq!(
            all_offline,
            [70, 0, 70],
            "the 60 read the old copy, not sending"
        );
        let quarter = user_states(CACHED, 100, 90, 30, 250_000);
        assert_eq!(quarter, [55, 15, 55], "15 of 60 online, 45 offline");
        for ppm in [0, 1, 333_333, 999_999, 1_000_000, u32::MAX] {
            let [svc, hist, off] = user_states(CACHED, 100, 90, 30, ppm);
            assert!(off <= svc, "an offline reader is never in service ({ppm})");
            assert_eq!(
                30 + hist + off,
                100,
                "every user in one history state ({ppm})"
            );
        }
        assert_eq!(
            user_states(ClientKind::Web, 100, 90, 30, 0),
            [10, 70, 0],
            "no offline copy, no choice"
        );
    }

    #[test]
    fn reprofiling_moves_users_between_servers() {
        let mut b = Bucket {
            cohort: CohortId(0),
            users: 10,
            pinned: false,
            dns_phase: ms(0),
            retry_phase: ms(0),
            connected: 10,
            profiles: vec![(ServerId(1), 10)],
            knows_location: true,
        };
        assert_eq!(b.reprofile(ServerId(2), 4), 4);
        assert_eq!(b.profiled_for(ServerId(2)), 4);
        assert_eq!(b.profiled_for(ServerId(1)), 6);
        assert_eq!(b.reprofile(ServerId(2), 100), 6, "no more than there are");
        assert_eq!(b.profiles, vec![(ServerId(2), 10)]);
    }

    #[test]
    fn a_bucket_is_loud_once_until_it_is_evaluated_quiet() {
        // Buckets 0 and 2 in group 1, bucket 1 in group 0; cohorts 0 (group 1), 1 (group 0).
        let mut ix = RefreshIndex::new(2, [1, 0, 1], [1, 0]);
        assert_eq!(ix.group_buckets(1), &[0, 2]);
        assert_eq!(ix.group_cohorts(0), &[1]);
        let mut loud = ix.take_loud();
        loud.sort_unstable();
        assert_eq!(loud, vec![0, 1, 2], "every bucket starts loud");
        ix.evaluated(0, true);
        ix.evaluated(1, false);
        ix.evaluated(2, true);
        assert!(ix.is_quiet(0) && !ix.is_quiet(1));
        ix.unquiet(0);
        ix.unquiet(0);
        ix.unquiet(1);
        let mut loud = ix.take_loud();
        loud.sort_unstable();
        assert_eq!(
            loud,
            vec![0, 1],
            "once each; the quiet bucket 2 is not listed"
        );
        assert!(!ix.is_quiet(0));
    }

    #[test]
    fn a_waiting_bucket_is_due_at_its_time_or_when_touched() {
        let t = SimTime::from_millis;
        let mut ix = RefreshIndex::new(1, [0, 0, 0], [0]);
        let _ = ix.take_loud();
        ix.evaluated_waiting(0, t(100));
        ix.evaluated_waiting(1, t(200));
        ix.evaluated_waiting(1, t(200));
        ix.evaluated_waiting(2, t(300));
        assert!(!ix.is_quiet(0), "a waiting bucket is not quiet");
        let mut due = Vec::new();
        ix.take_due(t(99), &mut due);
        assert!(due.is_empty(), "not before its time");
        ix.take_due(t(100), &mut due);
        assert_eq!(due, vec![0], "at its time");
        ix.unquiet(2);
        assert_eq!(ix.take_loud(), vec![2], "touched: loud at once");
        let mut due = Vec::new();
        ix.take_due(t(1_000), &mut due);
        assert_eq!(
            due,
            vec![1],
            "once, and the touched one is no longer waiting"
        );
    }
}
