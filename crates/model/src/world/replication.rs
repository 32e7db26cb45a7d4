//! Databases over time: replication advancing between events, where each database is
//! served (by the authoritative cluster and by a rogue one) and its outages, and Active
//! Manager's failover of a database whose active copy is lost (rules `am.*`,
//! `world.failover`, `world.rogue_mount`).

use dialtone_engine::{Ctx, SimDuration, SimTime, TraceSink};

use super::{Event, World};
use crate::active_manager::{Candidate, Choice, choose};
use crate::database::{CopyHealth, DbState};
use crate::ids::{DatabaseId, HomeId, ServerId};

/// The longest Active Manager waits before retrying a database no copy of which could
/// mount, when nothing it hears of changed meanwhile (rule `am.retry`).
pub(crate) const MAX_RETRY: SimDuration = SimDuration::from_millis(3_600_000);

impl World {
    /// Advances replication of every database to `now` under the connectivity that held
    /// since the last update: only copies that [`World::receives_logs`] copy and replay.
    ///
    /// Exactly as advancing every database at every event, at a cost in the databases
    /// that are listed (rule `perf.replication_dirty`): those found not settled
    /// ([`Database::settled_when`]: advancing would change nothing but the clock) at the
    /// last call, those changed since (any mutable access lists one, see [`super::dbs`])
    /// and those with a copy on a server whose log shipping inputs changed since. A
    /// database that was skipped restarts its clock from the last call, the moment the
    /// eager advance would have left it at.
    ///
    /// Rule `world.arrivals_touched`: with `only`, only those databases advance (the
    /// databases of the groups a change point split, increasing); the others keep their
    /// clock, so the mail a later split writes to them ships with the whole interval it
    /// arrived in, as every database's does when every change point splits every group.
    pub(super) fn advance_replication(&mut self, now: SimTime, only: Option<&[u32]>) {
        let since = self.replication_clock;
        self.list_reconnected();
        #[cfg(debug_assertions)]
        self.check_unlisted_settled();
        let mut kept = 0;
        for k in 0..self.dbs.listed_len() {
            let d = self.dbs.listed_at(k);
            if only.is_some_and(|o| o.binary_search(&(d as u32)).is_err()) {
                kept = self.dbs.keep_listed(k, kept, true);
                continue;
            }
            // Connectivity holds until a server it has a copy on changes or its active
            // copy moves (see `Dbs::shipping`).
            let conn = match self.dbs.shipping(d) {
                Some(conn) => conn,
                None => {
                    let conn = self.shipping(d);
                    self.dbs.set_shipping(d, conn);
                    conn
                }
            };
            debug_assert_eq!(conn, self.shipping(d), "stale connectivity of database {d}");
            let connected = |i: usize| i < 64 && conn & (1 << i) != 0;
            let db = self.dbs.unlisted_mut(d);
            db.catch_up_clock(since);
            db.advance(now, connected);
            let stays = !db.settled_when(connected);
            kept = self.dbs.keep_listed(k, kept, stays);
        }
        self.dbs.end_pass(kept);
        if only.is_none() {
            self.replication_clock = now;
        }
    }

    /// Which copies of database `d` receive logs now, a bit a copy (a replicated
    /// database's copies sit on distinct DAG members, at most 16): no allocation.
    pub(super) fn shipping(&self, d: usize) -> u64 {
        let db = &self.dbs[d];
        let active = db.copies[db.active].config.server;
        let mut conn = 0u64;
        for (i, c) in db.copies.iter().enumerate().take(64) {
            if self.receives_logs(active, c.config.server) {
                conn |= 1 << i;
            }
        }
        conn
    }

    /// Rule `perf.replication_dirty`: lists every database with a copy on a server
    /// whose log shipping inputs ([`super::dbs::ShippingInputs`]) changed since the last
    /// advance. Costs the servers (times the sites in DAC mode), and the databases only
    /// when a server changed.
    fn list_reconnected(&mut self) {
        let sites = self.net.sites();
        let mut any = false;
        for s in 0..self.servers.len() {
            let sid = ServerId::from(s);
            let key = (self.partition_of(sid), self.runs_in_dag(sid));
            let mut changed = self.shipping_inputs.seen[s] != Some(key);
            self.shipping_inputs.seen[s] = Some(key);
            if let (true, Some(m)) = (self.config.dag.dac_mode, self.member[s]) {
                for site in 0..sites {
                    let now_stopped = self.dac.stopped_in(site, m);
                    let was = &mut self.shipping_inputs.stopped[s * sites + site];
                    changed |= *was != now_stopped;
                    *was = now_stopped;
                }
            }
            self.shipping_inputs.changed[s] = changed;
            any |= changed;
        }
        if any {
            for d in 0..self.dbs.len() {
                let db = &self.dbs[d];
                let touched = db
                    .copies
                    .iter()
                    .any(|c| self.shipping_inputs.changed[c.config.server.index()]);
                if touched {
                    self.dbs.mark(d);
                }
            }
        }
    }

    /// Whether a copy on server `s` may receive logs as far as the DAG goes: it is no
    /// member, or a member whose cluster service runs in the cluster.
    fn runs_in_dag(&self, s: ServerId) -> bool {
        match self.member[s.index()] {
            None => true,
            Some(m) => self.cluster.is_member(m) && self.servers[s.index()].services.cluster,
        }
    }

    /// Rule `perf.replication_dirty`'s invariant (debug builds): every database left
    /// out of the list is settled under the connectivity it has now, so skipping it is
    /// exact.
    #[cfg(debug_assertions)]
    fn check_unlisted_settled(&self) {
        for d in 0..self.dbs.len() {
            if self.dbs.is_listed(d) {
                continue;
            }
            let conn = self.shipping(d);
            let connected = |i: usize| i < 64 && conn & (1 << i) != 0;
            assert!(
                self.dbs[d].settled_when(connected),
                "database {d} changed or reconnected without being listed for replication"
            );
        }
    }

    /// Rule `db.copy_queue`: a copy on `copy` receives logs from the active copy on
    /// `active` when both servers are up and reach each other and, for a DAG member, it
    /// runs in the DAG: its cluster service runs, it is not evicted and (DAC mode) not
    /// marked stopped in the AD of the active copy's site.
    fn receives_logs(&self, active: ServerId, copy: ServerId) -> bool {
        if !self.servers_reach(active, copy) {
            return false;
        }
        match self.member[copy.index()] {
            None => true,
            Some(m) => {
                self.runs_in_dag(copy)
                    && !(self.config.dag.dac_mode
                        && self.dac.stopped_in(self.site_of(active).index(), m))
            }
        }
    }

    /// Rule `db.activation_replay`: database `d`'s activation has replayed its logs and
    /// it mounts (if it is still replaying and due).
    pub(super) fn activation_done(&mut self, d: usize, now: SimTime) {
        self.dbs[d].finish_activation(now);
    }

    /// Rules `am.*`: Active Manager's failover of database `d`.
    pub(super) fn failover<S: TraceSink, E: From<Event>>(
        &mut self,
        d: usize,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        self.failover_pending[d] = None;
        // Rule perf.refresh_changes: no failover is pending any more.
        self.changes.serve.mark(d);
        let db = &self.dbs[d];
        let old = db.copies[db.active].config.server;
        if db.state == DbState::Mounted && self.may_mount_on(old) {
            return; // the active copy is back
        }
        let candidates: Vec<Candidate> = (0..db.copies.len())
            .map(|i| {
                let c = &db.copies[i];
                let s = c.config.server;
                let healthy = if i == db.active {
                    db.state == DbState::Mounted
                } else {
                    c.health == CopyHealth::Healthy
                };
                Candidate {
                    copy: i,
                    eligible: healthy
                        && !c.activation_blocked
                        && !db.copy_corrupt(i)
                        && self.may_mount_on(s),
                    copy_queue: db.copy_queue(i),
                    preference: c.config.preference,
                    dial: self.config.dag.mount_dial,
                    acll: i != db.active && self.servers_reach(old, s),
                }
            })
            .collect();
        match choose(&candidates) {
            Choice::Mount { copy, lost_logs } => {
                let lost = if copy == db.active {
                    self.dbs[d].state = DbState::Mounted;
                    0
                } else {
                    // ACLL copied the missing logs first (rule `am.acll`), taking the
                    // time they need.
                    let pulled = if lost_logs == 0 {
                        self.dbs[d].acll(copy)
                    } else {
                        0
                    };
                    self.dbs[d].activate(copy, now, pulled)
                };
                if let DbState::Replaying(at) = self.dbs[d].state {
                    let _ = ctx.schedule(at, Event::ActivationDone(DatabaseId::from(d)).into());
                }
                ctx.trace_with("active-manager", "failover", || {
                    format!("{} to copy {copy}, {lost} messages lost", self.db_name(d))
                });
                if lost > 0
                    && let Some(h) = self.home_of(d)
                {
                    self.transport
                        .lossy_mount(now, DatabaseId::from(h.index()), lost);
                }
            }
            Choice::NoneWithinDial | Choice::NoCandidate => {
                ctx.trace_with("active-manager", "no-mount", || self.db_name(d).to_owned());
                self.retry_later(d, now, ctx);
                return;
            }
        }
        self.no_mount[d] = None;
    }

    /// Rule `am.retry`: no copy of database `d` could mount. Active Manager tries again
    /// as soon as something that could change the answer changes (`am_epoch`: a fault, a
    /// heartbeat, an administrator), and otherwise after a backoff that doubles from the
    /// failover time up to [`MAX_RETRY`], not every failover interval.
    fn retry_later<S: TraceSink, E: From<Event>>(
        &mut self,
        d: usize,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let tries = self.no_mount[d].map_or(0, |(_, n)| n).saturating_add(1);
        self.no_mount[d] = Some((self.am_epoch, tries));
        if self.waits_for_quorum(d) {
            return;
        }
        let base = self.config.timing.failover.as_millis().max(1);
        let backoff = base
            .saturating_mul(1u64 << tries.min(40))
            .min(MAX_RETRY.as_millis().max(base));
        let at = now.saturating_add(SimDuration::from_millis(backoff));
        if let Ok(id) = ctx.schedule(at, Event::Failover(DatabaseId::from(d)).into()) {
            self.failover_pending[d] = Some(id);
        }
    }

    /// Rule `world.mount_concurrency`: a failover scheduled now mounts in Active
    /// Manager's earliest free mount slot, `failover` after it frees, and holds it.
    pub(super) fn reserve_mount_slot(&mut self, now: SimTime) -> SimTime {
        let failover = self.config.timing.failover;
        let slot = (0..self.mount_slots.len())
            .min_by_key(|&i| (self.mount_slots[i], i))
            .unwrap_or(0);
        let free = self.mount_slots.get(slot).copied().unwrap_or(now);
        let at = now.max(free).saturating_add(failover);
        if let Some(s) = self.mount_slots.get_mut(slot) {
            *s = at;
        }
        at
    }

    pub(super) fn db_name(&self, d: usize) -> &str {
        self.config
            .databases
            .get(d)
            .map_or("runtime-db", |s| s.name.as_str())
    }

    fn home_of(&self, d: usize) -> Option<HomeId> {
        self.homes
            .iter()
            .position(|h| h.current.index() == d)
            .map(HomeId::from)
    }
}
