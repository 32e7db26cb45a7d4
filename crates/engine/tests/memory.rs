//! Memory per pending event, measured by a counting global allocator rather than taken
//! from the queue's own accounting. Its own test binary, because the global allocator
//! applies to the whole binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use dialtone_engine::{EventQueue, RngStreams, SimTime, StreamExt};

#[allow(unsafe_code)]
struct Counting;
static IN_USE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts bytes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        IN_USE.fetch_add(l.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        IN_USE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
}

#[allow(unsafe_code)]
#[global_allocator]
static A: Counting = Counting;

#[test]
fn a_pending_event_costs_under_64_bytes_plus_its_payload() {
    for n in [1_000u64, 100_000] {
        let mut rng = RngStreams::new(1, 0).stream("memory").expect("valid");
        let before = IN_USE.load(Ordering::Relaxed);
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
        let used = IN_USE.load(Ordering::Relaxed) - before;
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
