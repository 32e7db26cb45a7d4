//! Warnings: a scenario that is valid but probably not what its organisation means. They
//! never fail validation; `dialtone validate` and `dialtone run` print them on stderr.

use std::fmt;

use dialtone_model::dns::RecordKind;
use dialtone_model::world::{Action, ServiceKind, WorldConfig};

use dialtone_engine::SimTime;

use super::{Failure, Names, Target, When};
use crate::playbook::{Step, StepKind};
use crate::spec::FailureKind;

/// Something legal that is probably a mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The strategy restores a database from backup and relies on rolling its logs
    /// forward, but the database has circular logging on: the logs since the backup are
    /// truncated, so the mail since the backup is lost from the restored database unless
    /// Safety Net resubmits it (rule `db.restore`).
    CircularLoggingRollForward {
        /// Index of the database in `topology.databases`.
        index: usize,
        /// Its name.
        database: String,
    },
    /// A datacenter failure stops the transport of the site the MX record names, the
    /// edge is active-passive (only that site accepts inbound mail), and the playbook
    /// never moves the MX record: inbound mail waits at the senders for the repair and
    /// bounces after their expiry, however soon users are back.
    InboundMailStopped {
        /// Index of the failure in `failures`.
        failure: usize,
        /// The site the MX record names.
        site: String,
    },
    /// A copy of a database is lagged by more than Safety Net holds mail: activating it
    /// loses the mail between the Safety Net hold and the lag for good (rule
    /// `transport.safety_net_lag`).
    SafetyNetShorterThanLag {
        /// Index of the database in `topology.databases`.
        index: usize,
        /// Its name.
        database: String,
    },
    /// The strategy restores a database from backup, but the failure comes before the
    /// first backup: the restore will be refused (rule `db.restore_needs_backup`).
    FailureBeforeFirstBackup {
        /// Index of the failure in `failures`.
        failure: usize,
    },
    /// The playbook marks servers stopped (Stop-DatabaseAvailabilityGroup) and never
    /// starts them again nor removes their copies: a stopped copy receives no logs, so
    /// it blocks log truncation and the database's log volume fills before the horizon
    /// (rules `db.truncation`, `strategy.stopped_copies_fill`).
    StoppedCopiesFillLogVolume {
        /// Index of the database in `topology.databases` that fills first.
        index: usize,
        /// Its name.
        database: String,
        /// Whole days from the first failure until its log volume is full.
        days: u64,
        /// How many databases fill before the horizon.
        count: usize,
    },
}

impl Warning {
    /// JSON path of the field to change.
    pub fn path(&self) -> String {
        match self {
            Warning::CircularLoggingRollForward { index, .. } => {
                format!("topology.databases[{index}].circular_logging")
            }
            Warning::InboundMailStopped { .. } => "topology.transport.edge".into(),
            Warning::FailureBeforeFirstBackup { .. } => "topology.backup.first".into(),
            Warning::SafetyNetShorterThanLag { .. } => "topology.transport.safety_net_hold".into(),
            Warning::StoppedCopiesFillLogVolume { .. } => "topology.replication.log_volume".into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CircularLoggingRollForward { database, .. } => write!(
                f,
                "{}: circular logging is on for {database:?}, but the strategy restores it \
                 from backup and rolls its logs forward: circular logging truncates them, so \
                 the mail since the backup is lost unless Safety Net resubmits it (set \
                 circular_logging to false, the default when backups are taken)",
                self.path()
            ),
            Warning::InboundMailStopped { failure, site } => write!(
                f,
                "{}: failures[{failure}] stops transport in {site:?}, the only site that \
                 accepts inbound mail (active-passive edge, MX record on {site:?}), and the \
                 strategy never moves the MX record: inbound mail cannot arrive until the \
                 repair and bounces after the senders' expiry, even if users are back \
                 (set edge to active-active, or use a strategy that changes the MX record)",
                self.path()
            ),
            Warning::SafetyNetShorterThanLag { database, .. } => write!(
                f,
                "{}: a copy of {database:?} is lagged by more than Safety Net holds mail: \
                 activating it loses the mail older than the hold for good (set \
                 safety_net_hold to at least the longest replay lag)",
                self.path()
            ),
            Warning::FailureBeforeFirstBackup { failure } => write!(
                f,
                "{}: failures[{failure}] comes before the first backup, and the strategy \
                 restores from backup: with no backup there is nothing to restore, so the \
                 restore will be refused and the users keep what the strategy gives them \
                 until then (move backup.first earlier or the failure later)",
                self.path()
            ),
            Warning::StoppedCopiesFillLogVolume {
                database,
                days,
                count,
                ..
            } => write!(
                f,
                "{}: the strategy marks servers stopped and never starts them again or \
                 removes their copies, so those copies block log truncation: the log \
                 volume of {database:?} fills about {days} days after the first failure \
                 ({count} database(s) fill before run.horizon) and the database dismounts \
                 (add the switchback, Start-DatabaseAvailabilityGroup, or \
                 Remove-MailboxDatabaseCopy for the stopped copies, enlarge log_volume, or \
                 shorten run.horizon)",
                self.path()
            ),
        }
    }
}

/// Every warning for a world, its failures and its playbook: databases in order, then
/// failures in order.
pub(crate) fn warnings(
    world: &WorldConfig,
    names: &Names,
    failures: &[Failure],
    playbook: &[Step],
    horizon: SimTime,
) -> Vec<Warning> {
    let mut out = circular_logging(world, names, playbook);
    out.extend(inbound_mail(world, names, failures, playbook));
    out.extend(before_first_backup(world, failures, playbook));
    out.extend(safety_net_lag(world, names));
    out.extend(stopped_copies(world, names, failures, playbook, horizon));
    out
}

/// Per database of `world`: whether one of its copies is on a server the playbook marks
/// stopped (Stop-DAG) and never starts (Start-DAG) nor removes the copy of.
fn left_stopped(world: &WorldConfig, playbook: &[Step]) -> Vec<bool> {
    let mut stopped = vec![false; world.servers.len()];
    let mut removed = Vec::new();
    for a in playbook.iter().filter_map(action) {
        match a {
            Action::StopDag { servers, .. } | Action::StartDag { servers, .. } => {
                let on = matches!(a, Action::StopDag { .. });
                for s in servers {
                    if let Some(x) = stopped.get_mut(s.index()) {
                        *x = on;
                    }
                }
            }
            Action::RemoveCopy { home, server } => removed.push((home.index(), *server)),
            _ => {}
        }
    }
    world
        .databases
        .iter()
        .enumerate()
        .map(|(d, db)| {
            db.copies.iter().any(|c| {
                stopped.get(c.server.index()) == Some(&true) && !removed.contains(&(d, c.server))
            })
        })
        .collect()
}

/// Rule `strategy.stopped_copies_fill`: databases whose log volume fills before the
/// horizon because a copy is left stopped. Logs a day: the database's users x messages
/// a day x message size / 1 MB (`db.log_generation`); the clock starts at the first
/// failure at a fixed time (at 0 when every failure is random).
fn stopped_copies(
    world: &WorldConfig,
    names: &Names,
    failures: &[Failure],
    playbook: &[Step],
    horizon: SimTime,
) -> Vec<Warning> {
    let start = failures
        .iter()
        .filter_map(|f| match f.when {
            When::At { at, .. } => Some(at),
            _ => None,
        })
        .min()
        .unwrap_or(SimTime::ZERO);
    let days_left = (horizon.as_secs_f64() - start.as_secs_f64()) / 86_400.0;
    let mut users = vec![0u64; world.databases.len()];
    for c in &world.cohorts {
        if let Some(u) = users.get_mut(c.home.index()) {
            *u += c.users;
        }
    }
    let fills: Vec<(usize, f64)> = left_stopped(world, playbook)
        .iter()
        .enumerate()
        .filter(|&(_, &s)| s)
        .filter_map(|(d, _)| {
            let p = &world.databases[d].params;
            let logs_a_day =
                users[d] as f64 * world.mail.messages_per_user_per_day * p.message_kb as f64
                    / 1024.0;
            let days = p.log_volume_logs as f64 / logs_a_day;
            (days < days_left).then_some((d, days))
        })
        .collect();
    let first = fills.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    first
        .map(|&(index, days)| Warning::StoppedCopiesFillLogVolume {
            index,
            database: names.databases.get(index).cloned().unwrap_or_default(),
            days: days as u64,
            count: fills.len(),
        })
        .into_iter()
        .collect()
}

/// Rule `transport.safety_net_lag`: databases with a copy lagged longer than the hold.
fn safety_net_lag(world: &WorldConfig, names: &Names) -> Vec<Warning> {
    let hold = world.transport.safety_net_hold;
    world
        .databases
        .iter()
        .enumerate()
        .filter(|(_, db)| db.copies.iter().any(|c| c.replay_lag > hold))
        .map(|(index, _)| Warning::SafetyNetShorterThanLag {
            index,
            database: names.databases.get(index).cloned().unwrap_or_default(),
        })
        .collect()
}

/// Rule `db.restore_needs_backup`: failures at a fixed time before the first backup, when
/// the playbook restores.
fn before_first_backup(
    world: &WorldConfig,
    failures: &[Failure],
    playbook: &[Step],
) -> Vec<Warning> {
    if !restored(world, playbook).contains(&true) || world.timing.backup_every.is_none() {
        return Vec::new();
    }
    let first = SimTime::ZERO.saturating_add(world.timing.backup_first);
    failures
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.when, When::At { at, .. } if at < first))
        .map(|(failure, _)| Warning::FailureBeforeFirstBackup { failure })
        .collect()
}

/// The action of a step that acts.
fn action(step: &Step) -> Option<&Action> {
    match &step.kind {
        StepKind::Act(a) | StepKind::IfUnserved(_, a) | StepKind::OrElse(a, _) => Some(a),
        StepKind::Wait(_) | StepKind::Manual | StepKind::Delay => None,
    }
}

/// Per database of `world`: whether a step of `playbook` restores it from backup.
pub(super) fn restored(world: &WorldConfig, playbook: &[Step]) -> Vec<bool> {
    let mut restored = vec![false; world.databases.len()];
    for a in playbook.iter().filter_map(action) {
        if let Action::RestoreBackup { home, .. } | Action::RestoreInPlace { home } = a
            && let Some(r) = restored.get_mut(home.index())
        {
            *r = true;
        }
    }
    restored
}

fn circular_logging(world: &WorldConfig, names: &Names, playbook: &[Step]) -> Vec<Warning> {
    let restored = restored(world, playbook);
    world
        .databases
        .iter()
        .enumerate()
        .filter(|&(i, db)| restored[i] && db.params.circular_logging)
        .map(|(index, _)| Warning::CircularLoggingRollForward {
            index,
            database: names.databases.get(index).cloned().unwrap_or_default(),
        })
        .collect()
}

/// Rule `strategy.inbound_mail_warning`: a datacenter failure that stops the MX site's
/// transport with an active-passive edge, and no step that moves the MX record away.
fn inbound_mail(
    world: &WorldConfig,
    names: &Names,
    failures: &[Failure],
    playbook: &[Step],
) -> Vec<Warning> {
    if world.mail.edge_active_active {
        return Vec::new();
    }
    let mx = world.dns.mx_site;
    let moves_mx = playbook
        .iter()
        .filter_map(action)
        .any(|a| matches!(a, Action::ChangeDns { record: RecordKind::Mx, site } if *site != mx));
    if moves_mx {
        return Vec::new();
    }
    let stops_mx = |f: &Failure| match (&f.kind, &f.target) {
        (FailureKind::SitePowerLoss, Target::Site(s)) => *s == mx,
        (FailureKind::PartialDatacenter, Target::Partial(s, services)) => {
            *s == mx && services.contains(&ServiceKind::Transport)
        }
        _ => false,
    };
    failures
        .iter()
        .enumerate()
        .filter(|(_, f)| stops_mx(f))
        .map(|(failure, _)| Warning::InboundMailStopped {
            failure,
            site: names.sites.get(mx.index()).cloned().unwrap_or_default(),
        })
        .collect()
}
