//! What happens to the world: its [`Event`]s, the [`Fault`]s the scenario injects (with the
//! partial failures of [`ServiceKind`]), and how the world takes a fault.

use dialtone_engine::{Ctx, SimTime, TraceSink};

use super::components::Component;
use super::{Action, World};
use crate::causes::Cause;
use crate::database::Corruption;
use crate::ids::{BucketId, DatabaseId, HomeId, LinkId, ServerId, SiteId};

/// A service of a mailbox server, for partial failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// The cluster service.
    Cluster,
    /// Client access.
    ClientAccess,
    /// Transport.
    Transport,
    /// Unified messaging.
    UnifiedMessaging,
}

/// One cause of a component starting (a failure, `on`/`up = false`) or ending (its
/// repair), injected by the scenario with its [`Cause`] (`Event::Fault`). A component is
/// up only when none of its causes is active (rule `causes.stack`): a repair ends its own
/// cause and no other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A site loses power (`on = false`), or that loss ends.
    SitePower {
        /// The site.
        site: SiteId,
        /// Whether this cause ends (`true`) or starts.
        on: bool,
    },
    /// A server loses power (also a witness server), or that loss ends.
    ServerPower {
        /// The server.
        server: ServerId,
        /// Whether this cause ends (`true`) or starts.
        on: bool,
    },
    /// A WAN link is cut, or that cut is repaired.
    Link {
        /// The link.
        link: LinkId,
        /// Whether this cause ends (`true`) or starts.
        up: bool,
    },
    /// One service on a server stops (partial datacenter failure), or that stop ends.
    Service {
        /// The server.
        server: ServerId,
        /// The service.
        service: ServiceKind,
        /// Whether this cause ends (`true`) or starts.
        up: bool,
    },
    /// Logical corruption written to a database: the log it is written in closes and
    /// ships before it is detected, so it replicates to copies that replay that log, not
    /// to a lagged copy behind it (rule `db.logical_corruption`, [`Corruption::Shipped`]).
    /// It has no repair (restores and reseeds are administrator actions).
    Corruption {
        /// The database.
        db: DatabaseId,
    },
    /// The authoritative DNS server is lost (`up = false`) or back: record changes made
    /// while it is down take effect when it returns.
    DnsServer {
        /// Whether this cause ends (`true`) or starts.
        up: bool,
    },
    /// The disk holding one copy is lost (`up = false`; the active copy: the database
    /// fails; a passive copy needs a reseed), or replaced (`up = true`: empty, so the
    /// copy still needs a reseed, which is refused while the disk is down).
    Disk {
        /// The database.
        db: DatabaseId,
        /// Index of the copy.
        copy: usize,
        /// Whether this cause ends (`true`) or starts.
        up: bool,
    },
    /// The disk of a server's transport queue database and Safety Net is lost
    /// (`up = false`: a server loss; its queue and primary Safety Net are gone) or
    /// replaced (empty). A power loss does not touch it.
    TransportQueue {
        /// The server.
        server: ServerId,
        /// Whether this cause ends (`true`) or starts.
        up: bool,
    },
}

/// What happens in the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A mail batch per mailbox group; replication advances.
    MailTick,
    /// The cluster's heartbeat timeout: quorum is evaluated.
    Heartbeat,
    /// Active Manager's failover of a database completes.
    Failover(DatabaseId),
    /// A client bucket's retry or DNS refresh is due.
    BucketWake(BucketId),
    /// The helpdesk reconfigures more profiles.
    HelpdeskTick,
    /// A scheduled full backup of every database.
    Backup,
    /// A restore into a recovery database finishes.
    RestoreDone(DatabaseId),
    /// The swap outage of a mailbox group ends.
    SwapDone(HomeId),
    /// A merge of a mailbox group progresses.
    MergeTick(HomeId),
    /// An activated copy has pulled and replayed its logs: the database mounts (rule
    /// `db.activation_replay`).
    ActivationDone(DatabaseId),
    /// A fault happens: `cause` starts or ends.
    Fault(Fault, Cause),
    /// An administrator action completes now.
    Action(Action),
}

impl World {
    /// Starts or ends `cause` of the component `f` names (rule `causes.stack`), and
    /// schedules the heartbeat that lets the cluster notice a change of power, links or
    /// cluster service.
    pub(super) fn apply_fault<E: From<Event>, S: TraceSink>(
        &mut self,
        f: Fault,
        cause: Cause,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        // A repair that leaves another cause active says so (rule `causes.stack`).
        let still = |w: &World, c: Component, up: bool| up && !w.causes.up_but(c, cause);
        let (c, up) = match f {
            Fault::SitePower { site, on } => {
                let c = Component::SitePower(site);
                let what = power_label(on, still(self, c, on), "power-loss");
                ctx.trace_with("site", what, || self.config.site_name(site));
                (c, on)
            }
            Fault::ServerPower { server, on } => {
                let c = Component::ServerPower(server);
                let what = power_label(on, still(self, c, on), "power-off");
                ctx.trace_with("server", what, || {
                    self.config.servers[server.index()].name.clone()
                });
                (c, on)
            }
            Fault::Link { link, up } => {
                let c = Component::Link(link);
                let what = match (up, still(self, c, up)) {
                    (false, _) => "cut",
                    (true, false) => "repaired",
                    (true, true) => "repaired-still-cut",
                };
                ctx.trace_with("link", what, || self.config.link_name(link.index()));
                (c, up)
            }
            Fault::Service {
                server,
                service,
                up,
            } => (Component::Service(server, service), up),
            Fault::Corruption { db } => {
                ctx.trace("db", "corruption");
                self.dbs[db.index()].corrupt(now, Corruption::Shipped);
                return;
            }
            Fault::DnsServer { up } => (Component::DnsServer, up),
            Fault::Disk { db, copy, up } => {
                // A timeline row per disk lost or replaced, named like a failure's
                // target (`db1@mbx2`).
                ctx.trace_with("disk", if up { "replaced" } else { "lost" }, || {
                    self.disk_name(db, copy)
                });
                (Component::Disk(db, copy), up)
            }
            Fault::TransportQueue { server, up } => (Component::TransportQueue(server), up),
        };
        let changed = self.set_cause_traced(c, cause, !up, now, ctx);
        match c {
            Component::DnsServer if changed && up => {
                for (record, site) in std::mem::take(&mut self.pending_dns) {
                    self.change_dns(record, site, now, ctx);
                }
            }
            Component::SitePower(_)
            | Component::ServerPower(_)
            | Component::Link(_)
            | Component::Service(_, ServiceKind::Cluster) => self.schedule_heartbeat(now, ctx),
            _ => {}
        }
    }
}

/// The timeline's word for a power cause starting (`off`) or ending: `power-on`, or
/// `power-on-still-down` when another cause keeps the component down.
fn power_label(on: bool, still_down: bool, off: &'static str) -> &'static str {
    match (on, still_down) {
        (false, _) => off,
        (true, false) => "power-on",
        (true, true) => "power-on-still-down",
    }
}

impl World {
    /// `db@server` for copy `copy` of database `db`.
    fn disk_name(&self, db: DatabaseId, copy: usize) -> String {
        let name = self
            .config
            .databases
            .get(db.index())
            .map_or("runtime-db", |d| d.name.as_str());
        let server = self
            .dbs
            .get(db.index())
            .and_then(|d| d.copies.get(copy))
            .and_then(|c| self.config.servers.get(c.config.server.index()))
            .map_or("?", |s| s.name.as_str());
        format!("{name}@{server}")
    }
}

impl World {
    /// [`World::set_cause`]; a site's power takes its servers with it, and the timeline
    /// says which.
    fn set_cause_traced<E, S: TraceSink>(
        &mut self,
        c: Component,
        cause: Cause,
        down: bool,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) -> bool {
        let before = match c {
            Component::SitePower(_) if ctx.tracing() => self.servers_up(),
            _ => Vec::new(),
        };
        let changed = self.set_cause(c, cause, down, now);
        self.trace_servers(&before, ctx);
        changed
    }

    /// Whether each server is up now.
    fn servers_up(&self) -> Vec<bool> {
        (0..self.servers.len())
            .map(|s| self.server_up(ServerId::from(s)))
            .collect()
    }

    /// A timeline record ("server", "down" or "up", name) for each server whose state
    /// differs from `before` (empty: nothing to compare).
    fn trace_servers<E, S: TraceSink>(&self, before: &[bool], ctx: &mut Ctx<'_, E, S>) {
        for (s, &was) in before.iter().enumerate() {
            let now_up = self.server_up(ServerId::from(s));
            if now_up != was {
                ctx.trace_with("server", if now_up { "up" } else { "down" }, || {
                    self.config.servers[s].name.clone()
                });
            }
        }
    }
}
