//! Rule `world.quiet_stretches`: while nothing waits, mail is handled a stretch at a
//! time instead of a tick at a time.
//!
//! The world is *quiet* when every transport queue is empty, the MX answer senders hold
//! can no longer change, no rogue cluster serves anything, and every mailbox group's
//! database is mounted, reachable from the accepting transport server, settled, without
//! a lagged or seeding copy, and every passive copy that receives logs copies and replays
//! a tick's logs (at the office peak, mean + 10 sd) in under half a tick. Then the next
//! mail tick is not 5 minutes away but at the end of a stretch: the last grid point
//! before the office-hours factor changes, at most [`QUIET_MAX`] away, and early enough
//! that a log volume that truncation does not keep emptying (a stopped copy, backups-only
//! truncation) cannot fill within it (mean + 10 sd of its logs). Each group draws the
//! stretch's count at once: a Poisson count with the sum of the ticks' means, the
//! distribution of the ticks' total. Change points inside the stretch take their
//! binomial share as before (the rate is constant within a stretch); a change point after
//! which the world is no longer quiet (or has less room) cuts the stretch at the next grid
//! point.
//!
//! What is written reproduces the state the ticks would have left: the share of the
//! mail up to the last grid point `g` is written as already copied and replayed by the
//! copies that receive logs ([`crate::database::Database::write_shipped`]; in the tick
//! model each tick's advance ships the tick's logs at once, as they keep up), the share
//! after `g` with an ordinary write that ships from `now` on. The transport records the
//! mail delivered at once with latency zero, stamped at grid points at most
//! [`STAMP_EVERY`] apart (Safety Net's hold is measured from those stamps).

use dialtone_engine::{Ctx, SimDuration, SimTime, TraceSink};

use super::config::MailConfig;
use super::mail::{PathView, Taken, binomial, office_factor};
use super::{Event, World};
use crate::database::{DbKind, LOG_KB};
use crate::transport::Path;

/// The longest quiet stretch.
pub(crate) const QUIET_MAX: SimDuration = SimDuration::from_millis(86_400_000);

/// Mail of a stretch is stamped in the transport ledger at grid points at most this far
/// apart (the end of each part, as a tick stamps its mail at its end).
pub(crate) const STAMP_EVERY: SimDuration = SimDuration::from_millis(3_600_000);

/// How many standard deviations above its mean a count is taken to stay: a stretch
/// assumes no more logs than this (the chance of more is below 1e-20).
const SD_MARGIN: f64 = 10.0;

/// The margin a change point inside a stretch checks the rest of it with: lower than
/// [`SD_MARGIN`], so that the mail of the stretch so far (planned with the larger margin)
/// does not cut it, while a log volume that stopped being truncated does.
const RECHECK_MARGIN: f64 = 5.0;

impl World {
    /// Rule `world.quiet_stretches`: the next mail tick after the grid point `now` (a
    /// mail tick): the end of the block, or earlier where a log volume's room ends, when
    /// the world is quiet; the next grid point otherwise.
    pub(super) fn next_mail_tick(&mut self, now: SimTime) -> SimTime {
        let m = self.config.mail;
        let tick = m.tick.as_millis().max(1);
        let grid_next = grid_floor(now.as_millis(), tick) + tick;
        let limit = self.quiet_limit(now, self.block_factor(), SD_MARGIN);
        let end = limit.map_or(0, |l| grid_floor(l.as_millis(), tick));
        self.arrivals.quiet = limit.is_some() && end >= grid_next;
        SimTime::from_millis(end.max(grid_next)).min(self.arrivals.until())
    }

    /// The office-hours factor of the current block (constant within it).
    fn block_factor(&self) -> f64 {
        if self.config.mail.office_hours {
            office_factor(self.arrivals.until())
        } else {
            1.0
        }
    }

    /// Rule `world.quiet_stretches`: `None` unless the world is quiet at `now`; then the
    /// latest time a stretch with the office-hours `factor` may run to, keeping `margin`
    /// standard deviations of room in the log volumes.
    pub(super) fn quiet_limit(&self, now: SimTime, factor: f64, margin: f64) -> Option<SimTime> {
        let m = self.config.mail;
        if !m.quiet_stretches
            || !self.transport.idle()
            || self.rogue_serving.iter().any(Option::is_some)
            || !self.mx_settled(now)
        {
            return None;
        }
        let server = PathView { w: self }.mx_accepts(now)?;
        let mut per_db = vec![0.0f64; self.dbs.len()];
        for h in &self.homes {
            per_db[h.current.index()] += h.users as f64 * m.messages_per_user_per_day;
        }
        let tick_ms = m.tick.as_millis().max(1);
        let peak = if m.office_hours {
            office_factor(SimTime::from_millis(8 * 3_600_000))
        } else {
            1.0
        };
        let mut limit = now.saturating_add(QUIET_MAX);
        for (d, &per_day) in per_db.iter().enumerate() {
            if per_day <= 0.0 {
                continue;
            }
            let served = self.serving[d].is_some_and(|s| self.servers_reach(server, s));
            if !served {
                return None;
            }
            let db = &self.dbs[d];
            let kb = db.params.message_kb as f64 / LOG_KB as f64;
            let per_tick = per_day * peak * tick_ms as f64 / 86_400_000.0;
            let tick_logs = (per_tick + SD_MARGIN * per_tick.sqrt()) * kb;
            let conn = self.shipping(d);
            let room = db.quiet_room(|i| i < 64 && conn & (1 << i) != 0, tick_logs, tick_ms)?;
            if room != u64::MAX {
                let per_ms = per_day * factor / 86_400_000.0;
                limit = limit.min(now.saturating_add(room_time(room, kb, per_ms, margin)));
            }
        }
        Some(limit)
    }

    /// Whether the MX answer senders hold can no longer change: the record's last change
    /// was before the cache's last refresh.
    fn mx_settled(&self, now: SimTime) -> bool {
        let ttl = self.mx.effective_ttl();
        let next = self.mx.next_refresh(now, self.mx_phase);
        let last = if next == now {
            now.as_millis()
        } else {
            next.as_millis().saturating_sub(ttl.as_millis())
        };
        self.mx.last_change().as_millis() <= last
    }

    /// Rule `world.quiet_stretches`: after a change point in a quiet stretch, the next
    /// mail tick moves to the next grid point when the world is no longer quiet, or
    /// earlier than planned when a log volume has less room.
    pub(super) fn recheck_stretch<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if !self.arrivals.quiet {
            return;
        }
        let tick = self.config.mail.tick.as_millis().max(1);
        let grid_next = grid_floor(now.as_millis(), tick) + tick;
        let limit = self.quiet_limit(now, self.block_factor(), RECHECK_MARGIN);
        let end = limit.map_or(0, |l| grid_floor(l.as_millis(), tick));
        self.arrivals.quiet = limit.is_some() && end >= grid_next;
        let next = SimTime::from_millis(end.max(grid_next));
        if next >= self.arrivals.next_tick() {
            return;
        }
        self.arrivals.set_next(next);
        if let Some(id) = self.arrivals.tick_event.take() {
            let _ = ctx.cancel(id);
        }
        self.arrivals.tick_event = ctx.schedule(next, Event::MailTick.into()).ok();
    }

    /// Rule `world.quiet_stretches`: offers the arrivals of `(from, now]` in a quiet
    /// stretch, then refreshes if a database failed meanwhile (log volume full).
    pub(super) fn offer_quiet<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        batch: &[Taken],
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if self.write_quiet(now, batch) {
            self.refresh(now, ctx);
        }
    }

    /// The end of the run at `now` inside a stretch: the arrivals up to the last grid
    /// point are written, as the ticks up to it would have (no tick after `now` runs).
    pub(super) fn finish_stretch(&mut self, now: SimTime) {
        if !self.arrivals.quiet {
            return;
        }
        let tick = self.config.mail.tick.as_millis().max(1);
        let g = SimTime::from_millis(grid_floor(now.as_millis(), tick));
        let batch = self.arrivals.take_until(g, None);
        if !batch.is_empty() {
            let _ = self.write_quiet(g, &batch);
        }
    }

    /// Delivers and writes each group's arrivals of `(from, now]` (see the module's text). Returns
    /// whether a database changed state.
    fn write_quiet(&mut self, now: SimTime, batch: &[Taken]) -> bool {
        let Some(server) = PathView { w: self }.mx_accepts(now) else {
            // Not reachable while quiet; deliver nothing rather than guess.
            debug_assert!(false, "quiet stretch without an MX endpoint");
            return false;
        };
        let tick = self.config.mail.tick.as_millis().max(1);
        let grid = SimTime::from_millis(grid_floor(now.as_millis(), tick));
        let mut changed = false;
        for &(home, n, from) in batch {
            let g = grid.max(from);
            let old = if g >= now {
                n
            } else {
                let p = g.saturating_duration_since(from).as_millis() as f64
                    / now.saturating_duration_since(from).as_millis() as f64;
                binomial(self.arrivals.split_rng(), n, p)
            };
            // Safety Net stamps drawn when read (rule perf.safety_net_spread).
            self.transport.deliver_spread(from, g, home, server, old);
            self.transport.deliver_spread(g, now, home, server, n - old);
            let d = self.homes[home.index()].current.index();
            let before = self.dbs[d].state;
            if old > 0 {
                let conn = self.shipping(d);
                self.dbs[d].write_shipped(g, old, |i| i < 64 && conn & (1 << i) != 0);
            }
            if n > old {
                self.dbs[d].write(now, n - old);
            }
            if self.dbs[d].kind == DbKind::DialTone {
                self.homes[home.index()].dial_tone_messages += n;
            }
            changed |= self.dbs[d].state != before;
        }
        let _ = self.with_transport(|t, v| t.step(now, v));
        changed
    }
}

/// The spacing of quiet mail's Safety Net stamps: [`STAMP_EVERY`] in whole ticks.
pub(super) fn stamp_step(tick: SimDuration) -> SimDuration {
    let tick = tick.as_millis().max(1);
    SimDuration::from_millis((STAMP_EVERY.as_millis() / tick).max(1) * tick)
}

/// The last multiple of `tick` at or before `ms`.
fn grid_floor(ms: u64, tick: u64) -> u64 {
    ms / tick * tick
}

/// Rule `world.quiet_stretches`: the end of the block that starts at the grid point
/// `start`: the last grid point whose office-hours factor is that of the first tick's end,
/// at most [`QUIET_MAX`] after `start` and at most the horizon's last grid point; one
/// tick at least.
pub(super) fn block_end(start: SimTime, m: MailConfig) -> SimTime {
    let tick = m.tick.as_millis().max(1);
    let first = start.saturating_add(m.tick);
    let mut cap = grid_floor(start.saturating_add(QUIET_MAX).as_millis(), tick);
    if let Some(h) = m.horizon {
        cap = cap.min(grid_floor(h.as_millis(), tick));
    }
    let cap = SimTime::from_millis(cap);
    if !m.office_hours || cap <= first {
        return cap.max(first);
    }
    let f0 = office_factor(first);
    // The factor is constant within each whole hour: find the first hour that differs.
    let mut hour = first.as_millis() / 3_600_000 + 1;
    loop {
        let at = hour * 3_600_000;
        if at > cap.as_millis() {
            return cap;
        }
        if office_factor(SimTime::from_millis(at)).to_bits() != f0.to_bits() {
            let first_new = at.div_ceil(tick) * tick;
            return SimTime::from_millis(first_new - tick).clamp(first, cap);
        }
        hour += 1;
    }
}

/// How long a log volume with `room` logs left takes to fill, `margin` standard
/// deviations early: the longest `t` with `mean + margin sd <= room` for a Poisson count
/// of messages of `kb` logs each arriving at `per_ms` a millisecond.
fn room_time(room: u64, kb: f64, per_ms: f64, margin: f64) -> SimDuration {
    if per_ms <= 0.0 || kb <= 0.0 {
        return QUIET_MAX;
    }
    let messages = room as f64 / kb;
    let root = (-margin + (margin * margin + 4.0 * messages).sqrt()) / 2.0;
    let mean = root * root;
    SimDuration::from_millis((mean / per_ms) as u64)
}

#[cfg(test)]
mod tests {
    use dialtone_engine::{RngStreams, Simulation};

    use super::*;
    use crate::causes::Cause;
    use crate::fixtures::{MBX1, two_sites};
    use crate::world::{Fault, WorldConfig};

    fn t(s: &str) -> SimTime {
        s.parse().expect("time")
    }

    /// The fixture with copies slow enough that a stretch's logs take hours to ship
    /// unless they are written as shipped (a tick's logs, at mean + 10 sd, in 110 s).
    fn slow_copies(stretches: bool) -> WorldConfig {
        let mut w = two_sites(true, "5m");
        for db in &mut w.databases {
            db.params.ms_per_log = 5_000;
            db.params.ms_per_replay_log = 5_000;
        }
        w.mail.quiet_stretches = stretches;
        w
    }

    /// Runs `spec` with `seed` to `end` with `events`, finished when `end` is the
    /// horizon.
    fn run(
        spec: WorldConfig,
        seed: u64,
        (end, horizon): (SimTime, SimTime),
        events: &[(SimTime, Event)],
    ) -> World {
        let mut spec = spec;
        spec.mail.horizon = Some(horizon);
        let world = World::new(spec, &RngStreams::new(seed, 0)).expect("streams");
        let mut sim = Simulation::new(world);
        for (at, ev) in sim.model().initial_events() {
            sim.schedule(at, ev).expect("future");
        }
        for (at, ev) in events {
            sim.schedule(*at, ev.clone()).expect("future");
        }
        sim.run_until(end);
        let (mut w, _) = sim.into_parts();
        if end == horizon {
            w.finish(end);
        }
        w
    }

    /// A helpdesk minute with nothing to do: an event that is no change point for mail
    /// (no mail is offered, replication does not advance), as client retries are.
    fn idle_helpdesk() -> (SimTime, Event) {
        (t("10h3m"), Event::HelpdeskTick)
    }

    /// What a failure at `at` would meet: every passive copy's copy queue (logs) and the
    /// messages that mounting it would lose, summed; seen at a change point that changes
    /// nothing (a refused cluster action: like a failure, it touches every group, rule
    /// `world.arrivals_touched`), after an idle helpdesk minute.
    fn at_failure(spec: WorldConfig, seed: u64, at: SimTime) -> (f64, f64) {
        let probe = Event::Action(super::super::Action::SetWitness {
            server: crate::ids::ServerId(0),
        });
        let horizon = at.saturating_add(SimDuration::from_millis(3_600_000));
        let w = run(spec, seed, (at, horizon), &[idle_helpdesk(), (at, probe)]);
        let (mut queue, mut lost) = (0, 0);
        for db in w.databases() {
            for i in (0..db.copies.len()).filter(|&i| i != db.active) {
                queue += db.copy_queue(i);
                lost += db.messages - db.messages_in_logs(db.copies[i].copied);
            }
        }
        (queue as f64, lost as f64)
    }

    /// Mean and standard error.
    fn mean_se(x: &[f64]) -> (f64, f64) {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
        (m, (var / n).sqrt())
    }

    /// The two samples' means agree within 4 standard errors of their difference (plus
    /// a hundredth of the larger mean's magnitude for counts that are almost constant).
    fn agree(name: &str, on: &[f64], off: &[f64]) {
        let ((m1, s1), (m0, s0)) = (mean_se(on), mean_se(off));
        let tol = 4.0 * (s1 * s1 + s0 * s0).sqrt() + 0.01 * m1.abs().max(m0.abs()) + 1e-9;
        assert!(
            (m1 - m0).abs() <= tol,
            "{name}: {m1:.2} ± {s1:.2} with quiet stretches, {m0:.2} ± {s0:.2} without"
        );
    }

    #[test]
    fn quiet_stretches_leave_the_copies_as_the_ticks_do_at_a_failure() {
        // Rule world.quiet_stretches, statistically: 300 seeds a side (fixed, so it
        // never flakes). A change point 10h03m20s into a flat day (inside a day-long
        // stretch), 20 s after a client event (which does not advance replication, rule
        // world.arrivals_touched), sees the copies as the ticks would have left them: the
        // mail up to the last tick shipped, the 3m20s since it shipping for 3m20s; and as
        // much mail.
        let at = t("10h3m20s");
        let (mut q, mut l, mut q0, mut l0) = (vec![], vec![], vec![], vec![]);
        for seed in 0..300 {
            let (a, b) = at_failure(slow_copies(true), seed, at);
            q.push(a);
            l.push(b);
            let (a, b) = at_failure(slow_copies(false), seed + 10_000, at);
            q0.push(a);
            l0.push(b);
        }
        agree("copy queue at the failure", &q, &q0);
        agree("messages a mount would lose", &l, &l0);
    }

    #[test]
    fn a_client_event_in_a_quiet_stretch_splits_nothing_and_advances_nothing() {
        // Rule world.arrivals_touched: clients and the helpdesk route no mail, so a
        // helpdesk minute inside a quiet night neither splits the stretch's arrivals nor
        // advances replication (every other change point in a quiet stretch does both,
        // for every group).
        let at = t("3h17m");
        let w = run(
            two_sites(true, "5m"),
            1,
            (t("3h20m"), t("1d")),
            &[(at, Event::HelpdeskTick)],
        );
        assert!(w.arrivals.quiet, "the night is quiet");
        assert!(
            w.arrivals.offered().iter().all(|&o| o < at),
            "offered up to {:?}",
            w.arrivals.offered()
        );
        assert!(w.replication_clock < at, "{:?}", w.replication_clock);
    }

    #[test]
    fn mail_a_later_split_writes_ships_with_the_whole_interval_it_arrived_in() {
        // Rule world.arrivals_touched: a change point on group 1 (a refused swap) splits
        // only group 1 and advances only its database's replication, so group 0's mail
        // of the 3m20s since the tick, written at the change point that touches it,
        // ships with all of that time, as when nothing happened to group 0 between.
        // Advancing every database at every change point would give it the last 20 s.
        let swap = |h: u32| {
            Event::Action(super::super::Action::Swap {
                home: crate::ids::HomeId(h),
            })
        };
        let queue_of_db0 = |first: Option<(SimTime, Event)>, seed: u64| {
            let at = t("10h3m20s");
            let mut spec = crate::fixtures::two_sites_scaled(true, "5m", 20_000);
            spec.mail.quiet_stretches = false;
            for db in &mut spec.databases {
                // About 1.5 logs a second arrive; a copy ships 5: it keeps up, but 20 s
                // of shipping is not enough for 3m20s of logs.
                db.params.ms_per_log = 200;
                db.params.ms_per_replay_log = 200;
            }
            let events: Vec<_> = first.into_iter().chain([(at, swap(0))]).collect();
            let horizon = at.saturating_add(SimDuration::from_millis(3_600_000));
            let w = run(spec, seed, (at, horizon), &events);
            let db = &w.databases()[0];
            (0..db.copies.len())
                .filter(|&i| i != db.active)
                .map(|i| db.copy_queue(i) as f64)
                .sum::<f64>()
        };
        let (mut with, mut without) = (vec![], vec![]);
        for seed in 0..100 {
            with.push(queue_of_db0(Some((t("10h3m"), swap(1))), seed));
            without.push(queue_of_db0(None, seed + 10_000));
        }
        // The copies keep up, so both are about empty; shipping only the last 20 s
        // leaves about 150 logs.
        let ((m1, s1), (m0, s0)) = (mean_se(&with), mean_se(&without));
        assert!(
            (m1 - m0).abs() <= 4.0 * (s1 * s1 + s0 * s0).sqrt() + 1.0,
            "db0's copy queue: {m1:.2} ± {s1:.2} after group 1's change point, \
             {m0:.2} ± {s0:.2} without it"
        );
    }

    #[test]
    fn quiet_stretches_deliver_and_lose_as_the_ticks_do_in_a_lossy_failover() {
        // Rule world.quiet_stretches, statistically: mbx1 loses power 10h03m20s into a
        // quiet day; Active Manager fails db0 over (lossy: the copy misses the open log)
        // and Safety Net resubmits. Mail fates agree with and without stretches.
        let down = (
            t("10h3m20s"),
            Event::Fault(
                Fault::ServerPower {
                    server: MBX1,
                    on: false,
                },
                Cause::Failure(0),
            ),
        );
        let end = t("14h");
        let mut on: [Vec<f64>; 5] = Default::default();
        let mut off: [Vec<f64>; 5] = Default::default();
        for seed in 0..300 {
            for (stretches, out, s) in [(true, &mut on, seed), (false, &mut off, seed + 10_000)] {
                let events = [idle_helpdesk(), down.clone()];
                let f = run(slow_copies(stretches), s, (end, end), &events).fates();
                let v = [
                    f.offered,
                    f.delivered_on_time,
                    f.delivered_late,
                    f.lost_silently,
                    f.recovered,
                ];
                for (o, x) in out.iter_mut().zip(v) {
                    o.push(x as f64);
                }
            }
        }
        let names = ["offered", "on time", "late", "lost", "recovered"];
        for (k, name) in names.iter().enumerate() {
            agree(name, &on[k], &off[k]);
        }
    }
}
