//! Entry points for the fuzz targets (fuzz/) and for the tests that replay their corpus
//! and every crash ever found (fuzz/regressions/) on stable Rust. Neither may panic on
//! any input.

use dialtone_engine::SimDuration;

/// Parses and validates arbitrary bytes as a scenario file.
pub fn parse(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::parse("fuzz.json", "fuzz", text);
    }
}

/// Parses arbitrary bytes and, if they make a valid scenario, runs one short
/// replication: the horizon is capped at 3 days and the event budget at 2 million, and
/// organisations beyond 40 databases or 20 servers are skipped, so a fuzz iteration stays
/// fast. Errors are fine; panics are bugs.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut spec) = crate::validate::parse_spec("fuzz.json", text) else {
        return;
    };
    let cap = SimDuration::from_days(3).unwrap_or(SimDuration::MAX);
    spec.run.horizon = spec.run.horizon.min(cap);
    spec.run.max_events = spec.run.max_events.min(2_000_000);
    spec.client_behaviour.buckets = spec.client_behaviour.buckets.min(8);
    let generated: u64 = (spec.topology.database_layouts.iter())
        .map(|l| u64::from(l.count))
        .sum();
    if spec.topology.databases.len() as u64 + generated > 40 || spec.topology.servers.len() > 20 {
        return;
    }
    // Failures after the capped horizon would be refused; move them inside it.
    for f in &mut spec.failures {
        if let Some(at) = f.at
            && at.since_start() >= spec.run.horizon
        {
            f.at = Some(
                dialtone_engine::SimTime::ZERO
                    .saturating_add(spec.run.horizon.saturating_sub(SimDuration::from_millis(1))),
            );
        }
    }
    if let Ok(sc) = crate::validate::validate("fuzz.json", "fuzz", spec, None) {
        let _ = crate::run(&sc, sc.seed, 0);
    }
}
