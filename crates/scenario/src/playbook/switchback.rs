//! Switchback (seed 004, "Mailbox Server Role Switchback"), in the seed's order: wait for
//! the primary to be repaired and reachable; Start-DAG (DAC mode) or
//! Add-DatabaseAvailabilityGroupServer (without); the quorum model back (the witness in
//! the primary); reseed failed copies and wait for resynchronisation; the scheduled
//! outage window, if the primary is still up and reachable then (else postponed until it
//! is); dismount in the second datacenter; then the DNS records back and wait
//! out propagation and the TTL; move the databases back and mount. A refused move back is
//! a decision point: the database is remounted in the second datacenter and the refusal
//! reported.

use dialtone_engine::{DurationDist, SimDuration};
use dialtone_model::HomeId;
use dialtone_model::world::{Action, DbRef};

use super::switchover::{Activated, RECORDS};
use super::{Builder, Cond, Datacenter, Org, StepKind, mins};

pub(super) fn switchback(
    b: &mut Builder,
    org: Org<'_>,
    dc: &Datacenter,
    switched: &Activated,
    after: SimDuration,
) {
    let (x, y) = (dc.primary, dc.second);
    let up = b.wait(
        "wait for the primary to be repaired and reachable",
        Cond::SiteConnected(x, y),
        &switched.steps,
    );
    let start = reincorporate(b, org, dc, up);
    let quorum = match org.world.dag.witness {
        Some(ws) => b.act(
            "quorum model back: witness in the primary (Set-DAG)",
            Action::SetWitness { server: ws },
            &start,
        ),
        None => b.manual(
            "quorum model back (Set-DAG)",
            DurationDist::Fixed(mins(2)),
            &start,
        ),
    };
    let mut synced = resynchronise(b, org, dc, quorum);
    synced.push(quorum);
    let outage = b.delay(
        "scheduled switchback window",
        DurationDist::Fixed(after),
        &synced,
    );
    // Rule playbook.switchback_go: at the window the primary must still be up and
    // reachable (seed 004: switch back only once the dependencies are stable); a primary
    // lost again postpones the switchback until it returns.
    let go = b.wait(
        "go/no-go at the window: the primary up and reachable",
        Cond::SiteConnected(x, y),
        &[outage],
    );
    let homes = org.homes_on_site(x);
    let dismounts: Vec<usize> = homes
        .iter()
        .map(|&h| {
            b.act(
                "dismount in the second datacenter",
                Action::Dismount {
                    home: h,
                    db: DbRef::Original,
                },
                &[go],
            )
        })
        .collect();
    let back: Vec<usize> = RECORDS
        .into_iter()
        .map(|r| {
            b.act(
                format!("DNS {r:?} back"),
                Action::ChangeDns { record: r, site: x },
                &dismounts,
            )
        })
        .collect();
    let expiry = SimDuration::from_millis(
        (org.world.dns.propagation.as_millis()).saturating_add(org.world.dns.ttl.as_millis()),
    );
    let ttl = b.delay(
        "wait for DNS propagation, TTL and cache expiry",
        DurationDist::Fixed(expiry),
        &back,
    );
    for h in homes {
        move_back(b, org, dc, h, ttl);
    }
}

/// Start-DAG for the primary's members (DAC mode), or Add-DAG-Server for each (without).
fn reincorporate(b: &mut Builder, org: Org<'_>, dc: &Datacenter, after: usize) -> Vec<usize> {
    let members = org.members_in(dc.primary);
    if dc.dac {
        return vec![b.act(
            "Start-DAG for the primary",
            Action::StartDag {
                servers: members,
                from_site: dc.second,
            },
            &[after],
        )];
    }
    members
        .into_iter()
        .map(|m| {
            b.act(
                "Add-DatabaseAvailabilityGroupServer",
                Action::AddDagServer { server: m },
                &[after],
            )
        })
        .collect()
}

/// Move group `h` back to the primary and mount; if refused, remount it in the second
/// datacenter (the decision point that keeps the organisation served).
fn move_back(b: &mut Builder, org: Org<'_>, dc: &Datacenter, h: HomeId, after: usize) {
    let Some(to) = org.copy_in(h, dc.primary) else {
        return;
    };
    b.push(
        "Move-ActiveMailboxDatabase back and mount (or remount in the second datacenter)",
        StepKind::OrElse(
            Action::MoveActive {
                home: h,
                to,
                skip_checks: false,
            },
            Action::Mount {
                home: h,
                db: DbRef::Original,
            },
        ),
        &[after],
    );
}

/// Reseeds the primary's copies where they failed and waits for every group's copies to
/// be healthy; returns the wait steps.
fn resynchronise(b: &mut Builder, org: Org<'_>, dc: &Datacenter, start: usize) -> Vec<usize> {
    let mut resynced = Vec::new();
    for h in org.homes_on_site(dc.primary) {
        let mut reseeds = vec![start];
        for c in &org.world.databases[h.index()].copies {
            if org.site(c.server) == dc.primary {
                reseeds.push(b.act(
                    "reseed the primary copy if it failed",
                    Action::Reseed {
                        home: h,
                        server: c.server,
                    },
                    &[start],
                ));
            }
        }
        resynced.push(b.wait(
            "wait for copies to resynchronise",
            Cond::CopiesHealthy(h),
            &reseeds,
        ));
    }
    resynced
}
