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
//! - `clients.pinned`: pinned clients refresh DNS only when they restart, every
//!   `restart_period` from their phase.

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
}
