//! Memory per pending event, measured by a counting global allocator rather than taken
//! from the queue's own accounting. Its own test binary, because the global allocator
//! applies to the whole binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dialtone_engine::{EventQueue, RngStreams, SimTime, StreamExt};

#[allow(unsafe_code)]
struct Counting;

thread_local! {
    // Bytes allocated minus bytes freed by *this* thread. The test harness runs other
    // threads (its main thread, other tests) whose allocations must not leak into a
    // measurement, so the count is per thread. A const-initialised `Cell` needs no
    // allocation and no destructor, so the allocator may touch it at any time.
    static IN_USE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with` fails only while the thread is being torn down; nothing is measured then.
    let _ = IN_USE.try_with(|c| c.set(c.get() + delta));
}

/// Bytes this thread holds now (allocated minus freed since it started).
fn in_use() -> isize {
    IN_USE.with(Cell::get)
}

// SAFETY: forwards to the system allocator and only counts bytes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        count(-(l.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - l.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, new_size) }
    }
}

#[allow(unsafe_code)]
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
