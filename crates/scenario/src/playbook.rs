//! Recovery strategies as playbooks: steps of primitive administrator actions with
//! durations and dependencies, built from the seeds' procedures (docs/SCENARIOS.md lists
//! each with its source). A strategy the topology cannot run is refused with the reason.

use std::collections::BTreeMap;

use dialtone_engine::{DurationDist, SimDuration};
use dialtone_model::dns::RecordKind;
use dialtone_model::world::WorldConfig;
use dialtone_model::world::{Action, DbRef};
use dialtone_model::{HomeId, ServerId, SiteId};

use crate::spec::{FailureKind, ScenarioSpec, StepSpec};
use crate::validate::{Failure, Issue, Names, Target, When};

/// Something a playbook step waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// A restore of a mailbox group has finished.
    RestoreFinished(usize),
    /// A merge of a mailbox group has finished.
    MergeFinished(usize),
    /// Every copy of a group's original database is healthy again.
    CopiesHealthy(usize),
    /// A site has power again.
    SiteUp(SiteId),
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// Runs an administrator action when the step's duration has passed.
    Act(Action),
    /// Runs the action only if the group's mailboxes are not served by then.
    IfUnserved(usize, Action),
    /// Waits for a condition (checked after every event), then takes its duration.
    Wait(Cond),
    /// Human work with no effect on the world (confirming, validating).
    Manual,
    /// Waiting a set time (for a scheduled window, for DNS caches): not operator work.
    Delay,
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

/// The built-in strategies, with a one-line description each (`dialtone list strategies`).
pub const STRATEGIES: &[(&str, &str)] = &[
    (
        "dial-tone-same-server",
        "2013: empty dial tone database on the same server, restore to a recovery database, swap, merge",
    ),
    (
        "dial-tone-alternate-server",
        "2013/2007 portability: dial tone on another server, profiles changed, original restored, mailboxes moved back, merge",
    ),
    (
        "dial-tone-alternate-stay",
        "2013: dial tone on another server and stay there; restore to a recovery database and merge history in",
    ),
    (
        "dial-tone-rsg-2003",
        "2003: rebuild the server, recreate mailboxes, restore to a Recovery Storage Group, swap, Copy the dial tone data",
    ),
    (
        "datacenter-switchover-dac",
        "DAC mode: Stop-DAG, Restore-DAG with the alternate witness, activate databases, DNS for client access, MX and UM",
    ),
    (
        "datacenter-switchover-non-dac",
        "cluster tools: force quorum, evict, new witness or node majority, Move-ActiveMailboxDatabase, DNS",
    ),
    (
        "automatic-site-failover",
        "witness in a third site: Active Manager alone, clients fail over through a multi-IP namespace",
    ),
    (
        "switchback",
        "DAC switchover, then after the repair: Start-DAG, resynchronise, witness back, dismount, DNS back and wait, move, mount",
    ),
    (
        "restore-only",
        "baseline: no dial tone; restore the database from backup while users wait",
    ),
    (
        "none",
        "no administrator action: Active Manager and repairs only",
    ),
    ("custom", "the steps listed in strategy.steps"),
];

struct B {
    steps: Vec<Step>,
}

impl B {
    fn push(&mut self, name: impl Into<String>, kind: StepKind, after: &[usize]) -> usize {
        let duration = match &kind {
            StepKind::Act(a) | StepKind::IfUnserved(_, a) => a.default_duration(),
            StepKind::Wait(_) | StepKind::Delay => DurationDist::Fixed(SimDuration::ZERO),
            StepKind::Manual => DurationDist::LogNormal {
                mean: mins(15),
                sd: mins(5),
            },
        };
        self.steps.push(Step {
            name: name.into(),
            kind,
            after: after.to_vec(),
            duration,
        });
        self.steps.len() - 1
    }
    fn act(&mut self, name: impl Into<String>, a: Action, after: &[usize]) -> usize {
        self.push(name, StepKind::Act(a), after)
    }
    fn manual(&mut self, name: impl Into<String>, d: DurationDist, after: &[usize]) -> usize {
        let i = self.push(name, StepKind::Manual, after);
        self.steps[i].duration = d;
        i
    }
    fn delay(&mut self, name: impl Into<String>, d: DurationDist, after: &[usize]) -> usize {
        let i = self.push(name, StepKind::Delay, after);
        self.steps[i].duration = d;
        i
    }
}

fn mins(m: u64) -> SimDuration {
    SimDuration::from_millis(m * 60_000)
}

struct Ctx<'a> {
    w: &'a WorldConfig,
    names: &'a Names,
}

impl Ctx<'_> {
    fn active_server(&self, h: usize) -> ServerId {
        self.w.databases[h].copies[0].server
    }
    fn site(&self, s: ServerId) -> SiteId {
        self.w.servers[s.index()].site
    }
    fn members_in(&self, site: SiteId) -> Vec<ServerId> {
        self.w
            .dag
            .members
            .iter()
            .copied()
            .filter(|&m| self.site(m) == site)
            .collect()
    }
    fn homes_on_site(&self, site: SiteId) -> Vec<usize> {
        (0..self.w.databases.len())
            .filter(|&h| self.site(self.active_server(h)) == site)
            .collect()
    }
    fn homes_on_server(&self, s: ServerId) -> Vec<usize> {
        (0..self.w.databases.len())
            .filter(|&h| self.active_server(h) == s)
            .collect()
    }
    fn mailbox_servers(&self) -> Vec<ServerId> {
        let witnesses = [self.w.dag.witness, self.w.dag.alternate_witness];
        (0..self.w.servers.len())
            .map(ServerId::from)
            .filter(|s| !witnesses.contains(&Some(*s)))
            .collect()
    }
    /// The copy of group `h` in `site` with the best preference.
    fn copy_in(&self, h: usize, site: SiteId) -> Option<ServerId> {
        self.w.databases[h]
            .copies
            .iter()
            .find(|c| self.site(c.server) == site)
            .map(|c| c.server)
    }
}

/// Failure kinds a strategy responds to (`None`: any).
fn responds_to(strategy: &str) -> Option<&'static [FailureKind]> {
    use FailureKind::*;
    match strategy {
        "dial-tone-same-server" => Some(&[DatabaseCorruption, DiskLoss]),
        "dial-tone-alternate-server" | "dial-tone-alternate-stay" | "dial-tone-rsg-2003" => {
            Some(&[ServerLoss, DatabaseCorruption, DiskLoss])
        }
        "datacenter-switchover-dac" | "datacenter-switchover-non-dac" | "switchback" => {
            Some(&[SitePowerLoss, PartialDatacenter])
        }
        _ => None,
    }
}

/// The failure a strategy responds to: the earliest (scripted ones by time, then
/// stochastic ones in file order) of a kind it handles.
pub fn trigger(strategy: &str, failures: &[Failure]) -> Option<usize> {
    let kinds = responds_to(strategy);
    let mut cands: Vec<(u64, usize)> = failures
        .iter()
        .enumerate()
        .filter(|(_, f)| kinds.is_none_or(|k| k.contains(&f.kind)))
        .map(|(i, f)| match f.when {
            When::At { at, .. } => (at.as_millis(), i),
            When::Stochastic { .. } => (u64::MAX, i),
        })
        .collect();
    cands.sort_unstable();
    cands.first().map(|&(_, i)| i)
}

/// Builds the playbook of `spec.strategy` for the failure it responds to (see
/// [`trigger`]), or says why it cannot.
pub fn build(
    spec: &ScenarioSpec,
    names: &Names,
    w: &WorldConfig,
    failures: &[Failure],
) -> Result<Vec<Step>, Vec<Issue>> {
    let first = trigger(&spec.strategy.name, failures).map(|i| &failures[i]);
    let name = spec.strategy.name.as_str();
    let refuse = |msg: String| {
        vec![Issue {
            path: "strategy.name".into(),
            message: msg,
        }]
    };
    if !STRATEGIES.iter().any(|(n, _)| *n == name) {
        let all: Vec<&str> = STRATEGIES.iter().map(|(n, _)| *n).collect();
        return Err(refuse(format!(
            "unknown strategy {name:?}; built-in strategies are {}",
            all.join(", ")
        )));
    }
    if name != "custom" && !spec.strategy.steps.is_empty() {
        return Err(vec![Issue {
            path: "strategy.steps".into(),
            message: format!("steps are only for strategy \"custom\", not {name:?}"),
        }]);
    }
    let cx = Ctx { w, names };
    let mut b = B { steps: Vec::new() };
    if name == "custom" {
        return custom(&spec.strategy.steps, &cx);
    }
    if name == "none" {
        return Ok(Vec::new());
    }
    if name == "automatic-site-failover" {
        let witness_site = w.dag.witness.map(|s| cx.site(s));
        let third = witness_site.is_some_and(|ws| cx.members_in(ws).is_empty());
        if !third {
            return Err(refuse("automatic-site-failover needs the witness in a third site that holds no DAG members (topology.dag.witness.site)".into()));
        }
        return Ok(Vec::new());
    }
    let Some(f) = first else {
        let kinds = responds_to(name).map_or(String::new(), |k| format!(" ({k:?})"));
        return Err(refuse(format!(
            "strategy {name:?} responds to a failure{kinds}, but the scenario has none of that kind (add one to `failures`)"
        )));
    };
    let need_db_failure = |what: &str| -> Result<Vec<usize>, Vec<Issue>> {
        match &f.target {
            Target::Database(d) => Ok(vec![d.index()]),
            Target::Copy(d, 0) => Ok(vec![d.index()]),
            Target::Server(s) => Ok(cx.homes_on_server(*s)),
            _ => Err(refuse(format!(
                "{name} recovers databases or servers; the first failure is a {:?} ({what})",
                f.kind
            ))),
        }
    };
    match name {
        "dial-tone-same-server" => {
            if f.kind == FailureKind::ServerLoss {
                return Err(refuse("dial-tone-same-server needs the failed database's server to keep running; for a server loss use dial-tone-alternate-server or dial-tone-rsg-2003".into()));
            }
            let homes = need_db_failure("use it for database corruption or disk loss")?;
            for h in homes {
                let s = cx.active_server(h);
                dial_tone_swap_merge(&mut b, h, s, &[], &SAME_SERVER_2013, &names.databases[h]);
            }
        }
        "dial-tone-alternate-server" | "dial-tone-alternate-stay" => {
            let homes =
                need_db_failure("use it for a server loss, database corruption or disk loss")?;
            let failed = match &f.target {
                Target::Server(s) => *s,
                Target::Database(d) | Target::Copy(d, _) => cx.active_server(d.index()),
                _ => ServerId(0),
            };
            let schema = w.servers[failed.index()].schema_version;
            let alt = match &spec.strategy.alternate_server {
                Some(n) => {
                    let Some(ix) = names.servers.iter().position(|x| x == n) else {
                        return Err(vec![Issue {
                            path: "strategy.alternate_server".into(),
                            message: format!("unknown server {n:?}"),
                        }]);
                    };
                    let s = ServerId::from(ix);
                    if s == failed
                        || w.servers[ix].schema_version != schema
                        || !cx.mailbox_servers().contains(&s)
                    {
                        return Err(vec![Issue {
                            path: "strategy.alternate_server".into(),
                            message: format!(
                                "{n:?} must be another mailbox server with schema version {schema}"
                            ),
                        }]);
                    }
                    s
                }
                None => {
                    let cands: Vec<ServerId> = cx
                        .mailbox_servers()
                        .into_iter()
                        .filter(|&s| s != failed && w.servers[s.index()].schema_version == schema)
                        .collect();
                    let same_site = cands
                        .iter()
                        .copied()
                        .find(|&s| cx.site(s) == cx.site(failed));
                    match same_site.or(cands.first().copied()) {
                        Some(s) => s,
                        None => {
                            return Err(refuse(format!(
                                "{name} needs a second mailbox server with the same schema version ({schema})"
                            )));
                        }
                    }
                }
            };
            let stay = name == "dial-tone-alternate-stay";
            let rebuild = (!stay && f.kind == FailureKind::ServerLoss).then(|| {
                b.act(
                    "rebuild the failed server",
                    Action::RebuildServer { server: failed },
                    &[],
                )
            });
            for h in homes {
                let create = b.act(
                    format!("create dial tone {} on the alternate", names.databases[h]),
                    Action::CreateDialTone {
                        home: HomeId::from(h),
                        server: alt,
                    },
                    &[],
                );
                let mv = b.act(
                    "move mailbox configuration to the alternate",
                    Action::MoveMailboxes {
                        home: HomeId::from(h),
                        to: DbRef::DialTone,
                    },
                    &[create],
                );
                let mount = b.act(
                    "mount dial tone",
                    Action::Mount {
                        home: HomeId::from(h),
                        db: DbRef::DialTone,
                    },
                    &[mv],
                );
                b.act(
                    "helpdesk: profiles to the alternate",
                    Action::ReconfigureProfiles {
                        home: HomeId::from(h),
                        server: alt,
                    },
                    &[mv],
                );
                if stay {
                    let restore = b.act(
                        "restore to recovery database",
                        Action::RestoreBackup {
                            home: HomeId::from(h),
                            server: alt,
                        },
                        &[create],
                    );
                    let wait = b.push(
                        "wait for the restore",
                        StepKind::Wait(Cond::RestoreFinished(h)),
                        &[restore],
                    );
                    b.act(
                        "merge history into the dial tone database",
                        Action::Merge {
                            home: HomeId::from(h),
                            mailboxes_per_hour: None,
                        },
                        &[wait, mount],
                    );
                } else {
                    let deps: Vec<usize> = rebuild.into_iter().collect();
                    let restore = b.act(
                        "restore the original database",
                        Action::RestoreInPlace {
                            home: HomeId::from(h),
                        },
                        &deps,
                    );
                    let wait = b.push(
                        "wait for the restore",
                        StepKind::Wait(Cond::RestoreFinished(h)),
                        &[restore],
                    );
                    let mount_orig = b.act(
                        "mount the restored database",
                        Action::Mount {
                            home: HomeId::from(h),
                            db: DbRef::Original,
                        },
                        &[wait],
                    );
                    let back = b.act(
                        "move mailbox configuration back",
                        Action::MoveMailboxes {
                            home: HomeId::from(h),
                            to: DbRef::Original,
                        },
                        &[mount_orig, mount],
                    );
                    b.act(
                        "helpdesk: profiles back",
                        Action::ReconfigureProfiles {
                            home: HomeId::from(h),
                            server: failed,
                        },
                        &[back],
                    );
                    b.act(
                        "merge dial tone data",
                        Action::Merge {
                            home: HomeId::from(h),
                            mailboxes_per_hour: None,
                        },
                        &[back],
                    );
                }
            }
        }
        "dial-tone-rsg-2003" => {
            let homes = need_db_failure("use it for a server loss")?;
            if cx.mailbox_servers().len() < 2 {
                return Err(refuse("dial-tone-rsg-2003 needs a spare server to rebuild onto under the same name; a single-server organisation (such as Small Business Server 2003) cannot run it (seed 003)".into()));
            }
            let s = match &f.target {
                Target::Server(s) => *s,
                Target::Database(d) | Target::Copy(d, _) => cx.active_server(d.index()),
                _ => ServerId(0),
            };
            let rebuild = if f.kind == FailureKind::ServerLoss {
                vec![b.act(
                    "rebuild the server under the same name",
                    Action::RebuildServer { server: s },
                    &[],
                )]
            } else {
                Vec::new()
            };
            for h in homes {
                dial_tone_swap_merge(&mut b, h, s, &rebuild, &RSG_2003, &names.databases[h]);
            }
        }
        "datacenter-switchover-dac" | "switchback" | "datacenter-switchover-non-dac" => {
            let (x, partial) = match &f.target {
                Target::Site(x) => (*x, false),
                Target::Partial(x, _) => (*x, true),
                _ => {
                    return Err(refuse(format!(
                        "{name} responds to a datacenter failure (site-power-loss or partial-datacenter); the first failure is a {:?}",
                        f.kind
                    )));
                }
            };
            let Some(y) = (0..w.sites)
                .map(SiteId::from)
                .find(|&s| s != x && !cx.members_in(s).is_empty())
            else {
                return Err(refuse(format!(
                    "{name} needs a second site with DAG members"
                )));
            };
            let xm = cx.members_in(x);
            let ym = cx.members_in(y);
            let dac = name != "datacenter-switchover-non-dac";
            if dac && !w.dag.dac_mode {
                return Err(refuse(format!(
                    "{name} needs DAC mode (topology.dag.dac_mode: true); without it use datacenter-switchover-non-dac"
                )));
            }
            let survivors_even = ym.len().is_multiple_of(2) || ym.len() == 1;
            if survivors_even && w.dag.alternate_witness.is_none() {
                return Err(refuse(format!(
                    "{name} needs an alternate witness (topology.dag.alternate_witness) because {} member(s) survive in {:?}",
                    ym.len(),
                    names.sites[y.index()]
                )));
            }
            if name == "switchback"
                && !matches!(
                    f.when,
                    When::At {
                        repair_after: Some(_),
                        ..
                    }
                )
            {
                return Err(refuse("switchback needs the failed site to come back: give the failure a repair_after".into()));
            }
            // Step 1 (terminate) and step 2 (validate) run in parallel (seed 004).
            let terminate = if partial {
                b.act(
                    "terminate the primary datacenter",
                    Action::PowerSite { site: x, on: false },
                    &[],
                )
            } else {
                b.manual(
                    "confirm the primary datacenter is down",
                    DurationDist::LogNormal {
                        mean: mins(5),
                        sd: mins(2),
                    },
                    &[],
                )
            };
            let validate = b.manual(
                "validate the second datacenter",
                DurationDist::LogNormal {
                    mean: mins(15),
                    sd: mins(5),
                },
                &[],
            );
            let mut activated = Vec::new();
            if dac {
                let stop = b.act(
                    "Stop-DAG -ConfigurationOnly for the primary",
                    Action::StopDag {
                        servers: xm.clone(),
                        from_site: y,
                        configuration_only: true,
                    },
                    &[terminate, validate],
                );
                let stops: Vec<usize> = ym
                    .iter()
                    .map(|&m| {
                        b.act(
                            "net stop clussvc (second datacenter)",
                            Action::ClusterService {
                                server: m,
                                running: false,
                            },
                            &[stop],
                        )
                    })
                    .collect();
                let restore = b.act(
                    "Restore-DAG for the second datacenter",
                    Action::RestoreDag { site: y },
                    &stops,
                );
                let settle = b.delay(
                    "let Active Manager mount",
                    DurationDist::Fixed(mins(2)),
                    &[restore],
                );
                for h in cx.homes_on_site(x) {
                    if let Some(to) = cx.copy_in(h, y) {
                        activated.push(b.push(
                            "Move-ActiveMailboxDatabase where not mounted",
                            StepKind::IfUnserved(
                                h,
                                Action::MoveActive {
                                    home: HomeId::from(h),
                                    to,
                                    skip_checks: true,
                                },
                            ),
                            &[settle],
                        ));
                    }
                }
                activated.push(settle);
            } else {
                let mut term = vec![terminate, validate];
                if partial {
                    for &m in &xm {
                        term.push(b.act(
                            "cluster node /forcecleanup",
                            Action::ForceCleanup { server: m },
                            &[],
                        ));
                    }
                }
                let stops: Vec<usize> = ym
                    .iter()
                    .map(|&m| {
                        b.act(
                            "net stop clussvc",
                            Action::ClusterService {
                                server: m,
                                running: false,
                            },
                            &term,
                        )
                    })
                    .collect();
                let force = b.act(
                    "net start clussvc /forcequorum",
                    Action::ForceQuorum { server: ym[0] },
                    &stops,
                );
                let evicts: Vec<usize> = xm
                    .iter()
                    .map(|&m| {
                        b.act(
                            "evict primary node",
                            Action::EvictNode { server: m },
                            &[force],
                        )
                    })
                    .collect();
                let mut quorum = evicts.clone();
                if ym.len().is_multiple_of(2)
                    && let Some(aw) = w.dag.alternate_witness
                {
                    quorum = vec![b.act(
                        "Set-DAG -WitnessServer",
                        Action::SetWitness { server: aw },
                        &evicts,
                    )];
                }
                let starts: Vec<usize> = ym[1..]
                    .iter()
                    .map(|&m| {
                        b.act(
                            "net start clussvc",
                            Action::ClusterService {
                                server: m,
                                running: true,
                            },
                            &quorum,
                        )
                    })
                    .collect();
                let ready: Vec<usize> = quorum.iter().chain(&starts).copied().collect();
                for h in cx.homes_on_site(x) {
                    if let Some(to) = cx.copy_in(h, y) {
                        activated.push(b.act(
                            "Move-ActiveMailboxDatabase and mount",
                            Action::MoveActive {
                                home: HomeId::from(h),
                                to,
                                skip_checks: true,
                            },
                            &ready,
                        ));
                    }
                }
            }
            // Step 4 (client access DNS) in parallel with step 3.
            let dns: Vec<usize> = [
                RecordKind::ClientAccess,
                RecordKind::Mx,
                RecordKind::UnifiedMessaging,
            ]
            .into_iter()
            .map(|r| {
                b.act(
                    format!("change DNS {r:?}"),
                    Action::ChangeDns { record: r, site: y },
                    &[terminate, validate],
                )
            })
            .collect();
            if name == "switchback" {
                let mut deps = activated.clone();
                deps.extend(&dns);
                let up = b.push(
                    "wait for the primary to be repaired",
                    StepKind::Wait(Cond::SiteUp(x)),
                    &deps,
                );
                let sched = b.delay(
                    "schedule the switchback",
                    DurationDist::Fixed(spec.strategy.switchback_after),
                    &[up],
                );
                let start = b.act(
                    "Start-DAG for the primary",
                    Action::StartDag {
                        servers: xm.clone(),
                        from_site: y,
                    },
                    &[sched],
                );
                let mut resynced = Vec::new();
                for h in cx.homes_on_site(x) {
                    let mut reseeds = vec![start];
                    for c in &w.databases[h].copies {
                        if cx.site(c.server) == x {
                            reseeds.push(b.act(
                                "reseed the primary copy if it failed",
                                Action::Reseed {
                                    home: HomeId::from(h),
                                    server: c.server,
                                },
                                &[start],
                            ));
                        }
                    }
                    resynced.push(b.push(
                        "wait for copies to resynchronise",
                        StepKind::Wait(Cond::CopiesHealthy(h)),
                        &reseeds,
                    ));
                }
                let mut after_sync = resynced.clone();
                after_sync.push(start);
                let witness = match w.dag.witness {
                    Some(ws) => b.act(
                        "witness back to the primary",
                        Action::SetWitness { server: ws },
                        &after_sync,
                    ),
                    None => b.manual(
                        "reapply the quorum model",
                        DurationDist::Fixed(mins(2)),
                        &after_sync,
                    ),
                };
                let outage = b.delay(
                    "outage window starts",
                    DurationDist::Fixed(SimDuration::ZERO),
                    &[witness],
                );
                let mut dismounts = Vec::new();
                for h in cx.homes_on_site(x) {
                    dismounts.push(b.act(
                        "dismount in the second datacenter",
                        Action::Dismount {
                            home: HomeId::from(h),
                            db: DbRef::Original,
                        },
                        &[outage],
                    ));
                }
                let back: Vec<usize> = [
                    RecordKind::ClientAccess,
                    RecordKind::Mx,
                    RecordKind::UnifiedMessaging,
                ]
                .into_iter()
                .map(|r| {
                    b.act(
                        format!("DNS {r:?} back"),
                        Action::ChangeDns { record: r, site: x },
                        &[outage],
                    )
                })
                .collect();
                let ttl = b.delay(
                    "wait for TTL and cache expiry",
                    DurationDist::Fixed(spec.topology.dns.ttl),
                    &back,
                );
                for h in cx.homes_on_site(x) {
                    if let Some(to) = cx.copy_in(h, x) {
                        let mut d = dismounts.clone();
                        d.push(ttl);
                        b.act(
                            "Move-ActiveMailboxDatabase back and mount",
                            Action::MoveActive {
                                home: HomeId::from(h),
                                to,
                                skip_checks: false,
                            },
                            &d,
                        );
                    }
                }
            }
        }
        "restore-only" => {
            let homes = match &f.target {
                Target::Database(_) | Target::Copy(..) | Target::Server(_) => need_db_failure("")?,
                _ => Vec::new(), // a site or network failure: nothing to restore, users wait
            };
            let rebuild = match &f.target {
                Target::Server(s) if f.kind == FailureKind::ServerLoss => vec![b.act(
                    "rebuild the server",
                    Action::RebuildServer { server: *s },
                    &[],
                )],
                _ => Vec::new(),
            };
            for h in homes {
                let restore = b.act(
                    format!("restore {} from backup", names.databases[h]),
                    Action::RestoreInPlace {
                        home: HomeId::from(h),
                    },
                    &rebuild,
                );
                let wait = b.push(
                    "wait for the restore",
                    StepKind::Wait(Cond::RestoreFinished(h)),
                    &[restore],
                );
                b.act(
                    "mount the restored database",
                    Action::Mount {
                        home: HomeId::from(h),
                        db: DbRef::Original,
                    },
                    &[wait],
                );
            }
        }
        _ => unreachable!("every listed strategy is handled"),
    }
    Ok(b.steps)
}

/// Step names of the dial tone / restore / swap / merge procedure in each version's words.
struct Words {
    create: &'static str,
    move_: &'static str,
    mount: &'static str,
    restore: &'static str,
    merge: &'static str,
}

/// 2013 (seed 000, exchange-facts §6).
const SAME_SERVER_2013: Words = Words {
    create: "create dial tone",
    move_: "move mailboxes to dial tone",
    mount: "mount dial tone",
    restore: "restore to recovery database",
    merge: "merge dial tone data",
};

/// 2003 (seed 003): "Use the Copy option", at the same throughput as a merge.
const RSG_2003: Words = Words {
    create: "recreate the mailboxes (empty store)",
    move_: "point the mailboxes at it",
    mount: "mount the new store",
    restore: "restore into the Recovery Storage Group",
    merge: "Recover Mailbox Data: Copy",
};

/// Dial tone on server `s` for group `h`, restore to a recovery database on `s`, swap,
/// then merge (or copy) the dial tone data back: the procedure of 2013 same-server dial
/// tone and of the 2003 Recovery Storage Group alike.
fn dial_tone_swap_merge(b: &mut B, h: usize, s: ServerId, deps: &[usize], w: &Words, db: &str) {
    let create = b.act(
        format!("{} {db}", w.create),
        Action::CreateDialTone {
            home: HomeId::from(h),
            server: s,
        },
        deps,
    );
    let mv = b.act(
        w.move_,
        Action::MoveMailboxes {
            home: HomeId::from(h),
            to: DbRef::DialTone,
        },
        &[create],
    );
    let mount = b.act(
        w.mount,
        Action::Mount {
            home: HomeId::from(h),
            db: DbRef::DialTone,
        },
        &[mv],
    );
    let restore = b.act(
        w.restore,
        Action::RestoreBackup {
            home: HomeId::from(h),
            server: s,
        },
        &[create],
    );
    let wait = b.push(
        "wait for the restore",
        StepKind::Wait(Cond::RestoreFinished(h)),
        &[restore],
    );
    let swap = b.act(
        "swap databases",
        Action::Swap {
            home: HomeId::from(h),
        },
        &[mount, wait],
    );
    b.act(
        w.merge,
        Action::Merge {
            home: HomeId::from(h),
            mailboxes_per_hour: None,
        },
        &[swap],
    );
}

/// Builds a custom playbook from `strategy.steps`.
fn custom(specs: &[StepSpec], cx: &Ctx<'_>) -> Result<Vec<Step>, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut err = |path: String, msg: String| issues.push(Issue { path, message: msg });
    if specs.is_empty() {
        err(
            "strategy.steps".into(),
            "a custom strategy needs at least one step".into(),
        );
    }
    if specs.len() > crate::validate::limits::STEPS {
        err(
            "strategy.steps".into(),
            format!("more than {} steps", crate::validate::limits::STEPS),
        );
    }
    let mut ids = BTreeMap::new();
    for (i, s) in specs.iter().enumerate() {
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
        match custom_kind(s, cx) {
            Ok(kind) => {
                let mut b = B { steps: Vec::new() };
                b.push(s.id.clone(), kind, &after);
                let mut step = b.steps.remove(0);
                if let Some(d) = &s.duration {
                    step.duration = d.0.clone();
                }
                steps.push(step);
            }
            Err((field, msg)) => err(format!("{p}{field}"), msg),
        }
    }
    // A dependency cycle would leave the playbook stuck forever: refuse it.
    if issues.is_empty()
        && let Some(cyc) = find_cycle(&steps)
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

fn find_cycle(steps: &[Step]) -> Option<Vec<String>> {
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

fn custom_kind(s: &StepSpec, cx: &Ctx<'_>) -> Result<StepKind, (String, String)> {
    let names = cx.names;
    let missing = |f: &str| {
        (
            format!(".{f}"),
            format!("action {:?} needs `{f}`", s.action),
        )
    };
    let server = || -> Result<ServerId, (String, String)> {
        let n = s.server.as_deref().ok_or_else(|| missing("server"))?;
        names
            .servers
            .iter()
            .position(|x| x == n)
            .map(ServerId::from)
            .ok_or_else(|| (".server".into(), format!("unknown server {n:?}")))
    };
    let servers = || -> Result<Vec<ServerId>, (String, String)> {
        if s.servers.is_empty() {
            return Err(missing("servers"));
        }
        s.servers
            .iter()
            .map(|n| {
                names
                    .servers
                    .iter()
                    .position(|x| x == n)
                    .map(ServerId::from)
                    .ok_or_else(|| (".servers".into(), format!("unknown server {n:?}")))
            })
            .collect()
    };
    let site = || -> Result<SiteId, (String, String)> {
        let n = s.site.as_deref().ok_or_else(|| missing("site"))?;
        names
            .sites
            .iter()
            .position(|x| x == n)
            .map(SiteId::from)
            .ok_or_else(|| (".site".into(), format!("unknown site {n:?}")))
    };
    let home = || -> Result<usize, (String, String)> {
        let n = s.database.as_deref().ok_or_else(|| missing("database"))?;
        names
            .databases
            .iter()
            .position(|x| x == n)
            .ok_or_else(|| (".database".into(), format!("unknown database {n:?}")))
    };
    let to = || -> Result<DbRef, (String, String)> {
        match s.to.as_deref() {
            None | Some("original") => Ok(DbRef::Original),
            Some("dial-tone") => Ok(DbRef::DialTone),
            Some("recovery") => Ok(DbRef::Recovery),
            Some(o) => Err((
                ".to".into(),
                format!("{o:?}: use original, dial-tone or recovery"),
            )),
        }
    };
    let on = || s.on.ok_or_else(|| missing("on"));
    let a = |a: Action| Ok(StepKind::Act(a));
    match s.action.as_str() {
        "stop-dag" => a(Action::StopDag {
            servers: servers()?,
            from_site: site()?,
            configuration_only: s.configuration_only,
        }),
        "restore-dag" => a(Action::RestoreDag { site: site()? }),
        "start-dag" => a(Action::StartDag {
            servers: servers()?,
            from_site: site()?,
        }),
        "set-witness" => a(Action::SetWitness { server: server()? }),
        "force-quorum" => a(Action::ForceQuorum { server: server()? }),
        "evict-node" => a(Action::EvictNode { server: server()? }),
        "force-cleanup" => a(Action::ForceCleanup { server: server()? }),
        "cluster-service" => a(Action::ClusterService {
            server: server()?,
            running: on()?,
        }),
        "mount" => a(Action::Mount {
            home: HomeId::from(home()?),
            db: to()?,
        }),
        "dismount" => a(Action::Dismount {
            home: HomeId::from(home()?),
            db: to()?,
        }),
        "move-active" => a(Action::MoveActive {
            home: HomeId::from(home()?),
            to: server()?,
            skip_checks: s.skip_checks,
        }),
        "block-activation" => a(Action::BlockActivation {
            server: server()?,
            blocked: on()?,
        }),
        "reseed" => a(Action::Reseed {
            home: HomeId::from(home()?),
            server: server()?,
        }),
        "remove-copy" => a(Action::RemoveCopy {
            home: HomeId::from(home()?),
            server: server()?,
        }),
        "create-dial-tone" => a(Action::CreateDialTone {
            home: HomeId::from(home()?),
            server: server()?,
        }),
        "move-mailboxes" => a(Action::MoveMailboxes {
            home: HomeId::from(home()?),
            to: to()?,
        }),
        "restore-backup" => a(Action::RestoreBackup {
            home: HomeId::from(home()?),
            server: server()?,
        }),
        "restore-in-place" => a(Action::RestoreInPlace {
            home: HomeId::from(home()?),
        }),
        "swap" => a(Action::Swap {
            home: HomeId::from(home()?),
        }),
        "merge" => a(Action::Merge {
            home: HomeId::from(home()?),
            mailboxes_per_hour: None,
        }),
        "reconfigure-profiles" => a(Action::ReconfigureProfiles {
            home: HomeId::from(home()?),
            server: server()?,
        }),
        "change-dns" => {
            let r = match s.record.as_deref() {
                Some("client-access") => RecordKind::ClientAccess,
                Some("autodiscover") => RecordKind::Autodiscover,
                Some("mx") => RecordKind::Mx,
                Some("unified-messaging") => RecordKind::UnifiedMessaging,
                Some(o) => {
                    return Err((
                        ".record".into(),
                        format!("{o:?}: use client-access, autodiscover, mx or unified-messaging"),
                    ));
                }
                None => return Err(missing("record")),
            };
            a(Action::ChangeDns {
                record: r,
                site: site()?,
            })
        }
        "power-server" => a(Action::PowerServer {
            server: server()?,
            on: on()?,
        }),
        "power-site" => a(Action::PowerSite {
            site: site()?,
            on: on()?,
        }),
        "rebuild-server" => a(Action::RebuildServer { server: server()? }),
        "wait-restore" => Ok(StepKind::Wait(Cond::RestoreFinished(home()?))),
        "wait-merge" => Ok(StepKind::Wait(Cond::MergeFinished(home()?))),
        "wait-copies-healthy" => Ok(StepKind::Wait(Cond::CopiesHealthy(home()?))),
        "wait-site-up" => Ok(StepKind::Wait(Cond::SiteUp(site()?))),
        "manual" => Ok(StepKind::Manual),
        "delay" => Ok(StepKind::Delay),
        other => Err((
            ".action".into(),
            format!("unknown action {other:?}; see `dialtone list actions`"),
        )),
    }
}

/// Action names a custom step can use, for `dialtone list actions`.
pub const ACTIONS: &[&str] = &[
    "stop-dag",
    "restore-dag",
    "start-dag",
    "set-witness",
    "force-quorum",
    "evict-node",
    "force-cleanup",
    "cluster-service",
    "mount",
    "dismount",
    "move-active",
    "block-activation",
    "reseed",
    "remove-copy",
    "create-dial-tone",
    "move-mailboxes",
    "restore-backup",
    "restore-in-place",
    "swap",
    "merge",
    "reconfigure-profiles",
    "change-dns",
    "power-server",
    "power-site",
    "rebuild-server",
    "wait-restore",
    "wait-merge",
    "wait-copies-healthy",
    "wait-site-up",
    "manual",
];
