//! Recovery strategies as playbooks: steps of primitive administrator actions with
//! durations and dependencies, built from the seeds' procedures (docs/SCENARIOS.md lists
//! each with its source).
//!
//! Validation (`validate::strategy`) decides whether an organisation can run a strategy
//! and resolves what it works on into a `Job`; `build` turns a job into steps and
//! cannot fail. One file a family: `dial_tone` (2013 same server and alternate server,
//! 2003 Recovery Storage Group), `restore` (restore only), `switchover` (datacenter
//! switchover with and without DAC mode), `switchback` (seed 004's return to the
//! primary), `custom` (steps written in the file).

mod custom;
mod dial_tone;
mod restore;
mod switchback;
mod switchover;

pub(crate) use custom::step_kind;

use dialtone_engine::{DurationDist, SimDuration};
use dialtone_model::world::Action;
use dialtone_model::world::WorldConfig;
use dialtone_model::{HomeId, ServerId, SiteId};

use crate::strategy::Strategy;
use crate::validate::{Failure, Names, When};

/// Something a playbook step waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// A restore of a mailbox group has finished.
    RestoreFinished(HomeId),
    /// A merge of a mailbox group has finished.
    MergeFinished(HomeId),
    /// Every copy of a group's original database is healthy again.
    CopiesHealthy(HomeId),
    /// A site has power again.
    SiteUp(SiteId),
    /// The first site has power and reaches the second over the WAN.
    SiteConnected(SiteId, SiteId),
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// Runs an administrator action when the step's duration has passed.
    Act(Action),
    /// Runs the action only if the group's mailboxes are not served by then.
    IfUnserved(HomeId, Action),
    /// A decision point: runs the first action; if it is refused, runs the second and
    /// reports the refusal (the step is done either way).
    OrElse(Action, Action),
    /// Waits for a condition (checked after every event), then takes its duration.
    Wait(Cond),
    /// Human work with no effect on the world (confirming, validating).
    Manual,
    /// Waiting a set time (for a scheduled window, for DNS caches): not operator work.
    Delay,
}

impl StepKind {
    /// The duration a step of this kind takes unless the playbook says otherwise: the
    /// action's documented default, nothing for waits and delays, 15 ± 5 minutes of
    /// manual work.
    pub fn default_duration(&self) -> DurationDist {
        match self {
            StepKind::Act(a) | StepKind::IfUnserved(_, a) | StepKind::OrElse(a, _) => {
                a.default_duration()
            }
            StepKind::Wait(_) | StepKind::Delay => DurationDist::Fixed(SimDuration::ZERO),
            StepKind::Manual => DurationDist::LogNormal {
                mean: mins(15),
                sd: mins(5),
            },
        }
    }
}

/// One playbook step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// A readable name (the id in a custom playbook).
    pub name: String,
    /// What it does.
    pub kind: StepKind,
    /// Steps that must finish first (indices).
    pub after: Vec<usize>,
    /// How long it takes.
    pub duration: DurationDist,
}

/// What a validated strategy works on: resolved by validation, turned into steps by
/// [`build`]. Mailbox groups are database indices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Job {
    /// No administrator steps (`none`, `automatic-site-failover`).
    Nothing,
    /// 2013 dial tone on each group's own server.
    SameServer {
        /// The failed groups.
        homes: Vec<HomeId>,
    },
    /// Dial tone on an alternate server, then back (or stay).
    Alternate {
        /// The failed groups.
        homes: Vec<HomeId>,
        /// The server that failed (or holds the failed database).
        failed: ServerId,
        /// Where dial tone goes.
        alternate: ServerId,
        /// Stay on the alternate and merge history in (`dial-tone-alternate-stay`).
        stay: bool,
        /// Rebuild the failed server first (a server loss, going back).
        rebuild: bool,
    },
    /// 2003: dial tone and a Recovery Storage Group on the (rebuilt) server.
    Rsg2003 {
        /// The failed groups.
        homes: Vec<HomeId>,
        /// The server.
        server: ServerId,
        /// Rebuild it first under the same name (a server loss).
        rebuild: bool,
        /// The procedure's choices.
        choices: Rsg2003,
    },
    /// A datacenter switchover, perhaps with the switchback.
    Datacenter(Datacenter),
    /// Restore from backup while users wait.
    Restore {
        /// Groups to restore (none for a site or network failure).
        homes: Vec<HomeId>,
        /// A lost server to rebuild first.
        rebuild: Option<ServerId>,
    },
    /// Steps written in the file, validated.
    Custom(Vec<Step>),
}

/// The choices of the 2003 Recovery Storage Group procedure (seed 003;
/// `strategy.rsg_2003`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rsg2003 {
    /// How long rebuilding the lost server from bare metal takes (rule `rsg.rebuild`).
    pub rebuild: DurationDist,
    /// Recover Mailbox Data with Merge instead of Copy (rule `rsg.merge`).
    pub merge: bool,
    /// The server runs Exchange 2003 SP1; without it ExMerge (rule `rsg.exmerge`).
    pub service_pack_1: bool,
}

/// A datacenter switchover's sites and choices (seed 004).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Datacenter {
    /// The failed (primary) site.
    pub primary: SiteId,
    /// The second datacenter.
    pub second: SiteId,
    /// Only some services failed: the primary is terminated (powered off) first.
    pub partial: bool,
    /// DAC mode: Stop-DAG and Restore-DAG rather than the cluster tools.
    pub dac: bool,
    /// Switch back after the repair, scheduled this long after the primary's copies
    /// have resynchronised.
    pub switchback_after: Option<SimDuration>,
    /// The organisation accepts losing more than the mount dial allows: moves use skip
    /// checks (`strategy.accept_data_loss`).
    pub accept_data_loss: bool,
    /// Clear the activation block on the second datacenter's servers rather than move
    /// every database explicitly (`strategy.clear_activation_block`).
    pub clear_activation_block: bool,
}

/// The organisation a playbook is built for: the validated world and its names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Org<'a> {
    pub world: &'a WorldConfig,
    pub names: &'a Names,
}

impl Org<'_> {
    /// Every mailbox group (one per original database).
    fn homes(&self) -> impl Iterator<Item = HomeId> {
        (0..self.world.databases.len()).map(HomeId::from)
    }
    /// The name of a group's original database.
    pub(crate) fn db_name(&self, h: HomeId) -> &str {
        &self.names.databases[h.index()]
    }
    pub(crate) fn active_server(&self, h: HomeId) -> ServerId {
        self.world.databases[h.index()].copies[0].server
    }
    pub(crate) fn site(&self, s: ServerId) -> SiteId {
        self.world.servers[s.index()].site
    }
    pub(crate) fn members_in(&self, site: SiteId) -> Vec<ServerId> {
        self.world
            .dag
            .members
            .iter()
            .copied()
            .filter(|&m| self.site(m) == site)
            .collect()
    }
    pub(crate) fn homes_on_site(&self, site: SiteId) -> Vec<HomeId> {
        self.homes()
            .filter(|&h| self.site(self.active_server(h)) == site)
            .collect()
    }
    pub(crate) fn homes_on_server(&self, s: ServerId) -> Vec<HomeId> {
        self.homes()
            .filter(|&h| self.active_server(h) == s)
            .collect()
    }
    pub(crate) fn mailbox_servers(&self) -> Vec<ServerId> {
        let witnesses = [self.world.dag.witness, self.world.dag.alternate_witness];
        (0..self.world.servers.len())
            .map(ServerId::from)
            .filter(|s| !witnesses.contains(&Some(*s)))
            .collect()
    }
    /// The copy of group `h` in `site` with the best preference.
    pub(crate) fn copy_in(&self, h: HomeId, site: SiteId) -> Option<ServerId> {
        self.world.databases[h.index()]
            .copies
            .iter()
            .find(|c| self.site(c.server) == site)
            .map(|c| c.server)
    }
}

/// Builds a playbook step by step; each call returns the new step's index for `after`.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    steps: Vec<Step>,
}

impl Builder {
    /// A step with its kind's default duration.
    pub(crate) fn push(
        &mut self,
        name: impl Into<String>,
        kind: StepKind,
        after: &[usize],
    ) -> usize {
        let duration = kind.default_duration();
        self.steps.push(Step {
            name: name.into(),
            kind,
            after: after.to_vec(),
            duration,
        });
        self.steps.len() - 1
    }
    pub(crate) fn act(&mut self, name: impl Into<String>, a: Action, after: &[usize]) -> usize {
        self.push(name, StepKind::Act(a), after)
    }
    pub(crate) fn wait(&mut self, name: impl Into<String>, c: Cond, after: &[usize]) -> usize {
        self.push(name, StepKind::Wait(c), after)
    }
    /// Human work taking `d`.
    pub(crate) fn manual(&mut self, name: &str, d: DurationDist, after: &[usize]) -> usize {
        self.timed(name, StepKind::Manual, d, after)
    }
    /// A set wait of `d` that is not operator work.
    pub(crate) fn delay(&mut self, name: &str, d: DurationDist, after: &[usize]) -> usize {
        self.timed(name, StepKind::Delay, d, after)
    }
    fn timed(&mut self, name: &str, kind: StepKind, d: DurationDist, after: &[usize]) -> usize {
        let i = self.push(name, kind, after);
        self.steps[i].duration = d;
        i
    }
}

pub(crate) fn mins(m: u64) -> SimDuration {
    SimDuration::from_millis(m * 60_000)
}

/// The steps of a validated job.
pub(crate) fn build(job: &Job, org: Org<'_>) -> Vec<Step> {
    let mut b = Builder::default();
    match job {
        Job::Nothing => {}
        Job::SameServer { homes } => dial_tone::same_server(&mut b, org, homes),
        Job::Alternate {
            homes,
            failed,
            alternate,
            stay,
            rebuild,
        } => dial_tone::alternate(&mut b, org, homes, *failed, *alternate, *stay, *rebuild),
        Job::Rsg2003 {
            homes,
            server,
            rebuild,
            choices,
        } => dial_tone::rsg_2003(&mut b, org, homes, *server, *rebuild, choices),
        Job::Datacenter(dc) => {
            let done = switchover::switchover(&mut b, org, dc);
            if let Some(after) = dc.switchback_after {
                switchback::switchback(&mut b, org, dc, &done, after);
            }
        }
        Job::Restore { homes, rebuild } => restore::restore_only(&mut b, org, homes, *rebuild),
        Job::Custom(steps) => return steps.clone(),
    }
    b.steps
}

/// The failure a strategy responds to: the earliest (scripted ones by time, then
/// stochastic ones in file order) of a kind it answers (`Strategy::responds_to`).
pub fn trigger(strategy: Strategy, failures: &[Failure]) -> Option<usize> {
    failures
        .iter()
        .enumerate()
        .filter(|(_, f)| strategy.responds_to(f.kind))
        .map(|(i, f)| match f.when {
            When::At { at, .. } => (at.as_millis(), i),
            When::Stochastic { .. } => (u64::MAX, i),
        })
        .min()
        .map(|(_, i)| i)
}

/// The steps on or behind a dependency cycle, by name; `None` when every step can run.
pub(crate) fn find_cycle(steps: &[Step]) -> Option<Vec<String>> {
    // Kahn's algorithm; what cannot be ordered is on or behind a cycle.
    let n = steps.len();
    let mut indeg: Vec<usize> = steps.iter().map(|s| s.after.len()).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut done = 0;
    while let Some(i) = ready.pop() {
        done += 1;
        for (j, s) in steps.iter().enumerate() {
            for &a in &s.after {
                if a == i {
                    indeg[j] -= 1;
                    if indeg[j] == 0 {
                        ready.push(j);
                    }
                }
            }
        }
    }
    (done < n).then(|| {
        (0..n)
            .filter(|&i| indeg[i] > 0)
            .map(|i| steps[i].name.clone())
            .collect()
    })
}
