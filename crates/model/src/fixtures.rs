//! Reference topologies for tests, benches and examples: small, documented, stable.

use dialtone_engine::SimDuration;

use crate::active_manager::MountDial;
use crate::clients::ClientKind;
use crate::database::{CopyConfig, DbParams};
use crate::ids::{HomeId, ServerId, SiteId};
use crate::restore::RestoreRates;
use crate::transport::TransportParams;
use crate::world::config::*;

fn d(s: &str) -> SimDuration {
    s.parse().unwrap_or(SimDuration::ZERO)
}

/// mbx1 (dc1).
pub const MBX1: ServerId = ServerId(0);
/// mbx2 (dc1).
pub const MBX2: ServerId = ServerId(1);
/// mbx3 (dc2).
pub const MBX3: ServerId = ServerId(2);
/// mbx4 (dc2).
pub const MBX4: ServerId = ServerId(3);
/// The witness (dc1).
pub const FSW1: ServerId = ServerId(4);
/// The alternate witness (dc2).
pub const FSW2: ServerId = ServerId(5);
/// The primary datacenter.
pub const DC1: SiteId = SiteId(0);
/// The second datacenter.
pub const DC2: SiteId = SiteId(1);

/// Two datacenters. dc1: mbx1, mbx2, fsw1; dc2: mbx3, mbx4, fsw2. db0 on mbx1 (copies mbx2, mbx3), db1 on
/// mbx2 (copies mbx1, mbx4). 1,000 users per database in three client kinds.
pub fn two_sites(dac: bool, ttl: &str) -> WorldConfig {
    let server = |name: &str, site: SiteId| ServerConfig {
        name: name.into(),
        site,
        capacity_mailboxes: None,
        schema_version: 15,
    };
    let params = DbParams {
        size_mb: 50_000,
        mailboxes: 1000,
        message_kb: 64,
        ms_per_log: 50,
        ms_per_replay_log: 100,
        log_volume_logs: 1_000_000,
        circular_logging: true,
        schema_version: 15,
    };
    let copy = |s: ServerId, p: u32| CopyConfig {
        server: s,
        preference: p,
        replay_lag: SimDuration::ZERO,
    };
    let mut cohorts = Vec::new();
    for home in [HomeId(0), HomeId(1)] {
        for (kind, users) in [
            (
                ClientKind::Outlook {
                    autodiscover: true,
                    cached_mode: true,
                },
                700,
            ),
            (
                ClientKind::Outlook {
                    autodiscover: false,
                    cached_mode: false,
                },
                100,
            ),
            (ClientKind::Web, 200),
        ] {
            cohorts.push(CohortConfig { home, kind, users });
        }
    }
    WorldConfig {
        sites: 2,
        site_names: vec!["dc1".into(), "dc2".into()],
        links: vec![(DC1, DC2)],
        link_names: vec!["wan".into()],
        servers: vec![
            server("mbx1", DC1),
            server("mbx2", DC1),
            server("mbx3", DC2),
            server("mbx4", DC2),
            server("fsw1", DC1),
            server("fsw2", DC2),
        ],
        dag: DagConfig {
            members: vec![MBX1, MBX2, MBX3, MBX4],
            witness: Some(FSW1),
            alternate_witness: Some(FSW2),
            dac_mode: dac,
            dynamic_quorum: true,
            mount_dial: MountDial::GoodAvailability,
        },
        databases: vec![
            DbConfig {
                name: "db0".into(),
                params,
                copies: vec![copy(MBX1, 1), copy(MBX2, 2), copy(MBX3, 3)],
            },
            DbConfig {
                name: "db1".into(),
                params,
                copies: vec![copy(MBX2, 1), copy(MBX1, 2), copy(MBX4, 3)],
            },
        ],
        dns: DnsConfig {
            ttl: d(ttl),
            propagation: d("1m"),
            pinned_ppm: 50_000,
            restart_period: d("1d"),
            client_access_site: DC1,
            mx_site: DC1,
            multi_ip: false,
        },
        cohorts,
        clients: ClientParams {
            buckets: 8,
            outlook_retry: d("1m"),
            web_retry: d("5m"),
            mobile_retry: d("15m"),
            helpdesk_per_hour: 30,
            cached_online_ppm: 1_000_000,
        },
        transport: TransportParams {
            sender_retry: d("30m"),
            sender_expiry: d("4d"),
            delivery_retry: d("5m"),
            message_expiry: d("2d"),
            late_after: d("5m"),
            shadow_redundancy: true,
            shadow_resubmit: d("3h"),
            safety_net_hold: d("2d"),
            safety_net_shadow_after: d("12h"),
        },
        mail: MailConfig {
            messages_per_user_per_day: 60.0,
            sent_per_user_per_day: 24.0,
            tick: d("5m"),
            office_hours: false,
            edge_active_active: false,
            quiet_stretches: true,
            horizon: None,
        },
        timing: Timing {
            heartbeat_detect: d("10s"),
            failover: d("30s"),
            mount_concurrency: 4,
            seed_mb_per_s: 20,
            restore: RestoreRates {
                stream: 50 << 20,
                total: 300 << 20,
                replay: 10 << 20,
                streams: 7,
            },
            merge_mailboxes_per_hour: 500,
            merge_bytes_per_s: (10 << 30) / 3600,
            swap_outage: d("5m"),
            backup_every: Some(d("1d")),
            backup_first: d("22h"),
            backup_site: Some(DC2),
        },
    }
}

/// [`two_sites`] with `users` users per database instead of 1,000 (same client mix), log
/// copy and replay faster in proportion.
pub fn two_sites_scaled(dac: bool, ttl: &str, users: u64) -> WorldConfig {
    let mut s = two_sites(dac, ttl);
    for c in &mut s.cohorts {
        c.users = c.users * users / 1000;
    }
    for db in &mut s.databases {
        db.params.mailboxes = users;
        // Replication scales with the mail, so copies keep up and the larger world runs
        // the same story (rather than filling its log volume).
        db.params.ms_per_log = (db.params.ms_per_log * 1000 / users.max(1)).max(1);
        db.params.ms_per_replay_log = (db.params.ms_per_replay_log * 1000 / users.max(1)).max(1);
    }
    s
}
