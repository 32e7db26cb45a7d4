//! Rule `perf.event_allocations`: what handling an event allocates is bounded (issue 14
//! counted 1.4 million allocations, ~140 an event, in one replication of
//! `enterprise-two-sites`). A replication's allocations are its setup (the world, its
//! vectors) plus what its events allocate; the events' share is measured as the
//! difference between two horizons of the same scenario, so the setup cancels out.
//! Measured 2026-12-06: 24,193 allocations for the 1,156 events of days 4-7 (~21 an
//! event, nearly all in the mail path: a tick's vectors of states and deliveries); the
//! bound is 30 until the mail path allocates nothing, then it should become 1 in 50.
//! A binary of its own: the counting allocator is global.

use std::path::Path;

use dialtone_engine::{NoTrace, SimTime};

#[global_allocator]
static A: dialtone_testalloc::Counting = dialtone_testalloc::Counting;

/// `(allocations, events)` of replication 0 of `file` run to `horizon`, with quiet mail
/// stretches (rule `world.quiet_stretches`) or every mail tick.
fn measure(file: &str, horizon: SimTime, stretches: bool) -> (u64, u64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(file);
    let mut sc = dialtone_scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    sc.horizon = horizon;
    let mail = &mut std::sync::Arc::make_mut(&mut sc.world).mail;
    mail.quiet_stretches = stretches;
    mail.horizon = Some(horizon);
    let before = dialtone_testalloc::allocations();
    let (_, _, events) = dialtone_scenario::run_counted(&sc, sc.seed, 0, NoTrace).expect("runs");
    (dialtone_testalloc::allocations() - before, events)
}

#[test]
fn the_events_of_a_replication_allocate_at_most_30_times_each() {
    let t = |s: &str| s.parse::<SimTime>().expect("time");
    // The outage (dc1 dark from 1d10h for 12 h) and the switchover lie in both runs; the
    // longer one adds days of mail, client retries and replication.
    // Every mail tick runs (no quiet stretches), so the extra days are thousands of
    // ordinary events.
    let (a1, e1) = measure("enterprise-two-sites.json", t("3d"), false);
    let (a2, e2) = measure("enterprise-two-sites.json", t("7d"), false);
    assert!(
        e2 > e1 + 1_000,
        "the longer run handles more events: {e1} then {e2}"
    );
    let (extra_allocs, extra_events) = (a2.saturating_sub(a1), e2 - e1);
    assert!(
        extra_allocs <= 30 * extra_events,
        "{extra_allocs} allocations for {extra_events} more events ({a1} allocations for \
         {e1} events, {a2} for {e2})"
    );
}

#[test]
fn quiet_days_take_a_few_events_with_quiet_stretches() {
    // Rule world.quiet_stretches: days 4-7 of the enterprise scenario are quiet (dc1's
    // copies stay stopped, everything else settled), so they take a few stretches a day
    // instead of 288 mail ticks and their client events.
    let t = |s: &str| s.parse::<SimTime>().expect("time");
    let (_, e1) = measure("enterprise-two-sites.json", t("3d"), true);
    let (_, e2) = measure("enterprise-two-sites.json", t("7d"), true);
    assert!(e2 - e1 < 100, "{e1} events to 3d, {e2} to 7d");
}
