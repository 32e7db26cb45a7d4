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
    // Native data protection: four copies, no backups.
    let native = variant("restore-only", &[("/topology/backup/every", json!(null))]);
    assert_eq!(circular(&native), [true, true]);
    // Fewer than three copies without backups: still off.
    let two = variant(
        "restore-only",
        &[
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
    // Native data protection (no backups): circular logging defaults on, and a restore
    // strategy is warned about; a switchover that restores nothing is not.
    let native = variant("restore-only", &[("/topology/backup/every", json!(null))]);
    assert_eq!(native.warnings.len(), 1);
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
