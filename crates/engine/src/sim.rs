//! The simulation driver: a [`Model`] receives events from the queue in order and reacts
//! through a [`Ctx`].

use crate::error::ScheduleError;
use crate::queue::{EventId, EventQueue};
use crate::time::{SimDuration, SimTime};
use crate::trace::{NoTrace, TraceRecord, TraceSink};

/// A simulated system: its state and how it reacts to each of its events.
///
/// The event type is usually an enum, so dispatch is a `match`: static, and checked for
/// exhaustiveness by the compiler.
pub trait Model {
    /// What can happen to the model.
    type Event;

    /// Reacts to `event`, which fires at `ctx.now()`.
    fn handle<S: TraceSink>(&mut self, event: Self::Event, ctx: &mut Ctx<'_, Self::Event, S>);
}

/// What a model may do while it handles an event: read the clock, schedule and cancel
/// events, ask the run to stop, and trace.
#[derive(Debug)]
pub struct Ctx<'a, E, S: TraceSink> {
    now: SimTime,
    queue: &'a mut EventQueue<E>,
    sink: &'a mut S,
    stop: &'a mut bool,
    events_processed: u64,
}

impl<E, S: TraceSink> Ctx<'_, E, S> {
    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events handled so far, counting the current one.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Schedules `event` at `at`; `at == now` is allowed (it fires after every event
    /// already scheduled for `now`).
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: E) -> Result<EventId, ScheduleError> {
        if at < self.now {
            return Err(ScheduleError::InThePast { at, now: self.now });
        }
        self.queue.push(at, event)
    }

    /// Schedules `event` after `delay`.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) -> Result<EventId, ScheduleError> {
        let at = self
            .now
            .checked_add(delay)
            .ok_or(ScheduleError::Overflow { now: self.now })?;
        self.queue.push(at, event)
    }

    /// Cancels a pending event; returns it, or `None` if it already fired or was
    /// cancelled.
    #[inline]
    pub fn cancel(&mut self, id: EventId) -> Option<E> {
        self.queue.cancel(id)
    }

    /// Whether `id` is still pending.
    pub fn is_pending(&self, id: EventId) -> bool {
        self.queue.is_pending(id)
    }

    /// Asks the run to stop after this event.
    pub fn stop(&mut self) {
        *self.stop = true;
    }

    /// Whether the sink wants records (a compile-time constant).
    #[inline(always)]
    pub fn tracing(&self) -> bool {
        S::ENABLED
    }

    /// Records that `component` did `what`.
    #[inline(always)]
    pub fn trace(&mut self, component: &str, what: &str) {
        if S::ENABLED {
            self.sink.record(&TraceRecord {
                time: self.now,
                component,
                what,
                detail: "",
            });
        }
    }

    /// Records that `component` did `what`, with a detail built only when tracing is on.
    #[inline(always)]
    pub fn trace_with(&mut self, component: &str, what: &str, detail: impl FnOnce() -> String) {
        if S::ENABLED {
            let detail = detail();
            self.sink.record(&TraceRecord {
                time: self.now,
                component,
                what,
                detail: &detail,
            });
        }
    }
}

/// Why a run returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// No event is pending.
    QueueEmpty,
    /// Every event due by the time limit was handled (none may be left at all); the clock
    /// now reads the limit.
    TimeReached,
    /// The event budget of this call was used up.
    EventLimit,
    /// The model called [`Ctx::stop`].
    Stopped,
}

/// A model, its pending events, its clock and its trace sink.
#[derive(Debug)]
pub struct Simulation<M: Model, S: TraceSink = NoTrace> {
    model: M,
    queue: EventQueue<M::Event>,
    now: SimTime,
    events_processed: u64,
    sink: S,
    stop: bool,
}

impl<M: Model> Simulation<M, NoTrace> {
    /// A simulation at time zero with tracing off.
    pub fn new(model: M) -> Self {
        Self::with_trace(model, NoTrace)
    }
}

impl<M: Model, S: TraceSink> Simulation<M, S> {
    /// A simulation at time zero that traces into `sink`.
    pub fn with_trace(model: M, sink: S) -> Self {
        Simulation {
            model,
            queue: EventQueue::new(),
            now: SimTime::ZERO,
            events_processed: 0,
            sink,
            stop: false,
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events handled since the start.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Events pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, mutably (e.g. to read and reset statistics between phases).
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// The trace sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The model and the trace sink, consuming the simulation.
    pub fn into_parts(self) -> (M, S) {
        (self.model, self.sink)
    }

    /// Bytes of heap the event queue holds (not counting what payloads own).
    pub fn queue_heap_bytes(&self) -> usize {
        self.queue.heap_bytes()
    }

    /// Schedules an event from outside the model (initial events, injected faults).
    pub fn schedule(&mut self, at: SimTime, event: M::Event) -> Result<EventId, ScheduleError> {
        if at < self.now {
            return Err(ScheduleError::InThePast { at, now: self.now });
        }
        self.queue.push(at, event)
    }

    /// Cancels a pending event from outside the model.
    pub fn cancel(&mut self, id: EventId) -> Option<M::Event> {
        self.queue.cancel(id)
    }

    /// Handles the next event, if any. Returns whether one was handled.
    pub fn step(&mut self) -> bool {
        matches!(
            self.run_inner(SimTime::MAX, 1),
            StopReason::EventLimit | StopReason::Stopped
        )
    }

    /// Runs until no event is pending or the model stops.
    pub fn run(&mut self) -> StopReason {
        self.run_inner(SimTime::MAX, u64::MAX)
    }

    /// Runs every event due at or before `until`, then sets the clock to `until` (unless
    /// the model stopped first, or `until` is already past).
    pub fn run_until(&mut self, until: SimTime) -> StopReason {
        self.run_inner(until, u64::MAX)
    }

    /// Handles at most `n` events.
    pub fn run_events(&mut self, n: u64) -> StopReason {
        self.run_inner(SimTime::MAX, n)
    }

    /// Handles at most `max_events` events due at or before `until`. The one loop behind
    /// every `run*` method.
    pub fn run_bounded(&mut self, until: SimTime, max_events: u64) -> StopReason {
        self.run_inner(until, max_events)
    }

    #[inline]
    fn run_inner(&mut self, until: SimTime, max_events: u64) -> StopReason {
        let mut budget = max_events;
        loop {
            if budget == 0 {
                return StopReason::EventLimit;
            }
            let Some((t, event)) = self.queue.pop_until(until) else {
                if until == SimTime::MAX {
                    return StopReason::QueueEmpty;
                }
                self.now = self.now.max(until);
                return StopReason::TimeReached;
            };
            budget -= 1;
            self.now = t;
            self.events_processed += 1;
            let mut ctx = Ctx {
                now: t,
                queue: &mut self.queue,
                sink: &mut self.sink,
                stop: &mut self.stop,
                events_processed: self.events_processed,
            };
            self.model.handle(event, &mut ctx);
            if self.stop {
                self.stop = false;
                return StopReason::Stopped;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{HashTrace, MemoryTrace};

    /// Records the order events fire in; some events schedule follow-ups.
    #[derive(Debug, Default)]
    struct Recorder {
        fired: Vec<(u64, &'static str)>,
        stop_on: Option<&'static str>,
        cancel_next: Option<EventId>,
    }

    #[derive(Debug, Clone, Copy)]
    enum Ev {
        Plain(&'static str),
        /// Schedules `Plain(name)` at the current time.
        SpawnNow(&'static str),
        /// Cancels the id stored in `cancel_next`.
        Cancel,
        /// Tries to schedule in the past.
        Past,
    }

    impl Model for Recorder {
        type Event = Ev;
        fn handle<S: TraceSink>(&mut self, ev: Ev, ctx: &mut Ctx<'_, Ev, S>) {
            let now = ctx.now().as_millis();
            match ev {
                Ev::Plain(name) => {
                    self.fired.push((now, name));
                    ctx.trace("recorder", name);
                    if self.stop_on == Some(name) {
                        ctx.stop();
                    }
                }
                Ev::SpawnNow(name) => {
                    self.fired.push((now, "spawn"));
                    ctx.schedule(ctx.now(), Ev::Plain(name))
                        .expect("now is allowed");
                }
                Ev::Cancel => {
                    let id = self.cancel_next.take().expect("id set");
                    assert!(ctx.cancel(id).is_some());
                    assert!(ctx.cancel(id).is_none());
                }
                Ev::Past => {
                    let past = SimTime::from_millis(now - 1);
                    let err = ctx.schedule(past, Ev::Plain("never")).unwrap_err();
                    assert_eq!(
                        err,
                        ScheduleError::InThePast {
                            at: past,
                            now: ctx.now()
                        }
                    );
                    self.fired.push((now, "refused"));
                }
            }
        }
    }

    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn same_time_events_fire_in_scheduling_order_even_when_spawned() {
        let mut sim = Simulation::new(Recorder::default());
        sim.schedule(t(5), Ev::SpawnNow("child")).expect("ok");
        sim.schedule(t(5), Ev::Plain("sibling")).expect("ok");
        sim.schedule(t(1), Ev::Plain("first")).expect("ok");
        assert_eq!(sim.run(), StopReason::QueueEmpty);
        assert_eq!(
            sim.model().fired,
            vec![(1, "first"), (5, "spawn"), (5, "sibling"), (5, "child")]
        );
        assert_eq!(sim.events_processed(), 4);
        assert_eq!(sim.now(), t(5));
    }

    #[test]
    fn run_until_stops_at_the_limit_and_moves_the_clock() {
        let mut sim = Simulation::new(Recorder::default());
        for ms in [10, 20, 30] {
            sim.schedule(t(ms), Ev::Plain("x")).expect("ok");
        }
        assert_eq!(sim.run_until(t(20)), StopReason::TimeReached);
        assert_eq!(sim.model().fired.len(), 2, "the event at exactly 20 fires");
        assert_eq!(sim.now(), t(20));
        assert_eq!(sim.run_until(t(25)), StopReason::TimeReached);
        assert_eq!(sim.now(), t(25));
        assert!(
            sim.schedule(t(24), Ev::Plain("late")).is_err(),
            "the past is refused"
        );
        assert_eq!(sim.run_until(t(100)), StopReason::TimeReached);
        assert_eq!(
            sim.now(),
            t(100),
            "clock reaches the limit even with an empty queue"
        );
        assert_eq!(sim.pending(), 0);
    }

    #[test]
    fn run_events_and_step_count_events() {
        let mut sim = Simulation::new(Recorder::default());
        for ms in 0..10 {
            sim.schedule(t(ms), Ev::Plain("x")).expect("ok");
        }
        assert_eq!(sim.run_events(3), StopReason::EventLimit);
        assert_eq!(sim.events_processed(), 3);
        assert!(sim.step());
        assert_eq!(sim.events_processed(), 4);
        assert_eq!(sim.run(), StopReason::QueueEmpty);
        assert!(!sim.step());
        assert_eq!(sim.events_processed(), 10);
    }

    #[test]
    fn the_model_can_stop_the_run() {
        let mut sim = Simulation::new(Recorder {
            stop_on: Some("b"),
            ..Default::default()
        });
        for (ms, n) in [(1, "a"), (2, "b"), (3, "c")] {
            sim.schedule(t(ms), Ev::Plain(n)).expect("ok");
        }
        assert_eq!(sim.run(), StopReason::Stopped);
        assert_eq!(sim.now(), t(2));
        assert_eq!(sim.pending(), 1);
        assert_eq!(sim.run(), StopReason::QueueEmpty, "a stop is consumed");
    }

    #[test]
    fn cancelled_events_never_fire() {
        let mut sim = Simulation::new(Recorder::default());
        let id = sim.schedule(t(10), Ev::Plain("cancelled")).expect("ok");
        sim.model_mut().cancel_next = Some(id);
        sim.schedule(t(5), Ev::Cancel).expect("ok");
        let id2 = sim.schedule(t(7), Ev::Plain("also cancelled")).expect("ok");
        assert_eq!(sim.cancel(id2).map(|_| ()), Some(()));
        sim.run();
        assert!(sim.model().fired.is_empty(), "{:?}", sim.model().fired);
    }

    #[test]
    fn scheduling_in_the_past_is_an_error() {
        let mut sim = Simulation::new(Recorder::default());
        sim.schedule(t(10), Ev::Past).expect("ok");
        sim.run();
        assert_eq!(sim.model().fired, vec![(10, "refused")]);
        assert!(matches!(
            sim.schedule(t(9), Ev::Plain("x")),
            Err(ScheduleError::InThePast { .. })
        ));
    }

    #[test]
    fn traces_reach_the_sink_and_cost_nothing_when_off() {
        let mut sim = Simulation::with_trace(Recorder::default(), MemoryTrace::default());
        sim.schedule(t(3), Ev::Plain("a")).expect("ok");
        sim.run();
        let (_, sink) = sim.into_parts();
        assert_eq!(sink.records.len(), 1);
        assert_eq!(sink.records[0].time, t(3));
        assert_eq!(sink.records[0].what, "a");
        // NoTrace is zero-sized: nothing is stored, nothing is built.
        assert_eq!(std::mem::size_of::<NoTrace>(), 0);
        let mut built = false;
        let mut q = EventQueue::<()>::new();
        let (mut stop, mut sink) = (false, NoTrace);
        let mut ctx = Ctx {
            now: t(0),
            queue: &mut q,
            sink: &mut sink,
            stop: &mut stop,
            events_processed: 0,
        };
        ctx.trace_with("c", "w", || {
            built = true;
            String::new()
        });
        assert!(!built, "detail closure must not run with NoTrace");
    }

    #[test]
    fn schedule_in_overflow_is_an_error() {
        let mut q = EventQueue::<()>::new();
        let (mut stop, mut sink) = (false, HashTrace::default());
        let mut ctx = Ctx {
            now: t(5),
            queue: &mut q,
            sink: &mut sink,
            stop: &mut stop,
            events_processed: 0,
        };
        assert_eq!(
            ctx.schedule_in(SimDuration::MAX, ()),
            Err(ScheduleError::Overflow { now: t(5) })
        );
    }
}
