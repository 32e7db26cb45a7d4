//! What the metrics layer reads: [`Tallies`] (time integrals per cohort, counters), the
//! change-point [`Curve`]s of users without service or history, and their [`KIND_LABELS`].

use dialtone_engine::SimTime;
use dialtone_engine::stats::TimeAverage;

use super::World;
use crate::clients::ClientKind;
use crate::ids::CohortId;

/// Counters the metrics layer reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Tallies {
    /// Per cohort: users who cannot both send and receive, integrated over time.
    pub without_service: Vec<TimeAverage>,
    /// Per cohort: users without their pre-failure mail, integrated over time.
    pub without_history: Vec<TimeAverage>,
    /// Per cohort: users reading their offline copy instead, integrated over time.
    pub offline_readable: Vec<TimeAverage>,
    /// Databases served twice at once (split brain), integrated over time.
    pub split_brain: TimeAverage,
    /// Messages delivered to, or sent from, the losing side of a split brain.
    pub split_brain_messages: u64,
    /// Users working on a copy a rogue cluster serves (rule `world.split_brain_sent`),
    /// integrated over time.
    pub on_rogue: TimeAverage,
    /// Profile changes made by the helpdesk.
    pub profile_changes: u64,
    /// Users' outages (connection lost to connection back), for the mean residual outage
    /// (rule `metrics.residual_outage`).
    pub residual: crate::residual::ResidualOutage,
    /// Administrator actions that failed their preconditions.
    pub failed_actions: u64,
    /// Change points `(time, users)` of the total of users without send/receive; the
    /// users-in-service curve and time-to-service percentiles come from it.
    pub without_service_curve: Vec<(SimTime, u64)>,
    /// Change points of the total of users without their history.
    pub without_history_curve: Vec<(SimTime, u64)>,
    /// Per client kind (in [`KIND_LABELS`] order): change points of users without
    /// send/receive, and of users without history.
    pub by_kind: Vec<(Curve, Curve)>,
}

/// Change points `(time, users)`: each value holds from its time to the next.
pub type Curve = Vec<(SimTime, u64)>;

/// Client kinds in the order of [`Tallies::by_kind`].
pub const KIND_LABELS: [&str; 5] = [
    "outlook-cached",
    "outlook-online",
    "outlook-no-autodiscover",
    "web",
    "mobile",
];

fn kind_index(k: ClientKind) -> usize {
    KIND_LABELS
        .iter()
        .position(|l| *l == k.label())
        .unwrap_or(0)
}

/// Records that one cohort's count went from `old` to `new` in a total's curve; changes
/// at the same instant merge into one point.
fn push_change(curve: &mut Vec<(SimTime, u64)>, now: SimTime, old: u64, new: u64) {
    if old == new {
        return;
    }
    let last = curve.last().map_or(0, |&(_, v)| v);
    let value = (last + new).saturating_sub(old);
    match curve.last_mut() {
        Some((t, v)) if *t == now => *v = value,
        _ => curve.push((now, value)),
    }
}

impl Tallies {
    /// Every counter at zero for `cohorts` cohorts, every user in service at time zero.
    pub(super) fn new(cohorts: usize) -> Self {
        let zero = TimeAverage::new(SimTime::ZERO, 0);
        Tallies {
            without_service: vec![zero; cohorts],
            without_history: vec![zero; cohorts],
            offline_readable: vec![zero; cohorts],
            split_brain: zero,
            split_brain_messages: 0,
            on_rogue: zero,
            profile_changes: 0,
            residual: Default::default(),
            failed_actions: 0,
            without_service_curve: vec![(SimTime::ZERO, 0)],
            without_history_curve: vec![(SimTime::ZERO, 0)],
            by_kind: vec![(vec![(SimTime::ZERO, 0)], vec![(SimTime::ZERO, 0)]); KIND_LABELS.len()],
        }
    }

    /// Records cohort `c`'s users `[without service, without history, reading offline]`
    /// from `now` on, in its integrals and in the total and per-kind curves.
    pub(super) fn set_cohort(
        &mut self,
        c: CohortId,
        kind: ClientKind,
        now: SimTime,
        users: [u64; 3],
    ) {
        let [without_service, without_history, offline] = users;
        let c = c.index();
        let before = (
            self.without_service[c].value(),
            self.without_history[c].value(),
        );
        self.without_service[c].set(now, without_service);
        self.without_history[c].set(now, without_history);
        self.offline_readable[c].set(now, offline);
        push_change(
            &mut self.without_service_curve,
            now,
            before.0,
            without_service,
        );
        push_change(
            &mut self.without_history_curve,
            now,
            before.1,
            without_history,
        );
        let k = &mut self.by_kind[kind_index(kind)];
        push_change(&mut k.0, now, before.0, without_service);
        push_change(&mut k.1, now, before.1, without_history);
    }
}

impl World {
    /// Closes every time integral at `now` (call at the end of a run).
    pub fn finish(&mut self, now: SimTime) {
        self.finish_stretch(now);
        for t in self
            .tallies
            .without_service
            .iter_mut()
            .chain(self.tallies.without_history.iter_mut())
            .chain(self.tallies.offline_readable.iter_mut())
        {
            t.advance(now);
        }
        self.tallies.split_brain.advance(now);
        self.close_user_outages(now);
        self.sent_from_rogue(now);
    }

    /// Rule `world.split_brain_sent`: the mail that users working on a rogue copy sent
    /// (a Poisson count with their user-days times the sent rate: flat over the day) was
    /// accepted by the side the partition's end discards, so it is split-brain mail.
    fn sent_from_rogue(&mut self, now: SimTime) {
        self.tallies.on_rogue.advance(now);
        let user_days = self.tallies.on_rogue.integral_ms() as f64 / 86_400_000.0;
        let mean = user_days * self.config.mail.sent_per_user_per_day;
        self.tallies.split_brain_messages += super::mail::poisson(&mut self.sent_rng, mean);
    }
}
