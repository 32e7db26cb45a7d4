//! Switchback (seed 004, "Mailbox Server Role Switchback"), after a DAC switchover: wait
//! for the primary's repair and the scheduled window, Start-DAG, reseed failed copies and
//! wait for resynchronisation, the witness back, dismount in the second datacenter, DNS
//! back and wait out the TTL, move the databases back and mount.

use dialtone_engine::{DurationDist, SimDuration};
use dialtone_model::world::{Action, DbRef};

use super::switchover::{Activated, RECORDS};
use super::{Builder, Cond, Datacenter, Org, mins};

pub(super) fn switchback(
    b: &mut Builder,
    org: Org<'_>,
    dc: &Datacenter,
    switched: &Activated,
    after: SimDuration,
) {
    let (x, y) = (dc.primary, dc.second);
    let up = b.wait(
        "wait for the primary to be repaired",
        Cond::SiteUp(x),
        &switched.steps,
    );
    let sched = b.delay("schedule the switchback", DurationDist::Fixed(after), &[up]);
    let start = b.act(
        "Start-DAG for the primary",
        Action::StartDag {
            servers: org.members_in(x),
            from_site: y,
        },
        &[sched],
    );
    let mut after_sync = resynchronise(b, org, dc, start);
    after_sync.push(start);
    let witness = match org.world.dag.witness {
        Some(ws) => b.act(
            "witness back to the primary",
            Action::SetWitness { server: ws },
            &after_sync,
        ),
        None => b.manual(
            "reapply the quorum model",
            DurationDist::Fixed(mins(2)),
            &after_sync,
        ),
    };
    let outage = b.delay(
        "outage window starts",
        DurationDist::Fixed(SimDuration::ZERO),
        &[witness],
    );
    let homes = org.homes_on_site(x);
    let mut dismounts: Vec<usize> = homes
        .iter()
        .map(|&h| {
            b.act(
                "dismount in the second datacenter",
                Action::Dismount {
                    home: h,
                    db: DbRef::Original,
                },
                &[outage],
            )
        })
        .collect();
    let back: Vec<usize> = RECORDS
        .into_iter()
        .map(|r| {
            b.act(
                format!("DNS {r:?} back"),
                Action::ChangeDns { record: r, site: x },
                &[outage],
            )
        })
        .collect();
    let ttl = b.delay(
        "wait for TTL and cache expiry",
        DurationDist::Fixed(org.world.dns.ttl),
        &back,
    );
    dismounts.push(ttl);
    for h in homes {
        if let Some(to) = org.copy_in(h, x) {
            b.act(
                "Move-ActiveMailboxDatabase back and mount",
                Action::MoveActive {
                    home: h,
                    to,
                    skip_checks: false,
                },
                &dismounts,
            );
        }
    }
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
