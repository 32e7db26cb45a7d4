//! The 2003 Recovery Storage Group procedure (seed 003, issue 12 §3): its real
//! preconditions, the bare-metal rebuild, the removal of the old mailboxes, and the
//! Copy, Merge and ExMerge ways of bringing the dial tone mail back.

use dialtone_model::world::Action;
use dialtone_scenario::playbook::StepKind;
use dialtone_scenario::{Scenario, Summary};
use serde_json::{Value, json};

use crate::directions::variant;

fn run(sc: &Scenario) -> Summary {
    dialtone_scenario::run(sc, sc.seed, 0).unwrap_or_else(|e| panic!("{e}"))
}

fn rsg(changes: &[(&str, Value)]) -> Scenario {
    variant("single-site-rebuild-2003", changes)
}

/// When a step finished, by the start of its name.
fn finished(s: &Summary, name: &str) -> f64 {
    let step = s.playbook.steps.iter().find(|st| st.name.starts_with(name));
    let step = step.unwrap_or_else(|| panic!("no step {name:?}"));
    step.finished_s
        .unwrap_or_else(|| panic!("{name:?} did not finish"))
}

/// One Exchange server, Active Directory on other domain controllers: the article's
/// preconditions hold, so the procedure runs and users get mail again.
fn one_server(ad_elsewhere: bool) -> Result<Scenario, dialtone_scenario::ScenarioError> {
    let text =
        std::fs::read_to_string(crate::root().join("scenarios/single-site-rebuild-2003.json"))
            .expect("file");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    v["topology"]["servers"] = json!([{"name": "mbx1", "site": "hq", "schema_version": 6}]);
    v["topology"]["databases"] = json!([{"name": "store1", "size": "60GB", "mailboxes": 800,
                                         "copies": [{"server": "mbx1"}]}]);
    v["topology"]["active_directory_elsewhere"] = json!(ad_elsewhere);
    dialtone_scenario::parse("one.json", "one", &v.to_string())
}

#[test]
fn one_exchange_server_with_active_directory_elsewhere_can_run_it() {
    let sc = one_server(true).unwrap_or_else(|e| panic!("{e}"));
    let s = run(&sc);
    assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
    assert_eq!(s.metrics.failed_actions, 0);
    assert!(s.metrics.time_to_service_all_s.is_some());
    // Exchange as the only domain controller (Small Business Server) cannot.
    let e = one_server(false).expect_err("refused").to_string();
    assert!(e.contains("topology.active_directory_elsewhere"), "{e}");
}

#[test]
fn the_old_mailboxes_are_removed_before_the_rebuild() {
    let sc = rsg(&[]);
    let names: Vec<&str> = sc.playbook.iter().map(|s| s.name.as_str()).collect();
    let remove = names
        .iter()
        .position(|n| n.starts_with("remove the old mailboxes"));
    let rebuild = names
        .iter()
        .position(|n| n.starts_with("rebuild the server"));
    let (remove, rebuild) = (remove.expect("removal"), rebuild.expect("rebuild"));
    assert_eq!(sc.playbook[rebuild].after, vec![remove]);
    let s = run(&sc);
    assert!(finished(&s, "remove the old mailboxes") <= finished(&s, "rebuild the server"));
}

/// Rule `rsg.rebuild`: a bare-metal 2003 rebuild takes hours, and users wait for it.
#[test]
fn the_bare_metal_rebuild_takes_hours_and_users_wait_for_it() {
    let sc = rsg(&[]);
    let rebuild = sc
        .playbook
        .iter()
        .find(|s| s.name.starts_with("rebuild the server"))
        .expect("rebuild");
    assert_eq!(rebuild.duration.mean_secs(), 4.0 * 3600.0);
    let at = |d: &str| {
        let s = run(&rsg(&[("/strategy/rsg_2003", json!({"rebuild": d}))]));
        s.metrics.time_to_service_p50_s.expect("served")
    };
    let (two, six) = (at("2h"), at("6h"));
    assert!(
        (six - two - 4.0 * 3600.0).abs() < 600.0,
        "2h: {two}, 6h: {six}"
    );
}

/// Rules `rsg.merge` and `rsg.exmerge`: Copy, Merge and ExMerge differ in what the
/// administrators do after the swap, not in when users have mail.
#[test]
fn copy_merge_and_exmerge_are_different_procedures() {
    let copy = run(&rsg(&[]));
    let merge_sc = rsg(&[(
        "/strategy/rsg_2003",
        json!({"recover_mailbox_data": "merge"}),
    )]);
    let merge = run(&merge_sc);
    let exmerge_sc = rsg(&[("/strategy/rsg_2003", json!({"service_pack_1": false}))]);
    let exmerge = run(&exmerge_sc);
    for s in [&copy, &merge, &exmerge] {
        assert!(s.playbook.finished, "{:?}", s.playbook.stuck);
        assert_eq!(s.metrics.failed_actions, 0);
    }
    // Merge after the swap: every mailbox's rules and offline files repaired, 2 minutes
    // each (800 mailboxes on the lost server: 26.7 operator hours more).
    let extra = merge.metrics.operator_hours - copy.metrics.operator_hours;
    assert!((extra - 800.0 * 2.0 / 60.0).abs() < 0.01, "{extra}");
    assert!(finished(&merge, "repair the rules") > finished(&merge, "Recover Mailbox Data: Merge"));
    assert!(
        !copy
            .playbook
            .steps
            .iter()
            .any(|s| s.name.starts_with("repair"))
    );
    // The same data move: users see the same outage either way.
    assert_eq!(
        copy.metrics.time_to_service_all_s,
        merge.metrics.time_to_service_all_s
    );
    // Without SP1: ExMerge, after the permissions take effect (2 h), at half the
    // per-mailbox rate (export, then import).
    let swap = finished(&exmerge, "swap databases");
    let ex = finished(&exmerge, "ExMerge: export to PST and import");
    assert!(ex - swap >= 2.0 * 3600.0, "{}", ex - swap);
    assert!(
        !exmerge
            .playbook
            .steps
            .iter()
            .any(|s| s.name.starts_with("Recover Mailbox"))
    );
    let rate = |sc: &Scenario| {
        sc.playbook.iter().find_map(|st| match &st.kind {
            StepKind::Act(Action::Merge {
                mailboxes_per_hour, ..
            }) => Some(*mailboxes_per_hour),
            _ => None,
        })
    };
    // The scenario's merge_mailboxes_per_hour is 300.
    assert_eq!(rate(&exmerge_sc), Some(Some(150)));
    assert_eq!(rate(&merge_sc), Some(None));
    let history = |s: &Summary| s.metrics.time_to_history_all_s.expect("history");
    assert!(
        history(&exmerge) >= history(&copy),
        "the merge does not hold up history"
    );
}
