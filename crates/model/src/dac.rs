//! Datacenter Activation Coordination (DAC) mode and the stopped-servers list.
//!
//! Rules (sources in docs/MODEL.md):
//!
//! - `dac.bit_reset`: each member's DACP bit is 0 whenever Active Manager starts (the
//!   server boots).
//! - `dac.bit_from_peer`: a starting member that can reach a started member whose bit is 1
//!   sets its bit to 1.
//! - `dac.bit_all_members`: a starting member that can reach every member on the started
//!   list (as its own site's Active Directory sees it) sets its bit to 1; this lets a fully
//!   cold-started DAG mount again.
//! - `dac.two_member_witness`: in a 2-member DAG, a member that can reach the witness but
//!   not the other member sets its bit only if its bit was last set no earlier than the
//!   witness booted (a witness that rebooted with it suggests a site power loss; a
//!   witness that stayed up since the DAG started does not).
//! - `dac.bit_reconsidered`: a running member whose bit is 0 asks again when the
//!   stopped/started list changes (Stop-DAG of a dead member, Start-DAG re-incorporating
//!   it): it may then learn bit 1 from a running peer or meet the all-members rule.
//! - `dac.mount_gate`: in DAC mode a member may mount databases only with bit 1 and not
//!   stopped; outside DAC mode, whenever its partition has quorum (DAC is a start-up gate,
//!   not a failover control).
//! - `dac.stopped_list`: Stop-DatabaseAvailabilityGroup marks members stopped in the
//!   Active Directory of the site it runs from and of every site reachable from there
//!   (ConfigurationOnly writes only to AD); sites learn later writes when they can reach
//!   each other again (AD replication, modelled as immediate on reconnection).
//!   Start-DatabaseAvailabilityGroup clears the mark the same way.

use dialtone_engine::SimTime;

/// One AD entry about one member: stopped or started, and a version to merge by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Mark {
    stopped: bool,
    version: u64,
}

/// DAC state of a DAG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dac {
    enabled: bool,
    bit: Vec<bool>,
    bit_set_at: Vec<Option<SimTime>>,
    /// `view[site][member]`: what that site's AD says about the member.
    view: Vec<Vec<Mark>>,
    next_version: u64,
}

/// What a starting member can see, for [`Dac::on_start`].
#[derive(Debug, Clone, Copy)]
pub struct StartView<'a> {
    /// The starting member.
    pub member: usize,
    /// The site it is in.
    pub site: usize,
    /// Whether it can reach each member (itself included) that is up.
    pub reachable: &'a [bool],
    /// Whether it can reach the witness, and when the witness last booted.
    pub witness: Option<SimTime>,
    /// The time now.
    pub now: SimTime,
}

impl Dac {
    /// DAC state for `members` members in `sites` sites; all bits 1 (the DAG starts
    /// healthy), nobody stopped.
    pub fn new(enabled: bool, members: usize, sites: usize) -> Self {
        Dac {
            enabled,
            bit: vec![true; members],
            bit_set_at: vec![Some(SimTime::ZERO); members],
            view: vec![vec![Mark::default(); members]; sites],
            next_version: 1,
        }
    }

    /// Whether the DAG is in DAC mode.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Member `m`'s DACP bit.
    pub fn bit(&self, m: usize) -> bool {
        self.bit[m]
    }

    /// Whether `site`'s AD says member `m` is stopped.
    pub fn stopped_in(&self, site: usize, m: usize) -> bool {
        self.view[site][m].stopped
    }

    /// Rule `dac.bit_reset`: Active Manager on member `m` stops (server down).
    pub fn on_down(&mut self, m: usize) {
        self.bit[m] = false;
    }

    /// Rules `dac.bit_from_peer`, `dac.bit_all_members`, `dac.two_member_witness`:
    /// member `v.member` starts. Returns its bit.
    pub fn on_start(&mut self, v: &StartView<'_>) -> bool {
        self.bit[v.member] = false;
        self.reconsider(v)
    }

    /// Rule `dac.bit_reconsidered`: a running member asks again (the same rules as at
    /// start, but a bit already 1 stays 1). Returns its bit.
    pub fn reconsider(&mut self, v: &StartView<'_>) -> bool {
        let m = v.member;
        if self.bit[m] {
            return true;
        }
        let n = self.bit.len();
        let started = |i: usize| !self.view[v.site][i].stopped;
        let peer_has_bit = (0..n).any(|i| i != m && v.reachable[i] && self.bit[i]);
        let all_started_reachable = (0..n).filter(|&i| started(i)).all(|i| v.reachable[i]);
        let witness_rule = n == 2
            && !v.reachable[1 - m]
            && match (v.witness, self.bit_set_at[m]) {
                (Some(witness_boot), Some(set_at)) => set_at >= witness_boot,
                _ => false,
            };
        if peer_has_bit || all_started_reachable || witness_rule {
            self.bit[m] = true;
            self.bit_set_at[m] = Some(v.now);
        }
        self.bit[m]
    }

    /// Rule `dac.mount_gate`: may member `m`, in `site`, mount databases? `has_quorum`
    /// is whether its partition runs the cluster.
    pub fn may_mount(&self, m: usize, site: usize, has_quorum: bool) -> bool {
        if !has_quorum {
            return false;
        }
        if !self.enabled {
            return true;
        }
        self.bit[m] && !self.view[site][m].stopped
    }

    /// Rule `dac.stopped_list`: Stop-DAG (`stopped = true`) or Start-DAG (`false`) for
    /// `members`, written to the AD of every site in `sites` (the site it runs from and
    /// those reachable from it).
    pub fn mark(&mut self, members: &[usize], stopped: bool, sites: &[usize]) {
        let version = self.next_version;
        self.next_version += 1;
        for &s in sites {
            for &m in members {
                self.view[s][m] = Mark { stopped, version };
            }
        }
    }

    /// AD replication among the sites of one network partition: each member's newest
    /// mark wins everywhere in `sites`.
    pub fn replicate(&mut self, sites: &[usize]) {
        let n = self.bit.len();
        for m in 0..n {
            let newest = sites
                .iter()
                .map(|&s| self.view[s][m])
                .max_by_key(|mark| mark.version);
            if let Some(mark) = newest {
                for &s in sites {
                    self.view[s][m] = mark;
                }
            }
        }
    }

    /// Restore-DatabaseAvailabilityGroup resets the bits of the surviving members it
    /// restores (they are activated by the administrator).
    pub fn restore(&mut self, survivors: &[usize], now: SimTime) {
        for &m in survivors {
            self.bit[m] = true;
            self.bit_set_at[m] = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u64) -> SimTime {
        SimTime::from_millis(h * 3_600_000)
    }

    fn start(
        dac: &mut Dac,
        member: usize,
        site: usize,
        reachable: &[bool],
        witness: Option<SimTime>,
        now: SimTime,
    ) -> bool {
        dac.on_start(&StartView {
            member,
            site,
            reachable,
            witness,
            now,
        })
    }

    #[test]
    fn a_starting_member_needs_a_peer_with_the_bit_or_everyone() {
        // 4 members: 0, 1 in site 0; 2, 3 in site 1.
        let mut d = Dac::new(true, 4, 2);
        d.on_down(0);
        d.on_down(1);
        // Member 0 comes back seeing only member 1 (also down-and-restarting).
        assert!(!start(
            &mut d,
            0,
            0,
            &[true, true, false, false],
            None,
            t(1)
        ));
        // Once it can reach member 2, which kept its bit, it may mount.
        assert!(start(&mut d, 0, 0, &[true, true, true, false], None, t(2)));
    }

    #[test]
    fn a_full_cold_start_mounts_when_everyone_is_reachable() {
        let mut d = Dac::new(true, 3, 1);
        for m in 0..3 {
            d.on_down(m);
        }
        assert!(
            !start(&mut d, 0, 0, &[true, true, false], None, t(1)),
            "one member still dead"
        );
        assert!(start(&mut d, 0, 0, &[true, true, true], None, t(1)));
        assert!(start(&mut d, 1, 0, &[true, true, true], None, t(1)));
    }

    #[test]
    fn stopping_the_dead_member_lets_a_cold_start_mount() {
        // exchange-facts: cold start with one member missing stays dismounted until the
        // dead member is marked stopped.
        let mut d = Dac::new(true, 4, 1);
        for m in 0..4 {
            d.on_down(m);
        }
        let seen = [true, true, true, false];
        assert!(!start(&mut d, 0, 0, &seen, None, t(1)));
        d.mark(&[3], true, &[0]);
        assert!(start(&mut d, 0, 0, &seen, None, t(2)));
    }

    #[test]
    fn two_member_dags_compare_the_witness_boot_time() {
        // The witness rebooted (t=5) after member 0's bit was last set (t=0): both went
        // down together, as in a site power loss, so member 0 must not mount alone.
        let mut d = Dac::new(true, 2, 2);
        d.on_down(0);
        assert!(!start(&mut d, 0, 0, &[true, false], Some(t(5)), t(6)));
        // Member 1's bit was set at t=3, after the witness booted at t=2: the witness
        // did not restart with it, so member 1 may mount without its peer.
        let mut d = Dac::new(true, 2, 2);
        d.restore(&[1], t(3));
        d.on_down(1);
        assert!(start(&mut d, 1, 1, &[false, true], Some(t(2)), t(4)));
    }

    #[test]
    fn a_witness_up_since_the_start_lets_a_lone_member_mount() {
        // Both clocks start at 0: the witness never restarted, so member 0 restarting
        // alone (its peer unreachable) mounts.
        let mut d = Dac::new(true, 2, 2);
        d.on_down(0);
        assert!(start(&mut d, 0, 0, &[true, false], Some(t(0)), t(3)));
        // Not without the witness.
        let mut d = Dac::new(true, 2, 2);
        d.on_down(0);
        assert!(!start(&mut d, 0, 0, &[true, false], None, t(3)));
    }

    #[test]
    fn a_running_member_learns_the_bit_when_the_lists_change() {
        // 4 members in one site; member 3 dead, the others cold-started without consensus.
        let mut d = Dac::new(true, 4, 1);
        for m in 0..4 {
            d.on_down(m);
        }
        let seen = [true, true, true, false];
        assert!(!start(&mut d, 0, 0, &seen, None, t(1)));
        d.mark(&[3], true, &[0]);
        let v = StartView {
            member: 0,
            site: 0,
            reachable: &seen,
            witness: None,
            now: t(2),
        };
        assert!(
            d.reconsider(&v),
            "Stop-DAG of the dead member gives consensus"
        );
        // A member re-incorporated by Start-DAG learns bit 1 from a running peer.
        let mut d = Dac::new(true, 4, 2);
        d.on_down(0);
        assert!(!start(
            &mut d,
            0,
            0,
            &[true, false, false, false],
            None,
            t(1)
        ));
        let v = StartView {
            member: 0,
            site: 0,
            reachable: &[true, false, true, false],
            witness: None,
            now: t(2),
        };
        assert!(d.reconsider(&v));
    }

    #[test]
    fn the_mount_gate_depends_on_mode() {
        let mut d = Dac::new(true, 2, 1);
        assert!(!d.may_mount(0, 0, false), "never without quorum");
        assert!(d.may_mount(0, 0, true));
        d.on_down(0);
        assert!(!d.may_mount(0, 0, true), "DAC: quorum alone is not enough");
        let mut nd = Dac::new(false, 2, 1);
        nd.on_down(0);
        assert!(nd.may_mount(0, 0, true), "non-DAC: quorum is enough");
        d.mark(&[1], true, &[0]);
        assert!(!d.may_mount(1, 0, true), "stopped members never mount");
    }

    #[test]
    fn stopped_marks_reach_only_sites_that_can_be_reached_then_replicate() {
        let mut d = Dac::new(true, 4, 2);
        // Stop-DAG run from site 1 while site 0 is unreachable: only site 1 knows.
        d.mark(&[0, 1], true, &[1]);
        assert!(d.stopped_in(1, 0));
        assert!(!d.stopped_in(0, 0));
        d.replicate(&[0, 1]);
        assert!(d.stopped_in(0, 0), "after the WAN is back");
        // Start-DAG later wins over the older stop.
        d.mark(&[0], false, &[1]);
        d.replicate(&[0, 1]);
        assert!(!d.stopped_in(0, 0));
        assert!(d.stopped_in(0, 1));
    }
}
