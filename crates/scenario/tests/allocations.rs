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

/// `(allocations, events)` of replication 0 of `file` run to `horizon`.
fn measure(file: &str, horizon: SimTime) -> (u64, u64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(file);
    let mut sc = dialtone_scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    sc.horizon = horizon;
    let before = dialtone_testalloc::allocations();
    let (_, _, events) = dialtone_scenario::run_counted(&sc, sc.seed, 0, NoTrace).expect("runs");
    (dialtone_testalloc::allocations() - before, events)
}

#[test]
fn the_events_of_a_replication_allocate_at_most_30_times_each() {
    let t = |s: &str| s.parse::<SimTime>().expect("time");
    // The outage (dc1 dark from 1d10h for 12 h) and the switchover lie in both runs; the
    // longer one adds days of mail, client retries and replication.
    let (a1, e1) = measure("enterprise-two-sites.json", t("3d"));
    let (a2, e2) = measure("enterprise-two-sites.json", t("7d"));
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
