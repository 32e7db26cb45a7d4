//! Mailbox groups ([`Home`]): where each group's mailboxes point and are served, and how
//! far its recovery (restore, swap, merge, resynchronisation) has come.

use dialtone_engine::SimTime;

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

/// Rule `metrics.rto`: one mailbox group's outage, the same for every strategy. `down`
/// is when the group first stopped being served; `service_back` when it last regained
/// send/receive (in any database, a dial tone one included), not counting the planned
/// outage of a swap (a recovery step, whose minutes the user-minute integrals count);
/// `data_back` when its original data was last served again: its current database
/// served with every user's history and no dial tone mail left to merge (for dial tone:
/// after the swap and the merge). Losing either clears its "back" (a swap clears only
/// `data_back`), so a group down at the end never came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupOutage {
    /// First loss of service (or of the original data).
    pub down: Option<SimTime>,
    /// Last return of send/receive (a swap's outage aside).
    pub service_back: Option<SimTime>,
    /// Last return of the original data.
    pub data_back: Option<SimTime>,
    served: bool,
    whole: bool,
    swap_pause: bool,
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
        }
    }
}

impl GroupOutage {
    /// Whether the group is served now.
    pub fn served(&self) -> bool {
        self.served
    }

    /// Records the group's state at `now`: `served` (its mailboxes can be served),
    /// `whole` (served with its original data complete) and `swapping` (unserved only
    /// for a swap).
    pub fn observe(&mut self, now: SimTime, served: bool, whole: bool, swapping: bool) {
        let whole = whole && served;
        if (self.served && !served) || (self.whole && !whole) {
            self.down.get_or_insert(now);
        }
        if self.served && !served {
            self.swap_pause = swapping;
            if !swapping {
                self.service_back = None;
            }
        }
        if self.whole && !whole {
            self.data_back = None;
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
    /// Rule `metrics.rto`: records every group's outage state (call after any change).
    pub(super) fn track_group_outages(&mut self, now: SimTime) {
        for h in 0..self.homes.len() {
            let id = HomeId::from(h);
            let home = &self.homes[h];
            let swapping = home.swapping;
            let served = self.home_served(id) && !swapping;
            let whole = home.history_ready == home.users && self.merge_finished(id);
            self.group_outages[h].observe(now, served, whole, swapping);
        }
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
    fn a_group_down_again_at_the_end_never_came_back() {
        let mut o = GroupOutage::default();
        o.observe(t(0), true, true, false);
        o.observe(t(10), false, false, false);
        o.observe(t(40), true, true, false);
        o.observe(t(50), false, false, false);
        o.observe(t(90), true, false, false);
        assert_eq!(o.down, Some(t(10)));
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
