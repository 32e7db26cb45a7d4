//! The classic hold model, four ways, for `benches/hold.rs` and the `hold` driver
//! (`benches/peers/run.sh`).
//!
//! N events are pending; each popped event schedules one at `now + Exp(mean 1 s)` in
//! **nanoseconds** (the draw rounded to the nearest nanosecond), drawn with the ziggurat
//! `Exp1` from one ChaCha8 stream: the same workload as the SimPy peer, whose times are
//! floats. All variants draw the same numbers from the same stream, so they do the same
//! work and differ only in the queue and the driver:
//!
//! - [`EngineHold`]: the full engine (`Simulation` + `Model` + `Ctx`), as a model sees it.
//! - [`RadixHold`]: the engine's `EventQueue` alone, without the driver.
//! - [`BareHeapHold`]: `std::collections::BinaryHeap<(Reverse<u64>, u64)>` with an
//!   insertion counter: the baseline the targets are stated against.
//! - [`CrateRadixHold`]: the `radix-heap` crate's `RadixHeapMap<Reverse<u64>, ()>`, a
//!   radix heap with neither FIFO ties nor cancellation nor payload slots: the floor an
//!   engine queue with those guarantees is compared with.
//!
//! # Nanosecond keys in an engine of milliseconds
//!
//! The engine's unit is the millisecond ([`SimTime`]), which every scenario depends on.
//! The queue and the driver never read the unit: they compare and add `u64` ticks. So
//! the engine variants count one tick per nanosecond ([`tick`]); the keys the queue sees
//! are exactly the `u64` nanoseconds the other variants see.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use dialtone_engine::{
    Ctx, EventQueue, Model, RngStreams, SimDuration, SimTime, Simulation, TraceSink,
};
use radix_heap::RadixHeapMap;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;

/// Mean hold time in nanoseconds: Exp(1) in seconds.
pub const MEAN_NS: f64 = 1e9;

fn rng(seed: u64) -> ChaCha8Rng {
    // The bench names its stream like any model; a valid constant name cannot fail.
    RngStreams::new(seed, 0)
        .stream("hold")
        .unwrap_or_else(|_| unreachable!("constant stream name"))
}

#[inline(always)]
fn draw(rng: &mut ChaCha8Rng) -> u64 {
    let x: f64 = rng.sample(Exp1);
    // Round half up; x >= 0, and unlike f64::round this inlines (no libm call).
    (x * MEAN_NS + 0.5) as u64
}

/// The engine's tick for `ns` nanoseconds: the engine variants count one tick per
/// nanosecond (see the module documentation).
#[inline(always)]
pub fn tick(ns: u64) -> SimTime {
    SimTime::from_millis(ns)
}

/// The hold model as an engine [`Model`].
#[derive(Debug)]
pub struct HoldModel {
    rng: ChaCha8Rng,
    /// Sum of the times events fired at, so the work cannot be optimised away.
    pub checksum: u64,
}

impl Model for HoldModel {
    type Event = ();
    #[inline]
    fn handle<S: TraceSink>(&mut self, _: (), ctx: &mut Ctx<'_, (), S>) {
        self.checksum = self.checksum.wrapping_add(ctx.now().as_millis());
        // One tick per nanosecond (see `tick`).
        let d = SimDuration::from_millis(draw(&mut self.rng));
        if ctx.schedule_in(d, ()).is_err() {
            ctx.stop();
        }
    }
}

/// The full engine running the hold model.
#[derive(Debug)]
pub struct EngineHold {
    sim: Simulation<HoldModel>,
}

impl EngineHold {
    /// `n` pending events, seeded.
    pub fn new(n: usize, seed: u64) -> Self {
        let mut model = HoldModel {
            rng: rng(seed),
            checksum: 0,
        };
        let first: Vec<u64> = (0..n).map(|_| draw(&mut model.rng)).collect();
        let mut sim = Simulation::new(model);
        for t in first {
            let _ = sim.schedule(tick(t), ());
        }
        EngineHold { sim }
    }
    /// Handles `events` events; returns the checksum.
    pub fn run(&mut self, events: u64) -> u64 {
        self.sim.run_events(events);
        self.sim.model().checksum
    }
    /// Pending events.
    pub fn pending(&self) -> usize {
        self.sim.pending()
    }
    /// Heap bytes held by the queue structures (excluding payloads, which are `()`).
    pub fn queue_heap_bytes(&self) -> usize {
        self.sim.queue_heap_bytes()
    }
}

/// The engine's queue alone.
#[derive(Debug)]
pub struct RadixHold {
    q: EventQueue<()>,
    rng: ChaCha8Rng,
    checksum: u64,
}

impl RadixHold {
    /// `n` pending events, seeded.
    pub fn new(n: usize, seed: u64) -> Self {
        let mut rng = rng(seed);
        let mut q = EventQueue::new();
        for _ in 0..n {
            let _ = q.push(tick(draw(&mut rng)), ());
        }
        RadixHold {
            q,
            rng,
            checksum: 0,
        }
    }
    /// Handles `events` events; returns the checksum.
    pub fn run(&mut self, events: u64) -> u64 {
        for _ in 0..events {
            let Some((t, ())) = self.q.pop() else { break };
            self.checksum = self.checksum.wrapping_add(t.as_millis());
            let at = t.as_millis() + draw(&mut self.rng);
            let _ = self.q.push(tick(at), ());
        }
        self.checksum
    }
}

/// The baseline: a bare binary heap of `(Reverse(time), seq)`.
#[derive(Debug)]
pub struct BareHeapHold {
    heap: BinaryHeap<(Reverse<u64>, u64)>,
    rng: ChaCha8Rng,
    seq: u64,
    checksum: u64,
}

impl BareHeapHold {
    /// `n` pending events, seeded.
    pub fn new(n: usize, seed: u64) -> Self {
        let mut rng = rng(seed);
        let mut heap = BinaryHeap::with_capacity(n);
        for seq in 0..n as u64 {
            heap.push((Reverse(draw(&mut rng)), seq));
        }
        BareHeapHold {
            heap,
            rng,
            seq: n as u64,
            checksum: 0,
        }
    }
    /// Handles `events` events; returns the checksum.
    pub fn run(&mut self, events: u64) -> u64 {
        for _ in 0..events {
            let Some((Reverse(t), _)) = self.heap.pop() else {
                break;
            };
            self.checksum = self.checksum.wrapping_add(t);
            self.heap.push((Reverse(t + draw(&mut self.rng)), self.seq));
            self.seq += 1;
        }
        self.checksum
    }
}

/// The `radix-heap` crate's max-heap, made a min-heap by `Reverse` keys.
#[derive(Debug)]
pub struct CrateRadixHold {
    heap: RadixHeapMap<Reverse<u64>, ()>,
    rng: ChaCha8Rng,
    checksum: u64,
}

impl CrateRadixHold {
    /// `n` pending events, seeded.
    pub fn new(n: usize, seed: u64) -> Self {
        let mut rng = rng(seed);
        // Keys may not pass the top (the last popped key, here time 0), as in the engine.
        let mut heap = RadixHeapMap::new_at(Reverse(0));
        for _ in 0..n {
            heap.push(Reverse(draw(&mut rng)), ());
        }
        CrateRadixHold {
            heap,
            rng,
            checksum: 0,
        }
    }
    /// Handles `events` events; returns the checksum.
    pub fn run(&mut self, events: u64) -> u64 {
        for _ in 0..events {
            let Some((Reverse(t), ())) = self.heap.pop() else {
                break;
            };
            self.checksum = self.checksum.wrapping_add(t);
            self.heap.push(Reverse(t + draw(&mut self.rng)), ());
        }
        self.checksum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_four_do_the_same_work() {
        // Same stream, same draws: every variant fires the same times, so the same sum of
        // them (the bare heap and the crate break ties in other orders, but ties are
        // the same time). One wrong pop would change every later time and the sum.
        let (mut e, mut r, mut b, mut c) = (
            EngineHold::new(1000, 1),
            RadixHold::new(1000, 1),
            BareHeapHold::new(1000, 1),
            CrateRadixHold::new(1000, 1),
        );
        let (ce, cr, cb, cc) = (e.run(50_000), r.run(50_000), b.run(50_000), c.run(50_000));
        assert_eq!(ce, cr);
        assert_eq!(cr, cb);
        assert_eq!(cb, cc);
        assert_eq!(e.pending(), 1000);
        // Nanosecond keys: 50,000 events at 1,000 pending advance the clock ~50 s.
        let now = e.sim.now().as_millis();
        assert!((40e9..60e9).contains(&(now as f64)), "clock at {now} ns");
    }
}
