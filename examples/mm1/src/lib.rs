//! An M/M/1 queue (a single SMTP relay) on `dialtone-engine`, checked against its closed
//! form (validation.md, Case 1).
//!
//! Demonstrates in particular: an event enum with static dispatch, a named random stream
//! per purpose (arrivals and service draw from different streams, so changing one never
//! shifts the other), a warm-up event that resets statistics, time averages with
//! [`TimeAverage`], and tracing into any sink.
//!
//! Customers arrive at rate λ and are served FIFO at rate μ. The time-average number in
//! system estimates L = ρ/(1−ρ); the mean sojourn of customers who leave after the
//! warm-up estimates W = 1/(μ−λ).

use std::collections::VecDeque;

use dialtone_engine::stats::{TimeAverage, Welford};
use dialtone_engine::{
    Ctx, Model, RngStreams, SimDuration, SimTime, Simulation, StreamExt, StreamNameError,
    StreamRng, TraceSink,
};

/// Rates of the queue, per minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Arrival rate λ per minute.
    pub lambda_per_min: f64,
    /// Service rate μ per minute.
    pub mu_per_min: f64,
    /// Statistics start after this much simulated time.
    pub warmup: SimDuration,
    /// Statistics end at warm-up + this much simulated time.
    pub measured: SimDuration,
}

impl Params {
    /// validation.md Case 1: λ = 0.8/min, μ = 1/min.
    pub fn case1(warmup_min: u64, measured_min: u64) -> Self {
        Params {
            lambda_per_min: 0.8,
            mu_per_min: 1.0,
            warmup: SimDuration::from_mins(warmup_min).unwrap_or(SimDuration::MAX),
            measured: SimDuration::from_mins(measured_min).unwrap_or(SimDuration::MAX),
        }
    }
    /// Exact L = ρ/(1−ρ).
    pub fn exact_l(&self) -> f64 {
        let rho = self.lambda_per_min / self.mu_per_min;
        rho / (1.0 - rho)
    }
    /// Exact W = 1/(μ−λ), in minutes.
    pub fn exact_w_min(&self) -> f64 {
        1.0 / (self.mu_per_min - self.lambda_per_min)
    }
}

/// What one replication measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimates {
    /// Time-average number in system after the warm-up.
    pub l: f64,
    /// Mean sojourn in minutes of customers who left after the warm-up.
    pub w_min: f64,
    /// Customers who left after the warm-up.
    pub departures: u64,
    /// Events the engine handled.
    pub events: u64,
}

/// The events of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A customer arrives.
    Arrival,
    /// The customer in service leaves.
    Departure,
    /// The warm-up ends: statistics restart.
    WarmupEnd,
}

/// The queue's state and statistics.
#[derive(Debug)]
pub struct Mm1 {
    params: Params,
    arrivals_rng: StreamRng,
    service_rng: StreamRng,
    /// Arrival times of customers in system, the one in service first.
    waiting: VecDeque<SimTime>,
    measuring: bool,
    in_system: TimeAverage,
    sojourn_min: Welford,
}

impl Mm1 {
    /// A queue drawing from the "arrivals" and "service" streams of `streams`.
    pub fn new(params: Params, streams: &RngStreams) -> Result<Self, StreamNameError> {
        Ok(Mm1 {
            params,
            arrivals_rng: streams.stream("arrivals")?,
            service_rng: streams.stream("service")?,
            waiting: VecDeque::new(),
            measuring: false,
            in_system: TimeAverage::new(SimTime::ZERO, 0),
            sojourn_min: Welford::new(),
        })
    }

    fn draw(rng: &mut StreamRng, rate_per_min: f64) -> SimDuration {
        SimDuration::from_secs_f64(rng.exp_mean(60.0 / rate_per_min)).unwrap_or(SimDuration::MAX)
    }
}

impl Model for Mm1 {
    type Event = Event;

    fn handle<S: TraceSink>(&mut self, event: Event, ctx: &mut Ctx<'_, Event, S>) {
        let now = ctx.now();
        match event {
            Event::Arrival => {
                self.waiting.push_back(now);
                self.in_system.set(now, self.waiting.len() as u64);
                ctx.trace("mm1", "arrival");
                if self.waiting.len() == 1 {
                    let s = Self::draw(&mut self.service_rng, self.params.mu_per_min);
                    let _ = ctx.schedule_in(s, Event::Departure);
                }
                let a = Self::draw(&mut self.arrivals_rng, self.params.lambda_per_min);
                let _ = ctx.schedule_in(a, Event::Arrival);
            }
            Event::Departure => {
                if let Some(arrived) = self.waiting.pop_front()
                    && self.measuring
                {
                    self.sojourn_min
                        .push(now.saturating_duration_since(arrived).as_secs_f64() / 60.0);
                }
                self.in_system.set(now, self.waiting.len() as u64);
                ctx.trace("mm1", "departure");
                if !self.waiting.is_empty() {
                    let s = Self::draw(&mut self.service_rng, self.params.mu_per_min);
                    let _ = ctx.schedule_in(s, Event::Departure);
                }
            }
            Event::WarmupEnd => {
                self.measuring = true;
                self.in_system = TimeAverage::new(now, self.waiting.len() as u64);
                self.sojourn_min = Welford::new();
                ctx.trace("mm1", "warmup-end");
            }
        }
    }
}

/// Runs one replication into `sink` and returns its estimates with the sink.
pub fn run_traced<S: TraceSink>(
    params: Params,
    streams: &RngStreams,
    sink: S,
) -> Result<(Estimates, S), StreamNameError> {
    let mut sim = Simulation::with_trace(Mm1::new(params, streams)?, sink);
    let start = SimTime::ZERO;
    let warm = start.saturating_add(params.warmup);
    let end = warm.saturating_add(params.measured);
    // Both times are at or after zero, so scheduling cannot fail on a fresh simulation.
    let _ = sim.schedule(start, Event::Arrival);
    let _ = sim.schedule(warm, Event::WarmupEnd);
    sim.run_until(end);
    let events = sim.events_processed();
    let (model, sink) = sim.into_parts();
    Ok((
        Estimates {
            l: model.in_system.mean_until(end),
            w_min: model.sojourn_min.mean(),
            departures: model.sojourn_min.count(),
            events,
        },
        sink,
    ))
}

/// Runs one replication with tracing off.
pub fn run(params: Params, streams: &RngStreams) -> Result<Estimates, StreamNameError> {
    run_traced(params, streams, dialtone_engine::NoTrace).map(|(e, _)| e)
}
