//! Active Manager: which copy to activate when the active one is lost.
//!
//! Rules (sources in docs/MODEL.md):
//!
//! - `am.candidates`: a copy is a candidate when its server is up, runs the cluster in a
//!   partition with quorum and may mount (DAC gate), the copy is healthy, not corrupt and
//!   not blocked from activation. Blocked copies need Move-ActiveMailboxDatabase with an
//!   explicit target.
//! - `am.order`: candidates are sorted by copy queue length, activation preference
//!   breaking ties; if any candidate's server uses Lossless, by activation preference.
//! - `am.acll`: before comparing with the dial, "attempt copy last logs" pulls the missing
//!   logs from the old active copy when its server is up and reachable.
//! - `am.mount_dial`: a candidate mounts automatically only if its remaining copy queue is
//!   at most the AutoDatabaseMountDial of its server: Lossless 0, GoodAvailability 6
//!   (default), BestAvailability 12 logs. Otherwise the next candidate is tried; if none
//!   qualifies the database stays down rather than lose more.
//! - `am.failover_time`: detection (heartbeat or store failure) plus a failover duration;
//!   both are parameters of the world, applied by whoever schedules the failover.

/// AutoDatabaseMountDial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MountDial {
    /// No automatic mount until every log is copied.
    Lossless,
    /// Up to 6 logs may be lost (default).
    #[default]
    GoodAvailability,
    /// Up to 12 logs may be lost.
    BestAvailability,
}

impl MountDial {
    /// Rule `am.mount_dial`: the largest copy queue that still mounts automatically.
    pub fn max_lost_logs(self) -> u64 {
        match self {
            MountDial::Lossless => 0,
            MountDial::GoodAvailability => 6,
            MountDial::BestAvailability => 12,
        }
    }
}

/// What Active Manager knows of one copy when it chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Index of the copy in its database.
    pub copy: usize,
    /// Passes rule `am.candidates`.
    pub eligible: bool,
    /// Its copy queue (logs it lacks).
    pub copy_queue: u64,
    /// Activation preference, 1 = most preferred.
    pub preference: u32,
    /// The mount dial of its server.
    pub dial: MountDial,
    /// Whether the old active copy's server is up and reachable from it (ACLL works).
    pub acll: bool,
}

/// Active Manager's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Mount this copy, losing this many logs.
    Mount {
        /// The copy.
        copy: usize,
        /// Logs it still lacks after ACLL (0 for a lossless mount).
        lost_logs: u64,
    },
    /// Candidates exist, but none is within its dial: the database stays down.
    NoneWithinDial,
    /// No copy can be activated at all.
    NoCandidate,
}

/// Rules `am.order`, `am.acll`, `am.mount_dial`: chooses the copy to mount.
pub fn choose(candidates: &[Candidate]) -> Choice {
    let mut eligible: Vec<&Candidate> = candidates.iter().filter(|c| c.eligible).collect();
    if eligible.is_empty() {
        return Choice::NoCandidate;
    }
    let any_lossless = eligible.iter().any(|c| c.dial == MountDial::Lossless);
    if any_lossless {
        eligible.sort_by_key(|c| (c.preference, c.copy));
    } else {
        eligible.sort_by_key(|c| (c.copy_queue, c.preference, c.copy));
    }
    for c in eligible {
        let remaining = if c.acll { 0 } else { c.copy_queue };
        if remaining <= c.dial.max_lost_logs() {
            return Choice::Mount {
                copy: c.copy,
                lost_logs: remaining,
            };
        }
    }
    Choice::NoneWithinDial
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(copy: usize, queue: u64, pref: u32, dial: MountDial) -> Candidate {
        Candidate {
            copy,
            eligible: true,
            copy_queue: queue,
            preference: pref,
            dial,
            acll: false,
        }
    }

    use MountDial::*;

    #[test]
    fn the_dial_thresholds_are_the_documented_ones() {
        assert_eq!(Lossless.max_lost_logs(), 0);
        assert_eq!(GoodAvailability.max_lost_logs(), 6);
        assert_eq!(BestAvailability.max_lost_logs(), 12);
        assert_eq!(MountDial::default(), GoodAvailability);
    }

    #[test]
    fn each_threshold_admits_exactly_its_queue() {
        for dial in [Lossless, GoodAvailability, BestAvailability] {
            let max = dial.max_lost_logs();
            assert_eq!(
                choose(&[cand(1, max, 2, dial)]),
                Choice::Mount {
                    copy: 1,
                    lost_logs: max
                }
            );
            assert_eq!(choose(&[cand(1, max + 1, 2, dial)]), Choice::NoneWithinDial);
        }
    }

    #[test]
    fn no_copy_within_the_dial_means_no_mount() {
        let c = [
            cand(1, 20, 2, GoodAvailability),
            cand(2, 9, 3, GoodAvailability),
        ];
        assert_eq!(choose(&c), Choice::NoneWithinDial);
        let mut blocked = cand(1, 0, 2, GoodAvailability);
        blocked.eligible = false;
        assert_eq!(choose(&[blocked]), Choice::NoCandidate);
    }

    #[test]
    fn shortest_copy_queue_wins_then_preference() {
        let c = [
            cand(1, 3, 2, GoodAvailability),
            cand(2, 1, 4, GoodAvailability),
            cand(3, 1, 3, GoodAvailability),
        ];
        assert_eq!(
            choose(&c),
            Choice::Mount {
                copy: 3,
                lost_logs: 1
            }
        );
    }

    #[test]
    fn lossless_anywhere_orders_by_preference() {
        let c = [cand(1, 5, 2, GoodAvailability), cand(2, 0, 3, Lossless)];
        // By preference copy 1 first; it is within its own dial (5 <= 6).
        assert_eq!(
            choose(&c),
            Choice::Mount {
                copy: 1,
                lost_logs: 5
            }
        );
    }

    #[test]
    fn acll_makes_a_behind_copy_lossless_when_the_old_active_is_reachable() {
        let mut c = cand(1, 40, 2, Lossless);
        assert_eq!(choose(&[c]), Choice::NoneWithinDial);
        c.acll = true;
        assert_eq!(
            choose(&[c]),
            Choice::Mount {
                copy: 1,
                lost_logs: 0
            }
        );
    }

    #[test]
    fn a_candidate_outside_its_dial_is_skipped_for_the_next() {
        let c = [
            cand(1, 8, 1, GoodAvailability),
            cand(2, 10, 2, BestAvailability),
        ];
        assert_eq!(
            choose(&c),
            Choice::Mount {
                copy: 2,
                lost_logs: 10
            }
        );
    }
}
