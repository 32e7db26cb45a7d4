//! `topology`: sites and links, servers and witnesses, the DAG; DNS, transport, backup
//! and timing settings.

use std::collections::BTreeMap;

use dialtone_engine::SimDuration;
use dialtone_model::active_manager::MountDial;
use dialtone_model::restore::RestoreRates;
use dialtone_model::transport::TransportParams;
use dialtone_model::world::config::{DagConfig, DbConfig, DnsConfig, ServerConfig, Timing};
use dialtone_model::{ServerId, SiteId};

use super::{Validator, find, limits};
use crate::spec::{MountDialSpec, ScenarioSpec, TopologySpec};

/// Sites, links, servers and the DAG, resolved to ids.
pub(super) struct Topology {
    pub sites: Vec<String>,
    pub links: Vec<(SiteId, SiteId)>,
    pub link_names: Vec<String>,
    /// Mailbox servers, then witnesses that are not mailbox servers.
    pub servers: Vec<ServerConfig>,
    pub server_names: Vec<String>,
    pub dag: DagConfig,
}

/// DNS, transport and timing, resolved.
pub(super) struct Services {
    pub dns: DnsConfig,
    pub transport: TransportParams,
    pub timing: Timing,
}

impl Validator {
    pub(super) fn topology(&mut self, t: &TopologySpec) -> Topology {
        let sites: Vec<String> = t.sites.iter().map(|x| x.name.clone()).collect();
        if sites.is_empty() {
            self.err("topology.sites", "at least one site is needed");
        }
        if sites.len() > limits::SITES {
            self.err(
                "topology.sites",
                format!(
                    "{} sites is more than the limit of {}",
                    sites.len(),
                    limits::SITES
                ),
            );
        }
        self.unique("topology.sites", &sites, "site");
        let (links, link_names) = self.links(t, &sites);
        let mut server_names: Vec<String> = t.servers.iter().map(|x| x.name.clone()).collect();
        if t.servers.len() > limits::SERVERS {
            self.err(
                "topology.servers",
                format!("more than {} servers", limits::SERVERS),
            );
        }
        let mut servers = Vec::new();
        for (i, sv) in t.servers.iter().enumerate() {
            let site = self.site(&format!("topology.servers[{i}].site"), &sites, &sv.site);
            if let Some(c) = sv.capacity_mailboxes {
                self.count_in(
                    &format!("topology.servers[{i}].capacity_mailboxes"),
                    c,
                    1,
                    limits::SERVER_CAPACITY,
                    "mailboxes a server can hold (omit it for no limit)",
                );
            }
            servers.push(ServerConfig {
                name: sv.name.clone(),
                site: site.unwrap_or(SiteId(0)),
                capacity_mailboxes: sv.capacity_mailboxes,
                schema_version: sv.schema_version,
            });
        }
        let witnesses = self.witnesses(t, &sites, &mut servers, &mut server_names);
        let mailbox_servers: Vec<String> = t.servers.iter().map(|x| x.name.clone()).collect();
        self.unique("topology.servers", &mailbox_servers, "server");
        let members = self.members(t, &mailbox_servers);
        let dag = &t.dag;
        Topology {
            sites,
            links,
            link_names,
            servers,
            server_names,
            dag: DagConfig {
                members,
                witness: witnesses[0],
                alternate_witness: witnesses[1],
                dac_mode: dag.dac_mode,
                dynamic_quorum: dag.dynamic_quorum,
                mount_dial: match dag.mount_dial {
                    MountDialSpec::Lossless => MountDial::Lossless,
                    MountDialSpec::GoodAvailability => MountDial::GoodAvailability,
                    MountDialSpec::BestAvailability => MountDial::BestAvailability,
                },
            },
        }
    }

    fn links(
        &mut self,
        t: &TopologySpec,
        sites: &[String],
    ) -> (Vec<(SiteId, SiteId)>, Vec<String>) {
        let mut links = Vec::new();
        let mut link_names = Vec::new();
        for (i, l) in t.links.iter().enumerate() {
            let a = self.site(
                &format!("topology.links[{i}].between[0]"),
                sites,
                &l.between[0],
            );
            let b = self.site(
                &format!("topology.links[{i}].between[1]"),
                sites,
                &l.between[1],
            );
            if l.between[0] == l.between[1] {
                self.err(
                    format!("topology.links[{i}].between"),
                    "a link joins two different sites",
                );
            }
            if l.name.as_ref().is_some_and(|n| n.trim().is_empty()) {
                self.err(
                    format!("topology.links[{i}].name"),
                    "link name is empty: name it, or leave `name` out (the link is then \
                     called SITE-SITE)",
                );
            }
            link_names.push(
                l.name
                    .clone()
                    .unwrap_or_else(|| format!("{}-{}", l.between[0], l.between[1])),
            );
            if let (Some(a), Some(b)) = (a, b) {
                links.push((a, b));
            }
            if let Some(lat) = l.latency
                && lat > SimDuration::from_millis(500)
            {
                self.err(
                    format!("topology.links[{i}].latency"),
                    "DAG members need at most 500 ms round trip between each other",
                );
            }
        }
        let mut dup = BTreeMap::new();
        for (i, n) in link_names.iter().enumerate() {
            if dup.insert(n.clone(), i).is_some() {
                self.err(
                    format!("topology.links[{i}]"),
                    format!("duplicate link {n:?}; give links distinct `name`s"),
                );
            }
        }
        (links, link_names)
    }

    /// The witness and alternate witness: separate servers (added after the mailbox
    /// servers) unless the alternate is a mailbox server.
    fn witnesses(
        &mut self,
        t: &TopologySpec,
        sites: &[String],
        servers: &mut Vec<ServerConfig>,
        server_names: &mut Vec<String>,
    ) -> [Option<ServerId>; 2] {
        let dag = &t.dag;
        let mut witness_ids = [None, None];
        for (k, (w, field)) in [
            (&dag.witness, "witness"),
            (&dag.alternate_witness, "alternate_witness"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(w) = w else { continue };
            let path = format!("topology.dag.{field}");
            if w.server.trim().is_empty() {
                self.err(
                    format!("{path}.server"),
                    "the witness server name is empty: name the server that holds the \
                     witness share (e.g. \"fsw1\"), or remove the witness",
                );
            } else if dag.members.contains(&w.server) {
                self.err(
                    format!("{path}.server"),
                    format!(
                        "the witness {:?} is a DAG member; the witness server cannot be a member",
                        w.server
                    ),
                );
            } else if find(server_names, &w.server).is_some() && k == 0 {
                self.err(
                    format!("{path}.server"),
                    format!(
                        "{:?} is a mailbox server; name a separate witness server",
                        w.server
                    ),
                );
            }
            let site = self.site(&format!("{path}.site"), sites, &w.site);
            if let Some(existing) = find(server_names, &w.server) {
                witness_ids[k] = Some(ServerId::from(existing));
            } else {
                server_names.push(w.server.clone());
                servers.push(ServerConfig {
                    name: w.server.clone(),
                    site: site.unwrap_or(SiteId(0)),
                    capacity_mailboxes: None,
                    schema_version: 0,
                });
                witness_ids[k] = Some(ServerId::from(servers.len() - 1));
            }
        }
        if let (Some(a), Some(b)) = (&dag.witness, &dag.alternate_witness)
            && a.server == b.server
        {
            self.err(
                "topology.dag.alternate_witness.server",
                "the alternate witness must differ from the witness",
            );
        }
        witness_ids
    }

    /// DAG members: known mailbox servers, once each, at most 16, one Exchange version,
    /// a witness for an even number.
    fn members(&mut self, t: &TopologySpec, mailbox_servers: &[String]) -> Vec<ServerId> {
        let dag = &t.dag;
        let mut members = Vec::new();
        for (i, m) in dag.members.iter().enumerate() {
            let path = format!("topology.dag.members[{i}]");
            let Some(id) = self.lookup::<ServerId>(&path, mailbox_servers, m, "server") else {
                continue;
            };
            if members.contains(&id) {
                self.err(path, format!("{m:?} is listed twice"));
            }
            members.push(id);
        }
        if members.len() > limits::DAG_MEMBERS {
            self.err(
                "topology.dag.members",
                format!("a DAG holds at most {} members", limits::DAG_MEMBERS),
            );
        }
        let schemas: Vec<u32> = members
            .iter()
            .map(|m| t.servers[m.index()].schema_version)
            .collect();
        if schemas.windows(2).any(|w| w[0] != w[1]) {
            self.err(
                "topology.dag.members",
                "all DAG members must run the same Exchange version (schema_version)",
            );
        }
        if members.len().is_multiple_of(2) && dag.witness.is_none() && !members.is_empty() {
            self.err("topology.dag.witness", "a DAG with an even number of members needs a witness (Node and File Share Majority)");
        }
        members
    }

    /// DNS (the client access and MX sites default to the first database's site),
    /// transport, backup and timing.
    /// `timing.mount_concurrency`: 1 to one a database.
    fn mount_concurrency(&mut self, n: u32) -> u32 {
        self.count_in(
            "topology.timing.mount_concurrency",
            u64::from(n),
            1,
            limits::DATABASES as u64,
            "databases Active Manager mounts at once",
        );
        n.clamp(1, limits::DATABASES as u32)
    }

    /// `timing.merge_mailboxes_per_hour`: 1 to [`limits::PER_HOUR`].
    fn merge_per_hour(&mut self, n: u64) -> u64 {
        self.count_in(
            "topology.timing.merge_mailboxes_per_hour",
            n,
            1,
            limits::PER_HOUR,
            "mailboxes a merge handles an hour",
        );
        n.clamp(1, limits::PER_HOUR)
    }

    /// `backup.restore_streams` (rule `restore.streams`): between 1 and the limit.
    fn restore_streams(&mut self, streams: u32) -> usize {
        if streams == 0 || streams > limits::RESTORE_STREAMS {
            self.err(
                "topology.backup.restore_streams",
                format!(
                    "{streams} parallel restore streams is out of range: give 1 to {} (default 7, the DPM example)",
                    limits::RESTORE_STREAMS
                ),
            );
        }
        streams.clamp(1, limits::RESTORE_STREAMS) as usize
    }

    pub(super) fn services(
        &mut self,
        s: &ScenarioSpec,
        topo: &Topology,
        dbs: &[DbConfig],
    ) -> Services {
        let t = &s.topology;
        let dns = &t.dns;
        self.positive("topology.dns.ttl", dns.ttl);
        self.positive("topology.dns.restart_period", dns.restart_period);
        if !(0.0..=1.0).contains(&dns.pinned_client_share) {
            self.err(
                "topology.dns.pinned_client_share",
                "a share is between 0 and 1",
            );
        }
        let default_site = dbs
            .first()
            .and_then(|d| d.copies.first())
            .map_or(SiteId(0), |c| {
                topo.servers
                    .get(c.server.index())
                    .map_or(SiteId(0), |s| s.site)
            });
        let ca_site = match &dns.client_access_site {
            Some(n) => self
                .site("topology.dns.client_access_site", &topo.sites, n)
                .unwrap_or(default_site),
            None => default_site,
        };
        let mx_site = match &dns.mx_site {
            Some(n) => self
                .site("topology.dns.mx_site", &topo.sites, n)
                .unwrap_or(ca_site),
            None => ca_site,
        };
        let tr = &t.transport;
        for (p, d) in [
            ("sender_retry", tr.sender_retry),
            ("sender_expiry", tr.sender_expiry),
            ("delivery_retry", tr.delivery_retry),
            ("message_expiration", tr.message_expiration),
        ] {
            self.positive(&format!("topology.transport.{p}"), d);
        }
        let backup_site = t
            .backup
            .site
            .as_ref()
            .and_then(|n| self.site("topology.backup.site", &topo.sites, n));
        if t.backup.every.is_some_and(|e| e.is_zero()) {
            self.err(
                "topology.backup.every",
                "must be longer than zero (or null for no backups)",
            );
        }
        self.positive("topology.timing.failover", t.timing.failover);
        Services {
            dns: DnsConfig {
                ttl: dns.ttl,
                propagation: dns.propagation,
                pinned_ppm: (dns.pinned_client_share.clamp(0.0, 1.0) * 1e6).round() as u32,
                restart_period: dns.restart_period,
                client_access_site: ca_site,
                mx_site,
                multi_ip: dns.multi_ip,
            },
            transport: TransportParams {
                sender_retry: tr.sender_retry,
                sender_expiry: tr.sender_expiry,
                delivery_retry: tr.delivery_retry,
                message_expiry: tr.message_expiration,
                late_after: s.metrics.on_time_within,
                shadow_redundancy: tr.shadow_redundancy,
                shadow_resubmit: tr.shadow_resubmit,
                safety_net_hold: tr.safety_net_hold,
                safety_net_shadow_after: tr.safety_net_shadow_after,
            },
            timing: Timing {
                heartbeat_detect: t.timing.heartbeat,
                failover: t.timing.failover,
                mount_concurrency: self.mount_concurrency(t.timing.mount_concurrency),
                seed_mb_per_s: t.replication.seed_rate.mb_per_s(),
                restore: RestoreRates {
                    stream: t.backup.restore_rate.bytes_per_s(),
                    total: t.backup.restore_total_rate.bytes_per_s(),
                    replay: t.backup.replay_rate.bytes_per_s(),
                    streams: self.restore_streams(t.backup.restore_streams),
                },
                merge_mailboxes_per_hour: self.merge_per_hour(t.timing.merge_mailboxes_per_hour),
                merge_bytes_per_s: t.timing.merge_data_rate.bytes_per_s(),
                swap_outage: t.timing.swap_outage,
                backup_every: t.backup.every,
                backup_first: t.backup.first,
                backup_site,
            },
        }
    }
}
