//! Stories run through the whole world, each pinning a direction a domain expert expects.

use dialtone_engine::stats::TimeAverage;
use dialtone_engine::{RngStreams, SimDuration, SimTime, Simulation};

use super::*;
use crate::causes::Cause;
use crate::database::DbState;
use crate::dns::RecordKind;
use crate::ids::{CohortId, HomeId, LinkId};

fn d(s: &str) -> SimDuration {
    s.parse().expect("duration")
}

fn t(s: &str) -> SimTime {
    s.parse().expect("time")
}

use crate::fixtures::{DC1, DC2, FSW1, FSW2, MBX1, MBX2, MBX3, MBX4, two_sites as spec};

/// Runs `spec` for `horizon` with `events` injected, and returns the finished world.
fn run(spec: WorldConfig, horizon: &str, events: Vec<(&str, Event)>) -> World {
    run_to(spec, t(horizon), events)
}

/// [`run`] to an exact time.
fn run_to(spec: WorldConfig, end: SimTime, events: Vec<(&str, Event)>) -> World {
    run_with(spec, end, events, false)
}

/// [`run_to`], with every refresh evaluating every client bucket and cohort when
/// `exhaustive`.
fn run_with(
    spec: WorldConfig,
    end: SimTime,
    events: Vec<(&str, Event)>,
    exhaustive: bool,
) -> World {
    let mut spec = spec;
    spec.mail.horizon = Some(end);
    let mut world = World::new(spec, &RngStreams::new(7, 0)).expect("valid streams");
    world.exhaustive_refresh = exhaustive;
    let initial = world.initial_events();
    let mut sim = Simulation::new(world);
    for (at, ev) in initial {
        sim.schedule(at, ev).expect("future");
    }
    for (at, ev) in events {
        sim.schedule(t(at), ev).expect("future");
    }
    sim.run_until(end);
    let (mut w, _) = sim.into_parts();
    w.finish(end);
    w
}

/// User-minutes over all cohorts of one per-cohort integral.
fn user_minutes(per_cohort: &[TimeAverage]) -> f64 {
    per_cohort
        .iter()
        .map(|a| a.integral_ms() as f64 / 60_000.0)
        .sum()
}

/// User-minutes without send/receive over all cohorts.
fn outage_user_minutes(w: &World) -> f64 {
    user_minutes(&w.tallies.without_service)
}

/// User-minutes without history over all cohorts.
fn history_user_minutes(w: &World) -> f64 {
    user_minutes(&w.tallies.without_history)
}

/// Failure 0 starts or ends (most stories have one failure at a time).
fn fault(f: Fault) -> Event {
    Event::Fault(f, Cause::Failure(0))
}

fn act(a: Action) -> Event {
    Event::Action(a)
}

/// dc1 loses power at 10h; its members are marked stopped from dc2 at 10h40m
/// (Stop-DAG -ConfigurationOnly) and Restore-DAG runs in dc2 at 10h50m.
fn dc1_dark_switchover() -> Vec<(&'static str, Event)> {
    let mut ev = vec![(
        "10h",
        fault(Fault::SitePower {
            site: DC1,
            on: false,
        }),
    )];
    ev.extend(switchover_to_dc2("10h40m", "10h50m"));
    ev
}

/// dc1's members are marked stopped from dc2 at `stop` (Stop-DAG -ConfigurationOnly) and
/// Restore-DAG runs in dc2 at `restore`.
fn switchover_to_dc2(stop: &'static str, restore: &'static str) -> [(&'static str, Event); 2] {
    [
        (
            stop,
            act(Action::StopDag {
                servers: vec![MBX1, MBX2],
                from_site: DC2,
                configuration_only: true,
            }),
        ),
        (restore, act(Action::RestoreDag { site: DC2 })),
    ]
}

#[test]
fn nothing_fails_nothing_is_lost() {
    let w = run(spec(true, "5m"), "2d", vec![]);
    assert_eq!(outage_user_minutes(&w), 0.0);
    let f = w.fates();
    assert!(f.conserved(), "{f:?}");
    // 2,000 users x 60 a day x 2 days = 240,000 expected.
    assert!((230_000..250_000).contains(&f.offered), "{f:?}");
    assert_eq!(f.delivered_on_time + f.queued, f.offered, "{f:?}");
    assert_eq!(w.tallies.split_brain.integral_ms(), 0);
}

#[test]
fn a_server_failure_fails_over_inside_the_site() {
    let w = run(
        spec(true, "5m"),
        "1d",
        vec![(
            "2h",
            fault(Fault::ServerPower {
                server: MBX1,
                on: false,
            }),
        )],
    );
    assert_eq!(
        w.serving(DatabaseId(0)),
        Some(MBX2),
        "db0 moved to its second copy"
    );
    let outage = outage_user_minutes(&w);
    // 1,000 users of db0 out for detection (10 s) + failover (30 s) + their retry
    // (<= 1 min for Outlook, 5 min for web): a few thousand user-minutes at most.
    assert!(outage > 500.0 && outage < 5_000.0, "{outage}");
    let f = w.fates();
    assert!(f.conserved());
    assert_eq!(
        f.lost_silently, 0,
        "a lossless failover inside the site: {f:?}"
    );
}

/// Site power loss and a DAC-mode switchover to dc2, by the book (seed 004).
fn dac_switchover(ttl: &str) -> World {
    fn at(h: &str) -> &str {
        h
    }
    run(
        spec(true, ttl),
        "1d",
        vec![
            (
                "10h",
                fault(Fault::SitePower {
                    site: DC1,
                    on: false,
                }),
            ),
            (
                at("10h40m"),
                act(Action::StopDag {
                    servers: vec![MBX1, MBX2],
                    from_site: DC2,
                    configuration_only: true,
                }),
            ),
            (
                at("10h45m"),
                act(Action::ClusterService {
                    server: MBX3,
                    running: false,
                }),
            ),
            (
                at("10h45m"),
                act(Action::ClusterService {
                    server: MBX4,
                    running: false,
                }),
            ),
            (at("10h50m"), act(Action::RestoreDag { site: DC2 })),
            (
                at("10h50m"),
                act(Action::ChangeDns {
                    record: RecordKind::ClientAccess,
                    site: DC2,
                }),
            ),
            (
                at("10h50m"),
                act(Action::ChangeDns {
                    record: RecordKind::Mx,
                    site: DC2,
                }),
            ),
        ],
    )
}

#[test]
fn a_dac_switchover_restores_service_in_the_second_datacenter() {
    let w = dac_switchover("5m");
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX3));
    assert_eq!(w.serving(DatabaseId(1)), Some(MBX4));
    let total: u64 = (0..w.cohorts.len())
        .map(|c| w.connected(CohortId::from(c)))
        .sum();
    // Pinned clients (5%) wait for their restart; everyone else is back.
    assert!(total >= 1_850, "connected at the end: {total}");
    assert_eq!(w.tallies.split_brain.integral_ms(), 0);
    let f = w.fates();
    assert!(f.conserved(), "{f:?}");
    assert!(
        f.delivered_late > 0,
        "mail waited for the switchover: {f:?}"
    );
}

#[test]
fn a_longer_dns_ttl_lengthens_the_switchover_outage() {
    let short = outage_user_minutes(&dac_switchover("5m"));
    let long = outage_user_minutes(&dac_switchover("1h"));
    assert!(
        long > short * 1.1,
        "5 min TTL: {short:.0}, 1 h TTL: {long:.0}"
    );
}

#[test]
fn without_quorum_nothing_mounts_until_the_administrator_acts() {
    let w = run(
        spec(true, "5m"),
        "14h",
        vec![(
            "10h",
            fault(Fault::SitePower {
                site: DC1,
                on: false,
            }),
        )],
    );
    assert_eq!(w.serving(DatabaseId(0)), None);
    assert_eq!(w.serving(DatabaseId(1)), None);
    assert_eq!(w.connected(CohortId(0)), 0);
}

fn primary_returns_during_wan_cut(dac: bool) -> World {
    run(spec(dac, "5m"), "1d", wan_cut_events(dac))
}

/// dc1 dark at 10h, a switchover (with DAC) or a forced quorum (without), the WAN cut at
/// 12h and dc1's power back at 13h.
fn wan_cut_events(dac: bool) -> Vec<(&'static str, Event)> {
    let mut ev = vec![(
        "10h",
        fault(Fault::SitePower {
            site: DC1,
            on: false,
        }),
    )];
    if dac {
        ev.push((
            "10h40m",
            act(Action::StopDag {
                servers: vec![MBX1, MBX2],
                from_site: DC2,
                configuration_only: true,
            }),
        ));
        ev.push(("10h50m", act(Action::RestoreDag { site: DC2 })));
    } else {
        ev.push(("10h40m", act(Action::ForceQuorum { server: MBX3 })));
        ev.push(("10h45m", act(Action::EvictNode { server: MBX1 })));
        ev.push(("10h45m", act(Action::EvictNode { server: MBX2 })));
        ev.push(("10h46m", act(Action::SetWitness { server: FSW2 })));
        ev.push((
            "10h50m",
            act(Action::MoveActive {
                home: HomeId(0),
                to: MBX3,
                skip_checks: true,
            }),
        ));
        ev.push((
            "10h50m",
            act(Action::MoveActive {
                home: HomeId(1),
                to: MBX4,
                skip_checks: true,
            }),
        ));
    }
    ev.push((
        "12h",
        fault(Fault::Link {
            link: LinkId(0),
            up: false,
        }),
    ));
    ev.push((
        "13h",
        fault(Fault::SitePower {
            site: DC1,
            on: true,
        }),
    ));
    ev
}

#[test]
fn dac_mode_prevents_split_brain_in_the_world() {
    let w = primary_returns_during_wan_cut(true);
    assert_eq!(w.tallies.split_brain.integral_ms(), 0);
    assert_eq!(w.tallies.split_brain_messages, 0);
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX3));
}

#[test]
fn without_dac_the_returning_primary_splits_the_brain() {
    let w = primary_returns_during_wan_cut(false);
    assert!(
        w.tallies.split_brain.integral_ms() > 0,
        "two copies mounted at once"
    );
    assert_eq!(w.rogue_serving(DatabaseId(0)), Some(MBX1));
    assert!(w.tallies.split_brain_messages > 0, "MX still points at dc1");
    assert!(w.fates().conserved());
}

#[test]
fn a_database_corruption_reaches_every_copy_so_no_copy_can_take_over() {
    // Rule db.logical_corruption: the scenario's database-corruption is logical
    // corruption, whose log closes and ships before it is detected.
    let ev = vec![("1d1h", fault(Fault::Corruption { db: DatabaseId(0) }))];
    let w = run(spec(true, "5m"), "1d2h", ev);
    let db = &w.dbs[0];
    assert_eq!(
        db.state,
        DbState::Failed(crate::database::FailReason::Corrupt)
    );
    assert!(db.copies.len() > 1);
    for i in 0..db.copies.len() {
        assert!(db.copy_corrupt(i), "copy {i} replayed the corrupt log");
    }
    assert!(w.fates().conserved());
}

#[test]
fn dial_tone_restores_send_receive_long_before_history() {
    // db0 is corrupted on all its copies (no lagged copy): dial tone on the same server,
    // restore into a recovery database, swap, merge (2013 procedure, seed 000).
    let ev = same_server_dial_tone_db0();
    let w = run(spec(true, "5m"), "3d", ev);
    let sr = outage_user_minutes(&w);
    let hist = history_user_minutes(&w);
    assert!(sr > 0.0);
    assert!(
        hist > sr,
        "history comes back after send/receive: {sr:.0} vs {hist:.0}"
    );
    assert_eq!(
        w.connected(CohortId(0)),
        700,
        "everyone back on db0's Autodiscover cohort"
    );
    assert_eq!(
        w.homes[0].history_ready, 1000,
        "history back after the swap"
    );
    assert_eq!(w.left_in_dial_tone(HomeId(0)), 0, "merged");
    assert!(w.fates().conserved());
}

#[test]
fn clients_without_autodiscover_wait_for_the_helpdesk() {
    // Dial tone on an alternate server (mbx3): Autodiscover clients follow at their next
    // retry; the 100 Outlook users without it need a profile change each (30 an hour).
    let mut base = lose_db0_everywhere("1d1h");
    base.extend(dial_tone_for_db0(MBX3, "1d1h30m"));
    let mut with_helpdesk = base.clone();
    with_helpdesk.push((
        "1d1h30m",
        act(Action::ReconfigureProfiles {
            home: HomeId(0),
            server: MBX3,
        }),
    ));
    let w = run(spec(true, "5m"), "1d8h", with_helpdesk);
    assert_eq!(
        w.connected(CohortId(0)),
        700,
        "Autodiscover users followed the move"
    );
    assert_eq!(
        w.connected(CohortId(1)),
        100,
        "all profiles fixed within ~3.5 h at 30/h"
    );
    assert_eq!(w.tallies.profile_changes, 100);
    let w = run(spec(true, "5m"), "1d8h", base);
    assert_eq!(w.connected(CohortId(1)), 0, "no helpdesk, no service");
}

#[test]
fn a_lossy_mount_loses_mail_that_safety_net_recovers() {
    // Cut the WAN so mbx3's copy of db0 falls behind, then lose dc1's copies: the
    // administrator activates mbx3 accepting the loss.
    for hold in ["2d", "0s"] {
        let mut s = spec(true, "5m");
        s.transport.safety_net_hold = d(hold);
        let mut ev = vec![
            (
                "9h",
                fault(Fault::Link {
                    link: LinkId(0),
                    up: false,
                }),
            ),
            (
                "10h",
                fault(Fault::SitePower {
                    site: DC1,
                    on: false,
                }),
            ),
            (
                "10h1m",
                fault(Fault::Link {
                    link: LinkId(0),
                    up: true,
                }),
            ),
        ];
        ev.extend(switchover_to_dc2("10h40m", "10h50m"));
        ev.extend([
            (
                "10h50m",
                act(Action::ChangeDns {
                    record: RecordKind::Mx,
                    site: DC2,
                }),
            ),
            (
                "10h51m",
                act(Action::MoveActive {
                    home: HomeId(0),
                    to: MBX3,
                    skip_checks: true,
                }),
            ),
        ]);
        let w = run(s, "1d", ev);
        let f = w.fates();
        assert!(f.conserved(), "{f:?}");
        if hold == "0s" {
            assert!(
                f.lost_silently > 100,
                "an hour of db0's mail is gone: {f:?}"
            );
        } else {
            assert_eq!(f.lost_silently, 0, "{f:?}");
            assert!(f.recovered > 100, "Safety Net resubmitted it: {f:?}");
        }
    }
}

#[test]
fn restore_dag_refuses_without_stop_dag() {
    let w = run(
        spec(true, "5m"),
        "12h",
        vec![
            (
                "10h",
                fault(Fault::SitePower {
                    site: DC1,
                    on: false,
                }),
            ),
            ("10h50m", act(Action::RestoreDag { site: DC2 })),
        ],
    );
    assert_eq!(w.tallies.failed_actions, 1);
    assert_eq!(w.serving(DatabaseId(0)), None);
}

#[test]
fn site_resilience_cmdlets_need_dac_mode() {
    let w = run(
        spec(false, "5m"),
        "11h",
        vec![(
            "10h40m",
            act(Action::StopDag {
                servers: vec![MBX1],
                from_site: DC2,
                configuration_only: true,
            }),
        )],
    );
    assert_eq!(w.tallies.failed_actions, 1);
}

#[test]
fn a_run_is_deterministic() {
    let a = dac_switchover("5m");
    let b = dac_switchover("5m");
    assert_eq!(a.fates(), b.fates());
    assert_eq!(a.tallies, b.tallies);
}

#[test]
fn a_mailbox_move_interrupts_clients_until_they_rediscover() {
    // Group 1's mailboxes move to a dial tone database already mounted on mbx3: every
    // client must find the new location, Autodiscover ones at their next retry (Outlook
    // every minute, web every 5), so each loses at most one retry interval.
    let ev = vec![
        (
            "2h",
            act(Action::CreateDialTone {
                home: HomeId(1),
                server: MBX3,
            }),
        ),
        (
            "2h5m",
            act(Action::Mount {
                home: HomeId(1),
                db: DbRef::DialTone,
            }),
        ),
        (
            "2h10m",
            act(Action::MoveMailboxes {
                home: HomeId(1),
                to: DbRef::DialTone,
            }),
        ),
        (
            "2h10m",
            act(Action::ReconfigureProfiles {
                home: HomeId(1),
                server: MBX3,
            }),
        ),
    ];
    let w = run(spec(true, "5m"), "6h", ev);
    let outlook = w.tallies.without_service[3].integral_ms() as f64 / 60_000.0;
    let web = w.tallies.without_service[5].integral_ms() as f64 / 60_000.0;
    assert!(
        outlook > 0.0 && outlook <= 700.0,
        "Outlook: {outlook:.0} user-minutes"
    );
    assert!(
        web > outlook / 700.0 * 200.0 && web <= 5.0 * 200.0,
        "web: {web:.0} user-minutes"
    );
    assert_eq!(w.connected(CohortId(3)), 700);
}

#[test]
fn active_active_edge_keeps_mail_flowing_without_an_mx_change() {
    // dc1 dark; switchover to dc2 but the MX record is not changed.
    let switchover = |active_active: bool| {
        let mut s = spec(true, "5m");
        s.mail.edge_active_active = active_active;
        run(s, "1d", dc1_dark_switchover())
    };
    let passive = switchover(false).fates();
    let active = switchover(true).fates();
    assert!(
        passive.queued > 10_000,
        "active/passive: mail waits for an MX change: {passive:?}"
    );
    assert!(
        active.queued < 1_000,
        "active/active: dc2 accepts at once: {active:?}"
    );
    assert!(active.delivered_on_time > passive.delivered_on_time);
}

#[test]
fn a_restore_needs_the_backup_site() {
    // Backups live in dc2; with dc2 cut off from mbx1 the restore is refused.
    let w = run(
        spec(true, "5m"),
        "1d2h",
        vec![
            (
                "1d1h",
                fault(Fault::Link {
                    link: LinkId(0),
                    up: false,
                }),
            ),
            (
                "1d1h10m",
                act(Action::RestoreBackup {
                    home: HomeId(0),
                    server: MBX1,
                }),
            ),
        ],
    );
    assert_eq!(w.tallies.failed_actions, 1);
    assert!(w.homes[0].recovery.is_none());
}

#[test]
fn dac_mode_does_not_save_an_activation_without_terminating_the_primary() {
    // The WAN is cut while dc1 keeps running (it keeps quorum with the witness). The
    // administrator runs Stop-DAG from dc2 only (dc1's AD never hears of it) and
    // Restore-DAG there. dc1's members never restarted, so their DACP bits are still 1:
    // both datacenters serve the databases. Seed 004: "Failure to either turn off the
    // Mailbox servers in the failed datacenter or to successfully perform the Stop-DAG
    // command against the servers will create the potential for split-brain syndrome."
    // dc2's copies are too far behind to mount automatically, so the administrator moves
    // the databases with skip checks, as the procedure allows.
    let mut ev = vec![(
        "1h",
        fault(Fault::Link {
            link: LinkId(0),
            up: false,
        }),
    )];
    ev.extend(switchover_to_dc2("2h", "2h"));
    ev.extend([
        (
            "2h5m",
            act(Action::MoveActive {
                home: HomeId(0),
                to: MBX3,
                skip_checks: true,
            }),
        ),
        (
            "2h5m",
            act(Action::MoveActive {
                home: HomeId(1),
                to: MBX4,
                skip_checks: true,
            }),
        ),
    ]);
    let w = run(spec(true, "5m"), "6h", ev.clone());
    assert!(
        w.tallies.split_brain_messages > 0,
        "dc1 keeps taking mail for diverged copies"
    );
    assert!(
        w.tallies.split_brain.integral_ms() > 0,
        "split brain despite DAC mode"
    );
    // Terminating dc1 first (powering it off) is what makes DAC mode safe, even when it
    // comes back while the WAN is still cut.
    let mut safe = ev;
    safe.insert(
        1,
        (
            "1h50m",
            act(Action::PowerSite {
                site: DC1,
                on: false,
            }),
        ),
    );
    safe.push((
        "4h",
        fault(Fault::SitePower {
            site: DC1,
            on: true,
        }),
    ));
    let w = run(spec(true, "5m"), "6h", safe);
    assert_eq!(w.tallies.split_brain.integral_ms(), 0);
}

#[test]
fn the_without_service_curve_integrates_to_the_cohort_totals() {
    let w = dac_switchover("5m");
    let end = t("1d");
    let curve = &w.tallies.without_service_curve;
    let mut integral = 0u128;
    for (i, &(at, v)) in curve.iter().enumerate() {
        let next = curve.get(i + 1).map_or(end, |&(n, _)| n);
        integral += u128::from(v) * u128::from(next.as_millis() - at.as_millis());
    }
    let total: u128 = w
        .tallies
        .without_service
        .iter()
        .map(|a| a.integral_ms())
        .sum();
    assert_eq!(integral, total);
    assert!(
        curve.windows(2).all(|p| p[0].0 < p[1].0),
        "strictly increasing times"
    );
    assert!(
        curve.iter().map(|&(_, v)| v).max() >= Some(2_000),
        "everyone was out"
    );
}

/// Dial tone for db0's users on `server`: created at 1d1h20m, their mailboxes moved to it
/// at 1d1h25m, mounted at `mount`.
fn dial_tone_for_db0(server: ServerId, mount: &'static str) -> [(&'static str, Event); 3] {
    [
        (
            "1d1h20m",
            act(Action::CreateDialTone {
                home: HomeId(0),
                server,
            }),
        ),
        (
            "1d1h25m",
            act(Action::MoveMailboxes {
                home: HomeId(0),
                to: DbRef::DialTone,
            }),
        ),
        (
            mount,
            act(Action::Mount {
                home: HomeId(0),
                db: DbRef::DialTone,
            }),
        ),
    ]
}

fn lose_db0_everywhere(at: &'static str) -> Vec<(&'static str, Event)> {
    (0..3)
        .map(|copy| {
            (
                at,
                fault(Fault::Disk {
                    db: DatabaseId(0),
                    copy,
                    up: false,
                }),
            )
        })
        .collect()
}

#[test]
fn restore_only_makes_users_wait_for_the_restore() {
    for resubmit in [false, true] {
        let mut ev = lose_db0_everywhere("1d1h");
        ev.push(("1d1h30m", act(Action::RestoreInPlace { home: HomeId(0) })));
        ev.push((
            "1d1h31m",
            act(Action::Mount {
                home: HomeId(0),
                db: DbRef::Original,
            }),
        ));
        // 50 GB at 50 MB/s = 1,000 s: the restore is done at about 1d1h47m.
        ev.push((
            "1d2h",
            act(Action::Mount {
                home: HomeId(0),
                db: DbRef::Original,
            }),
        ));
        if resubmit {
            ev.push(("1d2h1m", act(Action::ResubmitRequest { home: HomeId(0) })));
        }
        let w = run(spec(true, "5m"), "1d6h", ev);
        assert_eq!(
            w.tallies.failed_actions, 1,
            "mounting before the restore finished is refused"
        );
        assert_eq!(w.serving(DatabaseId(0)), Some(MBX1));
        let (down, back) = w.outages[0];
        assert_eq!(down, Some(t("1d1h")));
        assert_eq!(back, Some(t("1d2h")));
        let f = w.fates();
        assert!(f.conserved(), "{f:?}");
        if resubmit {
            assert!(
                f.recovered > 0,
                "mail since the 22:00 backup came back through Safety Net: {f:?}"
            );
            assert_eq!(f.lost_silently, 0, "{f:?}");
        } else {
            // Rule transport.resubmit_auto: nobody asks Safety Net after a restore.
            assert_eq!(f.recovered, 0, "{f:?}");
            assert!(f.lost_silently > 0, "{f:?}");
        }
        assert_eq!(w.homes[0].history_ready, 1000);
    }
}

/// Dial tone for db0 on mbx4 (which holds no copy of db0), the helpdesk asked to point
/// the profiles there, the mailboxes moved back to the restored db0 at 1d3h5m (before the
/// helpdesk is done) and the helpdesk asked to point them back to mbx1.
fn profiles_to_mbx4_then_back() -> World {
    let mut ev = lose_db0_everywhere("1d1h");
    ev.extend(dial_tone_for_db0(MBX4, "1d1h26m"));
    let profiles = |server| {
        act(Action::ReconfigureProfiles {
            home: HomeId(0),
            server,
        })
    };
    ev.extend([
        ("1d1h26m", profiles(MBX4)),
        ("1d2h", act(Action::RestoreInPlace { home: HomeId(0) })),
        (
            "1d3h",
            act(Action::Mount {
                home: HomeId(0),
                db: DbRef::Original,
            }),
        ),
        (
            "1d3h5m",
            act(Action::MoveMailboxes {
                home: HomeId(0),
                to: DbRef::Original,
            }),
        ),
        ("1d3h5m", profiles(MBX1)),
    ]);
    run(spec(true, "5m"), "1d12h", ev)
}

#[test]
fn the_helpdesk_drops_profile_changes_made_obsolete_by_a_move_back() {
    let w = profiles_to_mbx4_then_back();
    assert_eq!(w.tallies.failed_actions, 0);
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX1));
    // About 100 minutes at 30/h: about 50 profiles pointed to mbx4 before the move back,
    // then only those 50 back to mbx1. Without the rule the helpdesk would finish the
    // obsolete 100 to mbx4 and then change all 100 back (200).
    let n = w.tallies.profile_changes;
    assert!((90..=110).contains(&n), "{n} changes");
    assert_eq!(n % 2, 0, "as many back as there: {n}");
    assert_eq!(
        w.connected(CohortId(1)),
        100,
        "every profile names mbx1 again"
    );
}

#[test]
fn dial_tone_on_an_alternate_server_then_back() {
    let mut ev = lose_db0_everywhere("1d1h");
    ev.extend(dial_tone_for_db0(MBX3, "1d1h26m"));
    ev.extend([
        (
            "1d1h26m",
            act(Action::ReconfigureProfiles {
                home: HomeId(0),
                server: MBX3,
            }),
        ),
        ("1d2h", act(Action::RestoreInPlace { home: HomeId(0) })),
        (
            "1d3h",
            act(Action::Mount {
                home: HomeId(0),
                db: DbRef::Original,
            }),
        ),
        (
            "1d3h5m",
            act(Action::MoveMailboxes {
                home: HomeId(0),
                to: DbRef::Original,
            }),
        ),
        (
            "1d3h5m",
            act(Action::ReconfigureProfiles {
                home: HomeId(0),
                server: MBX1,
            }),
        ),
        (
            "1d3h10m",
            act(Action::Merge {
                home: HomeId(0),
                mailboxes_per_hour: None,
            }),
        ),
    ]);
    let w = run(spec(true, "5m"), "1d12h", ev);
    assert_eq!(w.tallies.failed_actions, 0);
    assert_eq!(
        w.serving(DatabaseId(0)),
        Some(MBX1),
        "back on the original server"
    );
    assert_eq!(w.homes[0].history_ready, 1000);
    assert_eq!(
        w.left_in_dial_tone(HomeId(0)),
        0,
        "dial tone mail merged back"
    );
    // mbx3's copy of db0 was destroyed, so once the mailboxes move back the helpdesk's
    // remaining changes to mbx3 are obsolete (rule clients.profile): about 50 profiles
    // went to mbx3 in the 99 minutes at 30/h, and those 50 come back to mbx1.
    let n = w.tallies.profile_changes;
    assert!(
        (90..=110).contains(&n) && n.is_multiple_of(2),
        "{n} changes"
    );
    assert_eq!(w.connected(CohortId(1)), 100);
    assert!(w.fates().conserved());
}

#[test]
fn a_returning_site_does_not_interrupt_the_surviving_one() {
    // When dc1 comes back and joins dc2's partition, partition labels renumber; the
    // databases served in dc2 must not blink until the next heartbeat.
    let mut ev = dc1_dark_switchover();
    ev.push((
        "20h",
        fault(Fault::SitePower {
            site: DC1,
            on: true,
        }),
    ));
    let w = run(spec(true, "5m"), "1d", ev);
    let (down, back) = w.outages[0];
    assert_eq!(down, Some(t("10h")));
    assert!(
        back.is_some_and(|b| b < t("12h")),
        "back at {back:?}: dc1's return at 20h interrupted dc2"
    );
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX3));
}

#[test]
fn actions_on_a_missing_mailbox_group_are_refused_and_change_nothing() {
    let missing = HomeId(7);
    let ev = vec![
        ("2h", act(Action::Swap { home: missing })),
        (
            "2h",
            act(Action::Merge {
                home: missing,
                mailboxes_per_hour: None,
            }),
        ),
        (
            "2h",
            act(Action::ReconfigureProfiles {
                home: missing,
                server: MBX3,
            }),
        ),
        (
            "2h",
            act(Action::Mount {
                home: missing,
                db: DbRef::Original,
            }),
        ),
    ];
    let refused = run(spec(true, "5m"), "1d", ev);
    let quiet = run(spec(true, "5m"), "1d", Vec::new());
    assert_eq!(refused.tallies().failed_actions, 4);
    assert_eq!(refused.fates(), quiet.fates());
    let mut t = refused.tallies().clone();
    t.failed_actions = 0;
    assert_eq!(&t, quiet.tallies());
    assert_eq!(
        ActionError::NoHome(missing.0).to_string(),
        "no mailbox group 7"
    );
}

/// Failure `k` starts (`up = false`) or ends.
fn cause(k: u32, f: Fault) -> Event {
    Event::Fault(f, Cause::Failure(k))
}

fn mbx1_power(on: bool) -> Fault {
    Fault::ServerPower { server: MBX1, on }
}

/// Rule `causes.stack`: outages 1h-11h and 2h-3h of one server are one outage of 1h-11h;
/// the repair at 3h ends only its own failure.
#[test]
fn overlapping_outages_of_a_server_stack() {
    let events = || {
        vec![
            ("1h", cause(0, mbx1_power(false))),
            ("2h", cause(1, mbx1_power(false))),
            ("3h", cause(1, mbx1_power(true))),
            ("11h", cause(0, mbx1_power(true))),
        ]
    };
    for (horizon, up) in [
        ("30m", true),
        ("4h", false),
        ("10h59m", false),
        ("11h1m", true),
    ] {
        let w = run(spec(true, "5m"), horizon, events());
        assert_eq!(w.server_up(MBX1), up, "mbx1 at {horizon}");
    }
    // Active Manager sees it too: db0, whose active copy was on mbx1, is still served
    // elsewhere after the repair at 3h.
    let w = run(spec(true, "5m"), "10h", events());
    assert_ne!(w.serving(DatabaseId(0)), Some(MBX1));
}

/// Every kind of component (site power, server power, link, service, disk, DNS server)
/// counts its causes the same way: while failure 0 is active, failure 1's repair (and a
/// repeated one) leaves it down; failure 0's repair brings it up.
#[test]
fn every_component_stays_down_while_another_cause_is_active() {
    use super::components::Component;
    /// A component and its fault, given whether the cause ends.
    type Case = (Component, fn(bool) -> Fault);
    let cases: Vec<Case> = vec![
        (Component::SitePower(DC2), |up| Fault::SitePower {
            site: DC2,
            on: up,
        }),
        (Component::ServerPower(MBX3), |up| Fault::ServerPower {
            server: MBX3,
            on: up,
        }),
        (Component::Link(LinkId(0)), |up| Fault::Link {
            link: LinkId(0),
            up,
        }),
        (Component::Service(MBX3, ServiceKind::ClientAccess), |up| {
            Fault::Service {
                server: MBX3,
                service: ServiceKind::ClientAccess,
                up,
            }
        }),
        (Component::Disk(DatabaseId(0), 2), |up| Fault::Disk {
            db: DatabaseId(0),
            copy: 2,
            up,
        }),
        (Component::DnsServer, |up| Fault::DnsServer { up }),
    ];
    for (c, f) in cases {
        let evs = |horizon: &str| {
            let mut v = vec![
                ("1h", cause(0, f(false))),
                ("2h", cause(1, f(false))),
                ("3h", cause(1, f(true))),
                ("3h10m", cause(1, f(true))),
            ];
            if horizon == "6h" {
                v.push(("5h", cause(0, f(true))));
            }
            v
        };
        let w = run(spec(true, "5m"), "4h", evs("4h"));
        assert!(
            !w.component_up(c),
            "{c:?} came up while failure 0 is active"
        );
        let w = run(spec(true, "5m"), "6h", evs("6h"));
        assert!(w.component_up(c), "{c:?} stayed down after every repair");
    }
}

/// The administrators are a cause of their own. Powering a site back on does not end a
/// power failure still in progress; the failure's repair does not power on a site they
/// turned off (seed 004: a terminated datacenter stays off until they bring it back).
#[test]
fn the_administrators_and_a_failure_end_only_their_own_causes() {
    let power = |on| Fault::SitePower { site: DC1, on };
    let admin = |on| act(Action::PowerSite { site: DC1, on });
    // A failure 1h-5h; the administrators power the site "on" at 2h.
    let evs = || {
        vec![
            ("1h", cause(0, power(false))),
            ("2h", admin(true)),
            ("5h", cause(0, power(true))),
        ]
    };
    assert!(
        !run(spec(true, "5m"), "3h", evs()).site_up(DC1),
        "power-on ended a failure"
    );
    assert!(run(spec(true, "5m"), "6h", evs()).site_up(DC1));
    // A failure 2h-3h on a site the administrators turned off at 1h and on at 5h.
    let evs = || {
        vec![
            ("1h", admin(false)),
            ("2h", cause(0, power(false))),
            ("3h", cause(0, power(true))),
            ("5h", admin(true)),
        ]
    };
    assert!(
        !run(spec(true, "5m"), "4h", evs()).site_up(DC1),
        "a repair powered on a terminated site"
    );
    assert!(run(spec(true, "5m"), "6h", evs()).site_up(DC1));
    // The same for a server's power and for the cluster service.
    let evs = || {
        vec![
            ("1h", cause(0, mbx1_power(false))),
            (
                "2h",
                act(Action::PowerServer {
                    server: MBX1,
                    on: true,
                }),
            ),
        ]
    };
    assert!(!run(spec(true, "5m"), "3h", evs()).server_up(MBX1));
    let clussvc = |up| Fault::Service {
        server: MBX3,
        service: ServiceKind::Cluster,
        up,
    };
    let evs = || {
        vec![
            ("1h", cause(0, clussvc(false))),
            (
                "2h",
                act(Action::ClusterService {
                    server: MBX3,
                    running: true,
                }),
            ),
        ]
    };
    let w = run(spec(true, "5m"), "3h", evs());
    assert!(
        !w.servers[MBX3.index()].services.cluster,
        "net start clussvc ended a failure"
    );
    let evs = || {
        vec![
            (
                "1h",
                act(Action::ClusterService {
                    server: MBX3,
                    running: false,
                }),
            ),
            ("2h", cause(0, clussvc(false))),
            ("3h", cause(0, clussvc(true))),
        ]
    };
    let w = run(spec(true, "5m"), "4h", evs());
    assert!(
        !w.servers[MBX3.index()].services.cluster,
        "a repair started a stopped service"
    );
}

/// A rebuilt server is new hardware: it ends every cause of its own power and disks (the
/// lost machine's failure no longer holds it down), but not its site's power; a copy's
/// disk that is still failed cannot be reseeded.
#[test]
fn a_rebuild_replaces_the_server_but_not_its_site() {
    let disk = |up| Fault::Disk {
        db: DatabaseId(0),
        copy: 1,
        up,
    };
    let evs = vec![
        ("1h", cause(0, mbx1_power(false))),
        ("1h", cause(0, disk(false))),
        ("2h", act(Action::RebuildServer { server: MBX1 })),
    ];
    let w = run(spec(true, "5m"), "3h", evs);
    assert!(w.server_up(MBX1));
    // db0's copy 1 is on mbx2, which was not rebuilt: its disk is still down.
    assert!(!w.component_up(super::components::Component::Disk(DatabaseId(0), 1)));
    let evs = vec![
        (
            "1h",
            cause(
                0,
                Fault::SitePower {
                    site: DC1,
                    on: false,
                },
            ),
        ),
        ("2h", act(Action::RebuildServer { server: MBX1 })),
    ];
    assert!(
        !run(spec(true, "5m"), "3h", evs).server_up(MBX1),
        "its site has no power"
    );
}

#[test]
fn a_copy_on_a_failed_disk_cannot_be_reseeded_until_the_disk_is_repaired() {
    let disk = |up| Fault::Disk {
        db: DatabaseId(0),
        copy: 1,
        up,
    };
    let reseed = Action::Reseed {
        home: HomeId(0),
        server: MBX2,
    };
    let evs = vec![("1h", cause(0, disk(false))), ("2h", act(reseed.clone()))];
    let w = run(spec(true, "5m"), "3h", evs);
    assert_eq!(
        w.databases()[0].copies[1].health,
        crate::database::CopyHealth::FailedAndSuspended
    );
    assert_eq!(
        w.tallies.failed_actions, 1,
        "refused while the disk is down"
    );
    let evs = vec![
        ("1h", cause(0, disk(false))),
        ("2h", cause(0, disk(true))),
        ("2h1m", act(reseed)),
    ];
    let w = run(spec(true, "5m"), "3h", evs);
    assert_eq!(
        w.tallies.failed_actions, 0,
        "accepted once the disk is replaced"
    );
}

/// `/forcequorum` on a member whose cluster service has failed (a partial datacenter
/// failure still in progress) is refused: the service cannot start, so the member cannot
/// form a cluster. Once the failure is repaired it is accepted.
#[test]
fn forcing_quorum_needs_a_cluster_service_that_can_start() {
    let clussvc = |up| Fault::Service {
        server: MBX3,
        service: ServiceKind::Cluster,
        up,
    };
    let force = || act(Action::ForceQuorum { server: MBX3 });
    let evs = vec![("1h", cause(0, clussvc(false))), ("2h", force())];
    let w = run(spec(false, "5m"), "3h", evs);
    assert_eq!(
        w.tallies.failed_actions, 1,
        "refused while the service is failed"
    );
    let evs = vec![
        (
            "1h",
            act(Action::ClusterService {
                server: MBX3,
                running: false,
            }),
        ),
        ("2h", force()),
    ];
    let w = run(spec(false, "5m"), "3h", evs);
    assert_eq!(
        w.tallies.failed_actions, 0,
        "the administrators' own stop is no obstacle"
    );
    assert!(w.servers[MBX3.index()].services.cluster);
}

fn restore_db(h: u32, at: &'static str) -> (&'static str, Event) {
    (
        at,
        act(Action::RestoreBackup {
            home: HomeId(h),
            server: if h == 0 { MBX3 } else { MBX4 },
        }),
    )
}

#[test]
fn restores_sharing_a_capped_backup_location_take_longer() {
    // 50 GB at 50 MB/s per stream: 1,000 s alone (plus a few seconds of replay). With
    // the location capped at 50 MB/s in total, two restores read at 25 MB/s: 2,000 s.
    let mut cfg = spec(true, "5m");
    cfg.timing.restore.total = 50 << 20;
    let finished = |w: &World| [0, 1].map(|h| w.restore_finished(HomeId(h)));
    let one = run(cfg.clone(), "1d1h20m", vec![restore_db(0, "1d1h")]);
    assert_eq!(finished(&one), [true, false]);
    let two = vec![restore_db(0, "1d1h"), restore_db(1, "1d1h")];
    let early = run(cfg.clone(), "1d1h30m", two.clone());
    assert_eq!(finished(&early), [false, false], "sharing 50 MB/s: 2,000 s");
    let late = run(cfg.clone(), "1d1h35m", two.clone());
    assert_eq!(finished(&late), [true, true]);
    // Under a cap that fits both streams, two run as fast as one.
    cfg.timing.restore.total = 100 << 20;
    let both = run(cfg, "1d1h20m", two);
    assert_eq!(finished(&both), [true, true]);
}

#[test]
fn a_restore_replays_the_logs_since_the_backup() {
    // Circular logging off: the logs since the 22:00 backup survive and are replayed
    // at 10 MB/s. About 3,700 logs just before the next backup: about 6 minutes more
    // than a restore just after it (1,000 s of reading either way).
    let mut cfg = spec(true, "5m");
    for db in &mut cfg.databases {
        db.params.circular_logging = false;
    }
    let before = run(cfg.clone(), "1d22h10m", vec![restore_db(0, "1d21h50m")]);
    assert!(
        !before.restore_finished(HomeId(0)),
        "1,000 s + ~370 s of replay"
    );
    let before = run(cfg.clone(), "1d22h15m", vec![restore_db(0, "1d21h50m")]);
    assert!(before.restore_finished(HomeId(0)));
    let after = run(cfg, "1d22h30m", vec![restore_db(0, "1d22h10m")]);
    assert!(
        after.restore_finished(HomeId(0)),
        "1,000 s + a few s of replay"
    );
}

/// A world whose group 0 has `messages` of dial tone mail waiting in its recovery
/// database (after a swap) or, with `history_mb`, a restored database of that size.
fn merge_world(users: u64, messages: u64, history_mb: Option<u64>) -> World {
    let mut spec = spec(true, "5m");
    spec.timing.merge_mailboxes_per_hour = 500;
    spec.timing.merge_bytes_per_s = (10 << 30) / 3600;
    let mut w = World::new(spec, &RngStreams::new(7, 0)).expect("valid streams");
    if let Some(mb) = history_mb {
        w.dbs[1].params.size_mb = mb;
    }
    let home = &mut w.homes[0];
    home.users = users;
    home.dial_tone_messages = messages;
    home.recovery = Some(DatabaseId(1));
    home.recovery_holds_dial_tone = history_mb.is_none();
    w
}

fn merge_hours(w: &World, mailboxes_per_hour: u64) -> f64 {
    w.merge_duration(HomeId(0), mailboxes_per_hour).as_millis() as f64 / 3_600_000.0
}

#[test]
fn a_merge_of_twice_the_data_takes_twice_as_long() {
    // Overhead made negligible (a million mailboxes an hour): only the data counts.
    // 160,000 messages of 64 KB = 9.77 GB at 10 GB/h.
    let one = merge_hours(&merge_world(1000, 160_000, None), 1_000_000_000);
    let two = merge_hours(&merge_world(1000, 320_000, None), 1_000_000_000);
    assert!((one - 0.977).abs() < 0.01, "{one}");
    assert!((two / one - 2.0).abs() < 0.01, "{one} h vs {two} h");
}

#[test]
fn a_merge_pays_an_overhead_per_mailbox() {
    // No data: 1,000 mailboxes at 500 an hour take 2 h, 2,000 take 4 h.
    assert!((merge_hours(&merge_world(1000, 0, None), 500) - 2.0).abs() < 1e-6);
    assert!((merge_hours(&merge_world(2000, 0, None), 500) - 4.0).abs() < 1e-6);
    // With data, the overhead adds to the data time.
    let both = merge_hours(&merge_world(1000, 160_000, None), 500);
    assert!((both - 2.977).abs() < 0.01, "{both}");
}

#[test]
fn merging_a_whole_history_takes_far_longer_than_the_dial_tone_mail() {
    // A few hours of dial tone mail (1,000 users, 60 a day, 4 h: 10,000 messages of
    // 64 KB) against a 400 GB history.
    let dial = merge_hours(&merge_world(1000, 10_000, None), 500);
    let history = merge_hours(&merge_world(1000, 10_000, Some(400 << 10)), 500);
    assert!(dial < 2.1, "{dial} h");
    assert!(
        (history - 42.0).abs() < 0.01,
        "{history} h: 2 h + 400 GB at 10 GB/h"
    );
}

#[test]
fn a_merge_finishes_when_its_planned_time_has_passed() {
    // The same-server procedure of dial_tone_restores_send_receive_long_before_history:
    // the merge starts at 1d3h10m and takes 2 h of overhead plus its data at 10 GB/h.
    let ev = same_server_dial_tone_db0();
    let before = run(spec(true, "5m"), "1d5h10m", ev.clone());
    assert!(before.homes[0].merging, "2 h of overhead alone");
    let bytes = before.homes[0].dial_tone_messages * 64 * 1024;
    let data_s = bytes / ((10 << 30) / 3600);
    assert!(data_s > 30, "{data_s} s of data");
    let end = t("1d5h10m").saturating_add(SimDuration::from_millis(data_s * 1000 + 1000));
    let at_end = run_to(spec(true, "5m"), end, ev);
    assert!(
        !at_end.homes[0].merging,
        "done {data_s} s after the overhead"
    );
    assert_eq!(at_end.left_in_dial_tone(HomeId(0)), 0);
}

/// Runs `spec` to `end` with `events`; returns the world and how many events it handled.
fn run_counting(spec: WorldConfig, end: &str, events: Vec<(&str, Event)>) -> (World, u64) {
    let world = World::new(spec, &RngStreams::new(7, 0)).expect("valid streams");
    let initial = world.initial_events();
    let mut sim = Simulation::new(world);
    for (at, ev) in initial {
        sim.schedule(at, ev).expect("future");
    }
    for (at, ev) in events {
        sim.schedule(t(at), ev).expect("future");
    }
    sim.run_until(t(end));
    let n = sim.events_processed();
    (sim.into_parts().0, n)
}

/// The two-site organisation with `n` databases, all active on mbx1 with copies on mbx2
/// and mbx3, and Active Manager mounting `k` at once.
fn many_databases(n: usize, k: u32) -> WorldConfig {
    let mut s = spec(true, "5m");
    let db = s.databases[0].clone();
    s.databases = (0..n)
        .map(|i| config::DbConfig {
            name: format!("db{i}"),
            ..db.clone()
        })
        .collect();
    s.timing.mount_concurrency = k;
    s
}

/// When each database is served again after mbx1 loses power at 2h (its databases fail
/// over at once: the store is gone).
fn mounted_after_mbx1_fails(n: usize, k: u32) -> Vec<SimTime> {
    let ev = vec![(
        "2h",
        fault(Fault::ServerPower {
            server: MBX1,
            on: false,
        }),
    )];
    let w = run(many_databases(n, k), "3h", ev);
    (0..n)
        .map(|d| {
            assert_eq!(w.serving(DatabaseId::from(d)), Some(MBX2));
            w.outages[d].1.expect("served again")
        })
        .collect()
}

#[test]
fn active_manager_mounts_k_databases_at_a_time() {
    // 5 databases, 2 mount slots: ceil(5/2) = 3 waves of 30 s.
    let mut at = mounted_after_mbx1_fails(5, 2);
    at.sort();
    let wave = |n: u64| t("2h").saturating_add(SimDuration::from_millis(30_000 * n));
    assert_eq!(at, vec![wave(1), wave(1), wave(2), wave(2), wave(3)]);
    // Enough slots: one wave.
    let all = mounted_after_mbx1_fails(5, 5);
    assert!(all.iter().all(|&a| a == wave(1)), "{all:?}");
    // One slot: 30 s per database, Microsoft's switchover estimate.
    let mut one = mounted_after_mbx1_fails(5, 1);
    one.sort();
    assert_eq!(one, (1..=5).map(wave).collect::<Vec<_>>());
}

/// mbx1 (db0's active) loses power at 2h while every other copy of db0 is blocked from
/// activation, with a 1 s failover: no copy can mount.
fn unmountable_db0() -> (WorldConfig, Vec<(&'static str, Event)>) {
    let mut s = spec(true, "5m");
    s.timing.failover = d("1s");
    let mut ev = Vec::new();
    for server in [MBX2, MBX3] {
        ev.push((
            "1h",
            act(Action::BlockActivation {
                server,
                blocked: true,
            }),
        ));
    }
    ev.push((
        "2h",
        fault(Fault::ServerPower {
            server: MBX1,
            on: false,
        }),
    ));
    (s, ev)
}

#[test]
fn active_manager_does_not_retry_an_unmountable_database_in_a_tight_loop() {
    let (s, ev) = unmountable_db0();
    let (_, base) = run_counting(s.clone(), "1h", ev.clone());
    let (_, before) = run_counting(s.clone(), "2h", ev.clone());
    let (w, after) = run_counting(s, "3h", ev);
    assert_eq!(w.serving(DatabaseId(0)), None, "nothing could mount");
    // The mail, client and other events of an hour, against the quiet hour before.
    let failure_hour = after - before;
    let quiet_hour = before - base;
    assert!(
        failure_hour < quiet_hour * 2 + 100,
        "{failure_hour} events in the hour without a mountable copy, {quiet_hour} before: \
         a retry every 1 s would be 3,600 more"
    );
}

#[test]
fn active_manager_retries_at_once_when_something_changes() {
    // Unblocking mbx2 at 2h30m lets db0 mount one failover (1 s) later, not at the end
    // of a backoff.
    let (s, mut ev) = unmountable_db0();
    ev.push((
        "2h30m",
        act(Action::BlockActivation {
            server: MBX2,
            blocked: false,
        }),
    ));
    let w = run(s, "3h", ev);
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX2));
    assert_eq!(w.outages[0].1, Some(t("2h30m1s")));
}

/// Stop-DAG -ConfigurationOnly marks the live mbx3 stopped at 1h (from dc1, so both
/// sites' AD know); Start-DAG brings it back at `start`, if any.
fn mbx3_stopped(start: Option<&'static str>) -> Vec<(&'static str, Event)> {
    let mut ev = vec![(
        "1h",
        act(Action::StopDag {
            servers: vec![MBX3],
            from_site: DC1,
            configuration_only: true,
        }),
    )];
    if let Some(at) = start {
        ev.push((
            at,
            act(Action::StartDag {
                servers: vec![MBX3],
                from_site: DC1,
            }),
        ));
    }
    ev
}

#[test]
fn a_stopped_members_copy_falls_behind_until_start_dag() {
    let w = run(spec(true, "5m"), "10h", mbx3_stopped(None));
    let db = &w.dbs[0];
    assert!(w.server_up(MBX3), "up and reachable, only stopped");
    // About 150 logs an hour: nine hours' worth are waiting.
    assert!(db.copy_queue(2) > 1000, "queue {}", db.copy_queue(2));
    assert!(db.copy_healthy(1), "the running member keeps up");
    assert!(!w.copies_healthy(HomeId(0)));
    // Started again, it catches up at the copy rate (50 ms a log) and replays.
    let w = run(spec(true, "5m"), "10h30m", mbx3_stopped(Some("10h")));
    assert!(w.dbs[0].copy_healthy(2), "queue {}", w.dbs[0].copy_queue(2));
    assert!(w.copies_healthy(HomeId(0)));
}

#[test]
fn a_full_log_volume_dismounts_the_database_when_it_fills() {
    let mut cfg = spec(true, "5m");
    cfg.databases[0].params.log_volume_logs = 200;
    let w = run(cfg.clone(), "1d", mbx3_stopped(None));
    assert_eq!(
        w.dbs[0].state,
        DbState::Failed(crate::database::FailReason::LogVolumeFull)
    );
    assert_eq!(w.serving(DatabaseId(0)), None);
    let down = w.outages()[0].0.expect("an outage");
    // The outage starts at the mail tick that writes the filling log: just before it,
    // the database was mounted and served.
    let before = format!("{}ms", down.as_millis() - 1);
    let b = run(cfg, &before, mbx3_stopped(None));
    assert_eq!(b.dbs[0].state, DbState::Mounted);
    assert!(b.dbs[0].log_gen - b.dbs[0].truncated_below <= 200);
    assert_eq!(down.as_millis() % d("5m").as_millis(), 0, "a mail tick");
}

/// db0 moved at 10h from mbx1 to its copy on `to` and mounted 5 s later (as a playbook
/// does); mbx3's copy lags 2 hours.
fn move_db0_at_10h(to: ServerId) -> World {
    let mut cfg = spec(true, "5m");
    cfg.databases[0].copies[2].replay_lag = d("2h");
    run(
        cfg,
        "11h",
        vec![
            (
                "10h",
                act(Action::MoveActive {
                    home: HomeId(0),
                    to,
                    skip_checks: false,
                }),
            ),
            (
                "10h0m5s",
                act(Action::Mount {
                    home: HomeId(0),
                    db: DbRef::Original,
                }),
            ),
        ],
    )
}

#[test]
fn activating_a_lagged_copy_waits_for_its_replay() {
    let w = move_db0_at_10h(MBX3);
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX3));
    let (down, up) = w.outages()[0];
    assert_eq!(down, Some(t("10h")));
    let up = up.expect("back");
    // Two hours of logs (about 300) replayed at 100 ms each: about 30 s.
    let secs = up.saturating_duration_since(t("10h")).as_millis() / 1000;
    assert!((20..=45).contains(&secs), "replayed in {secs} s");
    assert_eq!(
        w.tallies.failed_actions, 0,
        "a mount during the replay is accepted and waits for it"
    );
    // A copy that has replayed everything mounts at once (its last log pulled by ACLL
    // in well under a second).
    let w = move_db0_at_10h(MBX2);
    let (_, up) = w.outages()[0];
    let ms = up.map_or(0, |u| u.saturating_duration_since(t("10h")).as_millis());
    assert!(ms < 1000, "{ms} ms");
}

/// db0 corrupted on every copy at 1d1h, then the 2013 same-server procedure: dial tone at
/// 1d1h30m, restore into a recovery database at 1d1h35m, swap at 1d3h, merge at 1d3h10m.
fn same_server_dial_tone_db0() -> Vec<(&'static str, Event)> {
    let mut ev = vec![("1d1h", fault(Fault::Corruption { db: DatabaseId(0) }))];
    ev.extend(dial_tone_for_db0(MBX1, "1d1h30m"));
    ev.extend([
        (
            "1d1h35m",
            act(Action::RestoreBackup {
                home: HomeId(0),
                server: MBX1,
            }),
        ),
        ("1d3h", act(Action::Swap { home: HomeId(0) })),
        (
            "1d3h10m",
            act(Action::Merge {
                home: HomeId(0),
                mailboxes_per_hour: None,
            }),
        ),
    ]);
    ev
}

#[test]
fn a_wan_cut_on_the_mail_tick_loses_no_more_than_one_seven_seconds_off_it() {
    // Rule world.arrivals: the witness is in dc2, so a WAN cut leaves dc1 without quorum
    // and Active Manager activates db0's copy on mbx3. The mail that arrived before the cut
    // shipped with it; only the heartbeat window's mail is on the isolated active. With
    // 5-minute batches written at the tick, a cut on the tick left the whole batch (13
    // logs, beyond the mount dial's 6) on dc1 and db0 stayed down for hours.
    let outcome = |at: &str| {
        let mut s = spec(false, "5m");
        s.dag.witness = Some(FSW2);
        s.dag.alternate_witness = Some(FSW1);
        let w = run(
            s,
            "4h",
            vec![(
                at,
                fault(Fault::Link {
                    link: LinkId(0),
                    up: false,
                }),
            )],
        );
        (w.serving(DatabaseId(0)), outage_user_minutes(&w))
    };
    let (on_tick, minutes) = outcome("2h");
    assert_eq!(on_tick, Some(MBX3), "db0 fails over to dc2 within the dial");
    for at in ["1h59m53s", "2h7s"] {
        let (serving, m) = outcome(at);
        assert_eq!(serving, on_tick, "cut at {at}");
        assert!(
            (m - minutes).abs() <= 0.1 * minutes + 100.0,
            "cut at {at}: {m} user-minutes, on the tick {minutes}"
        );
    }
}

#[test]
fn a_restore_needs_a_backup_taken_before_it() {
    // Rule db.restore_needs_backup: the first backup runs at 22h; a restore at 10h has
    // nothing to restore from and is refused, one at 1d10h restores.
    for (at, refused) in [("10h", 1), ("1d10h", 0)] {
        let w = run(
            spec(true, "5m"),
            "2d",
            vec![(
                at,
                act(Action::RestoreBackup {
                    home: HomeId(0),
                    server: MBX2,
                }),
            )],
        );
        assert_eq!(w.tallies.failed_actions, refused, "restore at {at}");
        assert_eq!(
            w.homes[0].recovery.is_some(),
            refused == 0,
            "restore at {at}"
        );
    }
}

/// A 2-member DAG in DAC mode: mbx1 (dc1) and mbx3 (dc2), the witness fsw1 in dc1;
/// db0 on mbx1 with a copy on mbx3, db1 on mbx3 with a copy on mbx1.
fn two_member_dag() -> WorldConfig {
    let mut s = spec(true, "5m");
    s.dag.members = vec![MBX1, MBX3];
    s.databases[0].copies.retain(|c| c.server != MBX2);
    s.databases[1].copies = vec![s.databases[1].copies[2], s.databases[1].copies[1]];
    s.databases[1].copies[0].server = MBX3;
    s
}

/// The WAN is cut at 1h (dc1 keeps quorum with the witness) and `off` loses power at
/// 2h, back at 2h10m.
fn two_member_restart(off: Fault, on: Fault) -> World {
    let cut = Fault::Link {
        link: LinkId(0),
        up: false,
    };
    run(
        two_member_dag(),
        "3h",
        vec![
            ("1h", Event::Fault(cut, Cause::Failure(1))),
            ("2h", fault(off)),
            ("2h10m", fault(on)),
        ],
    )
}

#[test]
fn a_two_member_dag_member_restarting_alone_mounts_beside_a_witness_that_stayed_up() {
    // exchange-facts §2: the bit was last set (at the start) no earlier than the witness
    // booted (also at the start), so mbx1 did not restart with the witness: it mounts.
    let w = two_member_restart(
        Fault::ServerPower {
            server: MBX1,
            on: false,
        },
        Fault::ServerPower {
            server: MBX1,
            on: true,
        },
    );
    assert!(w.dac.bit(0));
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX1));
}

#[test]
fn a_two_member_dag_member_restarting_with_its_witness_does_not_mount() {
    // The site's power loss restarts mbx1 and fsw1 together: the witness's new boot time
    // is recorded before mbx1 asks, so mbx1 sees a witness younger than its bit.
    let w = two_member_restart(
        Fault::SitePower {
            site: DC1,
            on: false,
        },
        Fault::SitePower {
            site: DC1,
            on: true,
        },
    );
    assert!(!w.dac.bit(0));
    assert_eq!(w.serving(DatabaseId(0)), None);
}

/// mbx4 dies at 1h and stays dead; both sites lose power at 2h and get it back at
/// 2h10m; Stop-DAG -ConfigurationOnly marks mbx4 stopped at `stop`, if any.
fn cold_start_without_mbx4(stop: Option<&'static str>, horizon: &str) -> World {
    let site = |site, on| Event::Fault(Fault::SitePower { site, on }, Cause::Failure(1));
    let mut ev = vec![
        (
            "1h",
            fault(Fault::ServerPower {
                server: MBX4,
                on: false,
            }),
        ),
        ("2h", site(DC1, false)),
        ("2h", site(DC2, false)),
        ("2h10m", site(DC1, true)),
        ("2h10m", site(DC2, true)),
    ];
    if let Some(at) = stop {
        ev.push((
            at,
            act(Action::StopDag {
                servers: vec![MBX4],
                from_site: DC1,
                configuration_only: true,
            }),
        ));
    }
    run(spec(true, "5m"), horizon, ev)
}

#[test]
fn stopping_a_dead_member_lets_the_running_members_reach_consensus() {
    // exchange-facts §2 (timmcmic part 5): no automount consensus while mbx4 is on the
    // started list and unreachable; marking it stopped lets the others mount.
    let w = cold_start_without_mbx4(None, "5h");
    assert_eq!(w.serving(DatabaseId(0)), None);
    assert_eq!(w.serving(DatabaseId(1)), None);
    let w = cold_start_without_mbx4(Some("4h"), "5h");
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX1));
    assert_eq!(w.serving(DatabaseId(1)), Some(MBX2));
}

/// After the DAC switchover of `dc1_dark_switchover`, the WAN is cut at 12h, dc1 boots
/// during the cut at 14h, the WAN heals at 16h, Start-DAG runs from dc2 at 17h and db0
/// is moved back to mbx1 at 18h.
fn switchback_after_isolated_boot() -> World {
    let wan = |up| {
        Event::Fault(
            Fault::Link {
                link: LinkId(0),
                up,
            },
            Cause::Failure(1),
        )
    };
    let mut ev = dc1_dark_switchover();
    ev.extend([
        ("12h", wan(false)),
        (
            "14h",
            fault(Fault::SitePower {
                site: DC1,
                on: true,
            }),
        ),
        ("16h", wan(true)),
        (
            "17h",
            act(Action::StartDag {
                servers: vec![MBX1, MBX2],
                from_site: DC2,
            }),
        ),
        (
            "18h",
            act(Action::MoveActive {
                home: HomeId(0),
                to: MBX1,
                skip_checks: false,
            }),
        ),
    ]);
    run(spec(true, "5m"), "19h", ev)
}

#[test]
fn start_dag_lets_members_that_booted_cut_off_learn_the_bit_and_mount() {
    // exchange-facts §2: Start-DAG re-incorporates the members; they learn bit 1 from the
    // running members in dc2, so the move back mounts db0 in dc1.
    let w = switchback_after_isolated_boot();
    assert_eq!(w.tallies.split_brain.integral_ms(), 0);
    assert!(w.dac.bit(0) && w.dac.bit(1));
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX1));
}

#[test]
fn restore_dag_does_not_restore_members_its_own_site_lists_as_stopped() {
    // dc2's members were marked stopped from dc1 (an operator error) before the
    // switchover to dc2: Restore-DAG would evict them too, leaving no quorum, so it is
    // refused and evicts nobody.
    let mut ev = vec![(
        "1h",
        act(Action::StopDag {
            servers: vec![MBX3, MBX4],
            from_site: DC1,
            configuration_only: true,
        }),
    )];
    ev.extend(dc1_dark_switchover());
    let w = run(spec(true, "5m"), "12h", ev);
    assert!(w.cluster.is_member(0), "mbx1 was not evicted");
    assert_eq!(w.serving(DatabaseId(0)), None);
    // Without the operator error the same switchover evicts dc1's members.
    let w = run(spec(true, "5m"), "12h", dc1_dark_switchover());
    assert!(!w.cluster.is_member(0));
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX3));
}

/// Without DAC mode: mbx1 is evicted at 1h (db0 fails over to mbx2); Add-DAG-Server
/// brings it back at `add`, if any; db0 is moved back to mbx1 at 3h.
fn evicted_mbx1(add: Option<&'static str>) -> World {
    let mut ev = vec![("1h", act(Action::EvictNode { server: MBX1 }))];
    if let Some(at) = add {
        ev.push((at, act(Action::AddDagServer { server: MBX1 })));
    }
    ev.push((
        "3h",
        act(Action::MoveActive {
            home: HomeId(0),
            to: MBX1,
            skip_checks: false,
        }),
    ));
    run(spec(false, "5m"), "4h", ev)
}

#[test]
fn add_dag_server_brings_an_evicted_member_back() {
    // Seed 004, switchback without DAC mode: Add-DatabaseAvailabilityGroupServer.
    let w = evicted_mbx1(None);
    assert!(!w.cluster.is_member(0));
    assert_eq!(
        w.serving(DatabaseId(0)),
        Some(MBX2),
        "the move back is refused"
    );
    let w = evicted_mbx1(Some("2h"));
    assert!(w.cluster.is_member(0));
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX1));
}

#[test]
fn node_majority_drops_the_witness() {
    // Seed 004, non-DAC activation with an odd number of survivors.
    let w = run(
        spec(false, "5m"),
        "2h",
        vec![("1h", act(Action::NodeMajority))],
    );
    assert_eq!(w.witness, None);
    assert_eq!(w.serving(DatabaseId(0)), Some(MBX1), "4 of 4 votes: quorum");
}

/// Reseeds of copies (`(home, server)`) whose disks failed at 1 h and were replaced at
/// 1h30m, all started at 2 h: when each copy is healthy again, seconds after 2 h.
fn reseed_seconds(copies: &[(u32, ServerId)]) -> Vec<u64> {
    let mut evs = Vec::new();
    for (k, &(home, server)) in copies.iter().enumerate() {
        let db = DatabaseId(home);
        let copy = spec(true, "5m").databases[db.index()]
            .copies
            .iter()
            .position(|c| c.server == server)
            .expect("a copy there");
        let disk = |up| Fault::Disk { db, copy, up };
        let k = k as u32;
        evs.push(("1h", cause(k, disk(false))));
        evs.push(("1h30m", cause(k, disk(true))));
        evs.push((
            "2h",
            act(Action::Reseed {
                home: HomeId(home),
                server,
            }),
        ));
    }
    let w = run(spec(true, "5m"), "2h1m", evs);
    assert_eq!(w.tallies.failed_actions, 0, "every reseed accepted");
    copies
        .iter()
        .map(|&(home, server)| {
            let db = &w.databases()[home as usize];
            let i = db.copy_on(server).expect("a copy there");
            match db.copies[i].health {
                crate::database::CopyHealth::Seeding(done) => (done.as_millis() - 7_200_000) / 1000,
                h => panic!("not seeding: {h:?}"),
            }
        })
        .collect()
}

/// Rule `db.seed_source`: seeds from one source share its rate; seeds from different
/// sources do not slow each other. The fixture's databases are 50,000 MB at 20 MB/s.
#[test]
fn reseeds_from_one_source_share_it_and_other_sources_do_not_interfere() {
    assert_eq!(reseed_seconds(&[(0, MBX2)]), vec![2500]);
    // db0's copies on mbx2 and mbx3 both seed from its active copy on mbx1.
    assert_eq!(reseed_seconds(&[(0, MBX2), (0, MBX3)]), vec![5000, 5000]);
    // db0's copy on mbx2 seeds from mbx1; db1's copy on mbx4 from mbx2.
    assert_eq!(reseed_seconds(&[(0, MBX2), (1, MBX4)]), vec![2500, 2500]);
}

/// Rule `db.seed_source`: a seed abandoned (its disk fails again) gives its share of the
/// source back to the other at once.
#[test]
fn an_abandoned_reseed_speeds_up_the_other_from_its_source() {
    let disk = |copy, up| Fault::Disk {
        db: DatabaseId(0),
        copy,
        up,
    };
    let reseed = |server| {
        act(Action::Reseed {
            home: HomeId(0),
            server,
        })
    };
    let evs = vec![
        ("1h", cause(0, disk(1, false))),
        ("1h", cause(1, disk(2, false))),
        ("1h30m", cause(0, disk(1, true))),
        ("1h30m", cause(1, disk(2, true))),
        ("2h", reseed(MBX2)),
        ("2h", reseed(MBX3)),
        ("2h10m", cause(2, disk(2, false))),
    ];
    let w = run(spec(true, "5m"), "2h11m", evs);
    // 600 s at 10 MB/s (6,000 MB), then 44,000 MB alone at 20 MB/s: 2,200 s.
    assert_eq!(
        w.databases()[0].copies[1].health,
        crate::database::CopyHealth::Seeding(SimTime::from_millis((7_200 + 2_800) * 1000))
    );
}

#[test]
fn every_user_outage_is_counted_once_for_the_residual_outage() {
    // Rule metrics.residual_outage: the users' outages, first in first out per bucket,
    // add up to the integral of users without service (every cached user works online
    // in this fixture).
    for w in [
        run(spec(true, "5m"), "3d", same_server_dial_tone_db0()),
        dac_switchover("5m"),
    ] {
        let integral: u128 = w
            .tallies
            .without_service
            .iter()
            .map(|a| a.integral_ms())
            .sum();
        assert!(integral > 0);
        assert_eq!(w.tallies.residual.user_ms(), integral);
        let r = w.tallies.residual.mean_residual_s().expect("outages");
        assert!(r > 60.0 && r < 3.0 * 86_400.0, "residual {r} s");
    }
}

#[test]
fn a_refresh_that_skips_clients_matches_one_that_evaluates_them_all() {
    // Issue 14: a refresh evaluates only loud buckets and buckets of groups whose inputs
    // changed, and updates only cohorts whose group changed; exactly what evaluating
    // every bucket and cohort at every refresh gives. Rules perf.refresh_changes and
    // perf.clients_dns_due: it serves only the databases and checks only the groups
    // something changed, and a quiet bucket waits for its next DNS refresh while the
    // answers settle; exactly what serving every database, checking every group and
    // evaluating every bucket gives (debug builds also assert it after every refresh). Stories: a site switchover (DNS
    // change), a split brain (rogue copies), dial tone with a swap and a merge (history),
    // the helpdesk (profiles) and a move back (Autodiscover), a mailbox move.
    let mut helpdesk = lose_db0_everywhere("1d1h");
    helpdesk.extend(dial_tone_for_db0(MBX3, "1d1h30m"));
    helpdesk.push((
        "1d1h30m",
        act(Action::ReconfigureProfiles {
            home: HomeId(0),
            server: MBX3,
        }),
    ));
    helpdesk.push(("1d2h", act(Action::RestoreInPlace { home: HomeId(0) })));
    helpdesk.push((
        "1d3h",
        act(Action::Mount {
            home: HomeId(0),
            db: DbRef::Original,
        }),
    ));
    helpdesk.push((
        "1d3h5m",
        act(Action::MoveMailboxes {
            home: HomeId(0),
            to: DbRef::Original,
        }),
    ));
    let stories = [
        ("switchover", true, "1d", dc1_dark_switchover()),
        ("split brain", false, "1d", wan_cut_events(false)),
        ("dial tone", true, "3d", same_server_dial_tone_db0()),
        ("helpdesk", true, "1d8h", helpdesk),
    ];
    for (name, dac, horizon, ev) in stories {
        let skipping = run_with(spec(dac, "5m"), t(horizon), ev.clone(), false);
        let all = run_with(spec(dac, "5m"), t(horizon), ev, true);
        assert!(
            outage_user_minutes(&all) > 0.0,
            "{name}: the story moves clients {:?}",
            all.tallies.without_service_curve
        );
        assert_eq!(skipping.tallies, all.tallies, "{name}");
        assert_eq!(skipping.buckets, all.buckets, "{name}");
        assert_eq!(skipping.bucket_rogue, all.bucket_rogue, "{name}");
        assert_eq!(skipping.fates(), all.fates(), "{name}");
        assert_eq!(skipping.group_outages, all.group_outages, "{name}");
        // Rule perf.serve_tables: serving read from tables taken once a refresh, and
        // members of the running partition sharing one view, serve as before.
        assert_eq!(skipping.serving, all.serving, "{name}");
        assert_eq!(skipping.rogue_serving, all.rogue_serving, "{name}");
        assert_eq!(skipping.outages, all.outages, "{name}");
    }
}

#[test]
fn a_rogue_cluster_serves_what_its_members_saw_whatever_the_views_share() {
    // Rule perf.serve_tables: members of the running partition share one view of the
    // active copies; one that leaves keeps what it saw. A rogue cluster after a WAN cut
    // and a forced quorum on the other side mounts the copies it last saw active (split
    // brain), exactly as when every member keeps its own view.
    let mut ev = wan_cut_events(false);
    // Before: database 0's active copy moves to dc2, so views differ from the start's.
    ev.push((
        "5h",
        act(Action::MoveActive {
            home: HomeId(0),
            to: MBX3,
            skip_checks: false,
        }),
    ));
    let shared = run_with(spec(false, "5m"), t("1d"), ev.clone(), false);
    let own = run_with(spec(false, "5m"), t("1d"), ev, true);
    assert!(
        own.tallies.split_brain.integral_ms() > 0,
        "the story has a split brain: {:?}",
        own.rogue_serving
    );
    assert_eq!(own.serving[0], Some(MBX3), "database 0 stays moved");
    assert_eq!(shared.tallies.split_brain, own.tallies.split_brain);
    assert_eq!(shared.rogue_serving, own.rogue_serving);
    assert_eq!(shared.outages, own.outages);
    for m in 0..shared.config.dag.members.len() {
        assert_eq!(
            shared.member_views.view(m),
            own.member_views.view(m),
            "member {m}"
        );
    }
}

/// dc1 (with the witness) loses power at 10h, so dc2 has no quorum; the administrator
/// switches over to dc2 at 13h (Stop-DAG; Restore-DAG and both DNS records at 13h10m). Runs to 16h with
/// `seed`, Active Manager retrying on a timer without quorum when `timer` (as before rule
/// `am.retry_quorum`); returns the world and the events it handled.
fn quorum_wait(seed: u64, timer: bool) -> (World, u64) {
    let end = t("16h");
    let mut s = spec(true, "5m");
    s.mail.horizon = Some(end);
    let mut world = World::new(s, &RngStreams::new(seed, 0)).expect("valid streams");
    world.retry_without_quorum = timer;
    let mut ev = vec![(
        "10h",
        fault(Fault::SitePower {
            site: DC1,
            on: false,
        }),
    )];
    ev.extend(switchover_to_dc2("13h", "13h10m"));
    for record in [RecordKind::ClientAccess, RecordKind::Mx] {
        ev.push(("13h10m", act(Action::ChangeDns { record, site: DC2 })));
    }
    let initial = world.initial_events();
    let mut sim = Simulation::new(world);
    for (at, e) in initial
        .into_iter()
        .chain(ev.into_iter().map(|(a, e)| (t(a), e)))
    {
        sim.schedule(at, e).expect("future");
    }
    sim.run_until(end);
    let n = sim.events_processed();
    let (mut w, _) = sim.into_parts();
    w.finish(end);
    (w, n)
}

#[test]
fn without_quorum_active_manager_waits_for_the_change_that_restores_it() {
    // Rule am.retry_quorum: the failovers scheduled before the heartbeat noticed the lost
    // quorum fail; no timer retry follows (before the rule, about 8 a database in 3 h),
    // and Restore-DAG's change mounts both databases exactly when the retries did.
    let (wait, n_wait) = quorum_wait(7, false);
    let (timer, n_timer) = quorum_wait(7, true);
    assert!(
        n_timer >= n_wait + 12,
        "{n_timer} events with timer retries, {n_wait} without"
    );
    for d in 0..2 {
        assert_eq!(
            wait.serving(DatabaseId(d)).map(|s| w_site(&wait, s)),
            Some(DC2)
        );
    }
    assert_eq!(wait.outages, timer.outages);
    assert_eq!(wait.no_mount, vec![None, None]);
    assert_eq!(
        outage_user_minutes(&wait).to_bits(),
        outage_user_minutes(&timer).to_bits()
    );
}

fn w_site(w: &World, s: ServerId) -> SiteId {
    w.site_of(s)
}

#[test]
fn waiting_for_quorum_delivers_and_serves_as_timer_retries_do() {
    // Rule am.retry_quorum, statistically: 300 seeds (fixed, so it never flakes), each
    // run both ways on common random numbers. The timer retries were change points for
    // mail (arrivals split there); without them mail is split elsewhere, so fates move
    // seed by seed but not on average: the mean difference of each fate and of the
    // user-minutes is within 4 standard errors of zero (exactly zero where every seed
    // agrees).
    let mut diff: [Vec<f64>; 8] = Default::default();
    for seed in 0..300 {
        let v = |timer| {
            let (w, _) = quorum_wait(seed, timer);
            let f = w.fates();
            [
                f.offered as f64,
                f.delivered_on_time as f64,
                f.delivered_late as f64,
                f.bounced as f64,
                f.lost_silently as f64,
                f.queued as f64,
                f.recovered as f64,
                outage_user_minutes(&w),
            ]
        };
        let (wait, timer) = (v(false), v(true));
        for (k, out) in diff.iter_mut().enumerate() {
            out.push(wait[k] - timer[k]);
        }
    }
    let names = [
        "offered",
        "on time",
        "late",
        "NDR",
        "lost",
        "queued",
        "recovered",
        "user-minutes",
    ];
    for (k, name) in names.iter().enumerate() {
        let (m, se) = mean_se(&diff[k]);
        assert!(
            m.abs() <= 4.0 * se + 1e-9,
            "{name}: waiting for quorum minus timer retries {m:.3} ± {se:.3}"
        );
    }
}

/// Mean and standard error.
fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn only_a_database_whose_copies_all_need_quorum_waits_for_it() {
    // Rule am.retry_quorum: a copy on a server outside the DAG (fsw2) may mount without
    // quorum, so its database keeps its timer retries; one whose copies are all on
    // members waits. With quorum nobody waits.
    let mut s = spec(true, "5m");
    let mut outside = s.databases[0].copies[2];
    outside.server = FSW2;
    outside.preference = 4;
    s.databases[0].copies.push(outside);
    let mut w = World::new(s, &RngStreams::new(7, 0)).expect("valid streams");
    assert!(w.quorum().is_some());
    assert!(
        !w.waits_for_quorum(0) && !w.waits_for_quorum(1),
        "quorum at start"
    );
    w.quorum_members.clear();
    assert_eq!(w.quorum(), None);
    assert!(!w.waits_for_quorum(0), "db0 has a copy outside the DAG");
    assert!(w.waits_for_quorum(1));
    w.retry_without_quorum = true;
    assert!(!w.waits_for_quorum(1));
}

/// Users of group `h`'s cohorts who can send and receive.
fn group_connected(w: &World, h: usize) -> u64 {
    (0..w.cohorts.len())
        .filter(|&c| w.cohorts[c].home.index() == h)
        .map(|c| w.connected(CohortId::from(c)))
        .sum()
}

#[test]
fn a_server_pushed_over_capacity_squeezes_the_groups_it_already_served() {
    // Rule perf.refresh_changes: db1 fails over onto mbx1, which already serves db0 and
    // holds 1,500 mailboxes; mbx1 now serves fewer than are active (rule
    // server.capacity), so db0's group, whose own database and serving did not change,
    // must be checked again and loses connections, as when every group is checked.
    let mut spec = spec(true, "5m");
    spec.servers[MBX1.index()].capacity_mailboxes = Some(1500);
    let ev = vec![(
        "1h",
        fault(Fault::ServerPower {
            server: MBX2,
            on: false,
        }),
    )];
    let skipping = run_with(spec.clone(), t("2h"), ev.clone(), false);
    let all = run_with(spec, t("2h"), ev, true);
    assert_eq!(skipping.serving[1], Some(MBX1), "db1 failed over to mbx1");
    assert!(
        group_connected(&all, 0) < 1000,
        "mbx1 over capacity squeezes db0's users: {}",
        group_connected(&all, 0)
    );
    assert_eq!(group_connected(&skipping, 0), group_connected(&all, 0));
    assert_eq!(skipping.tallies, all.tallies);
    assert_eq!(skipping.buckets, all.buckets);
}

#[test]
fn a_swap_ending_serves_its_database_while_another_group_still_swaps() {
    // Rule perf.refresh_changes: a group that stops swapping has its database served
    // again even when the serving tables do not move (another group still swaps), as
    // when every database is served at every refresh.
    let mut spec = spec(true, "5m");
    let mut db2 = spec.databases[1].clone();
    db2.name = "db2".into();
    db2.copies = vec![db2.copies[2], db2.copies[0]];
    spec.databases.push(db2);
    let more: Vec<_> = spec
        .cohorts
        .iter()
        .filter(|c| c.home == HomeId(1))
        .map(|c| config::CohortConfig {
            home: HomeId(2),
            ..*c
        })
        .collect();
    spec.cohorts.extend(more);
    let end = t("3h");
    let run = |exhaustive: bool| {
        let mut spec = spec.clone();
        spec.mail.horizon = Some(end);
        let mut world = World::new(spec, &RngStreams::new(7, 0)).expect("valid streams");
        world.exhaustive_refresh = exhaustive;
        // The swaps are set behind the refresh's back, so the first refresh changes
        // every group's path: every change point splits every group.
        world.arrivals.split_all = true;
        for h in 0..3 {
            world.homes[h].swapping = true;
        }
        let initial = world.initial_events();
        let mut sim = Simulation::new(world);
        for (at, ev) in initial {
            sim.schedule(at, ev).expect("future");
        }
        sim.schedule(t("1h"), Event::SwapDone(HomeId(2)))
            .expect("future");
        sim.schedule(t("2h"), Event::SwapDone(HomeId(1)))
            .expect("future");
        sim.run_until(end);
        sim.into_parts().0
    };
    let (skipping, all) = (run(false), run(true));
    assert_eq!(all.serving[0], None, "group 0 still swaps");
    assert_eq!(all.serving[1], Some(MBX2), "group 1's swap ended");
    assert_eq!(skipping.serving, all.serving);
    assert_eq!(skipping.outages, all.outages);
}

#[test]
fn a_partial_replication_pass_advances_only_the_databases_it_names() {
    // Rule world.arrivals_touched: replication follows the splits. A pass for the
    // databases a change point touched leaves every other one as it was, unsettled or
    // not, so that the next pass ships its logs with the whole interval since its own
    // last advance (`world::quiet::tests::mail_a_later_split_...` sees the consequence,
    // with a database that is settled there).
    let mut w = World::new(spec(true, "5m"), &RngStreams::new(7, 0)).expect("valid streams");
    assert!(w.dbs.len() >= 2, "the fixture has two databases");
    let (t0, t1) = (t("1h"), t("1h0m10s"));
    w.advance_replication(t0, None);
    for d in [0, 1] {
        w.dbs[d].write(t0, 20_000);
    }
    let queue = |w: &World, d: usize| -> u64 {
        let db = &w.databases()[d];
        (0..db.copies.len())
            .filter(|&i| i != db.active)
            .map(|i| db.copy_queue(i))
            .sum()
    };
    let before = [queue(&w, 0), queue(&w, 1)];
    assert!(
        before.iter().all(|&q| q > 0),
        "both have logs to ship: {before:?}"
    );
    w.advance_replication(t1, Some(&[1]));
    assert_eq!(queue(&w, 0), before[0], "database 0 was not named");
    assert!(queue(&w, 1) < before[1], "database 1 shipped");
    w.advance_replication(t1, None);
    assert!(
        queue(&w, 0) < before[0],
        "a full pass ships database 0's logs"
    );
}

#[test]
fn an_action_also_touches_the_databases_waiting_for_active_managers_retry() {
    // Rule world.arrivals_touched: an administrator's action retries the databases that
    // wait for Active Manager (rule am.retry), so it splits their groups too.
    let mut w = World::new(spec(true, "5m"), &RngStreams::new(7, 0)).expect("valid streams");
    let act = Action::RestoreInPlace { home: HomeId(0) };
    let alone = w.touched_by_action(&act).expect("one group's action");
    let waiting = (0..w.dbs.len() as u32)
        .find(|d| !alone.dbs.contains(d))
        .expect("a database the action does not touch");
    let its_group = (0..w.homes.len() as u32)
        .find(|&g| w.homes[g as usize].current.index() as u32 == waiting)
        .expect("a group on it");
    assert!(!alone.groups.contains(&its_group));
    w.no_mount[waiting as usize] = Some((1, 0));
    let with = w.touched_by_action(&act).expect("one group's action");
    assert!(with.dbs.contains(&waiting), "{with:?}");
    assert!(with.groups.contains(&its_group), "{with:?}");
    assert!(alone.groups.iter().all(|g| with.groups.contains(g)));
}
