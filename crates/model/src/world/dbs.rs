//! The world's databases, with the list of those replication has to look at (rule
//! `perf.replication_dirty`).
//!
//! [`Dbs`] indexes like a slice. Every mutable access to a database (`dbs[d].x = ..`, a
//! `&mut self` method through the index, [`Dbs::get_mut`], [`Dbs::push`]) lists it, so
//! no change to a database can escape [`super::World::advance_replication`]: the list
//! holds the databases found unsettled at the last advance and those changed since.
//! Replication alone advances a listed database without listing it again
//! ([`Dbs::unlisted_mut`]). Every mutable access and every advance also marks the
//! database for the next refresh (rule `perf.refresh_changes`).

use std::ops::{Index, IndexMut};

use super::changes::Marks;
use crate::database::Database;

/// The databases, production ones first, then those created at run time.
#[derive(Debug)]
pub(crate) struct Dbs {
    v: Vec<Database>,
    /// Per database: it is in `list`.
    listed: Vec<bool>,
    /// Databases the next replication advance must look at, in no particular order.
    list: Vec<usize>,
    /// Per database: its active copy and which copies received logs at its last
    /// advance, a bit a copy, until a server it has a copy on changes (`None` then).
    shipping: Vec<Option<(usize, u64)>>,
    /// Databases listed or advanced since the last refresh took them (rule
    /// `perf.refresh_changes`).
    touched: Marks,
}

impl Dbs {
    /// Every database listed (nothing is known about them yet).
    pub(crate) fn new(v: Vec<Database>) -> Self {
        let n = v.len();
        Dbs {
            v,
            listed: vec![true; n],
            list: (0..n).collect(),
            shipping: vec![None; n],
            touched: Marks::all(n),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Database> {
        self.v.iter()
    }

    pub(crate) fn as_slice(&self) -> &[Database] {
        &self.v
    }

    /// Database `d`, if it exists.
    pub(crate) fn get(&self, d: usize) -> Option<&Database> {
        self.v.get(d)
    }

    /// Every database, each listed.
    pub(crate) fn iter_mut(&mut self) -> std::slice::IterMut<'_, Database> {
        for d in 0..self.v.len() {
            self.touch(d);
        }
        self.v.iter_mut()
    }

    /// Database `d`, listed, if it exists.
    pub(crate) fn get_mut(&mut self, d: usize) -> Option<&mut Database> {
        if d < self.v.len() {
            self.touch(d);
        }
        self.v.get_mut(d)
    }

    /// Adds a database, listed.
    pub(crate) fn push(&mut self, db: Database) {
        self.v.push(db);
        self.listed.push(false);
        self.shipping.push(None);
        self.touch(self.v.len() - 1);
    }

    /// Lists database `d` for the next replication advance and forgets its log
    /// shipping: a server it has a copy on changed.
    pub(crate) fn mark(&mut self, d: usize) {
        self.shipping[d] = None;
        self.touch(d);
    }

    /// Lists database `d` for the next replication advance (and marks it for the next
    /// refresh): something changed it. Its log shipping holds while its active copy
    /// stays (it depends only on the active copy's and the copies' servers).
    fn touch(&mut self, d: usize) {
        self.touched.mark(d);
        if !self.listed[d] {
            self.listed[d] = true;
            self.list.push(d);
        }
    }

    /// Whether database `d` is listed.
    #[cfg(debug_assertions)]
    pub(crate) fn is_listed(&self, d: usize) -> bool {
        self.listed[d]
    }

    /// Which copies of database `d` received logs at its last advance, unless a server
    /// it has a copy on changed since or its active copy moved.
    pub(crate) fn shipping(&self, d: usize) -> Option<u64> {
        self.shipping[d]
            .filter(|&(active, _)| active == self.v[d].active)
            .map(|(_, conn)| conn)
    }

    /// Records which copies of database `d` receive logs (see [`Dbs::shipping`]).
    pub(crate) fn set_shipping(&mut self, d: usize, conn: u64) {
        self.shipping[d] = Some((self.v[d].active, conn));
    }

    /// How many databases are listed.
    pub(crate) fn listed_len(&self) -> usize {
        self.list.len()
    }

    /// The `k`-th listed database.
    pub(crate) fn listed_at(&self, k: usize) -> usize {
        self.list[k]
    }

    /// Database `d` for replication, which lists it itself when it stays unsettled.
    pub(crate) fn unlisted_mut(&mut self, d: usize) -> &mut Database {
        self.touched.mark(d);
        &mut self.v[d]
    }

    /// Takes the databases listed or advanced since the last call into `out`, in no
    /// particular order (rule `perf.refresh_changes`).
    pub(crate) fn take_touched(&mut self, out: &mut Vec<u32>) {
        self.touched.take(out);
    }

    /// After replication looked at the `k`-th listed database (`k` in increasing order,
    /// `kept` of them kept so far): keeps it listed (`stays`) or not. Returns the new
    /// `kept`; [`Dbs::end_pass`] drops the rest of the old list.
    pub(crate) fn keep_listed(&mut self, k: usize, kept: usize, stays: bool) -> usize {
        let d = self.list[k];
        if stays {
            self.list[kept] = d;
            kept + 1
        } else {
            self.listed[d] = false;
            kept
        }
    }

    /// Ends a pass of [`Dbs::keep_listed`] that kept `kept` databases.
    pub(crate) fn end_pass(&mut self, kept: usize) {
        self.list.truncate(kept);
    }
}

impl Index<usize> for Dbs {
    type Output = Database;
    fn index(&self, d: usize) -> &Database {
        &self.v[d]
    }
}

impl<'a> IntoIterator for &'a mut Dbs {
    type Item = &'a mut Database;
    type IntoIter = std::slice::IterMut<'a, Database>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl IndexMut<usize> for Dbs {
    fn index_mut(&mut self, d: usize) -> &mut Database {
        self.touch(d);
        &mut self.v[d]
    }
}

/// What each server's log shipping depends on, as seen at the last replication advance
/// (rule `perf.replication_dirty`): whether a copy on server `c` receives logs from an
/// active copy on `a` ([`super::World::advance_replication`]) is a function of `a`'s and
/// `c`'s network partitions (`None`: down), whether `c` runs in the DAG, and whether `c`
/// is marked stopped in the AD of `a`'s site. A server whose inputs changed lists every
/// database with a copy on it.
#[derive(Debug, Default)]
pub(crate) struct ShippingInputs {
    /// Per server: its partition and whether it runs in the DAG; `None` before the
    /// first advance.
    pub(crate) seen: Vec<Option<(Option<u32>, bool)>>,
    /// Per server, per site: marked stopped there (DAC mode), row-major.
    pub(crate) stopped: Vec<bool>,
    /// Per server: its inputs changed at this advance (scratch).
    pub(crate) changed: Vec<bool>,
}

impl ShippingInputs {
    /// For `servers` servers and `sites` sites, none seen yet.
    pub(crate) fn new(servers: usize, sites: usize) -> Self {
        ShippingInputs {
            seen: vec![None; servers],
            stopped: vec![false; servers * sites],
            changed: vec![false; servers],
        }
    }
}
