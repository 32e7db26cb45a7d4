//! Datacenter switchover (seed 004): terminate the primary and validate the second
//! datacenter in parallel; then in DAC mode Stop-DAG -ConfigurationOnly, stop the cluster
//! service, Restore-DAG, optionally clear the activation block, move what Active Manager
//! did not mount and review the tasks' warnings; or without DAC mode force quorum, evict
//! the primary's nodes, set a witness (even survivors) or node majority (odd) and move
//! the databases; client access and MX DNS in parallel. Moves accept loss beyond the
//! mount dial only if the organisation said so (`strategy.accept_data_loss`). Unified
//! Messaging is out of scope (docs/MODEL.md).

use dialtone_engine::DurationDist;
use dialtone_model::ServerId;
use dialtone_model::dns::RecordKind;
use dialtone_model::world::Action;

use super::{Builder, Datacenter, Org, StepKind, mins};

/// The DNS records a switchover points at the second datacenter (and a switchback back).
/// Unified Messaging's record is not among them: voice mail is out of scope (MODEL.md).
pub(super) const RECORDS: [RecordKind; 2] = [RecordKind::ClientAccess, RecordKind::Mx];

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
/// datacenter, Restore-DAG, clear the activation block if the organisation chose to,
/// move what Active Manager did not mount, review the tasks' warnings (seed 004 step 6).
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
    let ready = unblock(b, org, dc, restore);
    let settle = b.delay(
        "let Active Manager mount",
        DurationDist::Fixed(mins(2)),
        &ready,
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
                        skip_checks: dc.accept_data_loss,
                    },
                ),
                &[settle],
            ));
        }
    }
    activated.push(settle);
    let review = b.manual(
        "review the tasks' errors and warnings",
        DurationDist::LogNormal {
            mean: mins(10),
            sd: mins(5),
        },
        &activated,
    );
    activated.push(review);
    activated
}

/// Seed 004 DAC step 4, if the organisation chose it: clear the activation block on the
/// second datacenter's servers after `after`. Returns the steps to wait for.
fn unblock(b: &mut Builder, org: Org<'_>, dc: &Datacenter, after: usize) -> Vec<usize> {
    if !dc.clear_activation_block {
        return vec![after];
    }
    org.members_in(dc.second)
        .into_iter()
        .map(|m| {
            b.act(
                "clear the activation block (Set-MailboxServer)",
                Action::BlockActivation {
                    server: m,
                    blocked: false,
                },
                &[after],
            )
        })
        .collect()
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
    let quorum = quorum_model(b, org, ym.len(), &evicts);
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
                    skip_checks: dc.accept_data_loss,
                },
                &ready,
            ));
        }
    }
    activated
}

/// Seed 004, non-DAC step 3: an even number of survivors gets the alternate witness
/// (Set-DAG -WitnessServer), an odd number node majority (`cluster /quorum
/// /nodemajority`) when the DAG had a witness.
fn quorum_model(b: &mut Builder, org: Org<'_>, survivors: usize, after: &[usize]) -> Vec<usize> {
    let dag = &org.world.dag;
    if survivors.is_multiple_of(2)
        && let Some(aw) = dag.alternate_witness
    {
        return vec![b.act(
            "Set-DAG -WitnessServer",
            Action::SetWitness { server: aw },
            after,
        )];
    }
    if !survivors.is_multiple_of(2) && dag.witness.is_some() {
        return vec![b.act("cluster /quorum /nodemajority", Action::NodeMajority, after)];
    }
    after.to_vec()
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
