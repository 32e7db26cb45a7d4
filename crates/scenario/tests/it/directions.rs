//! Directions a domain expert expects, pinned.

use crate::scenario;

#[test]
fn smoke_site_failure_dac() {
    let sc = scenario("site-failure-dac");
    let s = dialtone_scenario::run(&sc, sc.seed, 0).expect("runs");
    println!(
        "{}",
        serde_json::to_string_pretty(&s.metrics).expect("json")
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&s.playbook).expect("json")
    );
}
