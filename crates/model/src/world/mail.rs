//! Mail in the world: inbound arrivals (Poisson, office-hours profile) offered at every
//! tick and at every change point in between (rule `world.arrivals`), a quiet stretch at
//! a time while nothing waits (rule `world.quiet_stretches`), the transport ledger seen
//! through [`PathView`], and where deliveries are written (rules `world.mx`,
//! `world.split_brain`).

use dialtone_engine::{Ctx, EventId, SimTime, StreamRng, TraceSink};

use super::config::MailConfig;
use super::{Event, World};
use crate::database::{DbKind, DbState};
use crate::ids::{DatabaseId, ServerId, SiteId};
use crate::transport::{Path, SHADOW, Transport};

/// Rule `world.arrivals`: inbound mail not yet offered. Each mailbox group's arrivals in
/// the current tick interval `(from, until]` are drawn when the interval starts (Poisson,
/// office-hours profile, one stream per group, so every strategy sees the same counts per
/// interval). A change point inside the interval (a fault, a heartbeat, an action, a
/// failover...) first offers the arrivals before it, a binomial share of those pending
/// with the elapsed fraction of the interval (arrival times of a Poisson process are
/// uniform given their count): mail that arrived before a change is routed as the world
/// was before it, so no result depends on where a failure falls relative to the tick.
///
/// Rule `world.arrivals_touched`: a change point splits only the groups whose mail path
/// it may change ([`super::touched`]); the others keep their arrivals pending, each group
/// from its own last split, until a change point that touches it or the next mail tick.
#[derive(Debug)]
pub(crate) struct Arrivals {
    /// Per group: draws the count for each interval.
    counts: Vec<StreamRng>,
    /// Splits an interval's arrivals at change points.
    split: StreamRng,
    /// Per group: arrivals of the current interval not yet offered.
    pending: Vec<u64>,
    /// Per group: its arrivals up to here were offered (rule `world.arrivals_touched`).
    offered: Vec<SimTime>,
    /// Per group: its users (constant over a run).
    users: Vec<u64>,
    /// Per group: the Poisson samplers of the means drawn so far (a mean takes one value
    /// per profile factor, so at most two; building a sampler costs as much as a draw).
    samplers: Vec<Vec<(f64, rand_distr::Poisson<f64>)>>,
    /// Start of the current interval.
    from: SimTime,
    /// End of the current interval: a tick, or with quiet stretches a block (rule
    /// `world.quiet_stretches`).
    until: SimTime,
    /// The next mail tick: `until`, or a grid point before it.
    next: SimTime,
    /// Arrivals are written a stretch at a time (rule `world.quiet_stretches`): the world
    /// was quiet at the last mail tick and no change point since made it otherwise.
    pub(super) quiet: bool,
    /// The pending mail tick, when [`World::mail_tick`] scheduled it.
    pub(super) tick_event: Option<EventId>,
    /// Every change point splits every group, as before rule `world.arrivals_touched`
    /// (tests that change the world behind the refresh's back, so that a refresh may
    /// change any group's mail path).
    #[cfg(test)]
    pub(super) split_all: bool,
}

/// Arrivals taken out of the pending ones: `(group, count, offered from)`, the group's
/// arrivals of `(from, now]`.
pub(super) type Taken = (DatabaseId, u64, SimTime);

impl Arrivals {
    /// Arrivals for groups of `users`, the first interval drawn.
    pub(crate) fn new(
        counts: Vec<StreamRng>,
        split: StreamRng,
        m: MailConfig,
        users: &[u64],
    ) -> Self {
        let mut a = Arrivals {
            pending: vec![0; counts.len()],
            offered: vec![SimTime::ZERO; counts.len()],
            users: users.to_vec(),
            samplers: vec![Vec::new(); counts.len()],
            counts,
            split,
            from: SimTime::ZERO,
            until: SimTime::ZERO,
            next: SimTime::ZERO,
            quiet: false,
            tick_event: None,
            #[cfg(test)]
            split_all: false,
        };
        a.draw_next(m);
        a.next = SimTime::ZERO.saturating_add(m.tick);
        a
    }

    /// Per group: its arrivals up to here were offered.
    #[cfg(test)]
    pub(super) fn offered(&self) -> &[SimTime] {
        &self.offered
    }

    /// The next mail tick.
    pub(super) fn next_tick(&self) -> SimTime {
        self.next
    }

    /// Moves the next mail tick to `at` (a grid point, at most `until`).
    pub(super) fn set_next(&mut self, at: SimTime) {
        self.next = at.min(self.until);
    }

    /// End of the current interval (block).
    pub(super) fn until(&self) -> SimTime {
        self.until
    }

    /// The stream that splits intervals at change points.
    pub(super) fn split_rng(&mut self) -> &mut StreamRng {
        &mut self.split
    }

    /// Starts the interval after `until`: draws each group's arrivals in it. Without
    /// quiet stretches the interval is a tick; with them a block of ticks of one profile
    /// factor (rule `world.quiet_stretches`, [`super::quiet::block_end`]), whose count is
    /// a Poisson draw with the sum of its ticks' means: the same for every strategy, as
    /// blocks depend only on the clock.
    fn draw_next(&mut self, m: MailConfig) {
        debug_assert!(
            self.pending.iter().all(|&n| n == 0),
            "an interval ends with every arrival offered"
        );
        self.from = self.until;
        self.offered.fill(self.from);
        let one_tick = self.from.saturating_add(m.tick);
        self.until = if m.quiet_stretches {
            super::quiet::block_end(self.from, m)
        } else {
            one_tick
        };
        let share =
            self.until.saturating_duration_since(self.from).as_millis() as f64 / 86_400_000.0;
        let factor = if m.office_hours {
            office_factor(self.until)
        } else {
            1.0
        };
        for (h, rng) in self.counts.iter_mut().enumerate() {
            let mean = self.users[h] as f64 * m.messages_per_user_per_day * share * factor;
            self.pending[h] += if self.until == one_tick {
                poisson_cached(&mut self.samplers[h], rng, mean)
            } else {
                poisson(rng, mean)
            };
        }
    }

    /// Takes the arrivals up to `now` of every group (`groups` is `None`) or of
    /// `groups` (in that order) out of the pending ones: all of them at the end of the
    /// interval, before it a binomial share with the fraction of what was left of the
    /// interval since the group's last split (rule `world.arrivals_touched`).
    pub(super) fn take_until(&mut self, now: SimTime, groups: Option<&[u32]>) -> Vec<Taken> {
        let mut out = Vec::with_capacity(groups.map_or(self.pending.len(), <[u32]>::len));
        // The share of the last `from` seen (groups split together share it).
        let mut share = (SimTime::MAX, 0.0);
        let until = self.until;
        match groups {
            None => {
                let groups = self.offered.iter_mut().zip(self.pending.iter_mut());
                for (h, (offered, pending)) in groups.enumerate() {
                    if let Some(t) = take(offered, pending, now, until, &mut share, &mut self.split)
                    {
                        out.push((DatabaseId::from(h), t.0, t.1));
                    }
                }
            }
            Some(list) => {
                for &h in list {
                    let h = h as usize;
                    let (Some(offered), Some(pending)) =
                        (self.offered.get_mut(h), self.pending.get_mut(h))
                    else {
                        continue;
                    };
                    if let Some(t) = take(offered, pending, now, until, &mut share, &mut self.split)
                    {
                        out.push((DatabaseId::from(h), t.0, t.1));
                    }
                }
            }
        }
        out
    }
}

/// One group's arrivals up to `now` out of its `pending` ones, offered up to `offered`
/// so far: `(count, offered from)` when there are any (see [`Arrivals::take_until`];
/// `share` caches the share of one `from`).
#[inline]
fn take(
    offered: &mut SimTime,
    pending: &mut u64,
    now: SimTime,
    until: SimTime,
    share: &mut (SimTime, f64),
    split: &mut StreamRng,
) -> Option<(u64, SimTime)> {
    let from = *offered;
    if now <= from {
        return None;
    }
    *offered = now;
    if *pending == 0 {
        return None;
    }
    if share.0 != from {
        let left = until.saturating_duration_since(from).as_millis() as f64;
        let elapsed = now.saturating_duration_since(from).as_millis() as f64;
        let p = if left > 0.0 {
            (elapsed / left).min(1.0)
        } else {
            1.0
        };
        *share = (from, p);
    }
    let k = if share.1 >= 1.0 {
        *pending
    } else {
        binomial(split, *pending, share.1)
    };
    *pending -= k;
    (k > 0).then_some((k, from))
}

impl World {
    /// A mail tick (its interval's arrivals were offered by `arrivals_until`): the
    /// transport's retries, the next interval drawn (rule `world.arrivals`).
    pub(super) fn mail_tick<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        self.offer_arrivals(now, &[], ctx);
        if now >= self.arrivals.until {
            self.arrivals.draw_next(self.config.mail);
        }
        let next = self.next_mail_tick(now);
        self.arrivals.set_next(next);
        self.arrivals.tick_event = ctx
            .schedule(self.arrivals.next_tick(), Event::MailTick.into())
            .ok();
    }

    /// Rule `world.arrivals`: before a change point at `now`, the mail that arrived since
    /// the last one is offered as the world was (and the transport steps). Rule
    /// `world.arrivals_touched`: only `groups` (every group when `None`) are split.
    pub(super) fn arrivals_until<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        groups: Option<&[u32]>,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let quiet = self.arrivals.quiet;
        let taken = self.arrivals.take_until(now, groups);
        if quiet {
            if !taken.is_empty() {
                self.offer_quiet(now, &taken, ctx);
            }
        } else if !taken.is_empty() {
            let batch: Vec<(DatabaseId, u64)> = taken.iter().map(|&(h, n, _)| (h, n)).collect();
            self.offer_arrivals(now, &batch, ctx);
        }
    }

    /// Offers `batch` and steps the transport once, writes what it delivers, then
    /// refreshes if a database failed meanwhile (log volume full).
    fn offer_arrivals<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        batch: &[(DatabaseId, u64)],
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let before: Vec<DbState> = self.dbs.iter().map(|d| d.state).collect();
        let out = self.with_transport(|t, v| t.offer_all(now, batch, v));
        self.write_deliveries(now, out);
        if self.dbs.iter().zip(&before).any(|(d, b)| d.state != *b) {
            self.refresh(now, ctx);
        }
    }

    fn write_deliveries(&mut self, now: SimTime, out: Vec<(DatabaseId, ServerId, u64)>) {
        for (home, from, count) in out {
            let h = home.index();
            let d = self.homes[h].current.index();
            let authoritative =
                self.serving[d].is_some_and(|s| from == SHADOW || self.servers_reach(from, s));
            let active_server = self.dbs[d].copies[self.dbs[d].active].config.server;
            // Rule world.split_brain: a rogue cluster writing to the copy the
            // authoritative view also calls active (while nobody else serves it) writes
            // real mail; writing to any other copy diverges: it is discarded when the
            // partition heals and counts as split-brain mail.
            let rogue_same_copy =
                self.serving[d].is_none() && self.rogue_serving[d] == Some(active_server);
            if authoritative || rogue_same_copy {
                self.dbs[d].write(now, count);
                if self.dbs[d].kind == DbKind::DialTone {
                    self.homes[h].dial_tone_messages += count;
                }
            } else {
                // Written to a diverged rogue copy: the losing side of a split brain.
                self.tallies.split_brain_messages += count;
                self.transport.discard(home, count);
            }
        }
    }

    /// Runs `f` on the mail ledger with a read-only view of the rest of the world.
    pub(super) fn with_transport<R>(
        &mut self,
        f: impl FnOnce(&mut Transport, &PathView<'_>) -> R,
    ) -> R {
        // Empty queues do not allocate, so moving the ledger out is free.
        let mut t = std::mem::replace(&mut self.transport, Transport::new(self.config.transport));
        let r = f(&mut t, &PathView { w: self });
        self.transport = t;
        r
    }
}

/// The world as transport sees it.
pub(super) struct PathView<'a> {
    pub(super) w: &'a World,
}

impl Path for PathView<'_> {
    /// Rule `world.mx`: senders try the site their cached MX answer names; with
    /// active/active Edge they fall back to any other site (RFC 5321: MX hosts in
    /// preference order).
    fn mx_accepts(&self, now: SimTime) -> Option<ServerId> {
        let w = self.w;
        let site = SiteId(w.mx.cached(now, w.mx_phase));
        let accepts_in = |site: SiteId| {
            (0..w.servers.len()).map(ServerId::from).find(|&s| {
                w.site_of(s) == site
                    && w.server_up(s)
                    && w.servers[s.index()].services.transport
                    && w.is_mailbox_server(s)
            })
        };
        accepts_in(site).or_else(|| {
            if w.config.mail.edge_active_active {
                (0..w.net.sites()).map(SiteId::from).find_map(accepts_in)
            } else {
                None
            }
        })
    }

    fn deliverable(&self, home: DatabaseId, from: ServerId, _now: SimTime) -> bool {
        let w = self.w;
        let d = w.homes[home.index()].current.index();
        let to_authoritative =
            w.serving[d].is_some_and(|s| from == SHADOW || w.servers_reach(from, s));
        let to_rogue =
            from != SHADOW && w.rogue_serving[d].is_some_and(|s| w.servers_reach(from, s));
        to_authoritative || to_rogue
    }

    fn reaches_authoritative(&self, home: DatabaseId, from: ServerId) -> bool {
        let w = self.w;
        let d = w.homes[home.index()].current.index();
        w.serving[d].is_some_and(|s| w.servers_reach(from, s))
    }
}

/// Office-hours profile: 08:00-18:00 on weekdays (days 0-4 of each week) carry 80% of a
/// week's mail; the factor averages to 1 over a week.
pub(super) fn office_factor(now: SimTime) -> f64 {
    let ms = now.as_millis();
    let day = (ms / 86_400_000) % 7;
    let hour = (ms % 86_400_000) / 3_600_000;
    let office = day < 5 && (8..18).contains(&hour);
    // Office time is 5 x 10 = 50 of 168 hours: 0.8 of the mail in 50 h, 0.2 in 118 h.
    if office {
        0.8 * 168.0 / 50.0
    } else {
        0.2 * 168.0 / 118.0
    }
}

pub(super) use crate::draw::binomial;

/// [`poisson`] with the sampler of `mean` kept in `cache` (the same draw, as the sampler
/// is a function of the mean; at most 4 means are kept).
fn poisson_cached(
    cache: &mut Vec<(f64, rand_distr::Poisson<f64>)>,
    rng: &mut StreamRng,
    mean: f64,
) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    let found = cache.iter().position(|c| c.0.to_bits() == mean.to_bits());
    let i = match found {
        Some(i) => i,
        None => match rand_distr::Poisson::new(mean) {
            Ok(p) if cache.len() < 4 => {
                cache.push((mean, p));
                cache.len() - 1
            }
            _ => return poisson(rng, mean),
        },
    };
    let x: f64 = rand_distr::Distribution::sample(&cache[i].1, rng);
    x as u64
}

/// A Poisson draw (rand_distr's exact sampler), as a whole count.
pub(super) fn poisson(rng: &mut StreamRng, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    match rand_distr::Poisson::new(mean) {
        Ok(p) => {
            let x: f64 = rand_distr::Distribution::sample(&p, rng);
            x as u64
        }
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use dialtone_engine::{RngStreams, SimDuration};

    use super::*;

    fn arrivals() -> Arrivals {
        let streams = RngStreams::new(3, 0);
        let counts = (0..2)
            .map(|i| streams.substream("mail", i).expect("stream"))
            .collect();
        let m = MailConfig {
            messages_per_user_per_day: 60.0,
            sent_per_user_per_day: 24.0,
            tick: SimDuration::from_mins(5).expect("5 min"),
            office_hours: false,
            edge_active_active: false,
            quiet_stretches: false,
            horizon: None,
        };
        Arrivals::new(
            counts,
            streams.stream("mail-split").expect("stream"),
            m,
            &[1000, 3000],
        )
    }

    fn at(s: u64) -> SimTime {
        SimTime::from_millis(s * 1000)
    }

    fn total(batches: &[Vec<Taken>], h: u32) -> u64 {
        batches
            .iter()
            .flatten()
            .filter(|b| b.0 == DatabaseId(h))
            .map(|b| b.1)
            .sum()
    }

    #[test]
    fn change_points_split_an_interval_without_changing_its_count() {
        // Rule world.arrivals: the same interval counts whether or not change points
        // split it (common random numbers across strategies), nothing offered twice.
        let mut whole = arrivals();
        let all = vec![whole.take_until(at(300), None)];
        let mut split = arrivals();
        let parts: Vec<_> = [7, 7, 120, 299, 300, 300]
            .iter()
            .map(|&s| split.take_until(at(s), None))
            .collect();
        for h in 0..2 {
            assert!(total(&all, h) > 0);
            assert_eq!(total(&parts, h), total(&all, h), "group {h}");
        }
        // The first 7 s hold about 7/300 of the interval, not all of it.
        assert!(total(&parts[..1], 1) < total(&all, 1) / 10, "{parts:?}");
        assert!(split.take_until(at(300), None).is_empty());
    }

    #[test]
    fn a_change_point_splits_only_the_groups_it_touches_each_from_its_own_last_split() {
        // Rule world.arrivals_touched: splitting group 1 alone leaves group 0's arrivals
        // pending (no draw, nothing offered); each group's share is the fraction of what
        // was left of the interval since its own last split; nothing is lost or doubled.
        let mut whole = arrivals();
        let all = vec![whole.take_until(at(300), None)];
        let mut a = arrivals();
        let first = a.take_until(at(100), Some(&[1]));
        assert!(first.iter().all(|t| t.0 == DatabaseId(1)), "{first:?}");
        assert_eq!(a.offered[0], SimTime::ZERO, "group 0 untouched");
        let second = a.take_until(at(200), Some(&[1]));
        let (n, k) = (total(&all, 1), total(std::slice::from_ref(&second), 1));
        // (100, 200] is half of what was left after 100 s: a third of the interval.
        let (mean, sd) = (n as f64 / 3.0, (n as f64 * 2.0 / 9.0).sqrt());
        assert!((k as f64 - mean).abs() < 5.0 * sd, "{k} of {n}");
        assert!(
            second.iter().all(|t| t.2 == at(100)),
            "offered from its last split"
        );
        let zero = a.take_until(at(250), Some(&[0]));
        let (n0, k0) = (total(&all, 0), total(&[zero], 0));
        let (mean0, sd0) = (
            n0 as f64 * 250.0 / 300.0,
            (n0 as f64 * 250.0 * 50.0).sqrt() / 300.0,
        );
        assert!((k0 as f64 - mean0).abs() < 5.0 * sd0, "{k0} of {n0}");
        let rest = a.take_until(at(300), None);
        let parts = [first, second, rest];
        for h in 0..2 {
            let offered = total(&parts, h) + if h == 0 { k0 } else { 0 };
            assert_eq!(offered, total(&all, h), "group {h}");
        }
    }
}
