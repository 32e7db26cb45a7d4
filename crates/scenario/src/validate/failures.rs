//! `failures`: what fails (resolved to ids), when (scripted or stochastic), for how
//! long, and which crew repairs it (`crews`, `strategy.operators.count`).

use dialtone_model::world::ServiceKind;
use dialtone_model::world::WorldConfig;
use dialtone_model::{DatabaseId, LinkId, ServerId, SiteId};

use super::{Crew, Failure, Names, OPERATORS, Target, Validator, When, find, limits, list};
use crate::spec::{FailureKind, FailureSpec, ScenarioSpec};

impl Validator {
    /// The operators (`strategy.operators.count`) and the file's repair crews, in that
    /// order.
    pub(super) fn crews(&mut self, s: &ScenarioSpec) -> Vec<Crew> {
        let max = limits::CREW_SIZE;
        let mut count = |path: &str, n: u32| {
            if n == 0 || n > max {
                self.err(
                    path,
                    format!("{n} people: a crew needs between 1 and {max} (each does one piece of work at a time)"),
                );
            }
        };
        count("strategy.operators.count", s.strategy.operators.count);
        for (i, c) in s.crews.iter().enumerate() {
            count(&format!("crews[{i}].count"), c.count);
        }
        if s.crews.len() > limits::CREWS {
            self.err("crews", format!("more than {} crews", limits::CREWS));
        }
        let names: Vec<String> = s.crews.iter().map(|c| c.name.clone()).collect();
        self.unique("crews", &names, "crew");
        for (i, c) in s.crews.iter().enumerate() {
            if c.name == OPERATORS {
                self.err(
                    format!("crews[{i}].name"),
                    "\"operators\" names the strategy's administrators (strategy.operators.count); choose another name",
                );
            }
        }
        let mut crews = vec![Crew {
            name: OPERATORS.to_owned(),
            count: s.strategy.operators.count,
        }];
        crews.extend(s.crews.iter().map(|c| Crew {
            name: c.name.clone(),
            count: c.count,
        }));
        crews
    }

    pub(super) fn failures(
        &mut self,
        s: &ScenarioSpec,
        names: &Names,
        world: &WorldConfig,
        crews: &[Crew],
    ) -> Vec<Failure> {
        if s.failures.len() > limits::FAILURES {
            self.err(
                "failures",
                format!("more than {} failures", limits::FAILURES),
            );
        }
        let mut out = Vec::new();
        for (i, f) in s.failures.iter().enumerate() {
            let path = format!("failures[{i}]");
            let Some(target) = self.target(&path, f, s, names, world) else {
                continue;
            };
            let Some(when) = self.when(&path, f, s) else {
                continue;
            };
            let crew = self.crew(&path, f, &when, crews);
            out.push(Failure {
                kind: f.kind,
                target,
                when,
                crew,
            });
        }
        out
    }

    /// What a failure hits, resolved; an unknown target is reported with what is known.
    fn target(
        &mut self,
        path: &str,
        f: &FailureSpec,
        s: &ScenarioSpec,
        names: &Names,
        world: &WorldConfig,
    ) -> Option<Target> {
        let t = f.target.as_str();
        let target = match f.kind {
            FailureKind::SitePowerLoss => {
                find(&names.sites, t).map(|x| Target::Site(SiteId::from(x)))
            }
            FailureKind::ServerLoss | FailureKind::ServerOutage => find(&names.servers, t)
                .filter(|&x| x < s.topology.servers.len())
                .map(|x| Target::Server(ServerId::from(x))),
            FailureKind::DatabaseCorruption => {
                find(&names.databases, t).map(|x| Target::Database(DatabaseId::from(x)))
            }
            FailureKind::DiskLoss => t.split_once('@').and_then(|(d, sv)| {
                let di = find(&names.databases, d)?;
                let si = find(&names.servers, sv)?;
                let ci = world.databases[di]
                    .copies
                    .iter()
                    .position(|c| c.server.index() == si)?;
                Some(Target::Copy(DatabaseId::from(di), ci))
            }),
            FailureKind::WanCut => find(&names.links, t).map(|x| Target::Link(LinkId::from(x))),
            FailureKind::WitnessLoss => [world.dag.witness, world.dag.alternate_witness]
                .into_iter()
                .flatten()
                .find(|w| names.servers[w.index()] == t)
                .map(Target::Witness),
            FailureKind::PartialDatacenter => {
                let mut svc = Vec::new();
                for (j, x) in f.services.iter().enumerate() {
                    match x.as_str() {
                        "cluster" => svc.push(ServiceKind::Cluster),
                        "client-access" => svc.push(ServiceKind::ClientAccess),
                        "transport" => svc.push(ServiceKind::Transport),
                        "unified-messaging" => svc.push(ServiceKind::UnifiedMessaging),
                        other => self.err(format!("{path}.services[{j}]"), format!("unknown service {other:?}: use cluster, client-access, transport or unified-messaging")),
                    }
                }
                if f.services.is_empty() {
                    self.err(
                        format!("{path}.services"),
                        "a partial datacenter failure names the services that stop",
                    );
                }
                find(&names.sites, t).map(|x| Target::Partial(SiteId::from(x), svc))
            }
            FailureKind::DnsServerLoss => Some(Target::Dns),
        };
        if target.is_none() {
            let what = match f.kind {
                FailureKind::SitePowerLoss | FailureKind::PartialDatacenter => {
                    format!("a site: {}", list(&names.sites))
                }
                FailureKind::ServerLoss | FailureKind::ServerOutage => {
                    format!(
                        "a mailbox server: {}",
                        list(&names.servers[..s.topology.servers.len().min(names.servers.len())])
                    )
                }
                FailureKind::DatabaseCorruption => {
                    format!("a database: {}", list(&names.databases))
                }
                FailureKind::DiskLoss => "\"DATABASE@SERVER\" naming a copy".to_owned(),
                FailureKind::WanCut => format!("a link: {}", list(&names.links)),
                FailureKind::WitnessLoss => "the witness or alternate witness server".to_owned(),
                FailureKind::DnsServerLoss => String::new(),
            };
            self.err(
                format!("{path}.target"),
                format!("unknown target {t:?}; expected {what}"),
            );
        }
        target
    }

    /// The crew a failure names, resolved; a permanent failure has no repair to do.
    fn crew(&mut self, path: &str, f: &FailureSpec, when: &When, crews: &[Crew]) -> Option<usize> {
        let name = f.crew.as_deref()?;
        let Some(i) = crews.iter().position(|c| c.name == name) else {
            let known: Vec<String> = crews.iter().map(|c| c.name.clone()).collect();
            self.err(
                format!("{path}.crew"),
                format!(
                    "unknown crew {name:?}; crews are {} (define one in `crews`)",
                    list(&known)
                ),
            );
            return None;
        };
        let repaired = match when {
            When::At { repair_after, .. } => repair_after.is_some(),
            When::Stochastic { ttr, .. } => ttr.is_some(),
        };
        if !repaired {
            self.err(
                format!("{path}.crew"),
                "a permanent failure has no repair for a crew to do; give repair_after or time_to_repair, or drop `crew`",
            );
        }
        Some(i)
    }

    /// When a failure happens: scripted (`at`, `repair_after`) or stochastic
    /// (`time_to_failure`, `time_to_repair`), never both.
    fn when(&mut self, path: &str, f: &FailureSpec, s: &ScenarioSpec) -> Option<When> {
        match (&f.at, &f.time_to_failure) {
            (Some(at), None) => {
                if f.time_to_repair.is_some() {
                    self.err(
                        format!("{path}.time_to_repair"),
                        "a scripted failure uses repair_after, not time_to_repair",
                    );
                }
                if let Some(r) = f.repair_after {
                    self.positive(&format!("{path}.repair_after"), r);
                }
                if at.since_start() >= s.run.horizon {
                    self.err(
                        format!("{path}.at"),
                        format!(
                            "{at} is at or after the horizon ({}); it would never happen",
                            s.run.horizon
                        ),
                    );
                }
                Some(When::At {
                    at: *at,
                    repair_after: f.repair_after,
                })
            }
            (None, Some(ttf)) => {
                if f.repair_after.is_some() {
                    self.err(
                        format!("{path}.repair_after"),
                        "a stochastic failure uses time_to_repair, not repair_after",
                    );
                }
                Some(When::Stochastic {
                    ttf: ttf.0.clone(),
                    ttr: f.time_to_repair.as_ref().map(|d| d.0.clone()),
                })
            }
            (Some(_), Some(_)) => {
                self.err(
                    path,
                    "give either `at` (scripted) or `time_to_failure` (stochastic), not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    path,
                    "a failure needs `at` (scripted) or `time_to_failure` (stochastic)",
                );
                None
            }
        }
    }
}
