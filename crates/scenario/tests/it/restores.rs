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
