//! DAG quorum: votes, majority per partition, dynamic quorum, forced quorum, eviction.
//!
//! Rules (each a named function below, sources in docs/MODEL.md):
//!
//! - `quorum.static_votes`: every cluster member has one vote; the witness votes only when
//!   the member count is even (Node Majority for odd, Node and File Share Majority for
//!   even).
//! - `quorum.majority`: a partition has quorum iff its votes are a strict majority of all
//!   votes (`2 * present > total`). At most one partition can have it naturally.
//! - `quorum.dynamic`: with dynamic quorum, after each evaluation in which a partition
//!   keeps quorum, members absent from it lose their vote and members present get it back;
//!   then the witness votes iff it is reachable and the voting members are even (dynamic
//!   witness); if voting members are still even, the last voting member in membership
//!   order loses its vote (the tie-breaker that makes the "50/50" outcomes of the
//!   published table depend on which node fails). Members failing between two evaluations
//!   count as failing at once.
//! - `quorum.cold_start`: when no partition has quorum, the cluster stops and votes revert
//!   to the static assignment over the current membership for the next start.
//! - `quorum.forced`: `force_quorum` starts the cluster in one member's partition without a
//!   majority; it stays forced until that partition reaches a natural majority.
//! - `quorum.stale_config`: a member that was absent when the authoritative cluster was
//!   forced or changed membership (eviction) keeps its old configuration. Unless cleaned
//!   up (`cluster node /forcecleanup`), it will, when it can reach a static majority of the
//!   *old* membership without reaching the authoritative cluster, run a second, rogue
//!   cluster. That is the split brain that DAC mode and eviction exist to prevent.

/// Where each voter is: `member_partition[i]` is the network partition label of member
/// `i` if its cluster service runs (server up), `None` otherwise; likewise the witness.
#[derive(Debug, Clone, Copy)]
pub struct Presence<'a> {
    /// Partition label per member, `None` when the member is down.
    pub member_partition: &'a [Option<u32>],
    /// Partition label of the witness share, `None` when it is down or not configured.
    pub witness_partition: Option<u32>,
}

/// Which partitions run a cluster after an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The authoritative cluster's partition, if it has quorum (naturally or forced).
    pub quorum: Option<u32>,
    /// Partitions where stale members formed a cluster of their own from an old
    /// configuration. Non-empty means split brain is possible.
    pub rogue: Vec<u32>,
}

/// The failover cluster under a DAG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Members in the authoritative cluster (not evicted).
    in_cluster: Vec<bool>,
    /// Dynamic vote per member (meaningful only while `in_cluster`).
    weight: Vec<bool>,
    /// Whether a witness is configured at all.
    has_witness: bool,
    witness_weight: bool,
    dynamic: bool,
    /// Label of the partition the authoritative cluster runs in.
    running: Option<u32>,
    /// The member whose partition was forced to run, until it gets a natural majority.
    forced: Option<usize>,
    /// Members holding an old configuration (absent at a force or eviction).
    stale: Vec<bool>,
    /// Members whose cluster configuration was wiped (`/forcecleanup`).
    cleaned: Vec<bool>,
    /// Member count of the configuration stale members remember.
    original_members: usize,
}

impl Cluster {
    /// A cluster of `members` members, all in and up, with or without a witness, with
    /// static or dynamic quorum.
    pub fn new(members: usize, has_witness: bool, dynamic: bool) -> Self {
        let mut c = Cluster {
            in_cluster: vec![true; members],
            weight: vec![true; members],
            has_witness,
            witness_weight: false,
            dynamic,
            running: None,
            forced: None,
            stale: vec![false; members],
            cleaned: vec![false; members],
            original_members: members,
        };
        c.static_votes();
        c
    }

    /// Rule `quorum.static_votes`: every member in the cluster votes; the witness votes
    /// iff the member count is even. With dynamic quorum the tie-breaker then applies.
    fn static_votes(&mut self) {
        for i in 0..self.weight.len() {
            self.weight[i] = self.in_cluster[i];
        }
        let members = self.in_cluster.iter().filter(|&&x| x).count();
        self.witness_weight = self.has_witness && members.is_multiple_of(2);
        if self.dynamic {
            self.tie_break(true);
        }
    }

    /// Dynamic witness and tie-breaker (part of rule `quorum.dynamic`).
    fn tie_break(&mut self, witness_available: bool) {
        let voting = self.weight.iter().filter(|&&w| w).count();
        self.witness_weight = self.has_witness && witness_available && voting.is_multiple_of(2);
        if !self.witness_weight
            && voting.is_multiple_of(2)
            && voting > 0
            && let Some(last) = self.weight.iter().rposition(|&w| w)
        {
            self.weight[last] = false;
        }
    }

    /// Total votes of the authoritative configuration.
    pub fn total_votes(&self) -> usize {
        self.weight
            .iter()
            .zip(&self.in_cluster)
            .filter(|(w, c)| **w && **c)
            .count()
            + usize::from(self.witness_weight)
    }

    /// Member `i`'s current vote.
    pub fn has_vote(&self, i: usize) -> bool {
        self.in_cluster[i] && self.weight[i]
    }

    /// The witness's current vote.
    pub fn witness_votes(&self) -> bool {
        self.witness_weight
    }

    /// Whether member `i` is in the authoritative cluster (not evicted).
    pub fn is_member(&self, i: usize) -> bool {
        self.in_cluster[i]
    }

    /// The partition the authoritative cluster ran in at the last evaluation.
    pub fn running(&self) -> Option<u32> {
        self.running
    }

    /// Whether the cluster runs under forced quorum.
    pub fn is_forced(&self) -> bool {
        self.forced.is_some()
    }

    /// Rule `quorum.majority`: the votes present in `label`'s partition.
    fn votes_in(&self, p: &Presence<'_>, label: u32) -> usize {
        let members = (0..self.in_cluster.len())
            .filter(|&i| self.has_vote(i) && p.member_partition[i] == Some(label))
            .count();
        members + usize::from(self.witness_weight && p.witness_partition == Some(label))
    }

    /// Evaluates quorum for the current presence, applies dynamic-quorum adjustments and
    /// reports where clusters run.
    pub fn evaluate(&mut self, p: &Presence<'_>) -> Outcome {
        debug_assert_eq!(p.member_partition.len(), self.in_cluster.len());
        let total = self.total_votes();
        // Partition labels in ascending order, each once.
        let mut labels: Vec<u32> = p.member_partition.iter().flatten().copied().collect();
        labels.sort_unstable();
        labels.dedup();
        let natural = labels
            .iter()
            .copied()
            .find(|&l| 2 * self.votes_in(p, l) > total);
        let forced_label = self.forced.and_then(|m| p.member_partition[m]);
        let quorum = match (natural, forced_label) {
            (Some(l), Some(f)) if l == f => {
                self.forced = None; // rule quorum.forced: a natural majority ends it
                Some(l)
            }
            (_, Some(f)) => Some(f),
            (Some(l), None) => Some(l),
            (None, None) => None,
        };
        if quorum.is_none() {
            self.forced = None;
        }
        match quorum {
            Some(l) => {
                // Members present in the running partition sync the configuration.
                for i in 0..self.stale.len() {
                    if p.member_partition[i] == Some(l) {
                        self.stale[i] = false;
                    }
                }
                if self.dynamic && self.forced.is_none() {
                    for i in 0..self.weight.len() {
                        self.weight[i] = self.in_cluster[i] && p.member_partition[i] == Some(l);
                    }
                    self.tie_break(p.witness_partition == Some(l));
                }
            }
            None => {
                // Rule quorum.cold_start.
                if self.running.is_some() || self.dynamic {
                    self.static_votes();
                }
            }
        }
        self.running = quorum;
        let rogue = self.rogue_partitions(p, quorum, &labels);
        Outcome { quorum, rogue }
    }

    /// Rule `quorum.stale_config`: partitions (other than the authoritative one) where
    /// stale, uncleaned members hold a static majority of the old membership.
    fn rogue_partitions(&self, p: &Presence<'_>, quorum: Option<u32>, labels: &[u32]) -> Vec<u32> {
        let old_total = self.original_members
            + usize::from(self.has_witness && self.original_members.is_multiple_of(2));
        let old_witness = self.has_witness && self.original_members.is_multiple_of(2);
        labels
            .iter()
            .copied()
            .filter(|&l| Some(l) != quorum)
            .filter(|&l| {
                let stale_here = (0..self.stale.len())
                    .filter(|&i| {
                        self.stale[i] && !self.cleaned[i] && p.member_partition[i] == Some(l)
                    })
                    .count();
                let votes = stale_here + usize::from(old_witness && p.witness_partition == Some(l));
                stale_here > 0 && 2 * votes > old_total
            })
            .collect()
    }

    /// `net start clussvc /forcequorum` on member `m`: the cluster runs in `m`'s
    /// partition regardless of votes. Every member outside that partition now holds a
    /// stale configuration.
    pub fn force_quorum(&mut self, m: usize, p: &Presence<'_>) -> Outcome {
        self.forced = Some(m);
        self.mark_absent_stale(p, p.member_partition[m]);
        self.evaluate(p)
    }

    fn mark_absent_stale(&mut self, p: &Presence<'_>, here: Option<u32>) {
        for i in 0..self.stale.len() {
            if here.is_none() || p.member_partition[i] != here {
                self.stale[i] = true;
            }
        }
    }

    /// Evicts member `m` from the authoritative cluster (also what Restore-DAG does to
    /// stopped members). `m` keeps a stale configuration unless cleaned up.
    pub fn evict(&mut self, m: usize) {
        self.in_cluster[m] = false;
        self.weight[m] = false;
        self.stale[m] = true;
        if self.dynamic {
            self.tie_break(self.witness_weight);
        } else {
            let members = self.in_cluster.iter().filter(|&&x| x).count();
            self.witness_weight = self.has_witness && members.is_multiple_of(2);
        }
    }

    /// `cluster node /forcecleanup` on member `m`: its local configuration is wiped, so
    /// it can never form a rogue cluster.
    pub fn cleanup(&mut self, m: usize) {
        self.cleaned[m] = true;
    }

    /// Start-DAG / Add-DatabaseAvailabilityGroupServer: member `m` rejoins with a fresh
    /// configuration and a vote. Votes are rebalanced as for a configuration change.
    pub fn add_back(&mut self, m: usize) {
        self.in_cluster[m] = true;
        self.weight[m] = true;
        self.stale[m] = false;
        self.cleaned[m] = false;
        let members = self.in_cluster.iter().filter(|&&x| x).count();
        self.witness_weight = self.has_witness && members.is_multiple_of(2);
        if self.dynamic {
            self.tie_break(true);
        }
    }

    /// Set-DatabaseAvailabilityGroup -WitnessServer / Restore-DAG's switch to the
    /// alternate witness: whether a witness is configured from now on.
    pub fn set_witness_configured(&mut self, configured: bool) {
        self.has_witness = configured;
        let voting = self
            .weight
            .iter()
            .zip(&self.in_cluster)
            .filter(|(w, c)| **w && **c)
            .count();
        self.witness_weight = configured && voting.is_multiple_of(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One partition for everything that is up; the witness is member index `n`.
    fn presence(up: &[bool]) -> Vec<Option<u32>> {
        up.iter().map(|&u| u.then_some(0)).collect()
    }

    fn eval(c: &mut Cluster, up: &[bool], witness_up: bool) -> bool {
        let parts = presence(up);
        c.evaluate(&Presence {
            member_partition: &parts,
            witness_partition: witness_up.then_some(0),
        })
        .quorum
        .is_some()
    }

    /// Survives: after failing `first` (evaluated), then `second` (evaluated).
    fn one_then_another(
        n: usize,
        witness: bool,
        dynamic: bool,
        first: usize,
        second: usize,
    ) -> bool {
        let mut c = Cluster::new(n, witness, dynamic);
        let mut up = vec![true; n];
        assert!(eval(&mut c, &up, witness));
        up[first] = false;
        if !eval(&mut c, &up, witness) {
            return false;
        }
        up[second] = false;
        eval(&mut c, &up, witness)
    }

    fn simultaneous(n: usize, witness: bool, dynamic: bool, a: usize, b: usize) -> bool {
        let mut c = Cluster::new(n, witness, dynamic);
        let mut up = vec![true; n];
        assert!(eval(&mut c, &up, witness));
        up[a] = false;
        up[b] = false;
        eval(&mut c, &up, witness)
    }

    fn single(n: usize, witness: bool, dynamic: bool, a: usize) -> bool {
        let mut c = Cluster::new(n, witness, dynamic);
        let mut up = vec![true; n];
        assert!(eval(&mut c, &up, witness));
        up[a] = false;
        eval(&mut c, &up, witness)
    }

    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    enum Tri {
        Yes,
        No,
        FiftyFifty,
    }

    fn tri(outcomes: impl Iterator<Item = bool>) -> Tri {
        let v: Vec<bool> = outcomes.collect();
        match (v.iter().all(|&x| x), v.iter().any(|&x| x)) {
            (true, _) => Tri::Yes,
            (false, true) => Tri::FiftyFifty,
            (false, false) => Tri::No,
        }
    }

    fn pairs(n: usize) -> impl Iterator<Item = (usize, usize)> {
        (0..n).flat_map(move |a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
    }

    /// validation.md Case 7: the published table of what a cluster survives with dynamic
    /// quorum and dynamic witness, over every single and double failure.
    #[test]
    fn dynamic_quorum_reproduces_the_published_table() {
        use Tri::*;
        let table = [
            // (nodes, witness, one, one-then-another, two-at-once)
            (2, false, FiftyFifty, No, No),
            (2, true, Yes, No, No),
            (3, false, Yes, FiftyFifty, No),
            (3, true, Yes, Yes, No),
            (4, false, Yes, Yes, FiftyFifty),
            (4, true, Yes, Yes, Yes),
            (5, false, Yes, Yes, Yes),
            (5, true, Yes, Yes, Yes),
        ];
        for (n, w, one, seq, both) in table {
            let got = (
                tri((0..n).map(|a| single(n, w, true, a))),
                tri(pairs(n).map(|(a, b)| one_then_another(n, w, true, a, b))),
                tri(pairs(n).map(|(a, b)| simultaneous(n, w, true, a, b))),
            );
            assert_eq!(got, (one, seq, both), "{n} nodes, witness {w}");
        }
    }

    /// Without dynamic quorum, every single and double failure (at once or one after the
    /// other) of 2+witness, 3, 4+witness and 5 members survives iff the static votes left
    /// are a strict majority: order never matters.
    #[test]
    fn static_quorum_over_every_single_and_double_failure() {
        for (n, w) in [(2usize, true), (3, false), (4, true), (5, false)] {
            let total = n + usize::from(w && n % 2 == 0);
            for a in 0..n {
                let survives = 2 * (total - 1) > total;
                assert_eq!(single(n, w, false, a), survives, "{n}+{w}: lose {a}");
                for b in (0..n).filter(|&b| b != a) {
                    let survives = 2 * (total - 2) > total;
                    assert_eq!(
                        simultaneous(n, w, false, a, b),
                        survives,
                        "{n}+{w}: lose {a},{b} at once"
                    );
                    assert_eq!(
                        one_then_another(n, w, false, a, b),
                        survives,
                        "{n}+{w}: lose {a} then {b}"
                    );
                }
            }
        }
    }

    /// Static majorities (Exchange's own quorum models without dynamic quorum): Node
    /// Majority tolerates ceil(n/2)-1 failures, Node and File Share Majority n/2 while the
    /// witness is up (sys.dm_hadr_cluster's tolerances, validation.md Case 7).
    #[test]
    fn static_quorum_tolerates_the_documented_failures() {
        for (n, witness) in [
            (2usize, true),
            (3, false),
            (4, true),
            (5, false),
            (7, false),
            (6, true),
        ] {
            let tolerated = if witness { n / 2 } else { n.div_ceil(2) - 1 };
            for down in 0..=n {
                let mut c = Cluster::new(n, witness, false);
                let up: Vec<bool> = (0..n).map(|i| i >= down).collect();
                assert_eq!(
                    eval(&mut c, &up, witness),
                    down <= tolerated,
                    "{n} members, witness {witness}, {down} down"
                );
            }
        }
        // Losing the witness and one of two members stops a static 2-member DAG.
        let mut c = Cluster::new(2, true, false);
        assert!(!eval(&mut c, &[true, false], false));
    }

    #[test]
    fn odd_dags_do_not_use_the_witness() {
        let c = Cluster::new(3, true, false);
        assert!(!c.witness_votes());
        assert_eq!(c.total_votes(), 3);
        let c = Cluster::new(4, true, false);
        assert!(c.witness_votes());
        assert_eq!(c.total_votes(), 5);
    }

    #[test]
    fn only_a_strict_majority_partition_has_quorum() {
        // 4 members + witness split 2 | 2 with the witness on the right: right wins.
        let mut c = Cluster::new(4, true, false);
        let parts = [Some(0), Some(0), Some(1), Some(1)];
        let out = c.evaluate(&Presence {
            member_partition: &parts,
            witness_partition: Some(1),
        });
        assert_eq!(out.quorum, Some(1));
        // Without the witness anywhere: 2 of 5 on each side, nobody.
        let mut c = Cluster::new(4, true, false);
        let out = c.evaluate(&Presence {
            member_partition: &parts,
            witness_partition: None,
        });
        assert_eq!(out.quorum, None);
    }

    #[test]
    fn a_tie_is_not_a_majority() {
        // 4 members with the witness unconfigured: 4 votes, a 2 | 2 split gives nobody
        // quorum (half is not a strict majority).
        let mut c = Cluster::new(4, true, false);
        c.set_witness_configured(false);
        assert_eq!(c.total_votes(), 4);
        let parts = [Some(0), Some(0), Some(1), Some(1)];
        let out = c.evaluate(&Presence {
            member_partition: &parts,
            witness_partition: None,
        });
        assert_eq!(out.quorum, None);
    }

    #[test]
    fn a_cluster_that_lost_quorum_cold_starts_with_static_votes() {
        let mut c = Cluster::new(4, true, true);
        assert!(!eval(&mut c, &[true, false, false, false], false));
        assert_eq!(c.total_votes(), 5);
        assert!(eval(&mut c, &[true, true, true, false], false), "3 of 5");
    }

    #[test]
    fn forced_quorum_runs_a_minority_until_it_has_a_majority() {
        let mut c = Cluster::new(4, true, false);
        let parts = [None, None, Some(1), Some(1)];
        let p = Presence {
            member_partition: &parts,
            witness_partition: None,
        };
        assert_eq!(c.evaluate(&p).quorum, None);
        let out = c.force_quorum(2, &p);
        assert_eq!(out.quorum, Some(1));
        assert!(c.is_forced());
    }

    #[test]
    fn stale_members_can_form_a_rogue_cluster_unless_cleaned_up() {
        // dc1: members 0, 1 and the witness; dc2: members 2, 3. dc1 loses power; the
        // administrator forces quorum in dc2 and evicts 0 and 1 (non-DAC switchover).
        let mut c = Cluster::new(4, true, false);
        let dark = [None, None, Some(2), Some(2)];
        let p = Presence {
            member_partition: &dark,
            witness_partition: None,
        };
        c.force_quorum(2, &p);
        c.evict(0);
        c.evict(1);
        assert_eq!(c.evaluate(&p).quorum, Some(2));
        // dc1 comes back while the WAN is still cut: 2 stale members + witness = 3 of 5
        // votes in their old configuration.
        let split = [Some(0), Some(0), Some(2), Some(2)];
        let p = Presence {
            member_partition: &split,
            witness_partition: Some(0),
        };
        let out = c.evaluate(&p);
        assert_eq!(out.quorum, Some(2));
        assert_eq!(out.rogue, vec![0], "split brain is possible");
        // Had the administrator run /forcecleanup on them, no rogue cluster.
        c.cleanup(0);
        c.cleanup(1);
        assert!(c.evaluate(&p).rogue.is_empty());
    }

    #[test]
    fn restore_shrinks_quorum_to_survivors() {
        // Restore-DAG evicts stopped members: 2 survivors + alternate witness = 3 votes.
        let mut c = Cluster::new(4, true, false);
        c.evict(0);
        c.evict(1);
        assert_eq!(c.total_votes(), 3);
        assert!(eval(&mut c, &[false, false, true, true], true));
        assert!(
            eval(&mut c, &[false, false, true, false], true),
            "one survivor + witness"
        );
        // Start-DAG brings them back.
        c.add_back(0);
        c.add_back(1);
        assert_eq!(c.total_votes(), 5);
    }
}
