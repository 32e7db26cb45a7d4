//! Which mailbox groups a change point splits (rule `world.arrivals_touched`).
//!
//! Rule `world.arrivals` offers the mail that arrived before a change point as the world
//! was before it. Only the groups whose mail path the change may alter need that: a
//! group's mail goes through the accepting MX endpoint to its current database, is
//! delivered when that database is mounted and reachable, and is written to the copy
//! that serves it. A change point that concerns one database or one group (Active
//! Manager's failover of a database, an activation's end, a restore's end, a swap or a
//! merge step, an administrator's action on one group) touches only the groups on the
//! databases of that group; every other change point (a fault, a heartbeat, a backup,
//! a cluster, DNS, power or rebuild action, a mail tick) touches every group. An action
//! also retries the databases waiting for Active Manager (rule `am.retry`), so their
//! groups are touched too. The other groups keep their arrivals pending until a change
//! point touches them or the next mail tick, as the tick model did for all mail.
//!
//! Debug builds check after each such change point that no other group's path changed
//! ([`World::check_untouched`]): the accepting MX endpoint, each group's database, its
//! state and kind, which copies serve it, and whether each transport server delivers to
//! it.

use dialtone_engine::{Ctx, SimTime, TraceSink};

use super::{Action, Event, World};
use crate::ids::DatabaseId;

/// What debug builds check after a change point ([`World::check_untouched`]): the mail
/// paths before the change, the groups it split and what it was. Empty in release
/// builds.
#[derive(Debug, Default)]
pub(super) struct UntouchedCheck {
    #[cfg(debug_assertions)]
    before: Option<(Vec<RouteKey>, Vec<u32>, String)>,
}

/// What a change point touches (rule `world.arrivals_touched`): the groups whose
/// arrivals it splits and the databases whose replication it advances (those groups'
/// databases), each in increasing order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Touched {
    pub(crate) groups: Vec<u32>,
    pub(crate) dbs: Vec<u32>,
}

impl World {
    /// The groups whose mail path `ev` may change, in increasing order; `None`: every
    /// group.
    pub(super) fn touched_by_event(&self, ev: &Event) -> Option<Touched> {
        match ev {
            Event::Failover(d) | Event::ActivationDone(d) | Event::RestoreDone(d) => {
                Some(self.groups_of_db(*d))
            }
            Event::SwapDone(h) | Event::MergeTick(h) => Some(self.groups_of_home(h.index(), false)),
            Event::Action(a) => self.touched_by_action(a),
            Event::BucketWake(_) | Event::HelpdeskTick => Some(Touched::default()),
            Event::MailTick | Event::Heartbeat | Event::Backup | Event::Fault(..) => None,
        }
    }

    /// The groups whose mail path action `a` may change (`None`: every group): the
    /// groups on the databases of the group it names, and those on the databases that
    /// wait for Active Manager's retry (an action retries them).
    pub(super) fn touched_by_action(&self, a: &Action) -> Option<Touched> {
        match a {
            Action::Mount { home, .. }
            | Action::Dismount { home, .. }
            | Action::MoveActive { home, .. }
            | Action::Reseed { home, .. }
            | Action::RemoveCopy { home, .. }
            | Action::CreateDialTone { home, .. }
            | Action::MoveMailboxes { home, .. }
            | Action::RestoreBackup { home, .. }
            | Action::RestoreInPlace { home }
            | Action::ResubmitRequest { home }
            | Action::Swap { home }
            | Action::Merge { home, .. }
            | Action::ReconfigureProfiles { home, .. } => {
                Some(self.groups_of_home(home.index(), true))
            }
            _ => None,
        }
    }

    /// Rules `world.arrivals` and `world.arrivals_touched`: before a change point at
    /// `now` (`what`, for the debug check) changes the world, the mail that arrived since
    /// the last split of the groups it touches is offered as the world was, and their
    /// databases' replication advances (the mail ships with the interval it arrived in).
    pub(super) fn split_before<E: From<Event>, S: TraceSink>(
        &mut self,
        touched: Option<Touched>,
        what: impl FnOnce() -> String,
        ctx: &mut Ctx<'_, E, S>,
    ) -> UntouchedCheck {
        let now = ctx.now();
        let touched = self.split_scope(touched);
        self.arrivals_until(now, touched.as_ref().map(|t| &t.groups[..]), ctx);
        let check = UntouchedCheck {
            #[cfg(debug_assertions)]
            before: touched
                .as_ref()
                .map(|t| (self.route_keys(now), t.groups.clone(), what())),
        };
        #[cfg(not(debug_assertions))]
        let _ = what;
        self.advance_replication(now, touched.as_ref().map(|t| &t.dbs[..]));
        check
    }

    /// After the change point at `now`: debug builds check that it changed no mail path
    /// of a group it did not split.
    pub(super) fn check_after(&self, now: SimTime, check: UntouchedCheck) {
        #[cfg(debug_assertions)]
        if let Some((before, touched, what)) = check.before {
            self.check_untouched(now, &before, &touched, &what);
        }
        #[cfg(not(debug_assertions))]
        let _ = (check, now);
    }

    /// What a change point that touches `touched` splits and advances: every group and
    /// database in a quiet stretch, so that its groups' splits stay aligned with the
    /// stretch. (Client events split and advance nothing anywhere: `handle_event` does
    /// not call this for them.)
    pub(super) fn split_scope(&self, touched: Option<Touched>) -> Option<Touched> {
        #[cfg(test)]
        if self.arrivals.split_all {
            return None;
        }
        if self.arrivals.quiet { None } else { touched }
    }

    /// The databases of group `h`: its original, current and recovery database.
    fn home_dbs(&self, h: usize) -> impl Iterator<Item = usize> + '_ {
        let home = self.homes.get(h);
        home.into_iter().flat_map(|g| {
            [Some(g.original), Some(g.current), g.recovery]
                .into_iter()
                .flatten()
                .map(|d| d.index())
        })
    }

    /// Group `h`, its databases and the groups on them; with `retries`, also the
    /// databases waiting for Active Manager's retry and their groups.
    fn groups_of_home(&self, h: usize, retries: bool) -> Touched {
        let mut dbs = vec![false; self.dbs.len()];
        for d in self.home_dbs(h) {
            if let Some(on) = dbs.get_mut(d) {
                *on = true;
            }
        }
        if retries {
            for (on, wait) in dbs.iter_mut().zip(&self.no_mount) {
                *on |= wait.is_some();
            }
        }
        self.groups_on(dbs, |g| g == h)
    }

    /// The groups that have `d` among their databases, their databases and the groups
    /// on them.
    fn groups_of_db(&self, d: DatabaseId) -> Touched {
        let mut dbs = vec![false; self.dbs.len()];
        let mut homes = vec![false; self.homes.len()];
        for (h, on) in homes.iter_mut().enumerate() {
            if self.home_dbs(h).any(|x| x == d.index()) {
                *on = true;
                for x in self.home_dbs(h) {
                    if let Some(m) = dbs.get_mut(x) {
                        *m = true;
                    }
                }
            }
        }
        if let Some(m) = dbs.get_mut(d.index()) {
            *m = true;
        }
        self.groups_on(dbs, |g| homes[g])
    }

    /// The groups whose current database is marked in `dbs` or for which `also` holds,
    /// and the marked databases with those groups' current ones.
    fn groups_on(&self, mut dbs: Vec<bool>, also: impl Fn(usize) -> bool) -> Touched {
        let groups: Vec<u32> = (0..self.homes.len())
            .filter(|&g| also(g) || dbs.get(self.homes[g].current.index()) == Some(&true))
            .map(|g| g as u32)
            .collect();
        for &g in &groups {
            if let Some(on) = dbs.get_mut(self.homes[g as usize].current.index()) {
                *on = true;
            }
        }
        let dbs = (0..dbs.len() as u32).filter(|&d| dbs[d as usize]).collect();
        Touched { groups, dbs }
    }
}

/// What a group's mail path depends on (debug check of rule `world.arrivals_touched`).
#[cfg(debug_assertions)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RouteKey {
    mx: Option<crate::ids::ServerId>,
    current: usize,
    state: crate::database::DbState,
    kind: crate::database::DbKind,
    serving: Option<crate::ids::ServerId>,
    rogue: Option<crate::ids::ServerId>,
    /// Which copies of its database receive logs (replication advances with the splits).
    shipping: u64,
    /// Bit `s` (the first 63 servers): server `s` delivers to it; bit 63: the shadow.
    deliverable: u64,
}

#[cfg(debug_assertions)]
impl World {
    /// Each group's [`RouteKey`] at `now`.
    pub(super) fn route_keys(&self, now: dialtone_engine::SimTime) -> Vec<RouteKey> {
        use crate::ids::ServerId;
        use crate::transport::{Path, SHADOW};
        let view = super::mail::PathView { w: self };
        let mx = view.mx_accepts(now);
        (0..self.homes.len())
            .map(|g| {
                let d = self.homes[g].current.index();
                let home = DatabaseId::from(g);
                let mut deliverable = u64::from(view.deliverable(home, SHADOW, now)) << 63;
                for s in 0..self.servers.len().min(63) {
                    deliverable |= u64::from(view.deliverable(home, ServerId::from(s), now)) << s;
                }
                RouteKey {
                    mx,
                    current: d,
                    state: self.dbs[d].state,
                    kind: self.dbs[d].kind,
                    serving: self.serving[d],
                    rogue: self.rogue_serving[d],
                    shipping: self.shipping(d),
                    deliverable,
                }
            })
            .collect()
    }

    /// Rule `world.arrivals_touched`: a change point that split only `touched` changed no
    /// other group's mail path (`before`: the keys before it).
    pub(super) fn check_untouched(
        &self,
        now: dialtone_engine::SimTime,
        before: &[RouteKey],
        touched: &[u32],
        what: &str,
    ) {
        let after = self.route_keys(now);
        for (g, (b, a)) in before.iter().zip(&after).enumerate() {
            assert!(
                b == a || touched.binary_search(&(g as u32)).is_ok(),
                "rule world.arrivals_touched: {what} at {now:?} changed the mail path of \
                 group {g}, which it did not split: {b:?} -> {a:?}"
            );
        }
    }
}
