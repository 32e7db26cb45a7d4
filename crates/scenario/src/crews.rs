//! People are finite (docs/MODEL.md, `runner.operators`, `runner.crews`): a crew has a
//! number of members who each do one piece of work at a time. Work that finds nobody
//! free queues; a member who finishes takes the first queued piece at once.
//!
//! Queue order: first by the instant the work became ready (FIFO), then repairs before
//! playbook steps, failures in file order and steps in playbook order ([`Work`]'s
//! order). The order is a pure function of the run's state, so runs stay deterministic.
//! A member is never idle while work of their crew queues.

use std::collections::BTreeSet;

use dialtone_engine::SimTime;

/// A piece of work that needs a crew member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Work {
    /// The repair of failure `i` (its index in the scenario's failures).
    Repair(usize),
    /// Playbook step `i`.
    Step(usize),
}

/// Every crew's free members and queue; crew `c` is `Scenario::crews[c]`.
#[derive(Debug, Clone)]
pub(crate) struct Crews {
    free: Vec<u32>,
    queue: Vec<BTreeSet<(SimTime, Work)>>,
}

impl Crews {
    /// Crews of `counts` members, all free.
    pub(crate) fn new(counts: impl IntoIterator<Item = u32>) -> Self {
        let free: Vec<u32> = counts.into_iter().collect();
        let queue = vec![BTreeSet::new(); free.len()];
        Crews { free, queue }
    }

    /// `work`, ready at `now`, takes a free member of crew `c` (true) or queues (false).
    pub(crate) fn request(&mut self, c: usize, now: SimTime, work: Work) -> bool {
        if self.free[c] > 0 {
            debug_assert!(self.queue[c].is_empty(), "a member idles while work queues");
            self.free[c] -= 1;
            true
        } else {
            self.queue[c].insert((now, work));
            false
        }
    }

    /// A member of crew `c` has finished: they take the first queued work (returned), or
    /// are free.
    pub(crate) fn release(&mut self, c: usize) -> Option<Work> {
        match self.queue[c].pop_first() {
            Some((_, w)) => Some(w),
            None => {
                self.free[c] += 1;
                None
            }
        }
    }

    /// How much work of crew `c` is queued.
    pub(crate) fn queued(&self, c: usize) -> usize {
        self.queue[c].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn work_waits_for_a_free_member_and_goes_first_in_first_out() {
        let mut c = Crews::new([1]);
        assert!(c.request(0, t(0), Work::Step(5)), "a free member takes it");
        assert!(!c.request(0, t(1), Work::Step(2)));
        assert!(!c.request(0, t(2), Work::Repair(9)));
        assert!(!c.request(0, t(2), Work::Step(1)));
        assert!(!c.request(0, t(2), Work::Repair(3)));
        assert_eq!(c.queued(0), 4);
        // FIFO by ready time; at the same instant repairs first, then steps, each by index.
        let order: Vec<Work> = std::iter::from_fn(|| c.release(0)).collect();
        assert_eq!(
            order,
            [
                Work::Step(2),
                Work::Repair(3),
                Work::Repair(9),
                Work::Step(1)
            ]
        );
        // The last release freed the member.
        assert!(c.request(0, t(3), Work::Step(0)));
        assert!(!c.request(0, t(3), Work::Step(4)));
    }

    #[test]
    fn crews_are_separate_and_as_large_as_their_count() {
        let mut c = Crews::new([2, 1]);
        assert!(c.request(0, t(0), Work::Step(0)));
        assert!(c.request(0, t(0), Work::Step(1)));
        assert!(!c.request(0, t(0), Work::Step(2)));
        assert!(c.request(1, t(0), Work::Repair(0)), "another crew is free");
        assert!(!c.request(1, t(0), Work::Repair(1)));
        assert_eq!(c.release(1), Some(Work::Repair(1)));
        assert_eq!(c.release(1), None);
        assert_eq!(c.release(0), Some(Work::Step(2)));
        assert_eq!((c.queued(0), c.queued(1)), (0, 0));
    }
}
