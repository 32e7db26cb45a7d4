//! No per-user or per-message memory: a 1,000,000-user organisation holds the same state
//! as a 1,000-user one with the same cohorts and databases, and a day of mail adds only
//! per-tick batches. Measured by a counting global allocator (its own test binary).

use dialtone_testalloc::{Counting, in_use};

use dialtone_engine::{RngStreams, SimTime, Simulation};
use dialtone_model::fixtures::two_sites_scaled;
use dialtone_model::world::World;

#[global_allocator]
static A: Counting = Counting;

/// Bytes held by a world of `users` users per database after `hours` of simulated mail.
fn footprint(users: u64, hours: u64) -> (usize, u64) {
    let before = in_use();
    let world =
        World::new(two_sites_scaled(true, "5m", users), &RngStreams::new(1, 0)).expect("streams");
    let mut sim = Simulation::new(world);
    for (at, ev) in sim.model().initial_events() {
        sim.schedule(at, ev).expect("future");
    }
    sim.run_until(SimTime::from_millis(hours * 3_600_000));
    let used = (in_use() - before) as usize;
    let offered = sim.model().fates().offered;
    drop(sim);
    (used, offered)
}

#[test]
fn memory_grows_with_cohorts_and_databases_not_users_or_messages() {
    // 2 databases x 10,000 users vs 2 x 1,000,000 (2,000,000 users), 24 h of mail each.
    // (Measured: 26,924 bytes at 10,000, 100,000, 250,000, 500,000 and 1,000,000 users
    // per database; 1,040 bytes less at 1,000, where some list never grows past its first
    // capacity.)
    let (small, small_mail) = footprint(10_000, 24);
    let (large, large_mail) = footprint(1_000_000, 24);
    assert!(
        large_mail > 90 * small_mail,
        "the large world really moved more mail"
    );
    eprintln!(
        "10,000 users/db: {small} bytes, {small_mail} messages; 1,000,000 users/db: {large} bytes, {large_mail} messages"
    );
    // Stated bound: the same cohorts, buckets and databases, so 100x the users and the
    // mail may add at most a few bytes of batch bookkeeping: under 1 KiB (an absolute
    // bound: with quiet stretches the whole world is half the size, so a ratio bound
    // would shrink with it).
    assert!(
        large.abs_diff(small) < 1024,
        "memory {small} vs {large} bytes"
    );
    assert!(
        large < 4 << 20,
        "under 4 MiB for 2,000,000 users: {large} bytes"
    );
}
