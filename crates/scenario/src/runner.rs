//! Runs a validated scenario: builds the world, injects its failures, executes the
//! strategy's playbook, and measures (docs/METRICS.md).
//!
//! Random streams (common random numbers across strategies): `failures` (one substream
//! per failure), `operators` (detection, decision and step durations), `mail` and
//! `clients` (in the world). Changing the strategy never changes when things fail or how
//! much mail arrives.
//!
//! People are finite (`crate::crews`): an action or manual step holds one of the
//! `strategy.operators.count` operators for its duration, and a failure that names a
//! crew is repaired only when a member of that crew is free; ready work queues.

use std::sync::Arc;

use dialtone_engine::{
    Ctx, Model, NoTrace, OwnedTraceRecord, RngStreams, SimDuration, SimTime, Simulation, StreamRng,
    TraceSink,
};
use dialtone_model::causes::Cause;
use dialtone_model::world::{self, Fault, World};
use dialtone_model::{DatabaseId, ServerId};
use serde::{Deserialize, Serialize};

use crate::crews::{Crews, Work};
use crate::metrics::{self, Summary};
use crate::playbook::{Cond, StepKind};
use crate::spec::FailureKind;
use crate::validate::{Scenario, Target, When};

/// The operators' crew: `Scenario::crews[0]` (named [`crate::validate::OPERATORS`]).
const OPERATORS: usize = 0;

/// Why a run failed. Fatal: a run that breaks an invariant is a bug, reported loudly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A random stream could not be created (a bug: stream names are constants).
    #[error("internal error creating random streams: {0}")]
    Streams(#[from] dialtone_engine::StreamNameError),
    /// Mail conservation was violated (a bug).
    #[error("mail conservation violated at the end of the run: {0}")]
    Conservation(String),
    /// The run exceeded its event budget.
    #[error(
        "the run exceeded its budget of {0} events (run.max_events) before the horizon; shorten the horizon, coarsen workload.tick or raise the budget"
    )]
    EventBudget(u64),
}

/// Events of a run: the world's, plus failures and the playbook's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    /// An event of the world.
    World(world::Event),
    /// Failure `i` happens (`repair = false`) or is repaired.
    Fail {
        /// Index into the scenario's failures.
        index: usize,
        /// Repair rather than failure.
        repair: bool,
    },
    /// The operators have detected and decided: the playbook starts.
    PlaybookStart,
    /// Playbook step `i` finishes.
    StepDone(usize),
}

impl From<world::Event> for RunEvent {
    fn from(e: world::Event) -> Self {
        RunEvent::World(e)
    }
}

/// What happened to one playbook step (a row of summary.json's `playbook.steps`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepReport {
    /// Its name.
    pub name: String,
    /// When it started, seconds from the start (`null`: never).
    #[serde(deserialize_with = "crate::metrics::nullable")]
    pub started_s: Option<f64>,
    /// When it finished (`null`: never).
    #[serde(deserialize_with = "crate::metrics::nullable")]
    pub finished_s: Option<f64>,
    /// `ok`, `refused: REASON`, `skipped` (an if-unserved step that was not needed), or
    /// `not started`.
    pub result: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepState {
    Pending,
    Waiting,
    /// Ready, waiting for a free operator.
    Queued,
    Running,
    Done,
    Failed,
}

/// The model a run simulates.
#[derive(Debug)]
pub struct Runner<'a> {
    /// The world.
    pub world: World,
    scenario: &'a Scenario,
    ops: StreamRng,
    fail_rng: Vec<StreamRng>,
    state: Vec<StepState>,
    reports: Vec<StepReport>,
    /// When the first failure happened.
    pub first_failure: Option<SimTime>,
    /// When every failure happened (not repairs), in time order.
    pub failures: Vec<SimTime>,
    started: bool,
    detecting: bool,
    operator_ms: u64,
    crews: Crews,
    /// Each failure's repair time, drawn when it failed, while it waits for its crew.
    repair_work: Vec<SimDuration>,
    /// The ready queue (rule `perf.playbook_ready`): per step, how many of its
    /// `after` entries are not done; the steps that wait on each step; pending steps
    /// none of whose `after` is left, not yet waiting; and the waiting steps, ascending.
    missing: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    ready: Vec<usize>,
    waiting: Vec<usize>,
}

impl<'a> Runner<'a> {
    /// A runner for replication `replication` of `scenario` with master seed `seed`.
    pub fn new(scenario: &'a Scenario, seed: u64, replication: u64) -> Result<Self, RunError> {
        let streams = RngStreams::new(seed, replication);
        let world = World::new(Arc::clone(&scenario.world), &streams)?;
        let fail_rng = (0..scenario.failures.len())
            .map(|i| streams.substream("failures", i as u64))
            .collect::<Result<Vec<_>, _>>()?;
        let n = scenario.playbook.len();
        let missing: Vec<usize> = scenario.playbook.iter().map(|s| s.after.len()).collect();
        let mut dependents = vec![Vec::new(); n];
        for (i, s) in scenario.playbook.iter().enumerate() {
            for &a in &s.after {
                dependents[a].push(i);
            }
        }
        Ok(Runner {
            ready: (0..n).filter(|&i| missing[i] == 0).collect(),
            missing,
            dependents,
            waiting: Vec::with_capacity(n),
            world,
            ops: streams.stream("operators")?,
            fail_rng,
            state: vec![StepState::Pending; n],
            reports: scenario
                .playbook
                .iter()
                .map(|s| StepReport {
                    name: s.name.clone(),
                    started_s: None,
                    finished_s: None,
                    result: "not started".into(),
                })
                .collect(),
            scenario,
            first_failure: None,
            failures: Vec::new(),
            started: false,
            detecting: false,
            operator_ms: 0,
            crews: Crews::new(scenario.crews.iter().map(|c| c.count)),
            repair_work: vec![SimDuration::ZERO; scenario.failures.len()],
        })
    }

    /// The initial events: the world's, and each failure's first occurrence.
    fn initial(&mut self) -> Vec<(SimTime, RunEvent)> {
        let mut v: Vec<(SimTime, RunEvent)> = self
            .world
            .initial_events()
            .into_iter()
            .map(|(t, e)| (t, RunEvent::World(e)))
            .collect();
        for i in 0..self.scenario.failures.len() {
            match &self.scenario.failures[i].when {
                When::At { at, repair_after } => {
                    v.push((
                        *at,
                        RunEvent::Fail {
                            index: i,
                            repair: false,
                        },
                    ));
                    // A crew's repair is requested when the failure happens.
                    if let Some(r) =
                        repair_after.filter(|_| self.scenario.failures[i].crew.is_none())
                    {
                        v.push((
                            at.saturating_add(r),
                            RunEvent::Fail {
                                index: i,
                                repair: true,
                            },
                        ));
                    }
                }
                When::Stochastic { ttf, .. } => {
                    let d = ttf.sample(&mut self.fail_rng[i]);
                    v.push((
                        SimTime::ZERO.saturating_add(d),
                        RunEvent::Fail {
                            index: i,
                            repair: false,
                        },
                    ));
                }
            }
        }
        v
    }

    fn faults(&self, index: usize, repair: bool) -> Vec<Fault> {
        let f = &self.scenario.failures[index];
        let up = repair;
        match &f.target {
            Target::Site(site) => vec![Fault::SitePower {
                site: *site,
                on: up,
            }],
            Target::Server(s) => {
                let mut v = vec![Fault::ServerPower { server: *s, on: up }];
                if f.kind == FailureKind::ServerLoss {
                    // Hardware and disks: every copy on it is gone (its repair brings
                    // new, empty disks), and so are its transport queue and Safety Net.
                    v.push(Fault::TransportQueue { server: *s, up });
                    for (d, db) in self.world.databases().iter().enumerate() {
                        for (c, copy) in db.copies.iter().enumerate() {
                            if copy.config.server == *s {
                                v.push(Fault::Disk {
                                    db: DatabaseId::from(d),
                                    copy: c,
                                    up,
                                });
                            }
                        }
                    }
                }
                v
            }
            Target::Database(db) => {
                if repair {
                    vec![]
                } else {
                    vec![Fault::Corruption { db: *db }]
                }
            }
            Target::Copy(db, copy) => vec![Fault::Disk {
                db: *db,
                copy: *copy,
                up,
            }],
            Target::Link(link) => vec![Fault::Link { link: *link, up }],
            Target::Witness(s) => vec![Fault::ServerPower { server: *s, on: up }],
            Target::Partial(site, services) => {
                let mut v = Vec::new();
                for (i, srv) in self.scenario.world.servers.iter().enumerate() {
                    if srv.site == *site
                        && self.scenario.world.dag.members.contains(&ServerId::from(i))
                    {
                        for &service in services {
                            v.push(Fault::Service {
                                server: ServerId::from(i),
                                service,
                                up,
                            });
                        }
                    }
                }
                v
            }
            Target::Dns => vec![Fault::DnsServer { up }],
        }
    }

    fn secs(t: SimTime) -> f64 {
        t.as_secs_f64()
    }

    /// Pending steps whose `after` steps are all done start waiting, and waiting steps
    /// whose condition holds start (or queue for an operator), in step order. Costs the
    /// ready and waiting steps, not the playbook (rule `perf.playbook_ready`).
    fn start_ready<S: TraceSink>(&mut self, ctx: &mut Ctx<'_, RunEvent, S>) {
        if !self.started {
            return;
        }
        if !self.ready.is_empty() {
            self.ready.sort_unstable();
            for k in 0..self.ready.len() {
                let i = self.ready[k];
                self.state[i] = StepState::Waiting;
                // Waits start now; operator work when an operator takes it (start_step).
                if !Self::needs_operator(&self.scenario.playbook[i].kind) {
                    self.reports[i].started_s = Some(Self::secs(ctx.now()));
                }
                self.waiting.push(i);
            }
            self.ready.clear();
            self.waiting.sort_unstable();
        }
        // Waiting steps whose condition holds start their duration; starting one changes
        // neither the world nor another waiting step.
        let mut kept = 0;
        for k in 0..self.waiting.len() {
            let i = self.waiting[k];
            if self.try_start(i, ctx) {
                continue;
            }
            self.waiting[kept] = i;
            kept += 1;
        }
        self.waiting.truncate(kept);
    }

    /// Waiting step `i` starts, or queues for an operator, if its condition holds.
    /// Returns whether it left the waiting steps.
    fn try_start<S: TraceSink>(&mut self, i: usize, ctx: &mut Ctx<'_, RunEvent, S>) -> bool {
        let ready = match &self.scenario.playbook[i].kind {
            StepKind::Wait(c) => self.holds(c),
            _ => true,
        };
        if !ready {
            return false;
        }
        // Operator work takes a free operator or queues (crate::crews).
        let operator = Self::needs_operator(&self.scenario.playbook[i].kind);
        if !operator || self.crews.request(OPERATORS, ctx.now(), Work::Step(i)) {
            if !self.start_step(i, ctx) && operator {
                self.release(OPERATORS, ctx);
            }
        } else {
            self.state[i] = StepState::Queued;
            let sc = self.scenario;
            ctx.trace_with("playbook", "step-queued", || sc.playbook[i].name.clone());
        }
        true
    }

    /// Step `i` is done: the steps waiting on it that wait on nothing else are ready.
    fn done(&mut self, i: usize) {
        self.state[i] = StepState::Done;
        for k in 0..self.dependents[i].len() {
            let j = self.dependents[i][k];
            self.missing[j] -= 1;
            if self.missing[j] == 0 {
                self.ready.push(j);
            }
        }
    }

    /// Whether a step is operator work: actions and manual steps hold an operator for
    /// their duration; waits and delays hold nobody.
    fn needs_operator(kind: &StepKind) -> bool {
        !matches!(kind, StepKind::Wait(_) | StepKind::Delay)
    }

    /// Step `i` starts its duration (holding an operator if it needs one). False if it
    /// failed at once (its duration overflows the clock).
    fn start_step<S: TraceSink>(&mut self, i: usize, ctx: &mut Ctx<'_, RunEvent, S>) -> bool {
        let d = self.scenario.playbook[i].duration.sample(&mut self.ops);
        if Self::needs_operator(&self.scenario.playbook[i].kind) {
            self.operator_ms += d.as_millis();
            self.reports[i].started_s = Some(Self::secs(ctx.now()));
        }
        self.state[i] = StepState::Running;
        let sc = self.scenario;
        ctx.trace_with("playbook", "step-start", || sc.playbook[i].name.clone());
        if ctx.schedule_in(d, RunEvent::StepDone(i)).is_err() {
            self.state[i] = StepState::Failed;
            self.reports[i].result = "refused: its duration overflows the clock".into();
            return false;
        }
        true
    }

    /// Failure `index` is to be repaired after `d` of work: at once, or by its crew when
    /// a member is free.
    fn request_repair<S: TraceSink>(
        &mut self,
        index: usize,
        d: SimDuration,
        ctx: &mut Ctx<'_, RunEvent, S>,
    ) {
        let Some(crew) = self.scenario.failures[index].crew else {
            let _ = ctx.schedule_in(
                d,
                RunEvent::Fail {
                    index,
                    repair: true,
                },
            );
            return;
        };
        self.repair_work[index] = d;
        if self.crews.request(crew, ctx.now(), Work::Repair(index)) {
            self.start_repair(index, ctx);
        } else {
            ctx.trace_with("crew", "repair-queued", || {
                self.scenario.crews[crew].name.clone()
            });
        }
    }

    /// A crew member starts repairing failure `index`. False if it cannot finish (its
    /// duration overflows the clock).
    fn start_repair<S: TraceSink>(&mut self, index: usize, ctx: &mut Ctx<'_, RunEvent, S>) -> bool {
        let d = self.repair_work[index];
        if self.scenario.failures[index].crew == Some(OPERATORS) {
            self.operator_ms += d.as_millis();
        }
        ctx.schedule_in(
            d,
            RunEvent::Fail {
                index,
                repair: true,
            },
        )
        .is_ok()
    }

    /// A member of `crew` has finished: they take the first queued work that can start.
    fn release<S: TraceSink>(&mut self, crew: usize, ctx: &mut Ctx<'_, RunEvent, S>) {
        while let Some(w) = self.crews.release(crew) {
            let holds = match w {
                Work::Step(i) => self.start_step(i, ctx),
                Work::Repair(f) => self.start_repair(f, ctx),
            };
            if holds {
                break;
            }
        }
    }

    fn holds(&self, c: &Cond) -> bool {
        match c {
            Cond::RestoreFinished(h) => self.world.restore_finished(*h),
            Cond::MergeFinished(h) => self.world.merge_finished(*h),
            Cond::CopiesHealthy(h) => self.world.copies_healthy(*h),
            Cond::SiteUp(s) => self.world.site_up(*s),
            Cond::SiteConnected(a, b) => self.world.sites_connected(*a, *b),
        }
    }

    /// Runs an action: "ok", or why it was refused.
    fn act<S: TraceSink>(
        &mut self,
        a: &world::Action,
        ctx: &mut Ctx<'_, RunEvent, S>,
    ) -> Result<String, String> {
        self.world
            .act(a, ctx)
            .map(|()| "ok".to_owned())
            .map_err(|e| e.to_string())
    }

    fn step_done<S: TraceSink>(&mut self, i: usize, ctx: &mut Ctx<'_, RunEvent, S>) {
        let sc = self.scenario;
        let kind = &sc.playbook[i].kind;
        let res = match kind {
            StepKind::Act(a) => self.act(a, ctx),
            StepKind::IfUnserved(h, a) => {
                if self.world.home_served(*h) {
                    Ok("skipped".to_owned())
                } else {
                    self.act(a, ctx)
                }
            }
            // A decision point: the refusal is reported, the fallback runs.
            StepKind::OrElse(a, b) => self.act(a, ctx).or_else(|e| {
                let first = format!("{} refused ({e})", a.name());
                match self.act(b, ctx) {
                    Ok(_) => Ok(format!("{first}; {} instead: ok", b.name())),
                    Err(e2) => Err(format!("{first}; {} instead: {e2}", b.name())),
                }
            }),
            StepKind::Wait(_) | StepKind::Manual | StepKind::Delay => Ok("ok".to_owned()),
        };
        self.reports[i].finished_s = Some(Self::secs(ctx.now()));
        match res {
            Ok(r) => {
                self.done(i);
                self.reports[i].result = r;
            }
            Err(e) => {
                self.state[i] = StepState::Failed;
                self.reports[i].result = format!("refused: {e}");
            }
        }
        // The operator takes queued work before the steps this one made ready.
        if Self::needs_operator(kind) {
            self.release(OPERATORS, ctx);
        }
        self.start_ready(ctx);
    }

    /// After failure `index` happened (`repair = false`) or was repaired: its repair is
    /// requested, or its next failure scheduled; the crew member who repaired it is free.
    fn next_occurrence<S: TraceSink>(
        &mut self,
        index: usize,
        repair: bool,
        ctx: &mut Ctx<'_, RunEvent, S>,
    ) {
        let f = &self.scenario.failures[index];
        if repair && let Some(crew) = f.crew {
            self.release(crew, ctx);
        }
        match (&f.when, repair) {
            (When::Stochastic { ttf, .. }, true) => {
                let d = ttf.sample(&mut self.fail_rng[index]);
                let _ = ctx.schedule_in(
                    d,
                    RunEvent::Fail {
                        index,
                        repair: false,
                    },
                );
            }
            (When::Stochastic { ttr: Some(r), .. }, false) => {
                let d = r.sample(&mut self.fail_rng[index]);
                self.request_repair(index, d, ctx);
            }
            // A scripted repair without a crew was scheduled at the start.
            (
                When::At {
                    repair_after: Some(d),
                    ..
                },
                false,
            ) if f.crew.is_some() => {
                self.request_repair(index, *d, ctx);
            }
            _ => {}
        }
    }

    /// The playbook's report: every step, and why it is stuck if it is.
    pub fn playbook_report(&self) -> metrics::PlaybookReport {
        let failed = self.state.iter().position(|s| *s == StepState::Failed);
        let finished = self.state.iter().all(|s| *s == StepState::Done);
        let stuck = if finished || self.state.is_empty() {
            None
        } else if let Some(i) = failed {
            Some(format!(
                "step {:?} was refused ({}); the steps after it did not run",
                self.reports[i].name, self.reports[i].result
            ))
        } else if !self.started && self.detecting {
            Some(
                "the playbook never started: its failure happened, but the administrators' \
                 detection and decision delays (strategy.operators) ran past the horizon"
                    .into(),
            )
        } else if !self.started {
            Some("the playbook never started (no failure was detected before the horizon)".into())
        } else if let Some(i) = self.state.iter().position(|s| *s == StepState::Waiting) {
            Some(format!(
                "step {:?} was still waiting for its condition at the horizon",
                self.reports[i].name
            ))
        } else if let Some(i) = self.state.iter().position(|s| *s == StepState::Queued) {
            Some(format!(
                "step {:?} was still waiting for a free operator at the horizon ({} queued; strategy.operators.count is {})",
                self.reports[i].name,
                self.crews.queued(OPERATORS),
                self.scenario.crews[OPERATORS].count
            ))
        } else {
            Some("steps were still running at the horizon".into())
        };
        metrics::PlaybookReport {
            started: self.started,
            finished,
            stuck,
            operator_hours: self.operator_ms as f64 / 3_600_000.0,
            steps: self.reports.clone(),
        }
    }
}

impl Model for Runner<'_> {
    type Event = RunEvent;

    fn handle<S: TraceSink>(&mut self, ev: RunEvent, ctx: &mut Ctx<'_, RunEvent, S>) {
        match ev {
            RunEvent::World(e) => self.world.handle_event(e, ctx),
            RunEvent::Fail { index, repair } => {
                if !repair && self.first_failure.is_none() {
                    self.first_failure = Some(ctx.now());
                }
                if !repair {
                    self.failures.push(ctx.now());
                }
                if !repair && self.scenario.trigger == Some(index) && !self.detecting {
                    self.detecting = true;
                    let d = self.scenario.detection.sample(&mut self.ops);
                    let dec = self.scenario.decision.sample(&mut self.ops);
                    let _ = ctx.schedule_in(
                        d.checked_add(dec).unwrap_or(SimDuration::MAX),
                        RunEvent::PlaybookStart,
                    );
                }
                // Failure `index` is one cause: its repair ends only what it started.
                let cause = Cause::Failure(index as u32);
                for f in self.faults(index, repair) {
                    self.world.handle_event(world::Event::Fault(f, cause), ctx);
                }
                self.next_occurrence(index, repair, ctx);
            }
            RunEvent::PlaybookStart => {
                self.started = true;
                ctx.trace("playbook", "start");
            }
            RunEvent::StepDone(i) => {
                self.step_done(i, ctx);
                return;
            }
        }
        self.start_ready(ctx);
    }
}

/// What a run produces.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Headline and detailed metrics (summary.json).
    pub summary: Summary,
    /// Trace records, when tracing was on.
    pub trace: Vec<OwnedTraceRecord>,
}

/// Runs replication `replication` of `scenario` with `seed`, tracing into `sink`.
pub fn run_with<S: TraceSink>(
    scenario: &Scenario,
    seed: u64,
    replication: u64,
    sink: S,
) -> Result<(Summary, S), RunError> {
    run_counted(scenario, seed, replication, sink).map(|(s, sink, _)| (s, sink))
}

/// [`run_with`], also returning how many events the simulation handled (for
/// `dialtone bench`).
pub fn run_counted<S: TraceSink>(
    scenario: &Scenario,
    seed: u64,
    replication: u64,
    sink: S,
) -> Result<(Summary, S, u64), RunError> {
    let mut runner = Runner::new(scenario, seed, replication)?;
    let initial = runner.initial();
    let mut sim = Simulation::with_trace(runner, sink);
    for (t, e) in initial {
        let _ = sim.schedule(t, e);
    }
    let budget = scenario.max_events;
    sim.run_bounded(scenario.horizon, budget);
    if sim.now() < scenario.horizon && sim.events_processed() >= budget {
        return Err(RunError::EventBudget(budget));
    }
    let end = scenario.horizon;
    let events = sim.events_processed();
    let (mut runner, sink) = sim.into_parts();
    runner.world.finish(end);
    let summary = metrics::summarize(scenario, seed, replication, &runner, end);
    if !runner.world.fates().conserved() {
        return Err(RunError::Conservation(format!(
            "{:?}",
            runner.world.fates()
        )));
    }
    Ok((summary, sink, events))
}

/// Runs one replication without tracing.
pub fn run(scenario: &Scenario, seed: u64, replication: u64) -> Result<Summary, RunError> {
    run_with(scenario, seed, replication, NoTrace).map(|(s, _)| s)
}
