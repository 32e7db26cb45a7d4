//! `dialtone-testalloc`: a counting global allocator for the memory tests of the engine
//! and the model (a dev-dependency only; nothing ships with it).
//!
//! Counts are per thread: the test harness runs other threads (its main thread, other
//! tests of the same binary) whose allocations must not leak into a measurement. That is
//! why a measurement test passes every time, whatever else the binary runs.
//!
//! ```ignore
//! #[global_allocator]
//! static A: dialtone_testalloc::Counting = dialtone_testalloc::Counting;
//!
//! let before = dialtone_testalloc::in_use();
//! let v = vec![0u8; 100];
//! assert_eq!(dialtone_testalloc::in_use() - before, 100);
//! ```
//!
//! The only unsafe code of the workspace: a `GlobalAlloc` must be an `unsafe impl`. It
//! forwards every call to the system allocator and only counts bytes.
#![warn(missing_docs, unreachable_pub)]
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // Bytes allocated minus bytes freed by this thread. A const-initialised `Cell` needs
    // no allocation and no destructor, so the allocator may touch it at any time.
    static IN_USE: Cell<isize> = const { Cell::new(0) };
    // The highest `IN_USE` since the thread started or since the last `reset_peak`.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

thread_local! {
    // Allocations (and reallocations) made by this thread.
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

/// Allocations and reallocations this thread made since it started.
pub fn allocations() -> u64 {
    CALLS.with(Cell::get)
}

fn call() {
    let _ = CALLS.try_with(|c| c.set(c.get() + 1));
}

fn count(delta: isize) {
    // `try_with` fails only while the thread is being torn down; nothing is measured then.
    let _ = IN_USE.try_with(|c| {
        let now = c.get() + delta;
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

/// The most bytes this thread has held at once since it started or since the last
/// [`reset_peak`].
pub fn peak() -> isize {
    PEAK.with(Cell::get)
}

/// Starts a new peak measurement from what this thread holds now.
pub fn reset_peak() {
    PEAK.with(|p| p.set(in_use()));
}

/// Bytes this thread holds now: allocated minus freed since it started.
pub fn in_use() -> isize {
    IN_USE.with(Cell::get)
}

/// The counting allocator: install it with `#[global_allocator]` in a test binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

// SAFETY: forwards to the system allocator with the caller's arguments and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        call();
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
        call();
        count(new_size as isize - l.size() as isize);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static A: Counting = Counting;

    #[test]
    fn counts_this_threads_bytes_only() {
        use std::sync::{Arc, Barrier};
        let (go, done) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
        let (g, d) = (Arc::clone(&go), Arc::clone(&done));
        let other = std::thread::spawn(move || {
            g.wait();
            let big = vec![1u8; 1 << 20];
            d.wait();
            big.len()
        });
        let before = in_use();
        go.wait();
        // The other thread allocates 1 MiB meanwhile; only these 1,000 bytes count here.
        let v = vec![0u8; 1000];
        done.wait();
        assert_eq!(in_use() - before, 1000);
        drop(v);
        assert_eq!(in_use() - before, 0);
        assert_eq!(other.join().expect("thread"), 1 << 20);
    }

    #[test]
    fn peak_is_the_most_held_at_once_since_the_reset() {
        reset_peak();
        let base = in_use();
        let a = vec![0u8; 5000];
        drop(a);
        let b = vec![0u8; 3000];
        assert_eq!(peak() - base, 5000);
        reset_peak();
        assert_eq!(peak() - base, 3000);
        drop(b);
        assert_eq!(peak() - base, 3000);
    }
}
