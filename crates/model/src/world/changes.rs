//! What changed since the last refresh (rule `perf.refresh_changes`): a refresh serves
//! only the databases and checks only the mailbox groups something changed, so it costs
//! in proportion to the changes, not to the number of databases and groups.
//!
//! Every mutable access to a database ([`super::dbs::Dbs`]) or a group
//! ([`super::homes::Homes`]) marks it; a refresh compares what it reads of each marked
//! one ([`DbKey`], [`HomeKey`]) with what it read at the last refresh. A database is
//! served again when its key changed, Active Manager's failover of it ran, it waits for
//! a retry and something changed since (rule `am.retry`), or a group pointing to it
//! changed; every database is served again when the serving tables or the members'
//! views changed (rule `perf.serve_tables`). A group is checked (its load, its clients'
//! inputs, its cohorts and its outage) when its key changed, its database's key, serving
//! or rogue serving changed, its server's capacity answer changed, or its cohorts were
//! updated with other values since. Debug builds check after every refresh that
//! serving or checking everything else would have changed nothing
//! ([`World::check_refresh_exact`]).

use super::World;
use super::serving::ServeTables;
use crate::database::{CopyHealth, Database, DbKind, DbState};
use crate::ids::{HomeId, ServerId};

/// A set of indices marked since it was last taken, listed in marking order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Marks {
    on: Vec<bool>,
    list: Vec<u32>,
}

impl Marks {
    /// Every index below `n` marked.
    pub(crate) fn all(n: usize) -> Self {
        Marks {
            on: vec![true; n],
            list: (0..n as u32).collect(),
        }
    }

    /// Marks `i`.
    #[inline]
    pub(crate) fn mark(&mut self, i: usize) {
        if i >= self.on.len() {
            self.on.resize(i + 1, false);
        }
        if !self.on[i] {
            self.on[i] = true;
            self.list.push(i as u32);
        }
    }

    /// Whether `i` is marked (for the debug checks of rule `perf.refresh_changes`).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    pub(crate) fn is_marked(&self, i: usize) -> bool {
        self.on.get(i).copied().unwrap_or(false)
    }

    /// Takes the marked indices into `out`, in marking order, and unmarks them.
    pub(crate) fn take(&mut self, out: &mut Vec<u32>) {
        out.clear();
        out.append(&mut self.list);
        for &i in out.iter() {
            self.on[i as usize] = false;
        }
    }

    /// Takes the marked indices into `out`, in increasing order, and unmarks them.
    pub(crate) fn take_sorted(&mut self, out: &mut Vec<u32>) {
        self.take(out);
        out.sort_unstable();
    }
}

/// What a refresh reads of a database that only a mutable access changes: its state,
/// kind, active copy and which copies failed (the copies' servers never change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbKey {
    state: DbState,
    kind: DbKind,
    active: usize,
    /// A bit per copy (the first 64): failed and suspended.
    failed: u64,
}

impl DbKey {
    fn of(db: &Database) -> Self {
        let mut failed = 0u64;
        for (i, c) in db.copies.iter().enumerate().take(64) {
            if c.health == CopyHealth::FailedAndSuspended {
                failed |= 1 << i;
            }
        }
        DbKey {
            state: db.state,
            kind: db.kind,
            active: db.active,
            failed,
        }
    }
}

/// What a refresh reads of a mailbox group that only a mutable access changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HomeKey {
    current: usize,
    users: u64,
    history_ready: u64,
    swapping: bool,
    /// No merge running and nothing left to merge ([`World::merge_finished`]).
    merge_finished: bool,
}

impl HomeKey {
    fn of(h: &super::Home) -> Self {
        HomeKey {
            current: h.current.index(),
            users: h.users,
            history_ready: h.history_ready,
            swapping: h.swapping,
            merge_finished: !h.merging
                && (h.dial_tone_messages == 0 || !h.recovery_holds_dial_tone),
        }
    }
}

/// What the last refresh saw, and what to serve and check at the next (rule
/// `perf.refresh_changes`).
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Per database: its key at the last refresh (`None`: not seen yet).
    db_seen: Vec<Option<DbKey>>,
    /// Per group: its key at the last refresh.
    home_seen: Vec<Option<HomeKey>>,
    /// Per database: the groups whose current database it is, in increasing order.
    pub(crate) db_groups: Vec<Vec<u32>>,
    /// Groups swapping now.
    pub(crate) swapping: usize,
    /// Databases the next refresh serves.
    pub(crate) serve: Marks,
    /// Groups the next refresh checks.
    pub(crate) groups: Marks,
    /// Databases that waited for a retry at the last refresh (rule `am.retry`); served
    /// again when `am_epoch` moved.
    pub(crate) no_mount: Marks,
    /// `am_epoch` at the last refresh.
    epoch_seen: u64,
    /// The serving tables being taken at a refresh (reused; the last refresh's are
    /// `World::serve_tables`).
    pub(crate) next_tables: ServeTables,
    /// Databases served twice at once (split brain).
    pub(crate) split: u64,
    /// Per group: the server and users it added to `server_load`.
    pub(crate) load_seen: Vec<(Option<ServerId>, u64)>,
    /// Per server: `(served, active)` when it serves fewer than are active, at the last
    /// refresh (rule `server.capacity`).
    pub(crate) over_seen: Vec<Option<(u64, u64)>>,
    /// Scratch: servers whose load changed at this refresh.
    pub(crate) load_changed: Marks,
    /// Scratch lists: marked databases or groups or servers, the databases served and
    /// the groups checked at a refresh.
    pub(crate) scratch: Vec<u32>,
    pub(crate) scratch_dbs: Vec<u32>,
    pub(crate) scratch_groups: Vec<u32>,
}

impl Changes {
    /// Nothing seen yet: the first refresh serves every database and checks every
    /// group. `db_groups` starts as at time zero (group `h` on database `h`).
    pub(crate) fn new(dbs: usize, groups: usize, servers: usize) -> Self {
        let mut db_groups = vec![Vec::new(); dbs];
        for (h, g) in db_groups.iter_mut().enumerate().take(groups) {
            g.push(h as u32);
        }
        Changes {
            db_seen: vec![None; dbs],
            home_seen: vec![None; groups],
            db_groups,
            serve: Marks::all(dbs),
            groups: Marks::all(groups),
            load_seen: vec![(None, 0); groups],
            over_seen: vec![None; servers],
            ..Default::default()
        }
    }
}

impl World {
    /// Rule `perf.refresh_changes`: compares every group and database marked since the
    /// last refresh with what it saw then, and marks what must be served and checked.
    pub(super) fn note_changes(&mut self) {
        let mut touched = std::mem::take(&mut self.changes.scratch);
        self.homes.take_touched(&mut touched);
        for &h in &touched {
            self.note_home(h as usize);
        }
        self.dbs.take_touched(&mut touched);
        for &d in &touched {
            let d = d as usize;
            let key = DbKey::of(&self.dbs[d]);
            let ch = &mut self.changes;
            if ch.db_seen.len() <= d {
                ch.db_seen.resize(d + 1, None);
                ch.db_groups.resize(d + 1, Vec::new());
            }
            if ch.db_seen[d] != Some(key) {
                ch.db_seen[d] = Some(key);
                ch.serve.mark(d);
                for &h in &ch.db_groups[d] {
                    ch.groups.mark(h as usize);
                }
            }
        }
        if self.am_epoch != self.changes.epoch_seen {
            self.changes.epoch_seen = self.am_epoch;
            let ch = &mut self.changes;
            ch.no_mount.take(&mut touched);
            for &d in &touched {
                ch.serve.mark(d as usize);
            }
        }
        self.changes.scratch = touched;
    }

    /// Group `h` was touched: when its key changed, it is checked and the databases it
    /// left and points to are served (a swap stops serving its database).
    fn note_home(&mut self, h: usize) {
        let key = HomeKey::of(&self.homes[h]);
        let ch = &mut self.changes;
        let old = ch.home_seen[h];
        if old == Some(key) {
            return;
        }
        ch.home_seen[h] = Some(key);
        ch.groups.mark(h);
        let was_swapping = old.is_some_and(|o| o.swapping);
        ch.swapping = ch.swapping + usize::from(key.swapping) - usize::from(was_swapping);
        if let Some(o) = old.filter(|o| o.current != key.current) {
            // The database it left is no longer held back by its swap.
            ch.serve.mark(o.current);
            ch.db_groups[o.current].retain(|&g| g as usize != h);
        }
        if ch.db_groups.len() <= key.current {
            ch.db_groups.resize(key.current + 1, Vec::new());
        }
        let groups = &mut ch.db_groups[key.current];
        if let Err(at) = groups.binary_search(&(h as u32)) {
            groups.insert(at, h as u32);
        }
        // Its swap may have started or ended (rule world.swap: not served meanwhile).
        ch.serve.mark(key.current);
    }

    /// The databases this refresh serves, in increasing order, into `out`: every one
    /// when `all`, else the marked ones.
    pub(super) fn take_to_serve(&mut self, all: bool, out: &mut Vec<u32>) {
        self.changes.serve.take_sorted(out);
        if all {
            out.clear();
            out.extend(0..self.dbs.len() as u32);
        }
    }

    /// After database `d` was served: its split brain count, the groups to check when
    /// its serving changed, and whether it waits for a retry or its failover could not
    /// be scheduled (served again at the next refresh).
    pub(super) fn note_served(
        &mut self,
        d: usize,
        before: (Option<ServerId>, Option<ServerId>),
        has_quorum: bool,
    ) {
        let after = (self.serving[d], self.rogue_serving[d]);
        let ch = &mut self.changes;
        let twice =
            |(a, r): (Option<ServerId>, Option<ServerId>)| u64::from(a.is_some() && r.is_some());
        ch.split = ch.split - twice(before) + twice(after);
        if before != after {
            for &h in &ch.db_groups[d] {
                ch.groups.mark(h as usize);
            }
        }
        if self.no_mount[d].is_some() {
            ch.no_mount.mark(d);
        }
        if self.wants_failover(d, has_quorum) {
            // Rule world.failover: the failover could not be scheduled; try again.
            self.changes.serve.mark(d);
        }
    }

    /// Rule `server.capacity` at a refresh: updates `server_load` for the groups in
    /// `groups` (their server or users may have changed), then adds to `groups` every
    /// group served on a server whose capacity answer changed.
    pub(super) fn update_load(&mut self, groups: &mut Vec<u32>) {
        for &h in groups.iter() {
            let h = h as usize;
            let now = (self.home_server(HomeId::from(h)), self.homes[h].users);
            let old = std::mem::replace(&mut self.changes.load_seen[h], now);
            if old == now {
                continue;
            }
            if let (Some(s), users) = old {
                self.server_load[s.index()] -= users;
                self.changes.load_changed.mark(s.index());
            }
            if let (Some(s), users) = now {
                self.server_load[s.index()] += users;
                self.changes.load_changed.mark(s.index());
            }
        }
        let mut servers = std::mem::take(&mut self.changes.scratch);
        self.changes.load_changed.take_sorted(&mut servers);
        let mut any = false;
        for &s in &servers {
            let s = s as usize;
            let over = self.over_capacity(ServerId::from(s));
            any |= std::mem::replace(&mut self.changes.over_seen[s], over) != over;
        }
        if any {
            let first = groups.len();
            for h in 0..self.homes.len() {
                let on = self.home_server(HomeId::from(h));
                if on.is_some_and(|s| servers.binary_search(&s.0).is_ok()) {
                    groups.push(h as u32);
                }
            }
            if groups.len() > first {
                groups.sort_unstable();
                groups.dedup();
            }
        }
        self.changes.scratch = servers;
    }

    /// Rule `server.capacity`: `(served, active)` mailboxes of server `s` when it serves
    /// fewer than are active.
    pub(super) fn over_capacity(&self, s: ServerId) -> Option<(u64, u64)> {
        let active = self.server_load[s.index()];
        let served = crate::server::served(active, self.servers[s.index()].capacity_mailboxes);
        (served != active).then_some((served, active))
    }
}

#[cfg(debug_assertions)]
impl World {
    /// Rule `perf.refresh_changes`'s invariant (debug builds): after a refresh, serving
    /// any database or checking any group again would change nothing.
    pub(super) fn check_refresh_exact(&self, t: &ServeTables) {
        let mut split = 0;
        for d in 0..self.dbs.len() {
            assert_eq!(
                (self.served_on(d, t), self.rogue_server(d, t)),
                (self.serving[d], self.rogue_serving[d]),
                "database {d}'s serving changed without a mark"
            );
            split += u64::from(self.serving[d].is_some() && self.rogue_serving[d].is_some());
            let retry = self.no_mount[d].is_some_and(|(e, _)| e != self.am_epoch);
            assert!(!retry, "database {d} waits for a retry it missed");
            assert!(
                !self.wants_failover(d, t.has_quorum) || self.changes.serve.is_marked(d),
                "database {d} wants a failover without a mark"
            );
        }
        assert_eq!(split, self.changes.split, "split brain count");
        let mut load = vec![0u64; self.servers.len()];
        for h in 0..self.homes.len() {
            let id = HomeId::from(h);
            if let Some(s) = self.home_server(id) {
                load[s.index()] += self.homes[h].users;
            }
            let key = HomeKey::of(&self.homes[h]);
            assert_eq!(
                self.changes.home_seen[h],
                Some(key),
                "group {h} changed unseen"
            );
            assert!(
                self.changes.db_groups[key.current].contains(&(h as u32)),
                "group {h} missing from its database's groups"
            );
            self.check_group_exact(h);
        }
        assert_eq!(load, self.server_load, "server load");
        let swapping = self.homes.iter().filter(|h| h.swapping).count();
        assert_eq!(swapping, self.changes.swapping, "groups swapping");
        for d in 0..self.dbs.len() {
            assert_eq!(
                self.changes.db_seen[d],
                Some(DbKey::of(&self.dbs[d])),
                "database {d} changed unseen"
            );
        }
    }
}
