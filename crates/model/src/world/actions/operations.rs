//! Operations outside Exchange: the helpdesk's profile changes, DNS record changes,
//! powering servers and sites, and rebuilding a lost server.

use dialtone_engine::{Ctx, SimDuration, SimTime, TraceSink};

use super::{FollowUp, Outcome};
use crate::causes::Cause;
use crate::database::CopyHealth;
use crate::dns::RecordKind;
use crate::ids::{BucketId, DatabaseId, HomeId, ServerId, SiteId};
use crate::world::components::Component;
use crate::world::{Event, World};

impl World {
    /// The helpdesk reconfigures the Outlook profiles (without Autodiscover) of group
    /// `home` to name `server`, after the work already asked for.
    pub(super) fn reconfigure_profiles(&mut self, home: HomeId, server: ServerId) -> Outcome {
        self.home(home)?;
        self.helpdesk.push((home, server));
        if self.helpdesk_running {
            return Ok(FollowUp::Nothing);
        }
        self.helpdesk_running = true;
        Ok(FollowUp::After(
            SimDuration::from_millis(60_000),
            Event::HelpdeskTick,
        ))
    }

    /// Changes a DNS record to point at `site`; while the DNS server is down the change
    /// waits for it.
    pub(in crate::world) fn change_dns<E: From<Event>, S: TraceSink>(
        &mut self,
        record: RecordKind,
        site: SiteId,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        if !self.dns_up {
            self.pending_dns.push((record, site));
            return;
        }
        let prop = self.config.dns.propagation;
        match record {
            RecordKind::Mx => {
                self.mx.change(now, prop, site.0);
            }
            RecordKind::ClientAccess | RecordKind::Autodiscover => {
                let eff = self.client_access.change(now, prop, site.0);
                // Every cache learns it at its next refresh after `eff`.
                for b in 0..self.buckets.len() {
                    let period = if self.buckets[b].pinned {
                        self.config.dns.restart_period
                    } else {
                        self.client_access.effective_ttl()
                    };
                    let t = crate::clients::next_tick(eff, period, self.buckets[b].dns_phase);
                    self.schedule_wake(BucketId::from(b), t, ctx);
                }
            }
            RecordKind::UnifiedMessaging => {}
        }
    }

    /// The administrators power a server (`Component::ServerPower`) or a site
    /// (`Component::SitePower`) off or on: their own cause of it being down starts or
    /// ends (rule `causes.stack`). Powering on ends no failure still in progress; a
    /// failure's repair never powers on what they turned off. The cluster notices at the
    /// next heartbeat.
    pub(super) fn power(&mut self, c: Component, on: bool, now: SimTime) -> Outcome {
        self.set_cause(c, Cause::Admin, !on, now);
        Ok(FollowUp::Heartbeat)
    }

    /// Rebuilds a lost server under the same name: it comes up with empty disks, so its
    /// passive copies need reseeding.
    /// The rebuilt machine replaces the failed one: every cause of its power and of its
    /// copies' disks ends (not its site's power, nor its services' causes).
    pub(super) fn rebuild_server(&mut self, server: ServerId, now: SimTime) -> Outcome {
        self.replace(Component::ServerPower(server), now);
        self.replace(Component::TransportQueue(server), now);
        for d in 0..self.dbs.len() {
            for c in 0..self.dbs[d].copies.len() {
                if self.dbs[d].copies[c].config.server == server {
                    self.replace(Component::Disk(DatabaseId::from(d), c), now);
                }
            }
        }
        for db in &mut self.dbs {
            let active = db.active;
            for (i, c) in db.copies.iter_mut().enumerate() {
                if c.config.server == server && i != active {
                    c.health = CopyHealth::FailedAndSuspended;
                }
            }
        }
        Ok(FollowUp::Heartbeat)
    }
}
