//! Datacenter switchover (seed 004): terminate the primary and validate the second
//! datacenter in parallel; then in DAC mode Stop-DAG -ConfigurationOnly, stop the cluster
//! service and Restore-DAG, or without DAC mode force quorum, evict the primary's nodes,
//! set a witness and move the databases; client access, MX and UM DNS in parallel.

use dialtone_engine::DurationDist;
use dialtone_model::ServerId;
use dialtone_model::dns::RecordKind;
use dialtone_model::world::Action;

use super::{Builder, Datacenter, Org, StepKind, mins};

/// The DNS records a switchover points at the second datacenter (and a switchback back).
pub(super) const RECORDS: [RecordKind; 3] = [
    RecordKind::ClientAccess,
    RecordKind::Mx,
    RecordKind::UnifiedMessaging,
];

/// Steps a switchback waits for: the activations and the DNS changes.
pub(super) struct Activated {
    pub steps: Vec<usize>,
}

pub(super) fn switchover(b: &mut Builder, org: Org<'_>, dc: &Datacenter) -> Activated {
    // Step 1 (terminate) and step 2 (validate) run in parallel (seed 004).
    let terminate = if dc.partial {
        b.act(
            "terminate the primary datacenter",
            Action::PowerSite {
                site: dc.primary,
                on: false,
            },
            &[],
        )
    } else {
        b.manual(
            "confirm the primary datacenter is down",
            DurationDist::LogNormal {
                mean: mins(5),
                sd: mins(2),
            },
            &[],
        )
    };
    let validate = b.manual(
        "validate the second datacenter",
        DurationDist::LogNormal {
            mean: mins(15),
            sd: mins(5),
        },
        &[],
    );
    let mut steps = if dc.dac {
        dac(b, org, dc, &[terminate, validate])
    } else {
        non_dac(b, org, dc, vec![terminate, validate])
    };
    // Step 4 (client access DNS) in parallel with step 3.
    for r in RECORDS {
        steps.push(b.act(
            format!("change DNS {r:?}"),
            Action::ChangeDns {
                record: r,
                site: dc.second,
            },
            &[terminate, validate],
        ));
    }
    Activated { steps }
}

/// DAC mode: Stop-DAG for the primary, stop the cluster service in the second
/// datacenter, Restore-DAG, and move what Active Manager did not mount.
fn dac(b: &mut Builder, org: Org<'_>, dc: &Datacenter, start: &[usize]) -> Vec<usize> {
    let stop = b.act(
        "Stop-DAG -ConfigurationOnly for the primary",
        Action::StopDag {
            servers: org.members_in(dc.primary),
            from_site: dc.second,
            configuration_only: true,
        },
        start,
    );
    let stops = cluster_service(
        b,
        &org.members_in(dc.second),
        false,
        &[stop],
        "net stop clussvc (second datacenter)",
    );
    let restore = b.act(
        "Restore-DAG for the second datacenter",
        Action::RestoreDag { site: dc.second },
        &stops,
    );
    let settle = b.delay(
        "let Active Manager mount",
        DurationDist::Fixed(mins(2)),
        &[restore],
    );
    let mut activated = Vec::new();
    for h in org.homes_on_site(dc.primary) {
        if let Some(to) = org.copy_in(h, dc.second) {
            activated.push(b.push(
                "Move-ActiveMailboxDatabase where not mounted",
                StepKind::IfUnserved(
                    h,
                    Action::MoveActive {
                        home: h,
                        to,
                        skip_checks: true,
                    },
                ),
                &[settle],
            ));
        }
    }
    activated.push(settle);
    activated
}

/// Without DAC mode: forcecleanup (partial datacenter), stop the cluster service,
/// /forcequorum, evict the primary's nodes, a new witness for an even number of
/// survivors, start the cluster service, Move-ActiveMailboxDatabase.
fn non_dac(b: &mut Builder, org: Org<'_>, dc: &Datacenter, mut term: Vec<usize>) -> Vec<usize> {
    let (xm, ym) = (org.members_in(dc.primary), org.members_in(dc.second));
    if dc.partial {
        for &m in &xm {
            term.push(b.act(
                "cluster node /forcecleanup",
                Action::ForceCleanup { server: m },
                &[],
            ));
        }
    }
    let stops = cluster_service(b, &ym, false, &term, "net stop clussvc");
    let force = b.act(
        "net start clussvc /forcequorum",
        Action::ForceQuorum { server: ym[0] },
        &stops,
    );
    let evicts: Vec<usize> = xm
        .iter()
        .map(|&m| {
            b.act(
                "evict primary node",
                Action::EvictNode { server: m },
                &[force],
            )
        })
        .collect();
    let mut quorum = evicts.clone();
    if ym.len().is_multiple_of(2)
        && let Some(aw) = org.world.dag.alternate_witness
    {
        quorum = vec![b.act(
            "Set-DAG -WitnessServer",
            Action::SetWitness { server: aw },
            &evicts,
        )];
    }
    let starts = cluster_service(b, &ym[1..], true, &quorum, "net start clussvc");
    let ready: Vec<usize> = quorum.iter().chain(&starts).copied().collect();
    let mut activated = Vec::new();
    for h in org.homes_on_site(dc.primary) {
        if let Some(to) = org.copy_in(h, dc.second) {
            activated.push(b.act(
                "Move-ActiveMailboxDatabase and mount",
                Action::MoveActive {
                    home: h,
                    to,
                    skip_checks: true,
                },
                &ready,
            ));
        }
    }
    activated
}

/// One `net start|stop clussvc` step per server, each after `after`.
fn cluster_service(
    b: &mut Builder,
    servers: &[ServerId],
    running: bool,
    after: &[usize],
    name: &str,
) -> Vec<usize> {
    servers
        .iter()
        .map(|&m| b.act(name, Action::ClusterService { server: m, running }, after))
        .collect()
}
