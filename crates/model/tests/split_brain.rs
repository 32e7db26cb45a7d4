//! The classic story (issue 3, rule 5): the primary datacenter loses power, the
//! administrator activates the second datacenter, then the primary comes back while the
//! WAN is still down. With DAC mode its members do not mount (no split brain); without DAC
//! mode and without cleaning up the evicted members, they can, and two copies of the same
//! database are mounted at once.
//!
//! dc1 (site 0): members 0 and 1, the primary witness. dc2 (site 1): members 2 and 3, the
//! alternate witness. db1 is active on member 0 with a passive copy on member 2.

use dialtone_engine::{SimDuration, SimTime};
use dialtone_model::active_manager::{Candidate, Choice, MountDial, choose};
use dialtone_model::dac::{Dac, StartView};
use dialtone_model::database::{CopyConfig, Database, DbParams};
use dialtone_model::network::Network;
use dialtone_model::quorum::{Cluster, Presence};
use dialtone_model::{LinkId, ServerId, SiteId};

const SITE_OF: [usize; 4] = [0, 0, 1, 1];
const DC1: SiteId = SiteId(0);
const WAN: LinkId = LinkId(0);

struct Org {
    net: Network,
    cluster: Cluster,
    dac: Dac,
    db: Database,
    powered: [bool; 4],
    /// Which witness the authoritative cluster uses: the primary (dc1) or alternate (dc2).
    witness_site: usize,
    /// The copy the dc1 members believe is active (their stale view).
    stale_active: usize,
}

impl Org {
    fn new(dac_mode: bool) -> Self {
        let params = DbParams {
            size_mb: 100_000,
            mailboxes: 1000,
            message_kb: 64,
            ms_per_log: 100,
            ms_per_replay_log: 100,
            log_volume_logs: 100_000,
            circular_logging: true,
            schema_version: 1,
        };
        let copies = [
            CopyConfig {
                server: ServerId(0),
                preference: 1,
                replay_lag: SimDuration::ZERO,
            },
            CopyConfig {
                server: ServerId(2),
                preference: 2,
                replay_lag: SimDuration::ZERO,
            },
        ];
        Org {
            net: Network::new(2, &[(SiteId(0), SiteId(1))]),
            cluster: Cluster::new(4, true, false),
            dac: Dac::new(dac_mode, 4, 2),
            db: Database::new(params, &copies),
            powered: [true; 4],
            witness_site: 0,
            stale_active: 0,
        }
    }

    fn up(&self, m: usize) -> bool {
        self.powered[m] && self.net.site_up(SiteId(SITE_OF[m] as u32))
    }

    fn partitions(&self) -> Vec<Option<u32>> {
        (0..4)
            .map(|m| {
                if self.up(m) {
                    self.net.component(SiteId(SITE_OF[m] as u32))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The primary witness is in dc1; the alternate in dc2. Stale members only know the
    /// primary one.
    fn witness_partition(&self, site: usize) -> Option<u32> {
        self.net.component(SiteId(site as u32))
    }

    /// Servers on which a copy of db1 is mounted, across the authoritative cluster and
    /// any rogue one.
    fn mounted_servers(&mut self) -> Vec<usize> {
        let parts = self.partitions();
        let out = self.cluster.evaluate(&Presence {
            member_partition: &parts,
            witness_partition: self.witness_partition(self.witness_site),
        });
        // Stale members evaluate with the primary witness of their old configuration.
        let stale_out = self.cluster.evaluate(&Presence {
            member_partition: &parts,
            witness_partition: self.witness_partition(0),
        });
        let mut mounted = Vec::new();
        let active_server = self.db.copies[self.db.active].config.server.index();
        if let Some(q) = out.quorum
            && parts[active_server] == Some(q)
            && self
                .dac
                .may_mount(active_server, SITE_OF[active_server], true)
        {
            mounted.push(active_server);
        }
        let stale_server = self.db.copies[self.stale_active].config.server.index();
        for r in stale_out.rogue {
            if parts[stale_server] == Some(r)
                && self
                    .dac
                    .may_mount(stale_server, SITE_OF[stale_server], true)
            {
                mounted.push(stale_server);
            }
        }
        mounted
    }

    fn boot(&mut self, m: usize, now: SimTime) {
        let reachable: Vec<bool> = (0..4)
            .map(|i| {
                self.up(i)
                    && self
                        .net
                        .reachable(SiteId(SITE_OF[m] as u32), SiteId(SITE_OF[i] as u32))
            })
            .collect();
        self.dac.on_start(&StartView {
            member: m,
            site: SITE_OF[m],
            reachable: &reachable,
            witness: None,
            now,
        });
    }

    fn activate_db1_in_dc2(&mut self) {
        // Move-ActiveMailboxDatabase to member 2 (the only copy left), as the
        // administrator does after quorum is re-established.
        let c = Candidate {
            copy: 1,
            eligible: true,
            copy_queue: self.db.copy_queue(1),
            preference: 2,
            dial: MountDial::BestAvailability,
            acll: false,
        };
        match choose(&[c]) {
            Choice::Mount { copy, .. } => {
                // Nothing written, so nothing to pull or replay: it mounts at once.
                self.db.activate(copy, SimTime::ZERO, 0);
            }
            other => panic!("db1 should mount in dc2: {other:?}"),
        }
    }
}

fn primary_power_loss(org: &mut Org) {
    org.net.set_site_up(DC1, false);
    for m in [0, 1] {
        org.dac.on_down(m);
    }
    assert!(
        org.mounted_servers().is_empty(),
        "2 of 5 votes: nobody has quorum"
    );
}

fn primary_returns_during_wan_cut(org: &mut Org) {
    org.net.set_link_up(WAN, false);
    org.net.set_site_up(DC1, true);
    for m in [0, 1] {
        org.boot(m, SimTime::from_millis(3_600_000));
    }
}

#[test]
fn dac_mode_prevents_split_brain() {
    let mut org = Org::new(true);
    assert_eq!(org.mounted_servers(), vec![0]);
    primary_power_loss(&mut org);
    // Stop-DAG for dc1 (ConfigurationOnly, dc1's AD is dark, so only dc2's AD learns),
    // then Restore-DAG in dc2: evict the stopped members, switch to the alternate witness.
    org.dac.mark(&[0, 1], true, &[1]);
    org.cluster.evict(0);
    org.cluster.evict(1);
    org.witness_site = 1;
    org.dac.restore(&[2, 3], SimTime::from_millis(1_800_000));
    org.activate_db1_in_dc2();
    assert_eq!(org.mounted_servers(), vec![2]);
    primary_returns_during_wan_cut(&mut org);
    assert!(
        !org.dac.bit(0) && !org.dac.bit(1),
        "dc1 members cannot reach a member with the bit"
    );
    assert_eq!(org.mounted_servers(), vec![2], "no split brain");
}

#[test]
fn without_dac_and_without_cleanup_split_brain_happens() {
    let mut org = Org::new(false);
    primary_power_loss(&mut org);
    // Non-DAC switchover from dc2: force quorum, evict dc1 members (they are dark, so
    // nobody runs /forcecleanup on them), new witness in dc2.
    let parts = org.partitions();
    org.cluster.force_quorum(
        2,
        &Presence {
            member_partition: &parts,
            witness_partition: None,
        },
    );
    org.cluster.evict(0);
    org.cluster.evict(1);
    org.witness_site = 1;
    org.activate_db1_in_dc2();
    assert_eq!(org.mounted_servers(), vec![2]);
    primary_returns_during_wan_cut(&mut org);
    let mounted = org.mounted_servers();
    assert_eq!(mounted, vec![2, 0], "two copies of db1 mounted at once");
}

#[test]
fn without_dac_but_with_cleanup_there_is_no_split_brain() {
    let mut org = Org::new(false);
    primary_power_loss(&mut org);
    let parts = org.partitions();
    org.cluster.force_quorum(
        2,
        &Presence {
            member_partition: &parts,
            witness_partition: None,
        },
    );
    org.cluster.evict(0);
    org.cluster.evict(1);
    // The administrator powers dc1 members up isolated and runs /forcecleanup first
    // (the seed's step 1), or they stay off.
    org.cluster.cleanup(0);
    org.cluster.cleanup(1);
    org.witness_site = 1;
    org.activate_db1_in_dc2();
    primary_returns_during_wan_cut(&mut org);
    assert_eq!(org.mounted_servers(), vec![2]);
}
