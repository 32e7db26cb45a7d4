//! Mailbox groups ([`Home`]): where each group's mailboxes point and are served, and how
//! far its recovery (restore, swap, merge, resynchronisation) has come.

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

impl World {
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
