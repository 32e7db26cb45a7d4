//! Every file in scenarios/ validates, runs, and matches its golden headline numbers in
//! scenarios/golden/NAME.txt. Refresh deliberately with `UPDATE_GOLDEN=1 cargo test -p
//! dialtone-scenario --test it golden` and review the diff.

use std::fmt::Write as _;

use crate::root;

fn headline(s: &dialtone_scenario::Summary) -> String {
    let m = &s.metrics;
    let mail = &m.mail;
    let opt = |v: Option<f64>| v.map_or("null".to_owned(), |x| format!("{x:.3}"));
    let mut o = String::new();
    let _ = writeln!(
        o,
        "scenario {} strategy {} seed {}",
        s.scenario, s.strategy, s.seed
    );
    let _ = writeln!(
        o,
        "user_minutes_without_send_receive {:.3}",
        m.user_minutes_without_send_receive
    );
    let _ = writeln!(
        o,
        "user_minutes_without_history {:.3}",
        m.user_minutes_without_history
    );
    let _ = writeln!(
        o,
        "user_minutes_offline_readable {:.3}",
        m.user_minutes_offline_readable
    );
    let _ = writeln!(o, "time_to_service_p50_s {}", opt(m.time_to_service_p50_s));
    let _ = writeln!(o, "time_to_service_p95_s {}", opt(m.time_to_service_p95_s));
    let _ = writeln!(o, "time_to_service_all_s {}", opt(m.time_to_service_all_s));
    let _ = writeln!(o, "time_to_history_all_s {}", opt(m.time_to_history_all_s));
    let _ = writeln!(o, "residual_outage_s {}", opt(m.residual_outage_s));
    let _ = writeln!(
        o,
        "split_brain_ms {} messages {}",
        m.split_brain_ms, m.split_brain_messages
    );
    let _ = writeln!(
        o,
        "operator_hours {:.3} helpdesk_hours {:.3} profile_changes {} failed_actions {}",
        m.operator_hours, m.helpdesk_hours, m.profile_changes, m.failed_actions
    );
    let _ = writeln!(
        o,
        "mail accepted {} on_time {} late {} bounced {} lost {} recovered {} left_in_dial_tone {} queued {}",
        mail.accepted,
        mail.delivered_on_time,
        mail.delivered_late,
        mail.bounced,
        mail.lost_silently,
        mail.recovered,
        mail.left_in_dial_tone,
        mail.queued_at_end
    );
    let _ = writeln!(
        o,
        "playbook finished {} stuck {:?}",
        s.playbook.finished, s.playbook.stuck
    );
    for d in &s.databases {
        let _ = writeln!(
            o,
            "database {} rto_s {} rto_send_receive_s {}",
            d.name,
            opt(d.rto_s),
            opt(d.rto_send_receive_s)
        );
    }
    o
}

#[test]
fn every_shipped_scenario_matches_its_golden_file() {
    let dir = root().join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 11, "the library has a file per strategy");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for f in &files {
        let sc = dialtone_scenario::load(f).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !sc.description.trim().is_empty(),
            "{}: a description says what it shows",
            f.display()
        );
        let s = dialtone_scenario::run(&sc, sc.seed, 0)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            s.playbook.stuck.is_none(),
            "{}: playbook stuck: {:?}",
            f.display(),
            s.playbook.stuck
        );
        let got = headline(&s);
        let golden = dir.join("golden").join(format!("{}.txt", sc.name));
        if update {
            std::fs::write(&golden, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            mismatches.push(format!(
                "{}:\n--- golden\n{want}+++ now\n{got}",
                golden.display()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden mismatch (UPDATE_GOLDEN=1 to accept after review):\n{}",
        mismatches.join("\n")
    );
}
