//! Warnings: a scenario that is valid but probably not what its organisation means. They
//! never fail validation; `dialtone validate` and `dialtone run` print them on stderr.

use std::fmt;

use dialtone_model::world::{Action, WorldConfig};

use super::Names;
use crate::playbook::{Step, StepKind};

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
}

impl Warning {
    /// JSON path of the field to change.
    pub fn path(&self) -> String {
        match self {
            Warning::CircularLoggingRollForward { index, .. } => {
                format!("topology.databases[{index}].circular_logging")
            }
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
        }
    }
}

/// Every warning for a world and its playbook, in database order.
pub(crate) fn warnings(world: &WorldConfig, names: &Names, playbook: &[Step]) -> Vec<Warning> {
    let mut restored = vec![false; world.databases.len()];
    for step in playbook {
        let action = match &step.kind {
            StepKind::Act(a) | StepKind::IfUnserved(_, a) | StepKind::OrElse(a, _) => a,
            StepKind::Wait(_) | StepKind::Manual | StepKind::Delay => continue,
        };
        if let Action::RestoreBackup { home, .. } | Action::RestoreInPlace { home } = action
            && let Some(r) = restored.get_mut(home.index())
        {
            *r = true;
        }
    }
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
