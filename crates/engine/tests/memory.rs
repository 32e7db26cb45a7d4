//! Memory per pending event, measured by a counting global allocator (dialtone-testalloc, per
//! thread) rather than taken from the queue's own accounting.

use dialtone_testalloc::{Counting, in_use};

use dialtone_engine::{EventQueue, RngStreams, SimTime, StreamExt};

#[global_allocator]
static A: Counting = Counting;

#[test]
fn a_pending_event_costs_under_64_bytes_plus_its_payload() {
    for n in [1_000u64, 100_000] {
        let mut rng = RngStreams::new(1, 0).stream("memory").expect("valid");
        let before = in_use();
        let mut q: EventQueue<u64> = EventQueue::new();
        for i in 0..n {
            let at = (rng.exp_mean(1000.0)) as u64;
            q.push(SimTime::from_millis(at), i).expect("push");
        }
        // Steady state of the hold model: 20 N pops and pushes.
        for _ in 0..20 * n {
            let (t, p) = q.pop().expect("never empty");
            let at = t.as_millis() + rng.exp_mean(1000.0) as u64;
            q.push(SimTime::from_millis(at), p).expect("push");
        }
        let used = (in_use() - before) as usize;
        let per_event = used as f64 / n as f64;
        let bound = 64.0 + std::mem::size_of::<u64>() as f64;
        assert!(
            per_event < bound,
            "n = {n}: {per_event:.1} bytes per pending event, bound {bound}"
        );
        assert_eq!(q.heap_bytes(), used, "the queue's own accounting is exact");
        eprintln!("n = {n}: {per_event:.1} bytes per pending u64 event");
    }
}
