//! Custom playbooks: the steps written in `strategy.steps`, each an [`ActionSpec`] whose
//! names are resolved here into the model's ids.

use dialtone_model::dns::RecordKind;
use dialtone_model::world::{Action, DbRef};
use dialtone_model::{HomeId, ServerId, SiteId};

use super::{Cond, Org, StepKind};
use crate::spec::{ActionSpec, DbRefSpec, RecordSpec};
use crate::validate::lookup;

/// A problem with one field of a step: (`.field`, message).
pub(crate) type FieldError = (String, String);

/// The step kind of a custom step, its names resolved against the organisation.
pub(crate) fn step_kind(a: &ActionSpec, org: Org<'_>) -> Result<StepKind, FieldError> {
    let names = org.names;
    let server = |n: &str| lookup::<ServerId>(&names.servers, n, "server").map_err(at(".server"));
    let site = |n: &str| lookup::<SiteId>(&names.sites, n, "site").map_err(at(".site"));
    let home = |n: &str| lookup::<HomeId>(&names.databases, n, "database").map_err(at(".database"));
    let servers = |ns: &[String]| -> Result<Vec<ServerId>, FieldError> {
        if ns.is_empty() {
            return Err((
                ".servers".into(),
                format!(
                    "action {:?} needs at least one server in `servers`",
                    name(a)
                ),
            ));
        }
        ns.iter()
            .map(|n| lookup::<ServerId>(&names.servers, n, "server").map_err(at(".servers")))
            .collect()
    };
    use ActionSpec as A;
    let act = |x: Action| Ok(StepKind::Act(x));
    match a {
        A::StopDag {
            servers: s,
            site: y,
            configuration_only,
        } => act(Action::StopDag {
            servers: servers(s)?,
            from_site: site(y)?,
            configuration_only: *configuration_only,
        }),
        A::RestoreDag { site: y } => act(Action::RestoreDag { site: site(y)? }),
        A::StartDag {
            servers: s,
            site: y,
        } => act(Action::StartDag {
            servers: servers(s)?,
            from_site: site(y)?,
        }),
        A::SetWitness { server: s } => act(Action::SetWitness { server: server(s)? }),
        A::ForceQuorum { server: s } => act(Action::ForceQuorum { server: server(s)? }),
        A::EvictNode { server: s } => act(Action::EvictNode { server: server(s)? }),
        A::ForceCleanup { server: s } => act(Action::ForceCleanup { server: server(s)? }),
        A::ClusterService { server: s, on } => act(Action::ClusterService {
            server: server(s)?,
            running: *on,
        }),
        A::Mount { database, to } => act(Action::Mount {
            home: home(database)?,
            db: db_ref(*to),
        }),
        A::Dismount { database, to } => act(Action::Dismount {
            home: home(database)?,
            db: db_ref(*to),
        }),
        A::MoveActive {
            database,
            server: s,
            skip_checks,
        } => act(Action::MoveActive {
            home: home(database)?,
            to: server(s)?,
            skip_checks: *skip_checks,
        }),
        A::BlockActivation { server: s, on } => act(Action::BlockActivation {
            server: server(s)?,
            blocked: *on,
        }),
        A::Reseed {
            database,
            server: s,
        } => act(Action::Reseed {
            home: home(database)?,
            server: server(s)?,
        }),
        A::RemoveCopy {
            database,
            server: s,
        } => act(Action::RemoveCopy {
            home: home(database)?,
            server: server(s)?,
        }),
        A::CreateDialTone {
            database,
            server: s,
        } => act(Action::CreateDialTone {
            home: home(database)?,
            server: server(s)?,
        }),
        A::MoveMailboxes { database, to } => act(Action::MoveMailboxes {
            home: home(database)?,
            to: db_ref(*to),
        }),
        A::RestoreBackup {
            database,
            server: s,
        } => act(Action::RestoreBackup {
            home: home(database)?,
            server: server(s)?,
        }),
        A::RestoreInPlace { database } => act(Action::RestoreInPlace {
            home: home(database)?,
        }),
        A::Resubmit { database } => act(Action::ResubmitRequest {
            home: home(database)?,
        }),
        A::Swap { database } => act(Action::Swap {
            home: home(database)?,
        }),
        A::Merge { database } => act(Action::Merge {
            home: home(database)?,
            mailboxes_per_hour: None,
        }),
        A::ReconfigureProfiles {
            database,
            server: s,
        } => act(Action::ReconfigureProfiles {
            home: home(database)?,
            server: server(s)?,
        }),
        A::ChangeDns { record, site: y } => act(Action::ChangeDns {
            record: record_kind(*record),
            site: site(y)?,
        }),
        A::PowerServer { server: s, on } => act(Action::PowerServer {
            server: server(s)?,
            on: *on,
        }),
        A::PowerSite { site: y, on } => act(Action::PowerSite {
            site: site(y)?,
            on: *on,
        }),
        A::RebuildServer { server: s } => act(Action::RebuildServer { server: server(s)? }),
        A::WaitRestore { database } => Ok(StepKind::Wait(Cond::RestoreFinished(home(database)?))),
        A::WaitMerge { database } => Ok(StepKind::Wait(Cond::MergeFinished(home(database)?))),
        A::WaitCopiesHealthy { database } => {
            Ok(StepKind::Wait(Cond::CopiesHealthy(home(database)?)))
        }
        A::WaitSiteUp { site: y } => Ok(StepKind::Wait(Cond::SiteUp(site(y)?))),
        A::Manual {} => Ok(StepKind::Manual),
        A::Delay {} => Ok(StepKind::Delay),
    }
}

fn at(field: &'static str) -> impl Fn(String) -> FieldError {
    move |msg| (field.to_owned(), msg)
}

/// The action's name as written in files.
fn name(a: &ActionSpec) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.get("action").and_then(|n| n.as_str().map(str::to_owned)))
        .unwrap_or_default()
}

fn db_ref(r: DbRefSpec) -> DbRef {
    match r {
        DbRefSpec::Original => DbRef::Original,
        DbRefSpec::DialTone => DbRef::DialTone,
        DbRefSpec::Recovery => DbRef::Recovery,
    }
}

fn record_kind(r: RecordSpec) -> RecordKind {
    match r {
        RecordSpec::ClientAccess => RecordKind::ClientAccess,
        RecordSpec::Autodiscover => RecordKind::Autodiscover,
        RecordSpec::Mx => RecordKind::Mx,
        RecordSpec::UnifiedMessaging => RecordKind::UnifiedMessaging,
    }
}
