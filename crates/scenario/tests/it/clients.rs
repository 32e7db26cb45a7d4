//! Issue 12 §5-6 seen end to end: the client options' defaults, the cached-mode choice,
//! the helpdesk's hours, and the metrics an architect reads.

use dialtone_scenario::{Scenario, Summary};

use crate::root;

fn run(sc: &Scenario) -> Summary {
    dialtone_scenario::run(sc, sc.seed, 0).unwrap_or_else(|e| panic!("{e}"))
}

/// A shipped scenario's JSON, to change before parsing.
fn json_of(name: &str) -> serde_json::Value {
    let text =
        std::fs::read_to_string(root().join(format!("scenarios/{name}.json"))).expect("file");
    serde_json::from_str(&text).expect("json")
}

fn parse(name: &str, v: &serde_json::Value) -> Scenario {
    dialtone_scenario::parse("variant.json", name, &v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn no_client_is_pinned_unless_the_scenario_says_so() {
    // site-failure-dac states 5% pinned clients; without the key nobody is pinned, and
    // the last users are back with the others instead of at their restart the next day.
    let mut v = json_of("site-failure-dac");
    let dns = v
        .pointer_mut("/topology/dns")
        .and_then(serde_json::Value::as_object_mut)
        .expect("dns");
    assert!(dns.remove("pinned_client_share").is_some());
    let default = parse("site-failure-dac", &v);
    assert_eq!(default.world.dns.pinned_ppm, 0, "default share is 0");
    let stated = crate::scenario("site-failure-dac");
    assert_eq!(
        stated.world.dns.pinned_ppm, 50_000,
        "a stated share is kept"
    );
    let (d, s) = (run(&default).metrics, run(&stated).metrics);
    let (d_all, s_all) = (
        d.time_to_service_all_s.expect("all back"),
        s.time_to_service_all_s.expect("all back"),
    );
    assert!(d_all < 3.0 * 3600.0, "without pinned clients: {d_all} s");
    assert!(s_all > 12.0 * 3600.0, "with 5% pinned: {s_all} s");
}

fn with_online_share(name: &str, share: f64) -> Summary {
    let mut v = json_of(name);
    let obj = v.as_object_mut().expect("object");
    let cb = obj
        .entry("client_behaviour")
        .or_insert_with(|| serde_json::json!({}));
    cb.as_object_mut()
        .expect("client_behaviour")
        .insert("cached_online_share".into(), share.into());
    run(&parse(name, &v))
}

#[test]
fn a_cached_user_in_dial_tone_is_counted_online_or_offline_once() {
    // The same run (same connections) with every cached-mode user choosing the dial tone
    // mailbox, then the old offline copy: the minutes move between "online without
    // history" and "offline, no send/receive", one for one.
    let name = "db-corruption-dial-tone-same-server";
    let online = with_online_share(name, 1.0);
    let offline = with_online_share(name, 0.0);
    let (on, off) = (&online.metrics, &offline.metrics);
    let more_offline = off.user_minutes_offline_readable - on.user_minutes_offline_readable;
    let more_without_service =
        off.user_minutes_without_send_receive - on.user_minutes_without_send_receive;
    let less_without_history = on.user_minutes_without_history - off.user_minutes_without_history;
    assert!(
        more_offline > 10_000.0,
        "dial tone lasts hours: {more_offline}"
    );
    assert!((more_offline - more_without_service).abs() < 1e-3);
    assert!((more_offline - less_without_history).abs() < 1e-3);
    assert_eq!(on.mail, off.mail, "the choice changes no mail");
}

#[test]
fn nobody_reads_offline_while_sending() {
    // In every shipped scenario, per cohort: offline reading is a subset of no
    // send/receive (the two used to overlap for cached users in dial tone).
    for name in [
        "db-corruption-dial-tone-same-server",
        "server-loss-dial-tone-alternate",
        "server-loss-dial-tone-alternate-stay",
        "single-site-rebuild-2003",
        "site-failure-dac",
    ] {
        let s = run(&crate::scenario(name));
        for c in &s.cohorts {
            assert!(
                c.user_minutes_offline_readable <= c.user_minutes_without_send_receive + 1e-6,
                "{name} {c:?}"
            );
        }
    }
}

#[test]
fn helpdesk_hours_are_reported_beside_operator_hours() {
    // The alternate-server dial tone needs the helpdesk for Outlook without Autodiscover.
    let sc = crate::scenario("server-loss-dial-tone-alternate");
    let m = run(&sc).metrics;
    assert!(m.profile_changes > 0, "{m:?}");
    let rate = sc.world.clients.helpdesk_per_hour as f64;
    assert!((m.helpdesk_hours - m.profile_changes as f64 / rate).abs() < 1e-9);
    assert!(m.helpdesk_hours > 0.0 && m.operator_hours > 0.0);
}

#[test]
fn time_to_service_counts_from_the_failure_that_caused_the_outage() {
    // A harmless witness failure the night before the site failure: the time to service
    // still counts from the site failure (rule metrics.outage_cause), not from the first
    // failure of the run.
    let mut v = json_of("site-failure-dac");
    let failures = v
        .pointer_mut("/failures")
        .and_then(serde_json::Value::as_array_mut)
        .expect("failures");
    failures.push(serde_json::json!(
        {"kind": "witness-loss", "target": "fsw1", "at": "2h", "repair_after": "1h"}
    ));
    let s = run(&parse("site-failure-dac", &v));
    let base = run(&crate::scenario("site-failure-dac"));
    assert_eq!(s.first_failure_s, Some(7200.0));
    let (p50, base_p50) = (
        s.metrics.time_to_service_p50_s.expect("back"),
        base.metrics.time_to_service_p50_s.expect("back"),
    );
    assert!(
        p50 < 3.0 * 3600.0,
        "{p50} s counts from the 02:00 witness loss"
    );
    assert!((p50 - base_p50).abs() < 600.0, "{p50} vs {base_p50}");
}

#[test]
fn one_long_outage_leaves_a_user_half_of_it_on_average() {
    // restore-only: db1's users wait for the restore, all about as long, so a user who
    // tries at a random moment of their outage waits about half of it (D/2).
    let s = run(&crate::scenario("restore-only"));
    let d = s.databases[0].rto_send_receive_s.expect("restored");
    let r = s.metrics.residual_outage_s.expect("an outage");
    assert!(
        (r - d / 2.0).abs() < 0.1 * d,
        "residual {r} s, outage {d} s"
    );
}
