//! Seed 004's switchback after a DAC switchover, when the primary comes back badly: its
//! members boot during a WAN cut, or the move back is refused (issue 12 §1, §2).

use dialtone_scenario::{Scenario, Summary};
use serde_json::json;

use crate::directions::variant;

fn run(sc: &Scenario) -> Summary {
    dialtone_scenario::run(sc, sc.seed, 0).unwrap_or_else(|e| panic!("{e}"))
}

/// The shipped switchback (dc1 dark from 1d10h to 2d4h) with `extra` failures.
fn switchback_with(extra: serde_json::Value) -> Summary {
    let mut failures = vec![json!({
        "kind": "site-power-loss", "target": "dc1", "at": "1d10h", "repair_after": "18h"
    })];
    failures.extend(extra.as_array().cloned().unwrap_or_default());
    run(&variant("switchback", &[("/failures", json!(failures))]))
}

fn step<'a>(s: &'a Summary, prefix: &str) -> Vec<&'a str> {
    s.playbook
        .steps
        .iter()
        .filter(|x| x.name.starts_with(prefix))
        .map(|x| x.result.as_str())
        .collect()
}

#[test]
fn dc1_booting_during_a_wan_cut_mounts_nothing_and_the_switchback_completes_when_it_heals() {
    // The WAN is cut from 2d3h to 2d8h: dc1 boots at 2d4h cut off (DAC: no split brain),
    // Start-DAG waits for the WAN, re-incorporates dc1's members, which learn the bit from
    // dc2, and the scheduled move back mounts in dc1.
    let s = switchback_with(json!([
        {"kind": "wan-cut", "target": "dc1-dc2", "at": "2d3h", "repair_after": "5h"}
    ]));
    assert_eq!(s.metrics.split_brain_ms, 0);
    assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
    let started = s
        .playbook
        .steps
        .iter()
        .find(|x| x.name == "Start-DAG for the primary")
        .and_then(|x| x.started_s)
        .expect("Start-DAG ran");
    assert!(
        started >= (2.0 * 24.0 + 8.0) * 3600.0,
        "after the WAN heals: {started}"
    );
    let moves = step(&s, "Move-ActiveMailboxDatabase back");
    assert_eq!(moves, ["ok", "ok"], "{:?}", s.playbook.steps);
    for db in &s.databases {
        assert!(
            db.rto_s.is_some(),
            "{} is served at the end: {db:?}",
            db.name
        );
    }
}

#[test]
fn a_refused_move_back_remounts_in_the_second_datacenter_and_says_so() {
    // db1's copy on mbx1 loses its disk after the resynchronisation, before the window:
    // the move back is refused, so db1 is mounted again in dc2 rather than left
    // dismounted in both sites.
    let s = switchback_with(json!([
        {"kind": "disk-loss", "target": "db1@mbx1", "at": "3d"}
    ]));
    assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
    let moves = step(&s, "Move-ActiveMailboxDatabase back");
    assert!(
        moves
            .iter()
            .any(|r| r.contains("refused") && r.ends_with("Mount-Database instead: ok")),
        "{moves:?}"
    );
    for db in &s.databases {
        assert!(
            db.rto_s.is_some(),
            "{} is served at the end: {db:?}",
            db.name
        );
    }
}

/// (started, finished) of every step whose name starts with `prefix`.
fn times(s: &Summary, prefix: &str) -> Vec<(f64, f64)> {
    s.playbook
        .steps
        .iter()
        .filter(|x| x.name.starts_with(prefix))
        .filter_map(|x| Some((x.started_s?, x.finished_s?)))
        .collect()
}

fn last_finish(v: &[(f64, f64)]) -> f64 {
    v.iter().map(|t| t.1).fold(f64::NAN, f64::max)
}

fn first_start(v: &[(f64, f64)]) -> f64 {
    v.iter().map(|t| t.0).fold(f64::NAN, f64::min)
}

#[test]
fn the_switchback_follows_seed_004s_order() {
    // Resync, then the scheduled window (1 day), then the dismounts, then DNS, then the
    // wait for propagation (1 min) and TTL (5 min), then the moves. Six operators, so
    // the order comes from the playbook, not from a queue for two.
    let s = run(&variant(
        "switchback",
        &[("/strategy/operators/count", json!(6))],
    ));
    assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
    let synced = last_finish(&times(&s, "wait for copies to resynchronise"));
    let window = times(&s, "scheduled switchback window");
    assert_eq!(window.len(), 1);
    assert!(window[0].0 >= synced, "{window:?} after {synced}");
    assert!(
        (window[0].1 - window[0].0 - 86_400.0).abs() < 1e-6,
        "{window:?}"
    );
    let dismounted = last_finish(&times(&s, "dismount in the second datacenter"));
    let dns = times(&s, "DNS ");
    assert_eq!(dns.len(), 2, "client access and MX, no UM");
    assert!(
        first_start(&dns) >= dismounted,
        "{dns:?} after {dismounted}"
    );
    let moves = times(&s, "Move-ActiveMailboxDatabase back");
    assert!(
        first_start(&moves) >= last_finish(&dns) + 360.0 - 1e-6,
        "{moves:?} after {dns:?} + 6 min"
    );
}

#[test]
fn a_non_dac_switchback_adds_the_members_back() {
    let s = run(&variant(
        "switchback",
        &[("/topology/dag/dac_mode", json!(false))],
    ));
    assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
    let adds = step(&s, "Add-DatabaseAvailabilityGroupServer");
    assert_eq!(adds, ["ok", "ok"]);
    assert!(step(&s, "Start-DAG").is_empty());
    assert_eq!(step(&s, "Move-ActiveMailboxDatabase back"), ["ok", "ok"]);
}

#[test]
fn skip_checks_are_the_organisations_decision_not_a_default() {
    // dc2's copies fell behind during a WAN cut before dc1 went dark: without
    // accept_data_loss the moves follow the mount dial and are refused.
    let s = run(&variant(
        "site-failure-non-dac",
        &[(
            "/failures",
            json!([
                {"kind": "wan-cut", "target": "dc1-dc2", "at": "1d9h", "repair_after": "1h1m"},
                {"kind": "site-power-loss", "target": "dc1", "at": "1d10h", "repair_after": "18h"}
            ]),
        )],
    ));
    let moves = step(&s, "Move-ActiveMailboxDatabase");
    assert!(
        moves.iter().any(|r| r.contains("exceeds the mount dial")),
        "{moves:?}"
    );
}

#[test]
fn clearing_the_activation_block_is_an_option_of_the_dac_switchover() {
    let s = run(&variant(
        "site-failure-dac",
        &[("/strategy/clear_activation_block", json!(true))],
    ));
    assert_eq!(step(&s, "clear the activation block"), ["ok", "ok"]);
    assert_eq!(step(&s, "review the tasks' errors and warnings"), ["ok"]);
    let default = run(&crate::scenario("site-failure-dac"));
    assert!(step(&default, "clear the activation block").is_empty());
}

#[test]
fn a_non_dac_switchover_with_three_survivors_sets_node_majority() {
    // Seed 004, non-DAC step 3: an odd number of members in the second datacenter
    // changes the quorum model to node majority instead of a new witness.
    let servers = json!([
        {"name": "mbx1", "site": "dc1", "capacity_mailboxes": 6000},
        {"name": "mbx2", "site": "dc1", "capacity_mailboxes": 6000},
        {"name": "mbx3", "site": "dc2", "capacity_mailboxes": 6000},
        {"name": "mbx4", "site": "dc2", "capacity_mailboxes": 6000},
        {"name": "mbx5", "site": "dc2", "capacity_mailboxes": 6000}
    ]);
    let s = run(&variant(
        "site-failure-non-dac",
        &[
            ("/topology/servers", servers),
            (
                "/topology/dag/members",
                json!(["mbx1", "mbx2", "mbx3", "mbx4", "mbx5"]),
            ),
        ],
    ));
    assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
    assert_eq!(step(&s, "cluster /quorum /nodemajority"), ["ok"]);
    assert!(step(&s, "Set-DAG -WitnessServer").is_empty());
    let even = run(&crate::scenario("site-failure-non-dac"));
    assert!(step(&even, "cluster /quorum /nodemajority").is_empty());
    assert_eq!(step(&even, "Set-DAG -WitnessServer"), ["ok"]);
}

#[test]
fn a_primary_lost_again_before_the_window_postpones_the_switchback() {
    // Rule playbook.switchback_go (architect review of issue 12): dc1 loses power again
    // 3d4h20m-3d7h20m, around the window. The switchback waits for it instead of
    // dismounting dc2 and pointing DNS at a dead dc1; both databases end served in dc1
    // and the dismount comes after dc1's return.
    let s = switchback_with(json!([
        {"kind": "site-power-loss", "target": "dc1", "at": "3d4h20m", "repair_after": "3h"}
    ]));
    assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
    let back = 3.0 * 86_400.0 + 7.0 * 3600.0 + 20.0 * 60.0;
    for (start, _) in times(&s, "dismount in the second datacenter") {
        assert!(
            start >= back,
            "dismounted at {start} s, before dc1 returned"
        );
    }
    for d in &s.databases {
        assert!(d.back_s.is_some(), "{d:?}");
    }
    assert_eq!(s.metrics.mail.queued_at_end, 0, "{:?}", s.metrics.mail);
}

#[test]
fn a_move_back_to_a_server_that_is_down_says_so() {
    // Architect review of issue 12 (finding 8): with mbx1 powered off at the window the
    // refusal named quorum; it names the server being down.
    let s = switchback_with(json!([
        {"kind": "server-outage", "target": "mbx1", "at": "3d", "repair_after": "1d"}
    ]));
    let moves = step(&s, "Move-ActiveMailboxDatabase back");
    assert!(
        moves.iter().any(|r| r.contains("is down or unreachable")),
        "{moves:?}"
    );
}

#[test]
fn a_plan_that_leaves_copies_stopped_warns_before_their_log_volume_fills() {
    // Rule strategy.stopped_copies_fill: the DAC switchover marks dc1's servers stopped
    // and, without the switchback, never starts them, so dc1's copies block truncation.
    // 500 users x 60 messages x 75 KB is 2,197 logs a day: 500 GB holds 233 days.
    let fills = |sc: &Scenario| {
        sc.warnings.iter().find_map(|w| match w {
            dialtone_scenario::Warning::StoppedCopiesFillLogVolume { days, count, .. } => {
                Some((*days, *count))
            }
            _ => None,
        })
    };
    let year = |extra: &[(&str, serde_json::Value)]| {
        let mut changes = vec![("/run/horizon", json!("365d"))];
        changes.extend_from_slice(extra);
        variant("enterprise-two-sites", &changes)
    };
    assert_eq!(fills(&year(&[])), Some((233, 100)));
    // The horizon ends first.
    assert_eq!(fills(&variant("enterprise-two-sites", &[])), None);
    // A bigger log volume outlasts the year.
    let big = year(&[("/topology/replication", json!({"log_volume": "2TB"}))]);
    assert_eq!(fills(&big), None);
    // The switchback starts dc1's servers again.
    let back = year(&[("/strategy/name", json!("switchback"))]);
    assert_eq!(fills(&back), None);
    // A small volume fills inside the week, and the run agrees: dc1's copies hold every
    // log, the active copies dismount on a full volume and users lose their service again.
    let small = variant(
        "enterprise-two-sites",
        &[("/topology/replication", json!({"log_volume": "10GB"}))],
    );
    assert_eq!(fills(&small), Some((4, 100)));
    let (full, ok) = (run(&small), run(&variant("enterprise-two-sites", &[])));
    assert!(
        full.metrics.user_minutes_without_send_receive
            > 10.0 * ok.metrics.user_minutes_without_send_receive,
        "{} vs {}",
        full.metrics.user_minutes_without_send_receive,
        ok.metrics.user_minutes_without_send_receive
    );
}
