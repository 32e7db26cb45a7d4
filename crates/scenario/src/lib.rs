//! `dialtone-scenario`: scenario files, their validation, failures, recovery playbooks,
//! the runner and the metrics.
//!
//! A file goes through three stages: [`spec::ScenarioSpec`] (serde, unknown fields are
//! errors) → [`validate::Scenario`] (every reference resolved, every limit checked, every
//! problem reported with its JSON path) → [`runner::run`] (a deterministic replication
//! whose [`metrics::Summary`] is summary.json). The crate is the only one that knows the
//! file format. docs/SCENARIOS.md documents every field; docs/METRICS.md every metric.
#![warn(missing_docs, unreachable_pub)]

mod crews;
pub mod fuzzing;
pub mod init;
pub mod metrics;
pub mod playbook;
pub mod runner;
pub mod schema;
pub mod spec;
pub mod strategy;
pub mod units;
pub mod validate;

pub use metrics::Summary;
pub use runner::{RunError, RunOutput, run, run_counted, run_with};
pub use strategy::Strategy;
pub use validate::{Issue, Origin, Scenario, ScenarioError, Warning, load, parse};
