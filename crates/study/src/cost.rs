//! The cost of replications, and the warning for one that costs far more than the first
//! ones (a study then runs much longer than its start suggested).
//!
//! The cost of a replication is first the number of events it processed: the same on
//! every machine, thread count and run, so that warning is reproducible. Events do not
//! see everything: an outage nobody repairs can make each event dearer (measured on
//! `enterprise-two-sites` with dc1 lost for good and strategy `none`: 2.3x the events of
//! the repaired run, 70x its wall time). So a replication whose wall time is more than
//! [`FACTOR`] x the typical one, and at least [`MIN_SLOW_MICROS`], is slow too.

use std::sync::Mutex;

use crate::human::human_count;

/// How many replications, the first by index of the first arm (the baseline of a
/// compare), set the typical cost.
pub const FIRST: usize = 10;

/// A replication costing more than this many times the typical one is slow.
pub const FACTOR: u64 = 10;

/// Wall time below which a replication is never called slow (timing noise of short
/// replications is not worth a warning): one second, in microseconds.
pub const MIN_SLOW_MICROS: u64 = 1_000_000;

/// One finished replication's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cost {
    /// Arm of a compare or point of a sweep (0 for a study).
    pub arm: usize,
    /// Replication index.
    pub replication: u64,
    /// Events processed.
    pub events: u64,
    /// Wall time, microseconds.
    pub micros: u64,
}

/// Costs reported from worker threads (`done` callbacks) in any order.
#[derive(Debug, Default)]
pub struct CostLog(Mutex<Vec<Cost>>);

impl CostLog {
    /// Records one finished replication.
    pub fn push(&self, arm: usize, replication: u64, events: u64, micros: u64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(Cost {
            arm,
            replication,
            events,
            micros,
        });
    }

    /// The costs, sorted by (arm, replication): the same whatever the thread count.
    pub fn into_sorted(self) -> Vec<Cost> {
        let mut v = self.0.into_inner().unwrap_or_else(|p| p.into_inner());
        v.sort();
        v
    }
}

/// What a replication's cost is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Events processed (deterministic).
    Events,
    /// Wall time, microseconds.
    Micros,
}

impl Measure {
    fn of(self, c: &Cost) -> u64 {
        match self {
            Measure::Events => c.events,
            Measure::Micros => c.micros,
        }
    }
}

/// Replications that cost more than [`FACTOR`] times the typical one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slow {
    /// What was measured.
    pub measure: Measure,
    /// The costliest replication.
    pub worst: Cost,
    /// The typical cost: the median of the first [`FIRST`] replications.
    pub typical: u64,
    /// How many replications cost more than [`FACTOR`] x `typical`.
    pub count: usize,
    /// Replications looked at.
    pub total: usize,
    /// How many set `typical`.
    pub first: usize,
}

/// The slow replications among `costs` (sorted by (arm, replication), as
/// [`CostLog::into_sorted`] gives them), if any: by events first, else by wall time.
pub fn slow(costs: &[Cost]) -> Option<Slow> {
    slow_by(costs, Measure::Events, 0).or_else(|| slow_by(costs, Measure::Micros, MIN_SLOW_MICROS))
}

fn slow_by(costs: &[Cost], measure: Measure, floor: u64) -> Option<Slow> {
    let arm = costs.first()?.arm;
    let mut first: Vec<u64> = costs
        .iter()
        .take_while(|c| c.arm == arm)
        .take(FIRST)
        .map(|c| measure.of(c))
        .collect();
    first.sort_unstable();
    let typical = (*first.get(first.len() / 2)?).max(1);
    let limit = typical.saturating_mul(FACTOR).max(floor);
    let over = costs.iter().filter(|c| measure.of(c) > limit);
    let worst = *over
        .clone()
        .max_by_key(|c| (measure.of(c), std::cmp::Reverse(*c)))?;
    Some(Slow {
        measure,
        worst,
        typical,
        count: over.count(),
        total: costs.len(),
        first: first.len(),
    })
}

impl Slow {
    /// The warning: which replication, how much, the likely cause and the command that
    /// replays it. `arm` names its arm or point ("" for a study).
    pub fn message(&self, arm: &str, replay: &str) -> String {
        let which = if arm.is_empty() {
            format!("replication {}", self.worst.replication)
        } else {
            format!("replication {} of {arm}", self.worst.replication)
        };
        let value = self.measure.of(&self.worst);
        let (how, unit) = match self.measure {
            Measure::Events => (
                format!("processed {} events", human_count(value as f64)),
                "events",
            ),
            Measure::Micros => (
                format!("took {:.1} s of wall time", value as f64 / 1e6),
                "wall time",
            ),
        };
        let typical = match self.measure {
            Measure::Events => human_count(self.typical as f64),
            Measure::Micros => format!("{:.3} s", self.typical as f64 / 1e6),
        };
        format!(
            "{which} {how}, {}x the {typical} of a typical one of the first {} ({} of {} \
             replications cost more than {FACTOR}x in {unit}): the whole run will take \
             longer than its first replications suggest. A replication this costly \
             usually has an outage that is never repaired (a permanent failure with a \
             strategy that does not recover it, such as none or restore-only), so mail, \
             clients and replication work through the outage until run.horizon; a \
             shorter horizon or fewer replications bound it. Replay it alone: {replay}",
            value / self.typical,
            self.first,
            self.count,
            self.total,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(events: &[u64]) -> Vec<Cost> {
        events
            .iter()
            .enumerate()
            .map(|(i, &e)| Cost {
                arm: 0,
                replication: i as u64,
                events: e,
                micros: 1000,
            })
            .collect()
    }

    #[test]
    fn a_replication_over_ten_times_the_typical_one_is_slow() {
        let mut e = vec![100; 12];
        e[11] = 1001;
        let s = slow(&costs(&e)).expect("slow");
        assert_eq!(s.worst.replication, 11);
        assert_eq!((s.typical, s.count, s.total), (100, 1, 12));
        let m = s.message("", "dialtone run x.json --replication 11");
        assert!(
            m.contains("replication 11 processed 1,001 events, 10x the 100"),
            "{m}"
        );
        assert!(
            m.contains("never repaired") && m.contains("--replication 11"),
            "{m}"
        );
        // Exactly ten times is not slow.
        e[11] = 1000;
        assert_eq!(slow(&costs(&e)), None);
    }

    #[test]
    fn the_typical_cost_is_the_median_of_the_first_ones() {
        // One costly replication among the first does not raise the typical cost.
        let mut e = vec![100; 20];
        e[0] = 5000;
        let s = slow(&costs(&e)).expect("slow");
        assert_eq!((s.worst.replication, s.typical, s.count), (0, 100, 1));
        assert_eq!(slow(&[]), None);
    }

    #[test]
    fn the_worst_of_several_and_its_arm() {
        let mut c = costs(&[100; 3]);
        let at = |arm, replication, events| Cost {
            arm,
            replication,
            events,
            micros: 1000,
        };
        c.push(at(1, 3, 2000));
        c.push(at(1, 4, 3000));
        c.push(at(2, 0, 3000));
        let s = slow(&c).expect("slow");
        assert_eq!(s.worst, at(1, 4, 3000));
        assert_eq!(s.count, 3);
        assert!(
            s.message("dc1-lost", "r")
                .contains("replication 4 of dc1-lost")
        );
        let log = CostLog::default();
        log.push(1, 0, 5, 1);
        log.push(0, 7, 5, 1);
        assert_eq!(log.into_sorted()[0].arm, 0);
    }

    #[test]
    fn wall_time_counts_when_events_do_not_show_it() {
        let mut c = costs(&[100; 12]);
        // 2x the events but 70x the time, over a second: slow by wall time.
        c[11].events = 200;
        for x in &mut c {
            x.micros = 700_000;
        }
        c[11].micros = 49_000_000;
        let s = slow(&c).expect("slow");
        assert_eq!((s.measure, s.worst.replication), (Measure::Micros, 11));
        assert!(
            s.message("", "r").contains("took 49.0 s of wall time, 70x"),
            "{}",
            s.message("", "r")
        );
        // Ten times a short replication, under a second: noise, no warning.
        for x in &mut c {
            x.micros = 1_000;
        }
        c[11].micros = 900_000;
        assert_eq!(slow(&c), None);
    }
}
