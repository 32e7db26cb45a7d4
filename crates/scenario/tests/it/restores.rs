//! Logs, circular logging and restores (issue 11 §2): the circular logging default, the
//! file's override and the validation warning.

use serde_json::json;

use crate::directions::variant;

fn circular(sc: &dialtone_scenario::Scenario) -> Vec<bool> {
    sc.world
        .databases
        .iter()
        .map(|d| d.params.circular_logging)
        .collect()
}

#[test]
fn circular_logging_defaults_off_when_the_organisation_backs_up() {
    // Four copies each, daily backups: the backup truncates the logs.
    assert_eq!(circular(&variant("restore-only", &[])), [false, false]);
    // Native data protection: four copies, no backups (and a strategy that restores
    // nothing: with no backups a restoring one is refused).
    let none = ("/strategy/name", json!("none"));
    let native = variant(
        "restore-only",
        &[("/topology/backup/every", json!(null)), none.clone()],
    );
    assert_eq!(circular(&native), [true, true]);
    // Fewer than three copies without backups: still off.
    let two = variant(
        "restore-only",
        &[
            none,
            ("/topology/backup/every", json!(null)),
            (
                "/topology/databases/0/copies",
                json!([{"server": "mbx1"}, {"server": "mbx2"}]),
            ),
        ],
    );
    assert_eq!(circular(&two), [false, true]);
}

#[test]
fn the_file_overrides_the_circular_logging_default() {
    let on = variant(
        "restore-only",
        &[("/topology/databases/1/circular_logging", json!(true))],
    );
    assert_eq!(circular(&on), [false, true]);
    let off = variant(
        "restore-only",
        &[
            ("/strategy/name", json!("none")),
            ("/topology/backup/every", json!(null)),
            ("/topology/databases/0/circular_logging", json!(false)),
        ],
    );
    assert_eq!(circular(&off), [false, true]);
}

#[test]
fn validation_warns_when_a_restore_relies_on_roll_forward_with_circular_logging() {
    use dialtone_scenario::Warning;
    // Backups taken, circular logging left off: nothing to warn about.
    assert!(variant("restore-only", &[]).warnings.is_empty());
    // db1 is restored with circular logging on; db2 has it on too but is not restored.
    let sc = variant(
        "restore-only",
        &[
            ("/topology/databases/0/circular_logging", json!(true)),
            ("/topology/databases/1/circular_logging", json!(true)),
        ],
    );
    assert_eq!(
        sc.warnings,
        [Warning::CircularLoggingRollForward {
            index: 0,
            database: "db1".into()
        }]
    );
    let text = sc.warnings[0].to_string();
    assert!(
        text.starts_with("topology.databases[0].circular_logging: "),
        "{text}"
    );
    assert!(text.contains("Safety Net"), "{text}");
    // A switchover that restores nothing is not warned about.
    let switchover = variant(
        "site-failure-dac",
        &[("/topology/databases/0/circular_logging", json!(true))],
    );
    assert!(switchover.warnings.is_empty());
    // Re-planned for another strategy, the warnings follow the new playbook.
    let replan = |strategy| {
        sc.with_strategy(strategy)
            .map(|s| s.warnings.len())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(replan(dialtone_scenario::Strategy::DialToneSameServer), 1);
    assert_eq!(replan(dialtone_scenario::Strategy::None), 0);
}

#[test]
fn a_strategy_that_restores_needs_backups() {
    // Rule db.restore_needs_backup, at validation: no backups at all is an error with the
    // field and the fix; a failure before the first backup is a warning.
    let text =
        std::fs::read_to_string(crate::root().join("scenarios/restore-only.json")).expect("file");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["topology"]["backup"]["every"] = json!(null);
    let err = dialtone_scenario::parse("nobackup.json", "nobackup", &v.to_string())
        .expect_err("refused")
        .to_string();
    assert!(err.contains("topology.backup.every"), "{err}");
    assert!(err.contains("no backups are taken"), "{err}");
    // Re-planned under a restoring strategy, the same refusal.
    let none = variant(
        "restore-only",
        &[
            ("/strategy/name", json!("none")),
            ("/topology/backup/every", json!(null)),
        ],
    );
    assert!(
        none.with_strategy(dialtone_scenario::Strategy::RestoreOnly)
            .is_err()
    );
    let early = variant("restore-only", &[("/failures/0/at", json!("10h"))]);
    assert_eq!(
        early.warnings,
        [dialtone_scenario::Warning::FailureBeforeFirstBackup { failure: 0 }]
    );
    // Run anyway: the restore is refused and db1 never comes back.
    let s = dialtone_scenario::run(&early, early.seed, 0).expect("runs");
    assert!(s.metrics.failed_actions >= 1, "{:?}", s.metrics);
    assert_eq!(s.databases[0].rto_s, None);
}

#[test]
fn validation_warns_when_safety_net_holds_less_than_a_lag() {
    // Rule transport.safety_net_lag (exchange-facts §4: SafetyNetHoldTime must be at
    // least the ReplayLagTime of any lagged copy).
    let lagged = |hold: &str| {
        variant(
            "restore-only",
            &[
                ("/topology/databases/1/copies/3/replay_lag", json!("7d")),
                ("/topology/transport/safety_net_hold", json!(hold)),
            ],
        )
        .warnings
    };
    assert_eq!(
        lagged("2d"),
        [dialtone_scenario::Warning::SafetyNetShorterThanLag {
            index: 1,
            database: "db2".into()
        }]
    );
    assert!(lagged("7d").is_empty());
}

#[test]
fn after_a_restore_the_copies_are_reseeded_and_fail_over_again() {
    // Rule playbook.reseed_after_restore (architect review of issue 11): restore-only
    // restores db1 in place and reseeds its three passive copies. A 1-hour outage of db1's
    // server on day 4 then fails over to a reseeded copy in seconds; without the reseeds
    // the only copies were the corrupt ones and db1 stayed down for the hour.
    let sc = variant(
        "restore-only",
        &[
            (
                "/failures",
                json!([
                    {"kind": "database-corruption", "target": "db1", "at": "1d10h"},
                    {"kind": "server-outage", "target": "mbx1", "at": "3d10h", "repair_after": "1h"}
                ]),
            ),
            ("/run/horizon", json!("4d")),
        ],
    );
    let s = dialtone_scenario::run(&sc, sc.seed, 0).expect("runs");
    assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
    let reseeds = s
        .playbook
        .steps
        .iter()
        .filter(|x| x.name.starts_with("reseed the copy on") && x.result == "ok")
        .count();
    assert_eq!(reseeds, 4, "{:?}", s.playbook.steps);
    let before = variant("restore-only", &[]);
    let base = dialtone_scenario::run(&before, before.seed, 0).expect("runs");
    // The outage of mbx1 costs db1's 2,500 users a failover, not an hour (150,000
    // user-minutes).
    let extra = s.metrics.user_minutes_without_send_receive
        - base.metrics.user_minutes_without_send_receive;
    assert!(extra < 20_000.0, "the outage cost {extra:.0} user-minutes");
}
