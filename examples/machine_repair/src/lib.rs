//! The machine-repair problem (finite source, shared repair crew) on `dialtone-engine`,
//! checked against its closed form (validation.md, Case 4): "one on-call admin for N
//! servers".
//!
//! Demonstrates in particular: one pending failure event per machine (machines do not
//! fail while down), a FIFO repair queue shared by `c` repairers, and several time
//! averages at once.
//!
//! The stationary law is p_n ∝ M!/(M−n)! · (λ/μ)^n / (n! if n ≤ c, else c!·c^(n−c)),
//! computed exactly by [`Params::stationary`].

use std::collections::VecDeque;

use dialtone_engine::stats::TimeAverage;
use dialtone_engine::{
    Ctx, Model, RngStreams, SimDuration, SimTime, Simulation, StreamExt, StreamNameError,
    StreamRng, TraceSink,
};

/// The shop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Machines M.
    pub machines: u32,
    /// Repairers c.
    pub repairers: u32,
    /// Mean time to failure of a running machine, hours.
    pub mttf_h: f64,
    /// Mean time to repair, hours.
    pub mttr_h: f64,
    /// Simulated hours measured (after `warmup_h`).
    pub measured_h: u64,
    /// Hours discarded at the start.
    pub warmup_h: u64,
}

impl Params {
    /// Stationary probabilities p_0..p_M of n machines down.
    pub fn stationary(&self) -> Vec<f64> {
        let (m, c) = (self.machines as usize, self.repairers as usize);
        let r = self.mttr_h / self.mttf_h; // lambda / mu
        let mut w = vec![1.0f64; m + 1];
        for n in 1..=m {
            // Rate up from n-1: (M-n+1) lambda. Rate down from n: min(n, c) mu.
            w[n] = w[n - 1] * (m - n + 1) as f64 * r / n.min(c) as f64;
        }
        let total: f64 = w.iter().sum();
        w.iter().map(|x| x / total).collect()
    }
    /// Exact mean number of machines down, L.
    pub fn exact_l(&self) -> f64 {
        self.stationary()
            .iter()
            .enumerate()
            .map(|(n, p)| n as f64 * p)
            .sum()
    }
    /// Exact mean number of busy repairers.
    pub fn exact_busy(&self) -> f64 {
        self.stationary()
            .iter()
            .enumerate()
            .map(|(n, p)| n.min(self.repairers as usize) as f64 * p)
            .sum()
    }
}

/// What one replication measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimates {
    /// Time-average number of machines down.
    pub l: f64,
    /// Time-average number of busy repairers.
    pub busy: f64,
    /// Share of time all machines were down.
    pub all_down: f64,
    /// Availability of one machine: 1 − L/M.
    pub machine_up: f64,
    /// Failures in the measured window.
    pub failures: u64,
}

/// The events of the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Machine `i` fails.
    Fail(u32),
    /// A repairer finishes machine `i`.
    Repaired(u32),
    /// Statistics restart.
    WarmupEnd,
}

/// The shop's state.
#[derive(Debug)]
pub struct Shop {
    params: Params,
    failures_rng: StreamRng,
    repairs_rng: StreamRng,
    down: u32,
    busy: u32,
    queue: VecDeque<u32>,
    l: TimeAverage,
    busy_avg: TimeAverage,
    all_down: TimeAverage,
    failures: u64,
}

fn hours(rng: &mut StreamRng, mean_h: f64) -> SimDuration {
    SimDuration::from_secs_f64(rng.exp_mean(mean_h * 3600.0)).unwrap_or(SimDuration::MAX)
}

impl Shop {
    /// A shop with every machine up, drawing from the "failures" and "repairs" streams.
    pub fn new(params: Params, streams: &RngStreams) -> Result<Self, StreamNameError> {
        Ok(Shop {
            params,
            failures_rng: streams.stream("failures")?,
            repairs_rng: streams.stream("repairs")?,
            down: 0,
            busy: 0,
            queue: VecDeque::new(),
            l: TimeAverage::new(SimTime::ZERO, 0),
            busy_avg: TimeAverage::new(SimTime::ZERO, 0),
            all_down: TimeAverage::new(SimTime::ZERO, 0),
            failures: 0,
        })
    }

    fn record(&mut self, now: SimTime) {
        self.l.set(now, u64::from(self.down));
        self.busy_avg.set(now, u64::from(self.busy));
        self.all_down
            .set(now, u64::from(self.down == self.params.machines));
    }

    fn start_repair<S: TraceSink>(&mut self, machine: u32, ctx: &mut Ctx<'_, Event, S>) {
        self.busy += 1;
        let d = hours(&mut self.repairs_rng, self.params.mttr_h);
        let _ = ctx.schedule_in(d, Event::Repaired(machine));
    }
}

impl Model for Shop {
    type Event = Event;

    fn handle<S: TraceSink>(&mut self, event: Event, ctx: &mut Ctx<'_, Event, S>) {
        let now = ctx.now();
        match event {
            Event::Fail(i) => {
                self.down += 1;
                self.failures += 1;
                ctx.trace_with("shop", "fail", || format!("machine {i}"));
                if self.busy < self.params.repairers {
                    self.start_repair(i, ctx);
                } else {
                    self.queue.push_back(i);
                }
            }
            Event::Repaired(i) => {
                self.down -= 1;
                self.busy -= 1;
                ctx.trace_with("shop", "repaired", || format!("machine {i}"));
                let d = hours(&mut self.failures_rng, self.params.mttf_h);
                let _ = ctx.schedule_in(d, Event::Fail(i));
                if let Some(next) = self.queue.pop_front() {
                    self.start_repair(next, ctx);
                }
            }
            Event::WarmupEnd => {
                self.l = TimeAverage::new(now, u64::from(self.down));
                self.busy_avg = TimeAverage::new(now, u64::from(self.busy));
                self.all_down = TimeAverage::new(now, u64::from(self.down == self.params.machines));
                self.failures = 0;
                return;
            }
        }
        self.record(now);
    }
}

/// Runs one replication.
pub fn run(params: Params, streams: &RngStreams) -> Result<Estimates, StreamNameError> {
    let mut shop = Shop::new(params, streams)?;
    let first: Vec<SimDuration> = (0..params.machines)
        .map(|_| hours(&mut shop.failures_rng, params.mttf_h))
        .collect();
    let mut sim = Simulation::new(shop);
    for (i, d) in first.into_iter().enumerate() {
        let _ = sim.schedule(SimTime::ZERO.saturating_add(d), Event::Fail(i as u32));
    }
    let hour = SimDuration::from_millis(3_600_000);
    let warm = SimTime::ZERO.saturating_add(
        hour.checked_mul(params.warmup_h)
            .unwrap_or(SimDuration::MAX),
    );
    let end = warm.saturating_add(
        hour.checked_mul(params.measured_h)
            .unwrap_or(SimDuration::MAX),
    );
    let _ = sim.schedule(warm, Event::WarmupEnd);
    sim.run_until(end);
    let shop = sim.model();
    let l = shop.l.mean_until(end);
    Ok(Estimates {
        l,
        busy: shop.busy_avg.mean_until(end),
        all_down: shop.all_down.mean_until(end),
        machine_up: 1.0 - l / f64::from(params.machines),
        failures: shop.failures,
    })
}
