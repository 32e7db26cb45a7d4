//! `dialtone-engine`: the generic discrete-event kernel under dialtone. It knows nothing
//! of mail.
//!
//! - [`SimTime`] / [`SimDuration`]: integer milliseconds, parsed from and printed as human
//!   strings (`"250ms"`, `"90s"`, `"2h30m"`, `"3d"`).
//! - [`EventQueue`]: pending events ordered by `(time, insertion sequence)`, O(1) cancel.
//! - [`Simulation`], [`Model`], [`Ctx`]: the driver; run until a time, until the queue is
//!   empty, for N events, or until the model stops.
//! - [`RngStreams`]: named ChaCha streams derived from (master seed, replication, name).
//! - [`TraceSink`]: where records of what happened go; [`NoTrace`] costs nothing.
//! - [`DurationDist`]: distributions of durations (repairs, operator steps, failures).
//! - [`stats`]: accumulators for time averages and replication statistics.
//!
//! # Ordering contract
//!
//! Events fire in order of time; events at the same time fire in the order they were
//! scheduled. An event scheduled at the current time while handling another fires after
//! every event already scheduled for that time. Nothing else (no hash order, no thread
//! timing, no wall clock) influences the order, so a run is a pure function of its model,
//! its initial events and its seed.
//!
//! # Architecture invariants
//!
//! No file or network I/O (sinks write to an `io::Write` the caller supplies), no wall
//! clock, no threads, no iteration over hash maps.
//!
//! # Example: an M/M/1 queue in a few lines
//!
//! ```
//! use dialtone_engine::{Ctx, Model, RngStreams, SimDuration, SimTime, Simulation, StreamExt,
//!                       StreamRng, TraceSink};
//!
//! enum Ev { Arrive, Depart }
//! struct Mm1 { rng: StreamRng, in_system: u32, served: u64 }
//!
//! impl Model for Mm1 {
//!     type Event = Ev;
//!     fn handle<S: TraceSink>(&mut self, ev: Ev, ctx: &mut Ctx<'_, Ev, S>) {
//!         let draw = |rng: &mut StreamRng, mean_s: f64| {
//!             SimDuration::from_secs_f64(rng.exp_mean(mean_s)).unwrap_or(SimDuration::MAX)
//!         };
//!         match ev {
//!             Ev::Arrive => {
//!                 self.in_system += 1;
//!                 if self.in_system == 1 {
//!                     let _ = ctx.schedule_in(draw(&mut self.rng, 60.0), Ev::Depart);
//!                 }
//!                 let _ = ctx.schedule_in(draw(&mut self.rng, 75.0), Ev::Arrive);
//!             }
//!             Ev::Depart => {
//!                 self.in_system -= 1;
//!                 self.served += 1;
//!                 if self.in_system > 0 {
//!                     let _ = ctx.schedule_in(draw(&mut self.rng, 60.0), Ev::Depart);
//!                 }
//!             }
//!         }
//!     }
//! }
//!
//! let rng = RngStreams::new(42, 0).stream("mm1").unwrap();
//! let mut sim = Simulation::new(Mm1 { rng, in_system: 0, served: 0 });
//! sim.schedule(SimTime::ZERO, Ev::Arrive).unwrap();
//! sim.run_until("1d".parse().unwrap());
//! assert!(sim.model().served > 1000);
//! ```
#![warn(missing_docs, unreachable_pub)]

pub mod dist;
pub mod error;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod stats;
pub mod time;
pub mod trace;

pub use dist::{DistError, DurationDist};
pub use error::{DurationParseError, ScheduleError, StreamNameError};
pub use queue::{EventId, EventQueue};
pub use rng::{RngStreams, StreamExt, StreamRng};
pub use sim::{Ctx, Model, Simulation, StopReason};
pub use time::{SimDuration, SimTime};
pub use trace::{
    HashTrace, JsonLinesTrace, MemoryTrace, NoTrace, OwnedTraceRecord, TraceRecord, TraceSink,
};
