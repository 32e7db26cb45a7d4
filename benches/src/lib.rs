//! The classic hold model, three ways, for `benches/hold.rs` and the `hold` driver
//! (`benches/peers/run.sh`).
//!
//! N events are pending; each popped event schedules one at `now + Exp(mean 1 s)`, drawn
//! with the ziggurat `Exp1` from one ChaCha8 stream and rounded to the millisecond. All
//! three variants draw the same numbers from the same stream, so they do the same work
//! and differ only in the queue and the driver:
//!
//! - [`EngineHold`]: the full engine (`Simulation` + `Model` + `Ctx`), as a model sees it.
//! - [`RadixHold`]: the engine's `EventQueue` alone, without the driver.
//! - [`BareHeapHold`]: `std::collections::BinaryHeap<(Reverse<u64>, u64)>` with an
//!   insertion counter: the baseline the targets are stated against.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use dialtone_engine::{
    Ctx, EventQueue, Model, RngStreams, SimDuration, SimTime, Simulation, TraceSink,
};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;

/// Mean hold time in engine ticks (milliseconds): Exp(1) in seconds.
pub const MEAN_TICKS: f64 = 1000.0;

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
    (x * MEAN_TICKS + 0.5) as u64
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
            let _ = sim.schedule(SimTime::from_millis(t), ());
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
            let _ = q.push(SimTime::from_millis(draw(&mut rng)), ());
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
            let _ = self.q.push(SimTime::from_millis(at), ());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_do_the_same_work() {
        // Same stream, same draws: the engine and the radix queue fire the same times.
        // The bare heap breaks ties in the other order but sees the same multiset.
        let (mut e, mut r, mut b) = (
            EngineHold::new(1000, 1),
            RadixHold::new(1000, 1),
            BareHeapHold::new(1000, 1),
        );
        let (ce, cr, cb) = (e.run(50_000), r.run(50_000), b.run(50_000));
        assert_eq!(ce, cr);
        assert_eq!(cr, cb);
        assert_eq!(e.pending(), 1000);
    }
}
