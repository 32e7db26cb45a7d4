//! Operations outside Exchange: the helpdesk's profile changes, DNS record changes,
//! powering servers and sites, and rebuilding a lost server.

use dialtone_engine::{Ctx, SimDuration, SimTime, TraceSink};

use super::{FollowUp, Outcome};
use crate::database::CopyHealth;
use crate::dns::RecordKind;
use crate::ids::{BucketId, HomeId, ServerId, SiteId};
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

    /// Powers a server off or on: its transport queues are lost when it goes off. The
    /// cluster notices at the next heartbeat (the caller's to schedule).
    pub(in crate::world) fn power_server(&mut self, server: ServerId, on: bool, now: SimTime) {
        self.servers[server.index()].powered = on;
        if !on {
            self.transport.server_lost(now, server);
        }
    }

    /// Powers a whole site off or on: the transport queues of its servers are lost when
    /// it goes off. The cluster notices at the next heartbeat (the caller's to schedule).
    pub(in crate::world) fn power_site(&mut self, site: SiteId, on: bool, now: SimTime) {
        self.net.set_site_up(site, on);
        if !on {
            for i in 0..self.servers.len() {
                if self.servers[i].site == site {
                    self.transport.server_lost(now, ServerId::from(i));
                }
            }
        }
    }

    /// Rebuilds a lost server under the same name: it comes up with empty disks, so its
    /// passive copies need reseeding.
    pub(super) fn rebuild_server(&mut self, server: ServerId) -> Outcome {
        self.servers[server.index()].powered = true;
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
