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
    assert_eq!(stated.world.dns.pinned_ppm, 50_000, "a stated share is kept");
    let (d, s) = (run(&default).metrics, run(&stated).metrics);
    let (d_all, s_all) = (
        d.time_to_service_all_s.expect("all back"),
        s.time_to_service_all_s.expect("all back"),
    );
    assert!(d_all < 3.0 * 3600.0, "without pinned clients: {d_all} s");
    assert!(s_all > 12.0 * 3600.0, "with 5% pinned: {s_all} s");
}
