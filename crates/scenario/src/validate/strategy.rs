//! Whether an organisation can run a strategy, and what its playbook works on. Each
//! built-in strategy has a planner here (named in the strategy table, `crate::strategy`)
//! that checks the strategy's preconditions against the validated organisation and its
//! failures, refuses with the reason and the field to change, or resolves a
//! [`Job`] that `playbook::build` turns into steps.

use std::collections::BTreeMap;

use dialtone_engine::SimDuration;
use dialtone_model::{HomeId, ServerId};

use super::{Failure, Issue, Target, When, limits};
use crate::playbook::{self, Datacenter, Job, Org, Rsg2003, Step};
use crate::spec::{FailureKind, RecoverMailboxData, StepSpec, StrategySpec};
use crate::strategy::{Answer, Strategy};

/// The validated strategy options of a scenario (`strategy.*` apart from the name).
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyOptions {
    /// `strategy.alternate_server`, checked by the strategies that use it.
    pub alternate_server: Option<String>,
    /// `strategy.switchback_after`.
    pub switchback_after: SimDuration,
    /// `strategy.accept_data_loss`.
    pub accept_data_loss: bool,
    /// `strategy.clear_activation_block`.
    pub clear_activation_block: bool,
    /// The validated steps of a custom playbook (empty for the built-in strategies).
    pub steps: Vec<Step>,
    /// `strategy.rsg_2003` (its defaults when absent).
    pub rsg_2003: Rsg2003,
    /// `topology.active_directory_elsewhere`: AD survives the loss of an Exchange server.
    pub active_directory_elsewhere: bool,
}

/// What a planner looks at.
pub(crate) struct Input<'a> {
    pub strategy: Strategy,
    pub org: Org<'a>,
    pub failures: &'a [Failure],
    pub options: &'a StrategyOptions,
}

/// Reads `strategy` from the file: its name, its options and, for `custom`, its steps.
pub(super) fn options(
    spec: &StrategySpec,
    active_directory_elsewhere: bool,
    org: Org<'_>,
) -> Result<(Strategy, StrategyOptions), Vec<Issue>> {
    let strategy: Strategy = spec
        .name
        .parse()
        .map_err(|e: crate::strategy::UnknownStrategy| refusal(e.to_string()))?;
    let steps = if strategy == Strategy::Custom {
        custom_steps(&spec.steps, org)?
    } else {
        Vec::new()
    };
    if strategy != Strategy::Custom && !spec.steps.is_empty() {
        return Err(steps_not_custom(strategy));
    }
    if strategy != Strategy::DialToneRsg2003 && spec.rsg_2003.is_some() {
        return Err(vec![Issue {
            path: "strategy.rsg_2003".into(),
            message: format!(
                "rsg_2003 is only for strategy \"dial-tone-rsg-2003\", not {:?}",
                strategy.name()
            ),
        }]);
    }
    let rsg = spec.rsg_2003.clone().unwrap_or_default();
    if rsg.recover_mailbox_data == RecoverMailboxData::Merge && !rsg.service_pack_1 {
        return Err(vec![Issue {
            path: "strategy.rsg_2003.recover_mailbox_data".into(),
            message: "Recover Mailbox Data (copy or merge) needs Exchange 2003 SP1; without it the dial tone mail goes back with ExMerge (seed 003): leave recover_mailbox_data out or set service_pack_1 to true".into(),
        }]);
    }
    Ok((
        strategy,
        StrategyOptions {
            alternate_server: spec.alternate_server.clone(),
            switchback_after: spec.switchback_after,
            accept_data_loss: spec.accept_data_loss,
            clear_activation_block: spec.clear_activation_block,
            steps,
            rsg_2003: Rsg2003 {
                rebuild: rsg.rebuild.0,
                merge: rsg.recover_mailbox_data == RecoverMailboxData::Merge,
                service_pack_1: rsg.service_pack_1,
            },
            active_directory_elsewhere,
        },
    ))
}

/// The playbook of `strategy` and the failure that starts it, or why the organisation
/// cannot run it.
pub(super) fn plan(
    strategy: Strategy,
    options: &StrategyOptions,
    org: Org<'_>,
    failures: &[Failure],
) -> Result<(Vec<Step>, Option<usize>), Vec<Issue>> {
    if strategy != Strategy::Custom && !options.steps.is_empty() {
        return Err(steps_not_custom(strategy));
    }
    let input = Input {
        strategy,
        org,
        failures,
        options,
    };
    // Every strategy, those that take no action included, answers one of the
    // scenario's failures or says why not (the strategy × failure matrix).
    if !failures.is_empty() {
        input.failure()?;
    }
    let job = (strategy.planner())(&input)?;
    Ok((
        playbook::build(&job, org),
        playbook::trigger(strategy, failures),
    ))
}

fn refusal(message: String) -> Vec<Issue> {
    vec![Issue {
        path: "strategy.name".into(),
        message,
    }]
}

fn steps_not_custom(strategy: Strategy) -> Vec<Issue> {
    vec![Issue {
        path: "strategy.steps".into(),
        message: format!(
            "steps are only for strategy \"custom\", not {:?}",
            strategy.name()
        ),
    }]
}

impl Input<'_> {
    fn name(&self) -> &'static str {
        self.strategy.name()
    }

    /// The failure the strategy responds to, or a refusal that gives, for each kind of
    /// failure in the scenario, why the strategy does not answer it (the strategy ×
    /// failure matrix, `Strategy::answer`).
    fn failure(&self) -> Result<&Failure, Vec<Issue>> {
        if let Some(i) = playbook::trigger(self.strategy, self.failures) {
            return Ok(&self.failures[i]);
        }
        let name = self.name();
        let mut kinds: Vec<FailureKind> = Vec::new();
        for f in self.failures {
            if !kinds.contains(&f.kind) {
                kinds.push(f.kind);
            }
        }
        if kinds.is_empty() {
            return Err(refusal(format!(
                "strategy {name:?} responds to a failure, but the scenario has none (add one to `failures`)"
            )));
        }
        let why: Vec<String> = kinds
            .iter()
            .map(|&k| match self.strategy.answer(k) {
                Answer::Refused(reason) => format!("not a {}: {reason}", k.name()),
                Answer::Steps | Answer::NoAction => String::new(),
            })
            .collect();
        Err(refusal(format!(
            "strategy {name:?} answers none of the scenario's failures; {}",
            why.join("; ")
        )))
    }

    /// The mailbox groups a database or server failure takes down: a corrupted database
    /// (corruption replicates), or a database whose active copy is lost and that has no
    /// other copy the scenario's failures leave intact (rule `strategy.recovery_needed`:
    /// Active Manager fails over to it and there is nothing to recover).
    fn failed_homes(&self, f: &Failure, what: &str) -> Result<Vec<HomeId>, Vec<Issue>> {
        let homes = match &f.target {
            Target::Database(d) => return Ok(vec![HomeId::from(d.index())]),
            Target::Copy(d, 0) => vec![HomeId::from(d.index())],
            Target::Server(s) => self.org.homes_on_server(*s),
            _ => {
                return Err(refusal(format!(
                    "{} recovers databases or servers; the first failure is a {:?} ({what})",
                    self.name(),
                    f.kind
                )));
            }
        };
        let failed: Vec<HomeId> = homes
            .into_iter()
            .filter(|&h| !self.copy_survives(h))
            .collect();
        if failed.is_empty() {
            return Err(refusal(format!(
                "{}: every database the {} takes down has another copy that no failure of \
                 the scenario touches, so Active Manager fails over to it and there is \
                 nothing to recover (use strategy \"none\", or fail the other copies too)",
                self.name(),
                f.kind.name()
            )));
        }
        Ok(failed)
    }

    /// Whether group `h`'s database keeps a copy that no server loss, disk loss or site
    /// power loss of the scenario touches (its active copy is the one failing).
    fn copy_survives(&self, h: HomeId) -> bool {
        let copies = &self.org.world.databases[h.index()].copies;
        let lost = |i: usize, server: ServerId| {
            self.failures.iter().any(|f| match &f.target {
                Target::Server(s) => *s == server,
                Target::Site(site) => self.org.site(server) == *site,
                Target::Copy(d, c) => d.index() == h.index() && *c == i,
                _ => false,
            })
        };
        copies
            .iter()
            .enumerate()
            .skip(1)
            .any(|(i, c)| !lost(i, c.server))
    }

    /// The server that failed or holds the failed database.
    fn failed_server(&self, f: &Failure) -> ServerId {
        match &f.target {
            Target::Server(s) => *s,
            Target::Database(d) | Target::Copy(d, _) => {
                self.org.active_server(HomeId::from(d.index()))
            }
            _ => ServerId(0),
        }
    }
}

/// `none`.
pub(crate) fn nothing(_: &Input<'_>) -> Result<Job, Vec<Issue>> {
    Ok(Job::Nothing)
}

/// `custom`: the validated steps.
pub(crate) fn custom(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    if i.options.steps.is_empty() {
        return Err(vec![Issue {
            path: "strategy.steps".into(),
            message: "a custom strategy needs at least one step".into(),
        }]);
    }
    Ok(Job::Custom(i.options.steps.clone()))
}

/// `automatic-site-failover`: needs the witness in a third site.
pub(crate) fn automatic_site_failover(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    let org = i.org;
    let witness_site = org.world.dag.witness.map(|s| org.site(s));
    let third = witness_site.is_some_and(|ws| org.members_in(ws).is_empty());
    if !third {
        return Err(refusal("automatic-site-failover needs the witness in a third site that holds no DAG members (topology.dag.witness.site)".into()));
    }
    Ok(Job::Nothing)
}

/// `dial-tone-same-server`: the failed database's server must keep running.
pub(crate) fn same_server(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    let f = i.failure()?;
    if f.kind == FailureKind::ServerLoss {
        return Err(refusal("dial-tone-same-server needs the failed database's server to keep running; for a server loss use dial-tone-alternate-server or dial-tone-rsg-2003".into()));
    }
    let homes = i.failed_homes(f, "use it for database corruption or disk loss")?;
    Ok(Job::SameServer { homes })
}

/// `dial-tone-alternate-server`.
pub(crate) fn alternate_server(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    alternate(i, false)
}

/// `dial-tone-alternate-stay`.
pub(crate) fn alternate_stay(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    alternate(i, true)
}

/// Dial tone on another mailbox server of the failed server's schema version: the one in
/// `strategy.alternate_server`, or one in the same site, or any.
fn alternate(i: &Input<'_>, stay: bool) -> Result<Job, Vec<Issue>> {
    let (org, name) = (i.org, i.name());
    let f = i.failure()?;
    let homes = i.failed_homes(
        f,
        "use it for a server loss, database corruption or disk loss",
    )?;
    let failed = i.failed_server(f);
    let schema = org.world.servers[failed.index()].schema_version;
    let suitable = |s: ServerId| {
        s != failed
            && org.world.servers[s.index()].schema_version == schema
            && org.mailbox_servers().contains(&s)
    };
    let alternate = match &i.options.alternate_server {
        Some(n) => {
            let issue = |message: String| {
                vec![Issue {
                    path: "strategy.alternate_server".into(),
                    message,
                }]
            };
            let s = super::find(&org.names.servers, n)
                .map(ServerId::from)
                .ok_or_else(|| issue(format!("unknown server {n:?}")))?;
            if !suitable(s) {
                return Err(issue(format!(
                    "{n:?} must be another mailbox server with schema version {schema}"
                )));
            }
            s
        }
        None => {
            let cands: Vec<ServerId> = org
                .mailbox_servers()
                .into_iter()
                .filter(|&s| s != failed && org.world.servers[s.index()].schema_version == schema)
                .collect();
            let same_site = cands
                .iter()
                .copied()
                .find(|&s| org.site(s) == org.site(failed));
            same_site.or(cands.first().copied()).ok_or_else(|| {
                refusal(format!(
                    "{name} needs a second mailbox server with the same schema version ({schema})"
                ))
            })?
        }
    };
    Ok(Job::Alternate {
        homes,
        failed,
        alternate,
        stay,
        rebuild: !stay && f.kind == FailureKind::ServerLoss,
    })
}

/// `dial-tone-rsg-2003` (seed 003): the article's preconditions are that "the rest of
/// your network is functional", Active Directory above all (the old mailboxes are
/// removed and recreated in it), and that the rebuilt server gets the same name,
/// version and service pack (the rebuild is in place, so it does). One Exchange server
/// is enough; an organisation whose only domain controller was the lost server (Small
/// Business Server) cannot run it.
pub(crate) fn rsg_2003(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    let f = i.failure()?;
    let homes = i.failed_homes(f, "use it for a server loss")?;
    let server_lost = f.kind == FailureKind::ServerLoss;
    if server_lost && !i.options.active_directory_elsewhere {
        return Err(vec![Issue {
            path: "topology.active_directory_elsewhere".into(),
            message: "dial-tone-rsg-2003 removes and recreates the mailboxes in Active Directory, which must survive on other domain controllers (seed 003: \"the rest of your network is functional\"); here the lost server was the only domain controller (as in Small Business Server 2003), so it cannot run".into(),
        }]);
    }
    Ok(Job::Rsg2003 {
        homes,
        server: i.failed_server(f),
        rebuild: server_lost,
        choices: i.options.rsg_2003.clone(),
    })
}

/// `datacenter-switchover-dac`.
pub(crate) fn switchover_dac(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    datacenter(i, true, false)
}

/// `datacenter-switchover-non-dac`.
pub(crate) fn switchover_non_dac(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    datacenter(i, false, false)
}

/// `switchback`: the datacenter switchover (DAC or not, as the DAG is configured), then
/// back once the primary is repaired.
pub(crate) fn switchback(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    datacenter(i, i.org.world.dag.dac_mode, true)
}

/// A datacenter switchover needs a datacenter failure, a second site with DAG members,
/// DAC mode for the DAC procedure, and an alternate witness when an even number (or one)
/// of members survive; a switchback needs the failed site to come back.
fn datacenter(i: &Input<'_>, dac: bool, switchback: bool) -> Result<Job, Vec<Issue>> {
    let (org, name) = (i.org, i.name());
    let f = i.failure()?;
    let (x, partial) = match &f.target {
        Target::Site(x) => (*x, false),
        Target::Partial(x, _) => (*x, true),
        _ => {
            return Err(refusal(format!(
                "{name} responds to a datacenter failure (site-power-loss or partial-datacenter); the first failure is a {:?}",
                f.kind
            )));
        }
    };
    let Some(y) = (0..org.world.sites)
        .map(dialtone_model::SiteId::from)
        .find(|&s| s != x && !org.members_in(s).is_empty())
    else {
        return Err(refusal(format!(
            "{name} needs a second site with DAG members"
        )));
    };
    if !partial && !needs_switchover(org, x) {
        return Err(refusal(format!(
            "{name}: the failed site {:?} holds no active database copy and the other \
             sites keep quorum, so Active Manager keeps serving and there is nothing to \
             switch over (seed 004 switches over after losing the primary datacenter); use \
             strategy \"none\" for this failure",
            org.names.sites[x.index()]
        )));
    }
    let ym = org.members_in(y);
    if dac && !org.world.dag.dac_mode {
        return Err(refusal(format!(
            "{name} needs DAC mode (topology.dag.dac_mode: true); without it use datacenter-switchover-non-dac"
        )));
    }
    let survivors_even = ym.len().is_multiple_of(2) || ym.len() == 1;
    if survivors_even && org.world.dag.alternate_witness.is_none() {
        return Err(refusal(format!(
            "{name} needs an alternate witness (topology.dag.alternate_witness) because {} member(s) survive in {:?}",
            ym.len(),
            org.names.sites[y.index()]
        )));
    }
    let repaired = matches!(
        f.when,
        When::At {
            repair_after: Some(_),
            ..
        }
    );
    if switchback && !repaired {
        return Err(refusal(
            "switchback needs the failed site to come back: give the failure a repair_after".into(),
        ));
    }
    Ok(Job::Datacenter(Datacenter {
        primary: x,
        second: y,
        partial,
        dac,
        switchback_after: switchback.then_some(i.options.switchback_after),
        accept_data_loss: i.options.accept_data_loss,
        clear_activation_block: i.options.clear_activation_block,
    }))
}

/// Rule `strategy.switchover_needed`: losing site `x` calls for a datacenter switchover
/// when it holds a database's active copy (its first copy) or when the members and
/// witness outside it no longer hold a majority of the votes.
fn needs_switchover(org: Org<'_>, x: dialtone_model::SiteId) -> bool {
    let w = org.world;
    let active_in_x = w
        .databases
        .iter()
        .any(|d| org.site(d.copies[0].server) == x);
    let votes = |outside: bool| {
        let members = w
            .dag
            .members
            .iter()
            .filter(|&&m| (org.site(m) != x) == outside)
            .count();
        let witness = w.dag.witness.filter(|&s| (org.site(s) != x) == outside);
        members + usize::from(witness.is_some())
    };
    let (kept, lost) = (votes(true), votes(false));
    active_in_x || 2 * kept <= kept + lost
}

/// `restore-only`: restore the failed databases, rebuilding a lost server first (a
/// failure that loses no data is refused by the matrix, `Strategy::answer`).
pub(crate) fn restore_only(i: &Input<'_>) -> Result<Job, Vec<Issue>> {
    let f = i.failure()?;
    let homes = i.failed_homes(
        f,
        "use it for a server loss, database corruption or disk loss",
    )?;
    let rebuild = match &f.target {
        Target::Server(s) if f.kind == FailureKind::ServerLoss => Some(*s),
        _ => None,
    };
    Ok(Job::Restore { homes, rebuild })
}

/// Validates the steps of a custom playbook: unique ids, known dependencies, names that
/// exist, at most [`limits::STEPS`] steps, no dependency cycle.
fn custom_steps(specs: &[StepSpec], org: Org<'_>) -> Result<Vec<Step>, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut err = |path: String, message: String| issues.push(Issue { path, message });
    if specs.is_empty() {
        err(
            "strategy.steps".into(),
            "a custom strategy needs at least one step".into(),
        );
    }
    if specs.len() > limits::STEPS {
        err(
            "strategy.steps".into(),
            format!("more than {} steps", limits::STEPS),
        );
    }
    let mut ids = BTreeMap::new();
    for (i, s) in specs.iter().enumerate() {
        if s.id.trim().is_empty() {
            err(
                format!("strategy.steps[{i}].id"),
                "step id is empty: give the step a name other steps can list in `after`".into(),
            );
        }
        if ids.insert(s.id.as_str(), i).is_some() {
            err(
                format!("strategy.steps[{i}].id"),
                format!("duplicate step id {:?}", s.id),
            );
        }
    }
    let mut steps = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let p = format!("strategy.steps[{i}]");
        let mut after = Vec::new();
        for (j, a) in s.after.iter().enumerate() {
            match ids.get(a.as_str()) {
                Some(&k) => after.push(k),
                None => err(format!("{p}.after[{j}]"), format!("no step with id {a:?}")),
            }
        }
        match playbook::step_kind(&s.action, org) {
            Ok(kind) => {
                let duration = s
                    .duration
                    .as_ref()
                    .map_or_else(|| kind.default_duration(), |d| d.0.clone());
                steps.push(Step {
                    name: s.id.clone(),
                    kind,
                    after,
                    duration,
                });
            }
            Err((field, msg)) => err(format!("{p}{field}"), msg),
        }
    }
    // A dependency cycle would leave the playbook stuck forever: refuse it.
    if issues.is_empty()
        && let Some(cyc) = playbook::find_cycle(&steps)
    {
        issues.push(Issue {
            path: "strategy.steps".into(),
            message: format!(
                "steps depend on each other in a cycle: {}",
                cyc.join(" -> ")
            ),
        });
    }
    if issues.is_empty() {
        Ok(steps)
    } else {
        Err(issues)
    }
}
