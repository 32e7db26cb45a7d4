//! The recovery strategies: one enum, one table. Each row gives a strategy's name in
//! files and on the command line, its one-line description (`dialtone list strategies`),
//! the seed document it comes from, the failure kinds it responds to, and the planner
//! that validates it against an organisation and resolves what its playbook works on
//! (`validate::strategy`); the playbook itself is built from that resolution
//! (`playbook::build`). A new strategy is a variant, a row and a planner.

use std::fmt;
use std::str::FromStr;

use crate::playbook::Job;
use crate::spec::FailureKind;
use crate::validate::Issue;
use crate::validate::strategy::{self as plan, Input};

/// A recovery strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strategy {
    /// 2013: dial tone on the same server, restore to a recovery database, swap, merge.
    DialToneSameServer,
    /// 2013/2007 portability: dial tone on another server, restore, move back, merge.
    DialToneAlternateServer,
    /// 2013: dial tone on another server and stay there.
    DialToneAlternateStay,
    /// 2003: rebuild, recreate mailboxes, Recovery Storage Group, swap, copy.
    DialToneRsg2003,
    /// Datacenter switchover in DAC mode.
    DatacenterSwitchoverDac,
    /// Datacenter switchover with the cluster tools (no DAC mode).
    DatacenterSwitchoverNonDac,
    /// Witness in a third site: Active Manager alone.
    AutomaticSiteFailover,
    /// DAC switchover, then back to the primary after its repair.
    Switchback,
    /// Baseline: restore from backup while users wait.
    RestoreOnly,
    /// No administrator action.
    None,
    /// The steps listed in `strategy.steps`.
    Custom,
}

/// Validates a strategy against an organisation and resolves what its playbook works on;
/// refusals are issues with the JSON path of the field to change.
pub(crate) type Planner = fn(&Input<'_>) -> Result<Job, Vec<Issue>>;

/// One row of the table.
struct Row {
    strategy: Strategy,
    name: &'static str,
    description: &'static str,
    source: &'static str,
    /// Failure kinds it responds to; `None`: any (the earliest failure).
    responds_to: Option<&'static [FailureKind]>,
    planner: Planner,
}

use FailureKind::{DatabaseCorruption, DiskLoss, PartialDatacenter, ServerLoss, SitePowerLoss};

const DATABASE: &[FailureKind] = &[DatabaseCorruption, DiskLoss];
const SERVER_OR_DATABASE: &[FailureKind] = &[ServerLoss, DatabaseCorruption, DiskLoss];
const DATACENTER: &[FailureKind] = &[SitePowerLoss, PartialDatacenter];

/// Every strategy, in `dialtone list strategies` order.
const TABLE: &[Row] = &[
    Row {
        strategy: Strategy::DialToneSameServer,
        name: "dial-tone-same-server",
        description: "2013: empty dial tone database on the same server, restore to a recovery database, swap, merge",
        source: "seeds 000/001 (Exchange 2013 dial tone portability, same server)",
        responds_to: Some(DATABASE),
        planner: plan::same_server,
    },
    Row {
        strategy: Strategy::DialToneAlternateServer,
        name: "dial-tone-alternate-server",
        description: "2013/2007 portability: dial tone on another server, profiles changed, original restored, mailboxes moved back, merge",
        source: "seeds 000/001 (2013, alternate server) and 002 (2007 portability, Outlook reconfiguration)",
        responds_to: Some(SERVER_OR_DATABASE),
        planner: plan::alternate_server,
    },
    Row {
        strategy: Strategy::DialToneAlternateStay,
        name: "dial-tone-alternate-stay",
        description: "2013: dial tone on another server and stay there; restore to a recovery database and merge history in",
        source: "seeds 000/001 (Exchange 2013 dial tone portability, stay on the alternate)",
        responds_to: Some(SERVER_OR_DATABASE),
        planner: plan::alternate_stay,
    },
    Row {
        strategy: Strategy::DialToneRsg2003,
        name: "dial-tone-rsg-2003",
        description: "2003: rebuild the server, recreate mailboxes, restore to a Recovery Storage Group, swap, Copy the dial tone data",
        source: "seed 003 (Exchange 2003 dial tone with the Recovery Storage Group)",
        responds_to: Some(SERVER_OR_DATABASE),
        planner: plan::rsg_2003,
    },
    Row {
        strategy: Strategy::DatacenterSwitchoverDac,
        name: "datacenter-switchover-dac",
        description: "DAC mode: Stop-DAG, Restore-DAG with the alternate witness, activate databases, DNS for client access, MX and UM",
        source: "seed 004 (datacenter switchovers, DAC mode)",
        responds_to: Some(DATACENTER),
        planner: plan::switchover_dac,
    },
    Row {
        strategy: Strategy::DatacenterSwitchoverNonDac,
        name: "datacenter-switchover-non-dac",
        description: "cluster tools: force quorum, evict, new witness or node majority, Move-ActiveMailboxDatabase, DNS",
        source: "seed 004 (datacenter switchovers without DAC mode)",
        responds_to: Some(DATACENTER),
        planner: plan::switchover_non_dac,
    },
    Row {
        strategy: Strategy::AutomaticSiteFailover,
        name: "automatic-site-failover",
        description: "witness in a third site: Active Manager alone, clients fail over through a multi-IP namespace",
        source: "exchange-facts §2 (witness in a third datacenter)",
        responds_to: None,
        planner: plan::automatic_site_failover,
    },
    Row {
        strategy: Strategy::Switchback,
        name: "switchback",
        description: "DAC switchover, then after the repair: Start-DAG, resynchronise, witness back, dismount, DNS back and wait, move, mount",
        source: "seed 004 (Mailbox Server Role Switchback)",
        responds_to: Some(DATACENTER),
        planner: plan::switchback,
    },
    Row {
        strategy: Strategy::RestoreOnly,
        name: "restore-only",
        description: "baseline: no dial tone; restore the database from backup while users wait",
        source: "baseline (seeds 000-003: what dial tone is measured against)",
        responds_to: None,
        planner: plan::restore_only,
    },
    Row {
        strategy: Strategy::None,
        name: "none",
        description: "no administrator action: Active Manager and repairs only",
        source: "baseline",
        responds_to: None,
        planner: plan::nothing,
    },
    Row {
        strategy: Strategy::Custom,
        name: "custom",
        description: "the steps listed in strategy.steps",
        source: "the scenario file",
        responds_to: None,
        planner: plan::custom,
    },
];

impl Strategy {
    /// Every strategy, in table order.
    pub const ALL: [Strategy; 11] = [
        Strategy::DialToneSameServer,
        Strategy::DialToneAlternateServer,
        Strategy::DialToneAlternateStay,
        Strategy::DialToneRsg2003,
        Strategy::DatacenterSwitchoverDac,
        Strategy::DatacenterSwitchoverNonDac,
        Strategy::AutomaticSiteFailover,
        Strategy::Switchback,
        Strategy::RestoreOnly,
        Strategy::None,
        Strategy::Custom,
    ];

    fn row(self) -> &'static Row {
        // The table lists the variants in declaration order (a test checks it).
        &TABLE[self as usize]
    }

    /// The name in files and on the command line.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// One line for `dialtone list strategies`.
    pub fn description(self) -> &'static str {
        self.row().description
    }

    /// The seed document (or fact) it comes from.
    pub fn source(self) -> &'static str {
        self.row().source
    }

    /// The failure kinds it responds to; `None`: any.
    pub fn responds_to(self) -> Option<&'static [FailureKind]> {
        self.row().responds_to
    }

    pub(crate) fn planner(self) -> Planner {
        self.row().planner
    }

    /// Every name, comma-separated (for messages).
    pub fn names() -> String {
        TABLE.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown strategy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy {0:?}; built-in strategies are {names}", names = Strategy::names())]
pub struct UnknownStrategy(pub String);

impl FromStr for Strategy {
    type Err = UnknownStrategy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TABLE
            .iter()
            .find(|r| r.name == s)
            .map(|r| r.strategy)
            .ok_or_else(|| UnknownStrategy(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_variant_once_in_order() {
        assert_eq!(TABLE.len(), Strategy::ALL.len());
        for (i, s) in Strategy::ALL.iter().enumerate() {
            assert_eq!(TABLE[i].strategy, *s, "row {i}");
            assert_eq!(*s as usize, i);
            assert_eq!(s.name().parse::<Strategy>(), Ok(*s));
            assert!(!s.description().is_empty() && !s.source().is_empty());
        }
        let e = "dial-tone".parse::<Strategy>().unwrap_err().to_string();
        assert!(e.contains("unknown strategy \"dial-tone\"") && e.contains("restore-only"));
    }
}
