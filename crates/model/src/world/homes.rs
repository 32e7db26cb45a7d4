//! Mailbox groups ([`Home`]): where each group's mailboxes point and are served, and how
//! far its recovery (restore, swap, merge, resynchronisation) has come.

use std::ops::{Index, IndexMut};

use dialtone_engine::SimTime;

use super::changes::Marks;
use super::{World, WorldConfig};
use crate::database::DbState;
use crate::ids::{DatabaseId, HomeId, ServerId};

/// A mailbox group: the users whose mailboxes were on one original database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    /// The database they were on at the start.
    pub original: DatabaseId,
    /// The database their mailboxes point to now (Set-Mailbox -Database).
    pub current: DatabaseId,
    /// Users (= mailboxes).
    pub users: u64,
    /// Users whose pre-failure items are in `current`.
    pub history_ready: u64,
    /// Messages delivered into a dial tone database that are not yet merged back.
    pub dial_tone_messages: u64,
    /// Recovery database holding this group's restored data or its swapped-out dial tone
    /// data.
    pub recovery: Option<DatabaseId>,
    /// Whether the recovery database holds the dial tone data (after a swap), so a merge
    /// brings new mail in rather than history.
    pub recovery_holds_dial_tone: bool,
    /// Mailboxes merged so far by a running merge.
    pub merged: u64,
    /// A merge is running.
    pub merging: bool,
    /// Both databases are dismounted for a swap.
    pub swapping: bool,
}

impl Home {
    /// One group per original database, with the users of its cohorts, at time zero:
    /// on their original database, with their history, nothing to recover.
    pub(super) fn at_start(config: &WorldConfig) -> Vec<Home> {
        let mut users = vec![0u64; config.databases.len()];
        for c in &config.cohorts {
            users[c.home.index()] += c.users;
        }
        (0..users.len())
            .map(|i| Home {
                original: DatabaseId::from(i),
                current: DatabaseId::from(i),
                users: users[i],
                history_ready: users[i],
                dial_tone_messages: 0,
                recovery: None,
                recovery_holds_dial_tone: false,
                merged: 0,
                merging: false,
                swapping: false,
            })
            .collect()
    }
}

/// The mailbox groups, indexed like a slice. Every mutable access to a group marks it
/// for the next refresh (rule `perf.refresh_changes`), so no change to a group can
/// escape it.
#[derive(Debug)]
pub(crate) struct Homes {
    v: Vec<Home>,
    touched: Marks,
}

impl Homes {
    /// The groups, every one marked (no refresh has seen them).
    pub(crate) fn new(v: Vec<Home>) -> Self {
        let touched = Marks::all(v.len());
        Homes { v, touched }
    }

    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Home> {
        self.v.iter()
    }

    pub(crate) fn as_slice(&self) -> &[Home] {
        &self.v
    }

    /// Group `h`, if it exists.
    pub(crate) fn get(&self, h: usize) -> Option<&Home> {
        self.v.get(h)
    }

    /// Takes the groups accessed mutably since the last call into `out`, in no
    /// particular order.
    pub(crate) fn take_touched(&mut self, out: &mut Vec<u32>) {
        self.touched.take(out);
    }
}

impl Index<usize> for Homes {
    type Output = Home;
    fn index(&self, h: usize) -> &Home {
        &self.v[h]
    }
}

impl IndexMut<usize> for Homes {
    fn index_mut(&mut self, h: usize) -> &mut Home {
        self.touched.mark(h);
        &mut self.v[h]
    }
}

impl<'a> IntoIterator for &'a Homes {
    type Item = &'a Home;
    type IntoIter = std::slice::Iter<'a, Home>;
    fn into_iter(self) -> Self::IntoIter {
        self.v.iter()
    }
}

/// Rule `metrics.rto`: one mailbox group's outage, the same for every strategy, per
/// incident. `down` is when the group last stopped being served with its data after it
/// had been whole (the incident's start: a loss of a fully recovered group that is not
/// planned); `service_back` when it then last regained send/receive (in any database, a
/// dial tone one included), not counting the planned outage of a swap; `data_back` when
/// its original data was then last served again: its current database served with every
/// user's history and no dial tone mail left to merge (for dial tone: after the swap and
/// the merge). Losing either during the incident clears its "back" (a swap clears only
/// `data_back`), so a group down at the end never came back. A planned outage of a
/// recovered group (an administrator's dismount, as in a scheduled switchback) is no
/// incident: it changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupOutage {
    /// Start of the last incident.
    pub down: Option<SimTime>,
    /// Last return of send/receive in it (a swap's outage aside).
    pub service_back: Option<SimTime>,
    /// Last return of the original data in it.
    pub data_back: Option<SimTime>,
    served: bool,
    whole: bool,
    swap_pause: bool,
    /// In a planned outage of a recovered group.
    planned_pause: bool,
    /// The longest incident that ended before the current one: (down, service back,
    /// data back).
    longest: Option<(SimTime, SimTime, SimTime)>,
}

impl Default for GroupOutage {
    /// At the start every group is served with its data (as `Home::at_start` makes them).
    fn default() -> Self {
        GroupOutage {
            down: None,
            service_back: None,
            data_back: None,
            served: true,
            whole: true,
            swap_pause: false,
            planned_pause: false,
            longest: None,
        }
    }
}

impl GroupOutage {
    /// The incident an RTO reports: the current one if it has not ended (down at the end:
    /// never back), else the longest (rule `metrics.rto`: one brief failover does not
    /// hide a long outage, and an administrator's 6-second move does not either).
    pub fn reported(&self) -> GroupOutage {
        let current_ended = self.data_back.is_some() || self.down.is_none();
        match self.longest {
            Some((d, sb, b))
                if current_ended
                    && self
                        .down
                        .zip(self.data_back)
                        .is_none_or(|(cd, cb)| b - d > cb - cd) =>
            {
                GroupOutage {
                    down: Some(d),
                    service_back: Some(sb),
                    data_back: Some(b),
                    ..*self
                }
            }
            _ => *self,
        }
    }

    /// Whether the group is served now.
    pub fn served(&self) -> bool {
        self.served
    }

    /// Whether [`GroupOutage::observe`] with `served` and `whole` would change nothing
    /// (whatever the time and `planned`): they are what it last observed.
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    pub(crate) fn observed(&self, served: bool, whole: bool) -> bool {
        self.served == served && self.whole == (whole && served)
    }

    /// Records the group's state at `now`: `served` (its mailboxes can be served),
    /// `whole` (served with its original data complete) and `planned` (unserved only for
    /// a swap or an administrator's dismount).
    pub fn observe(&mut self, now: SimTime, served: bool, whole: bool, planned: bool) {
        let whole = whole && served;
        if self.served && self.whole && !whole {
            if planned {
                self.planned_pause = true;
            } else {
                // A new incident; the one before it, if it ended, may be the longest.
                if let (Some(d), Some(b)) = (self.down, self.data_back) {
                    let service = self.service_back.unwrap_or(d);
                    if self.longest.is_none_or(|(ld, _, lb)| b - d >= lb - ld) {
                        self.longest = Some((d, service, b));
                    }
                }
                self.down = Some(now);
                self.service_back = None;
                self.data_back = None;
            }
        }
        if self.planned_pause {
            self.planned_pause = !whole;
            (self.served, self.whole) = (served, whole);
            return;
        }
        if self.served && !served {
            self.swap_pause = planned;
            if !planned {
                self.service_back = None;
            }
        }
        if !self.served && served && !(self.swap_pause && self.service_back.is_some()) {
            self.service_back = Some(now);
        }
        if !self.whole && whole {
            self.data_back = Some(now);
        }
        (self.served, self.whole) = (served, whole);
    }
}

impl World {
    /// Rule `metrics.rto`: records the outage state of the groups in `groups` (call after
    /// any change, with every group whose state may have changed: observing a group
    /// whose served and whole flags did not change changes nothing, rule
    /// `perf.refresh_changes`).
    pub(super) fn track_group_outages(&mut self, now: SimTime, groups: &[u32]) {
        for &h in groups {
            let h = h as usize;
            let (served, whole, planned) = self.group_state(h);
            self.group_outages[h].observe(now, served, whole, planned);
        }
    }

    /// Group `h` now: served (its mailboxes can be served), whole (with its original
    /// data complete) and planned (unserved only for a swap or an administrator's
    /// dismount).
    pub(super) fn group_state(&self, h: usize) -> (bool, bool, bool) {
        let id = HomeId::from(h);
        let home = &self.homes[h];
        let swapping = home.swapping;
        // An administrator's dismount (a scheduled switchback) is planned too.
        let planned = swapping || self.dbs[home.current.index()].state == DbState::Dismounted;
        let served = self.home_served(id) && !swapping;
        let whole = home.history_ready == home.users && self.merge_finished(id);
        (served, whole, planned)
    }

    /// Per mailbox group (in database order): its outage (rule `metrics.rto`).
    pub fn group_outages(&self) -> &[GroupOutage] {
        &self.group_outages
    }

    /// Which server serves the mailboxes of home `h` now, if any.
    pub(super) fn home_server(&self, h: HomeId) -> Option<ServerId> {
        self.serving[self.homes[h.index()].current.index()]
    }

    /// Whether group `h`'s mailboxes are served now.
    pub fn home_served(&self, h: HomeId) -> bool {
        self.home_server(h).is_some()
    }

    /// Whether a restore for group `h` has finished (its recovery database, or its
    /// original restored in place, is mounted or ready to mount).
    pub fn restore_finished(&self, h: HomeId) -> bool {
        let home = &self.homes[h.index()];
        let rdb_ready = home
            .recovery
            .is_some_and(|d| self.dbs[d.index()].state == DbState::Mounted);
        let in_place = self.restoring_in_place.get(h.index()).copied() == Some(false)
            && self
                .restored
                .get(home.original.index())
                .copied()
                .unwrap_or(false);
        rdb_ready || in_place
    }

    /// Whether group `h` has no merge running and nothing left to merge.
    pub fn merge_finished(&self, h: HomeId) -> bool {
        let home = &self.homes[h.index()];
        !home.merging && (home.dial_tone_messages == 0 || !home.recovery_holds_dial_tone)
    }

    /// Whether every passive copy of group `h`'s original database is healthy and
    /// resynchronised: its copy and replay queues under the thresholds of rule
    /// `db.healthy` (10 and 50 logs).
    pub fn copies_healthy(&self, h: HomeId) -> bool {
        let db = &self.dbs[self.homes[h.index()].original.index()];
        (0..db.copies.len()).all(|i| i == db.active || db.copy_healthy(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Rule `perf.refresh_changes`: a refresh observes only the groups that may have
        /// changed, which is exact because observing a group's served and whole flags
        /// again, at any later time and however planned, changes nothing.
        #[test]
        fn observing_the_same_flags_again_changes_nothing(
            steps in proptest::collection::vec((any::<bool>(), any::<bool>(), any::<bool>()), 1..40),
            planned_again in any::<bool>(),
        ) {
            let mut o = GroupOutage::default();
            for (i, &(served, whole, planned)) in steps.iter().enumerate() {
                o.observe(t(i as u64 * 10), served, whole, planned);
                prop_assert!(o.observed(served, whole));
                let before = o;
                o.observe(t(i as u64 * 10 + 5), served, whole, planned_again);
                prop_assert_eq!(o, before);
                prop_assert!(!o.observed(!served, whole) && (!served || !o.observed(served, !whole)));
            }
        }
    }

    fn t(s: u64) -> SimTime {
        SimTime::from_millis(s * 1000)
    }

    #[test]
    fn a_group_is_back_when_its_original_data_is_served_again() {
        let mut o = GroupOutage::default();
        o.observe(t(0), true, true, false);
        assert_eq!(o, GroupOutage::default(), "no outage yet");
        o.observe(t(100), false, true, false);
        // Dial tone: send/receive back without the original data; then the swap's own
        // outage; then the merge completes.
        o.observe(t(400), true, false, false);
        o.observe(t(900), false, false, true);
        o.observe(t(1000), true, false, false);
        assert_eq!(o.data_back, None, "not whole before the merge");
        o.observe(t(1500), true, true, false);
        assert_eq!(o.down, Some(t(100)), "the first loss");
        assert_eq!(
            o.service_back,
            Some(t(400)),
            "the swap is a step, not an outage"
        );
        assert_eq!(o.data_back, Some(t(1500)), "after swap and merge");
    }

    #[test]
    fn each_incident_has_its_own_rto_and_a_planned_dismount_is_none() {
        // Architect review of issue 12: an early 30 s failover does not stretch a later
        // incident's RTO, and a scheduled switchback's dismount is no incident.
        let mut o = GroupOutage::default();
        o.observe(t(100), false, false, false);
        o.observe(t(130), true, true, false);
        o.observe(t(1000), false, false, false);
        o.observe(t(5000), true, true, false);
        assert_eq!((o.down, o.data_back), (Some(t(1000)), Some(t(5000))));
        o.observe(t(9000), false, false, true);
        o.observe(t(9800), true, true, false);
        assert_eq!(
            (o.down, o.service_back, o.data_back),
            (Some(t(1000)), Some(t(5000)), Some(t(5000))),
            "the planned outage changes nothing"
        );
        // A later 6-second incident: the RTO reports the longest one.
        o.observe(t(10_000), false, false, false);
        o.observe(t(10_006), true, true, false);
        assert_eq!(o.down, Some(t(10_000)));
        let r = o.reported();
        assert_eq!((r.down, r.data_back), (Some(t(1000)), Some(t(5000))));
        // Down at the end: the current incident, never back.
        o.observe(t(20_000), false, false, false);
        assert_eq!(o.reported().data_back, None);
    }

    #[test]
    fn a_group_down_again_at_the_end_never_came_back() {
        let mut o = GroupOutage::default();
        o.observe(t(0), true, true, false);
        o.observe(t(10), false, false, false);
        o.observe(t(40), true, true, false);
        o.observe(t(50), false, false, false);
        o.observe(t(90), true, false, false);
        assert_eq!(
            o.down,
            Some(t(50)),
            "whole at 40 s: the loss at 50 s is a new incident"
        );
        assert_eq!(o.data_back, None, "its data never returned after 50 s");
        assert_eq!(
            o.service_back,
            Some(t(90)),
            "the last return, not the 40 s failover"
        );
        o.observe(t(95), false, false, false);
        assert_eq!(o.service_back, None, "down at the end: never back");
        let mut served_without_data = GroupOutage::default();
        served_without_data.observe(t(0), true, true, false);
        served_without_data.observe(t(5), true, false, false);
        assert_eq!(
            served_without_data.down,
            Some(t(5)),
            "losing the data is an outage"
        );
        assert_eq!(served_without_data.service_back, None, "service never left");
    }
}
