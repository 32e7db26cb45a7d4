//! The recovery strategies: one enum, one table. Each row gives a strategy's name in
//! files and on the command line, its one-line description (`dialtone list strategies`),
//! the seed document it comes from, its answer to every failure kind (the strategy ×
//! failure matrix of docs/SCENARIOS.md: steps, no action by design, or a refusal with the
//! reason), and the planner that validates it against an organisation and resolves what
//! its playbook works on (`validate::strategy`); the playbook itself is built from that
//! resolution (`playbook::build`). A new strategy is a variant, a row, an answer function
//! and a planner; a new failure kind does not compile until every answer function
//! answers it.

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
    /// 2003: remove mailboxes, rebuild, recreate them, Recovery Storage Group, swap, copy.
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
    /// Its answer to each failure kind (an exhaustive match).
    answers: fn(FailureKind) -> Answer,
    planner: Planner,
}

/// How a strategy answers a failure kind: one cell of the strategy × failure matrix
/// (docs/SCENARIOS.md, "Which strategy answers which failure").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Its playbook responds with administrator steps.
    Steps,
    /// No administrator action, by design (`none`; `automatic-site-failover`: Active
    /// Manager alone).
    NoAction,
    /// Refused at validation, with the reason (and what to use instead).
    Refused(&'static str),
}

use FailureKind::{
    DatabaseCorruption, DiskLoss, DnsServerLoss, PartialDatacenter, ServerLoss, ServerOutage,
    SitePowerLoss, WanCut, WitnessLoss,
};

/// A server that comes back with its disks.
const OUTAGE: &str = "the server comes back with its disks, so there is nothing to restore or replace: Active Manager activates other copies and users wait for the repair (use none, or a custom playbook)";
/// A datacenter failure to a dial tone or restore strategy.
const DATACENTER_FAILURE: &str = "a datacenter failure loses no data, it stops a site: use datacenter-switchover-dac, datacenter-switchover-non-dac, switchback or automatic-site-failover (or none: users wait for the repair)";
/// Failures that lose no mailbox data and stop no database by themselves.
const NO_DATA_LOST: &str = "it loses no mailbox database: nothing to restore or switch over; the DAG rides it out (use none, or a custom playbook)";
/// A server or database failure to a datacenter strategy.
const NOT_A_DATACENTER: &str = "a server or database failure is not a datacenter failure: Active Manager activates another copy; use a dial tone or restore strategy to recover lost data (seed 004 switches over after the loss of a datacenter)";

/// `dial-tone-same-server`.
fn same_server_answers(k: FailureKind) -> Answer {
    match k {
        DatabaseCorruption | DiskLoss => Answer::Steps,
        ServerLoss => Answer::Refused(
            "the failed database's server is gone and same-server dial tone needs it running: use dial-tone-alternate-server or dial-tone-rsg-2003",
        ),
        ServerOutage => Answer::Refused(OUTAGE),
        SitePowerLoss | PartialDatacenter => Answer::Refused(DATACENTER_FAILURE),
        WanCut | WitnessLoss | DnsServerLoss => Answer::Refused(NO_DATA_LOST),
    }
}

/// `dial-tone-alternate-server`, `dial-tone-alternate-stay`, `dial-tone-rsg-2003`.
fn server_or_database_answers(k: FailureKind) -> Answer {
    match k {
        DatabaseCorruption | DiskLoss | ServerLoss => Answer::Steps,
        ServerOutage => Answer::Refused(OUTAGE),
        SitePowerLoss | PartialDatacenter => Answer::Refused(DATACENTER_FAILURE),
        WanCut | WitnessLoss | DnsServerLoss => Answer::Refused(NO_DATA_LOST),
    }
}

/// The datacenter switchovers and `switchback`.
fn datacenter_answers(k: FailureKind) -> Answer {
    match k {
        SitePowerLoss | PartialDatacenter => Answer::Steps,
        DatabaseCorruption | DiskLoss | ServerLoss | ServerOutage => {
            Answer::Refused(NOT_A_DATACENTER)
        }
        WanCut => Answer::Refused(
            "a WAN cut leaves both datacenters running: the side with quorum keeps serving; seed 004 switches over after the loss of a datacenter (use none)",
        ),
        WitnessLoss | DnsServerLoss => Answer::Refused(NO_DATA_LOST),
    }
}

/// `automatic-site-failover`: Active Manager alone, except against a corruption it copies.
fn automatic_site_failover_answers(k: FailureKind) -> Answer {
    match k {
        DatabaseCorruption => Answer::Refused(
            "the corruption replicates to every copy that replays it, so Active Manager cannot recover it: use a dial tone strategy or restore-only",
        ),
        DiskLoss | ServerLoss | ServerOutage | SitePowerLoss | WanCut | WitnessLoss
        | PartialDatacenter | DnsServerLoss => Answer::NoAction,
    }
}

/// `restore-only`: restores what was lost; a failure that loses nothing is refused.
fn restore_only_answers(k: FailureKind) -> Answer {
    match k {
        DatabaseCorruption | DiskLoss | ServerLoss => Answer::Steps,
        ServerOutage => Answer::Refused(OUTAGE),
        SitePowerLoss | PartialDatacenter => Answer::Refused(DATACENTER_FAILURE),
        WanCut | WitnessLoss | DnsServerLoss => Answer::Refused(NO_DATA_LOST),
    }
}

/// `none`.
fn none_answers(k: FailureKind) -> Answer {
    match k {
        DatabaseCorruption | DiskLoss | ServerLoss | ServerOutage | SitePowerLoss | WanCut
        | WitnessLoss | PartialDatacenter | DnsServerLoss => Answer::NoAction,
    }
}

/// `custom`: the file's steps, whatever failed.
fn custom_answers(k: FailureKind) -> Answer {
    match k {
        DatabaseCorruption | DiskLoss | ServerLoss | ServerOutage | SitePowerLoss | WanCut
        | WitnessLoss | PartialDatacenter | DnsServerLoss => Answer::Steps,
    }
}

/// Every strategy, in `dialtone list strategies` order.
const TABLE: &[Row] = &[
    Row {
        strategy: Strategy::DialToneSameServer,
        name: "dial-tone-same-server",
        description: "2013: empty dial tone database on the same server, restore to a recovery database, swap, merge",
        source: "seeds 000/001 (Exchange 2013 dial tone portability, same server)",
        answers: same_server_answers,
        planner: plan::same_server,
    },
    Row {
        strategy: Strategy::DialToneAlternateServer,
        name: "dial-tone-alternate-server",
        description: "2013/2007 portability: dial tone on another server, profiles changed, original restored, mailboxes moved back, merge",
        source: "seeds 000/001 (2013, alternate server) and 002 (2007 portability, Outlook reconfiguration)",
        answers: server_or_database_answers,
        planner: plan::alternate_server,
    },
    Row {
        strategy: Strategy::DialToneAlternateStay,
        name: "dial-tone-alternate-stay",
        description: "2013: dial tone on another server and stay there; restore to a recovery database and merge history in",
        source: "seeds 000/001 (Exchange 2013 dial tone portability, stay on the alternate)",
        answers: server_or_database_answers,
        planner: plan::alternate_stay,
    },
    Row {
        strategy: Strategy::DialToneRsg2003,
        name: "dial-tone-rsg-2003",
        description: "2003: remove the old mailboxes, rebuild the server from bare metal, recreate them, restore to a Recovery Storage Group, swap, Copy (or Merge; ExMerge without SP1)",
        source: "seed 003 (Exchange 2003 dial tone with the Recovery Storage Group)",
        answers: server_or_database_answers,
        planner: plan::rsg_2003,
    },
    Row {
        strategy: Strategy::DatacenterSwitchoverDac,
        name: "datacenter-switchover-dac",
        description: "DAC mode: Stop-DAG, Restore-DAG with the alternate witness, activate databases, DNS for client access, MX and UM",
        source: "seed 004 (datacenter switchovers, DAC mode)",
        answers: datacenter_answers,
        planner: plan::switchover_dac,
    },
    Row {
        strategy: Strategy::DatacenterSwitchoverNonDac,
        name: "datacenter-switchover-non-dac",
        description: "cluster tools: force quorum, evict, new witness or node majority, Move-ActiveMailboxDatabase, DNS",
        source: "seed 004 (datacenter switchovers without DAC mode)",
        answers: datacenter_answers,
        planner: plan::switchover_non_dac,
    },
    Row {
        strategy: Strategy::AutomaticSiteFailover,
        name: "automatic-site-failover",
        description: "witness in a third site: Active Manager alone, clients fail over through a multi-IP namespace",
        source: "exchange-facts §2 (witness in a third datacenter)",
        answers: automatic_site_failover_answers,
        planner: plan::automatic_site_failover,
    },
    Row {
        strategy: Strategy::Switchback,
        name: "switchback",
        description: "DAC switchover, then after the repair: Start-DAG, resynchronise, witness back, dismount, DNS back and wait, move, mount",
        source: "seed 004 (Mailbox Server Role Switchback)",
        answers: datacenter_answers,
        planner: plan::switchback,
    },
    Row {
        strategy: Strategy::RestoreOnly,
        name: "restore-only",
        description: "baseline: no dial tone; restore the database from backup while users wait",
        source: "baseline (seeds 000-003: what dial tone is measured against)",
        answers: restore_only_answers,
        planner: plan::restore_only,
    },
    Row {
        strategy: Strategy::None,
        name: "none",
        description: "no administrator action: Active Manager and repairs only",
        source: "baseline",
        answers: none_answers,
        planner: plan::nothing,
    },
    Row {
        strategy: Strategy::Custom,
        name: "custom",
        description: "the steps listed in strategy.steps",
        source: "the scenario file",
        answers: custom_answers,
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

    /// Its answer to a failure kind (the strategy × failure matrix).
    pub fn answer(self, kind: FailureKind) -> Answer {
        (self.row().answers)(kind)
    }

    /// Whether it answers a failure kind (with steps or by design with none).
    pub fn responds_to(self, kind: FailureKind) -> bool {
        !matches!(self.answer(kind), Answer::Refused(_))
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

    /// The matrix's columns are every failure kind once: a kind missing from
    /// `FailureKind::ALL` would escape the matrix test (tests/it/matrix.rs).
    #[test]
    fn every_failure_kind_is_a_column_once() {
        let position = |k: FailureKind| match k {
            DatabaseCorruption => 0,
            DiskLoss => 1,
            ServerLoss => 2,
            ServerOutage => 3,
            SitePowerLoss => 4,
            WanCut => 5,
            WitnessLoss => 6,
            PartialDatacenter => 7,
            DnsServerLoss => 8,
        };
        for (i, k) in FailureKind::ALL.iter().enumerate() {
            assert_eq!(position(*k), i, "{k:?}");
            let json = serde_json::to_string(k).expect("serialise");
            assert_eq!(json, format!("{:?}", k.name()));
        }
    }

    #[test]
    fn answering_a_kind_is_not_refusing_it() {
        assert!(Strategy::RestoreOnly.responds_to(ServerLoss));
        assert!(!Strategy::RestoreOnly.responds_to(SitePowerLoss));
        assert!(Strategy::None.responds_to(SitePowerLoss));
        assert_eq!(Strategy::None.answer(WanCut), Answer::NoAction);
    }

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
