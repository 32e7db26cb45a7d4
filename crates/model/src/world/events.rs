//! What happens to the world: its [`Event`]s, the [`Fault`]s the scenario injects (with the
//! partial failures of [`ServiceKind`]), and how the world takes a fault.

use dialtone_engine::{Ctx, SimTime, TraceSink};

use super::{Action, World};
use crate::database::{CopyHealth, DbState, FailReason};
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

/// Something that breaks or is repaired, injected by the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A site loses (`on = false`) or regains power.
    SitePower {
        /// The site.
        site: SiteId,
        /// Power state after the event.
        on: bool,
    },
    /// A server loses or regains power (also a witness server).
    ServerPower {
        /// The server.
        server: ServerId,
        /// Power state after the event.
        on: bool,
    },
    /// A WAN link is cut or repaired.
    Link {
        /// The link.
        link: LinkId,
        /// State after the event.
        up: bool,
    },
    /// One service on a server stops or starts (partial datacenter failure).
    Service {
        /// The server.
        server: ServerId,
        /// The service.
        service: ServiceKind,
        /// State after the event.
        up: bool,
    },
    /// Logical corruption written to a database; it replicates to copies that replay it.
    Corruption {
        /// The database.
        db: DatabaseId,
    },
    /// The authoritative DNS server is lost (`up = false`) or back: record changes made
    /// while it is down take effect when it returns.
    DnsServer {
        /// State after the event.
        up: bool,
    },
    /// The disk holding one copy is lost (the active copy: the database fails).
    DiskLost {
        /// The database.
        db: DatabaseId,
        /// Index of the copy.
        copy: usize,
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
    /// A fault happens.
    Fault(Fault),
    /// An administrator action completes now.
    Action(Action),
}

impl World {
    pub(super) fn apply_fault<E: From<Event>, S: TraceSink>(
        &mut self,
        f: Fault,
        now: SimTime,
        ctx: &mut Ctx<'_, E, S>,
    ) {
        match f {
            Fault::SitePower { site, on } => {
                ctx.trace_with("site", if on { "power-on" } else { "power-loss" }, || {
                    format!("site {}", site.0)
                });
                self.power_site(site, on, now);
                self.schedule_heartbeat(now, ctx);
            }
            Fault::ServerPower { server, on } => {
                ctx.trace_with("server", if on { "power-on" } else { "power-off" }, || {
                    self.config.servers[server.index()].name.clone()
                });
                self.power_server(server, on, now);
                self.schedule_heartbeat(now, ctx);
            }
            Fault::Link { link, up } => {
                ctx.trace_with("link", if up { "repaired" } else { "cut" }, || {
                    format!("link {}", link.0)
                });
                self.net.set_link_up(link, up);
                self.schedule_heartbeat(now, ctx);
            }
            Fault::Service {
                server,
                service,
                up,
            } => {
                let s = &mut self.servers[server.index()].services;
                match service {
                    ServiceKind::Cluster => s.cluster = up,
                    ServiceKind::ClientAccess => s.client_access = up,
                    ServiceKind::Transport => s.transport = up,
                    ServiceKind::UnifiedMessaging => s.unified_messaging = up,
                }
                if service == ServiceKind::Cluster {
                    self.schedule_heartbeat(now, ctx);
                }
            }
            Fault::Corruption { db } => {
                ctx.trace("db", "corruption");
                self.dbs[db.index()].corrupt_logically();
            }
            Fault::DnsServer { up } => {
                self.dns_up = up;
                if up {
                    for (record, site) in std::mem::take(&mut self.pending_dns) {
                        self.change_dns(record, site, now, ctx);
                    }
                }
            }
            Fault::DiskLost { db, copy } => {
                let d = &mut self.dbs[db.index()];
                if copy == d.active {
                    d.state = DbState::Failed(FailReason::DiskLost);
                } else if let Some(c) = d.copies.get_mut(copy) {
                    c.health = CopyHealth::FailedAndSuspended;
                }
            }
        }
    }
}
