//! Mail in the world: inbound batches every tick (Poisson, office-hours profile), the
//! transport ledger seen through [`PathView`], and where deliveries are written (rules
//! `world.mx`, `world.split_brain`).

use dialtone_engine::{Ctx, SimTime, StreamRng, TraceSink};

use super::{Event, World};
use crate::database::{DbKind, DbState};
use crate::ids::{DatabaseId, ServerId, SiteId};
use crate::transport::{Path, SHADOW, Transport};

impl World {
    /// A mail tick: inbound mail, then a refresh if a database failed meanwhile (log
    /// volume full while replication advanced).
    pub(super) fn mail_tick<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let before: Vec<DbState> = self.dbs.iter().map(|d| d.state).collect();
        self.inbound_mail(now, ctx);
        if self.dbs.iter().zip(&before).any(|(d, b)| d.state != *b) {
            self.refresh(now, ctx);
        }
    }

    /// Rule: inbound mail for each mailbox group this tick (Poisson, office-hours profile).
    fn inbound_mail<E: From<Event>, S: TraceSink>(
        &mut self,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        let m = self.config.mail;
        let day_ms = 86_400_000.0;
        let share = m.tick.as_millis() as f64 / day_ms;
        let factor = if m.office_hours {
            office_factor(now)
        } else {
            1.0
        };
        for h in 0..self.homes.len() {
            let mean = self.homes[h].users as f64 * m.messages_per_user_per_day * share * factor;
            let count = poisson(&mut self.mail_rng[h], mean);
            if count > 0 {
                let out = self.with_transport(|t, v| t.offer(now, DatabaseId::from(h), count, v));
                self.write_deliveries(now, out);
            }
        }
        let out = self.with_transport(|t, v| t.step(now, v));
        self.write_deliveries(now, out);
        let _ = ctx.schedule_in(m.tick, Event::MailTick.into());
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
    fn with_transport<R>(&mut self, f: impl FnOnce(&mut Transport, &PathView<'_>) -> R) -> R {
        // Empty queues do not allocate, so moving the ledger out is free.
        let mut t = std::mem::replace(&mut self.transport, Transport::new(self.config.transport));
        let r = f(&mut t, &PathView { w: self });
        self.transport = t;
        r
    }
}

/// The world as transport sees it.
struct PathView<'a> {
    w: &'a World,
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
fn office_factor(now: SimTime) -> f64 {
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

/// A Poisson draw (rand_distr's exact sampler), as a whole count.
fn poisson(rng: &mut StreamRng, mean: f64) -> u64 {
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
