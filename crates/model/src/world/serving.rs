//! Where each database is served at a refresh, by the authoritative cluster and by a
//! rogue one: outage times, Active Manager's failover and retries (rules
//! `world.failover`, `am.retry`, `quorum.stale_config`, `world.rogue_mount`), with what
//! that reads of the servers and the cluster taken once a refresh (rule
//! `perf.serve_tables`).

use dialtone_engine::{Ctx, SimTime, TraceSink};

use super::{Event, World};
use crate::database::{DbKind, DbState, FailReason};
use crate::ids::{DatabaseId, ServerId};

/// What serving a database reads of the servers and the cluster, taken once a refresh
/// (rule `perf.serve_tables`): nothing a database's serving changes, so every database
/// of the refresh reads the same values its own evaluation would.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ServeTables {
    /// Per server: [`World::may_mount_on`].
    mount_ok: Vec<bool>,
    /// The DAG has quorum.
    pub(crate) has_quorum: bool,
    /// Some mailbox group is swapping (its databases are not served).
    swapping: bool,
    /// Per rogue partition that has a member, in the order of [`World::rogue`]: its
    /// first member, and per server whether a copy there mounts in that partition (it is
    /// in the partition, a member, and its DAC gate is open).
    rogue: Vec<(usize, Vec<bool>)>,
}

/// Each DAG member's view of the active copies (rule `quorum.stale_config`): a member in
/// the running partition sees the current active copies; one outside keeps what it saw
/// last. Rule `perf.serve_tables`: the members of the running partition share one copy
/// of the view, and a member copies it only when it leaves the partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MemberViews {
    /// The active copy of every database at the last refresh with quorum.
    current: Vec<usize>,
    /// Per member: it was in the running partition at the last refresh with quorum, so
    /// its view is `current`.
    follows: Vec<bool>,
    /// Per member: its view when it does not follow `current`.
    own: Vec<Vec<usize>>,
}

impl MemberViews {
    /// `members` views of `databases` databases, each seeing copy 0 active.
    pub(crate) fn new(members: usize, databases: usize) -> Self {
        MemberViews {
            current: Vec::new(),
            follows: vec![false; members],
            own: vec![vec![0; databases]; members],
        }
    }

    /// Member `m`'s view: per database, the copy it believes active.
    pub(crate) fn view(&self, m: usize) -> &[usize] {
        if self.follows[m] {
            &self.current
        } else {
            &self.own[m]
        }
    }
}

impl World {
    /// Members in the running partition see the current active copies (with
    /// `exhaustive_refresh`, each member's own copy is rewritten, as before rule
    /// `perf.serve_tables`). Returns whether a member joined or left the running
    /// partition (its view may have changed for every database; rule
    /// `perf.refresh_changes`).
    pub(super) fn refresh_member_views(&mut self) -> bool {
        let Some(q) = self.quorum() else {
            return false;
        };
        let mut moved = false;
        for (m, &s) in self.config.dag.members.iter().enumerate() {
            let inside = self.partition_of(s) == Some(q);
            let views = &mut self.member_views;
            if self.exhaustive_refresh {
                if inside {
                    views.own[m].clear();
                    views.own[m].extend(self.dbs.iter().map(|db| db.active));
                }
            } else if inside {
                moved |= !views.follows[m];
                views.follows[m] = true;
            } else if views.follows[m] {
                moved = true;
                // Leaves the partition: keeps what it saw at the last refresh.
                views.own[m].clone_from(&views.current);
                views.follows[m] = false;
            }
        }
        if !self.exhaustive_refresh {
            let views = &mut self.member_views;
            views.current.clear();
            views.current.extend(self.dbs.iter().map(|db| db.active));
        }
        moved
    }

    /// Rule `perf.serve_tables`: takes what serving reads of the servers and the
    /// cluster now, into `t` (its allocations reused).
    pub(super) fn take_serve_tables(&self, t: &mut ServeTables) {
        t.mount_ok.clear();
        t.mount_ok
            .extend((0..self.servers.len()).map(|s| self.may_mount_on(ServerId::from(s))));
        t.has_quorum = self.quorum().is_some();
        t.swapping = self.changes.swapping > 0;
        let mut reps = 0;
        for r in self.rogue() {
            let Some(m) = (0..self.config.dag.members.len())
                .find(|&m| self.partition_of(self.config.dag.members[m]) == Some(r))
            else {
                continue;
            };
            if t.rogue.len() == reps {
                t.rogue.push((m, Vec::new()));
            }
            let (rep, mounts) = &mut t.rogue[reps];
            *rep = m;
            mounts.clear();
            mounts.extend((0..self.servers.len()).map(|s| {
                let s = ServerId::from(s);
                self.partition_of(s) == Some(r)
                    && self.member[s.index()]
                        .is_some_and(|ms| self.dac.may_mount(ms, self.site_of(s).index(), true))
            }));
            reps += 1;
        }
        t.rogue.truncate(reps);
    }

    /// Where database `d` is served now, by the authoritative cluster and by a rogue one:
    /// records its outage times, traces the change and schedules Active Manager's
    /// failover (rule `world.failover`). Returns whether it is served twice (split brain).
    pub(super) fn serve_database<E: From<Event>, S: TraceSink>(
        &mut self,
        d: usize,
        t: &ServeTables,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) -> bool {
        let prev = self.serving[d];
        self.serving[d] = self.served_on(d, t);
        self.record_serving(d, prev, now, ctx);
        self.retry_or_fail_over(d, t, now, ctx);
        // Rule quorum.stale_config + dac.mount_gate on the rogue side.
        self.rogue_serving[d] = self.rogue_server(d, t);
        self.serving[d].is_some() && self.rogue_serving[d].is_some()
    }

    /// The server the authoritative cluster serves database `d` on now, if any: its
    /// active copy is mounted there, may mount, and its group is not swapping.
    pub(super) fn served_on(&self, d: usize, t: &ServeTables) -> Option<ServerId> {
        let db = &self.dbs[d];
        let active_server = db.copies[db.active].config.server;
        let ok = db.state == DbState::Mounted
            && db.kind != DbKind::Recovery
            && t.mount_ok[active_server.index()]
            && !(t.swapping
                && self
                    .changes
                    .db_groups
                    .get(d)
                    .is_some_and(|g| g.iter().any(|&h| self.homes[h as usize].swapping)));
        ok.then_some(active_server)
    }

    /// Database `d`'s own outage and timeline: down at the first, back at the last
    /// restoration, so one down at the end never came back (model tests read it; the
    /// metrics' RTO is per mailbox group, rule `metrics.rto` in homes.rs).
    fn record_serving<E, S: TraceSink>(
        &mut self,
        d: usize,
        prev: Option<ServerId>,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if self.outages.len() <= d {
            self.outages.resize(d + 1, (None, None));
        }
        match (prev.is_some(), self.serving[d].is_some()) {
            (true, false) => {
                self.outages[d].0.get_or_insert(now);
                self.outages[d].1 = None;
                ctx.trace_with("db", "unavailable", || self.db_name(d).to_string());
            }
            (false, true) => {
                self.outages[d].1 = Some(now);
                ctx.trace_with("db", "serving", || self.db_name(d).to_string());
            }
            _ => {}
        }
    }

    /// Rules `am.retry`, `world.failover`: a database that could not mount is retried at
    /// once when something changed since, not before (a served one is done); Active
    /// Manager steps in for a replicated database whose active copy is lost while the DAG
    /// has quorum.
    fn retry_or_fail_over<E: From<Event>, S: TraceSink>(
        &mut self,
        d: usize,
        t: &ServeTables,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if let Some((epoch, _)) = self.no_mount[d]
            && (epoch != self.am_epoch || self.serving[d].is_some())
        {
            self.no_mount[d] = None;
            if let Some(id) = self.failover_pending[d].take() {
                ctx.cancel(id);
            }
        }
        if self.wants_failover(d, t.has_quorum) {
            let at = self.reserve_mount_slot(now);
            if let Ok(id) = ctx.schedule(at, Event::Failover(DatabaseId::from(d)).into()) {
                self.failover_pending[d] = Some(id);
            }
        }
    }

    /// Rule `world.failover`: whether Active Manager should fail database `d` over now
    /// (not served, the DAG has quorum, it has another copy, its active copy failed or is
    /// lost, and no failover is pending).
    pub(super) fn wants_failover(&self, d: usize, has_quorum: bool) -> bool {
        self.serving[d].is_none()
            && has_quorum
            && self.dbs[d].copies.len() > 1
            && matches!(
                self.dbs[d].state,
                DbState::Mounted | DbState::Failed(FailReason::DiskLost)
            )
            && self.failover_pending[d].is_none()
    }

    /// Where a rogue cluster serves database `d`: the copy its members last saw active,
    /// if that copy's server is in the rogue partition and its DAC gate is open.
    pub(super) fn rogue_server(&self, d: usize, t: &ServeTables) -> Option<ServerId> {
        if self.dbs[d].kind != DbKind::Production {
            return None;
        }
        for (m, mounts) in &t.rogue {
            let copy = self.member_views.view(*m).get(d).copied().unwrap_or(0);
            let s = self.dbs[d].copies.get(copy)?.config.server;
            if mounts[s.index()] {
                return Some(s);
            }
        }
        None
    }
}
