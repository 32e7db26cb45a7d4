//! The components that can be down, each with its active [`Causes`] (rule `causes.stack`):
//! a component is up iff none of its causes is active. Failures and the administrators'
//! power and service actions start and end causes here, through one function for every
//! kind of component; the component's state (a site's power in the network, a server's
//! power and services, a link, a copy's disk, the DNS server) changes only when its set
//! of causes becomes empty or stops being empty.

use dialtone_engine::SimTime;

use super::{ServiceKind, World};
use crate::causes::{Cause, Causes};
use crate::database::{CopyHealth, DbState, FailReason};
use crate::ids::{DatabaseId, LinkId, ServerId, SiteId};

/// Something that is up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Component {
    /// A site's power.
    SitePower(SiteId),
    /// A server's own power (its hardware).
    ServerPower(ServerId),
    /// A WAN link.
    Link(LinkId),
    /// One service of a server.
    Service(ServerId, ServiceKind),
    /// The disk holding copy `.1` of a database.
    Disk(DatabaseId, usize),
    /// The authoritative DNS server.
    DnsServer,
    /// The disk holding a server's transport queue database and its Safety Net (lost
    /// with the server's hardware, not by a power loss).
    TransportQueue(ServerId),
}

/// The active causes of every component, arrays indexed by the components' ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct ComponentCauses {
    site: Vec<Causes>,
    server: Vec<Causes>,
    link: Vec<Causes>,
    /// Per server, per [`ServiceKind`] in declaration order.
    service: Vec<[Causes; 4]>,
    /// Per database, per copy; grown on demand (databases are created at run time).
    disk: Vec<Vec<Causes>>,
    dns: Causes,
    /// Per server: its transport queue's disk.
    queue: Vec<Causes>,
}

fn service_index(k: ServiceKind) -> usize {
    match k {
        ServiceKind::Cluster => 0,
        ServiceKind::ClientAccess => 1,
        ServiceKind::Transport => 2,
        ServiceKind::UnifiedMessaging => 3,
    }
}

impl ComponentCauses {
    /// Everything up.
    pub(crate) fn new(sites: usize, servers: usize, links: usize) -> Self {
        ComponentCauses {
            site: vec![Causes::new(); sites],
            server: vec![Causes::new(); servers],
            link: vec![Causes::new(); links],
            service: vec![Default::default(); servers],
            disk: Vec::new(),
            dns: Causes::new(),
            queue: vec![Causes::new(); servers],
        }
    }

    /// The causes of `c`.
    fn of(&mut self, c: Component) -> &mut Causes {
        match c {
            Component::SitePower(s) => &mut self.site[s.index()],
            Component::ServerPower(s) => &mut self.server[s.index()],
            Component::Link(l) => &mut self.link[l.index()],
            Component::Service(s, k) => &mut self.service[s.index()][service_index(k)],
            Component::Disk(d, copy) => {
                if self.disk.len() <= d.index() {
                    self.disk.resize(d.index() + 1, Vec::new());
                }
                let copies = &mut self.disk[d.index()];
                if copies.len() <= copy {
                    copies.resize(copy + 1, Causes::new());
                }
                &mut copies[copy]
            }
            Component::DnsServer => &mut self.dns,
            Component::TransportQueue(s) => &mut self.queue[s.index()],
        }
    }

    /// Whether `c` is up: none of its causes is active.
    pub(crate) fn is_up(&self, c: Component) -> bool {
        self.get(c).is_none_or(Causes::is_clear)
    }

    /// Whether ending `cause` would bring `c` up: no other cause is active.
    pub(crate) fn up_but(&self, c: Component, cause: Cause) -> bool {
        self.get(c).is_none_or(|x| x.is_clear_but(cause))
    }

    /// The causes of `c`; `None` for a disk never failed.
    fn get(&self, c: Component) -> Option<&Causes> {
        Some(match c {
            Component::SitePower(s) => &self.site[s.index()],
            Component::ServerPower(s) => &self.server[s.index()],
            Component::Link(l) => &self.link[l.index()],
            Component::Service(s, k) => &self.service[s.index()][service_index(k)],
            Component::Disk(d, copy) => return self.disk.get(d.index())?.get(copy),
            Component::DnsServer => &self.dns,
            Component::TransportQueue(s) => &self.queue[s.index()],
        })
    }
}

impl World {
    /// Starts (`active = true`) or ends `cause` of component `c`; when that brings the
    /// component up or down, applies the change. Returns whether it did.
    pub(crate) fn set_cause(
        &mut self,
        c: Component,
        cause: Cause,
        active: bool,
        now: SimTime,
    ) -> bool {
        let causes = self.causes.of(c);
        let was_up = causes.is_clear();
        causes.set(cause, active);
        self.settle(c, was_up, now)
    }

    /// Ends every cause of `c` (the component was replaced: a rebuilt server, new disks).
    /// Returns whether that brought it up.
    pub(crate) fn replace(&mut self, c: Component, now: SimTime) -> bool {
        let causes = self.causes.of(c);
        let was_up = causes.is_clear();
        causes.clear();
        self.settle(c, was_up, now)
    }

    /// Whether `c` is up.
    pub(crate) fn component_up(&self, c: Component) -> bool {
        self.causes.is_up(c)
    }

    /// Whether the administrators can bring `c` up: no cause but theirs is active.
    pub(crate) fn admin_can_start(&self, c: Component) -> bool {
        self.causes.up_but(c, Cause::Admin)
    }

    fn settle(&mut self, c: Component, was_up: bool, now: SimTime) -> bool {
        let up = self.causes.is_up(c);
        if up != was_up {
            self.apply_component(c, up, now);
        }
        up != was_up
    }

    /// What `c` going up or down does to the world.
    fn apply_component(&mut self, c: Component, up: bool, now: SimTime) {
        match c {
            // Rule transport.power_cycle: a power loss keeps the transport queue.
            Component::SitePower(site) => {
                self.net.set_site_up(site, up);
                for i in 0..self.servers.len() {
                    let s = ServerId::from(i);
                    if self.servers[i].site == site {
                        self.transport.server_power(now, s, self.server_up(s));
                    }
                }
            }
            Component::ServerPower(server) => {
                self.servers[server.index()].powered = up;
                self.transport
                    .server_power(now, server, self.server_up(server));
            }
            // Rule transport.shadow: the server's hardware is lost with its queue.
            Component::TransportQueue(server) => {
                if !up {
                    self.transport.server_lost(now, server);
                }
            }
            Component::Link(link) => self.net.set_link_up(link, up),
            Component::Service(server, k) => {
                let s = &mut self.servers[server.index()].services;
                match k {
                    ServiceKind::Cluster => s.cluster = up,
                    ServiceKind::ClientAccess => s.client_access = up,
                    ServiceKind::Transport => s.transport = up,
                    ServiceKind::UnifiedMessaging => s.unified_messaging = up,
                }
            }
            Component::Disk(db, copy) => {
                // A new disk is empty: the copy stays failed until reseeded.
                if !up && let Some(d) = self.dbs.get_mut(db.index()) {
                    if copy == d.active {
                        d.state = DbState::Failed(FailReason::DiskLost);
                    } else if let Some(c) = d.copies.get_mut(copy) {
                        c.health = CopyHealth::FailedAndSuspended;
                    }
                }
            }
            Component::DnsServer => self.dns_up = up,
        }
    }
}
