//! Why a component is down: failures stack (rule `causes.stack`).
//!
//! Every component that can be down (a site's power, a server's power, a WAN link, one
//! service of a server, the disk of a database copy, the authoritative DNS server) keeps
//! the set of its active [`Cause`]s. It is up exactly when the set is empty: a repair ends
//! only its own cause, so the first of two overlapping failures to be repaired leaves the
//! component down until the other is repaired too (outages 1h-11h and 2h-3h on one server
//! give one outage of 1h-11h, not 1h-3h). The administrators are a cause of their own:
//! powering a site back on ends only the administrators' power-off, never a power failure
//! still in progress, and the end of a failure never powers on a site an administrator
//! turned off.
//!
//! A cause is a key, not a count: adding an active cause again or removing an absent one
//! changes nothing, so a repair delivered twice, or after the component was rebuilt, is
//! harmless.

/// One reason for a component to be down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// An injected failure, numbered by whoever injects it (the scenario runner uses the
    /// failure's index: a failure is active at most once at a time, so the index names
    /// the instance).
    Failure(u32),
    /// The administrators' own action (power off, stop a service), ended by its inverse
    /// (power on, start the service).
    Admin,
}

/// The active causes of one component: up iff none (rule `causes.stack`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Causes {
    /// Active causes, in the order they started; never two equal.
    active: Vec<Cause>,
}

impl Causes {
    /// No cause: the component is up.
    pub const fn new() -> Self {
        Causes { active: Vec::new() }
    }

    /// Starts `cause` (nothing if it is already active).
    pub fn add(&mut self, cause: Cause) {
        if !self.active.contains(&cause) {
            self.active.push(cause);
        }
    }

    /// Ends `cause` and only it (nothing if it is not active).
    pub fn remove(&mut self, cause: Cause) {
        self.active.retain(|&c| c != cause);
    }

    /// Starts (`active = true`) or ends `cause`.
    pub fn set(&mut self, cause: Cause, active: bool) {
        if active {
            self.add(cause);
        } else {
            self.remove(cause);
        }
    }

    /// Ends every cause (the component was replaced).
    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// Whether no cause is active: the component is up.
    pub fn is_clear(&self) -> bool {
        self.active.is_empty()
    }

    /// Whether no cause but `cause` is active: ending `cause` would bring the component
    /// up.
    pub fn is_clear_but(&self, cause: Cause) -> bool {
        self.active.iter().all(|&c| c == cause)
    }

    /// Whether `cause` is active.
    pub fn has(&self, cause: Cause) -> bool {
        self.active.contains(&cause)
    }

    /// The active causes, in the order they started.
    pub fn active(&self) -> &[Cause] {
        &self.active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: Cause = Cause::Failure(0);
    const B: Cause = Cause::Failure(1);

    #[test]
    fn a_repair_ends_only_its_own_cause() {
        let mut c = Causes::new();
        c.add(A);
        c.add(B);
        c.remove(B);
        assert!(!c.is_clear(), "A is still active: the component stays down");
        assert_eq!(c.active(), &[A]);
        c.remove(A);
        assert!(c.is_clear());
    }

    #[test]
    fn removing_a_cause_twice_or_an_absent_one_is_harmless() {
        let mut c = Causes::new();
        c.add(A);
        c.add(B);
        c.remove(A);
        c.remove(A);
        assert!(!c.is_clear(), "B survives a repeated repair of A");
        c.remove(Cause::Admin);
        assert_eq!(c.active(), &[B]);
    }

    #[test]
    fn starting_an_active_cause_again_needs_one_end() {
        let mut c = Causes::new();
        c.add(Cause::Admin);
        c.add(Cause::Admin);
        c.remove(Cause::Admin);
        assert!(c.is_clear(), "a key, not a count");
    }

    #[test]
    fn the_administrators_do_not_end_a_failure_nor_a_failure_the_administrators() {
        let mut c = Causes::new();
        c.add(A);
        c.add(Cause::Admin);
        c.set(Cause::Admin, false);
        assert!(!c.is_clear(), "powering on does not end a power failure");
        c.add(Cause::Admin);
        c.set(A, false);
        assert!(
            !c.is_clear(),
            "the repair does not power on what they turned off"
        );
        assert!(c.has(Cause::Admin) && !c.has(A));
        assert!(c.is_clear_but(Cause::Admin) && !c.is_clear_but(A));
        c.clear();
        assert!(c.is_clear());
    }

    proptest! {
        /// Against a reference: up iff every cause's last operation was an end.
        #[test]
        fn up_iff_no_cause_is_active(ops in prop::collection::vec((0u32..4, any::<bool>()), 0..60)) {
            let mut c = Causes::new();
            let mut last = [false; 4];
            for (k, on) in ops {
                let cause = if k == 3 { Cause::Admin } else { Cause::Failure(k) };
                c.set(cause, on);
                last[k as usize] = on;
                prop_assert_eq!(c.is_clear(), last.iter().all(|&x| !x));
            }
        }
    }
}
