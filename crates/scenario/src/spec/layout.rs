//! The database layout shorthand: `count` databases named from a pattern, each with
//! `copies` copies spread over `servers` with rotating activation preference. Validation
//! expands it into ordinary databases (`validate::layout`); docs/SCENARIOS.md shows it.
//!
//! ```json
//! {"count": 24, "name": "DB{:02}", "size": "200GB", "users": 12000, "copies": 3,
//!  "servers": ["mbx1", "mbx2", "mbx3", "mbx4", "mbx5", "mbx6"],
//!  "lagged": {"copies": 1, "replay_lag": "7d"}}
//! ```

use dialtone_engine::SimDuration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::units::Size;

/// `count` databases with `copies` copies each, spread over `servers`.
///
/// Placement: the servers are grouped by site in the order they are listed; the copies
/// are shared out over the sites (the first sites take one more when they do not divide
/// evenly); database i (from 0) has its copies in site group g on the servers at
/// positions i, i+1, ... of that group (wrapping round). Activation preference runs
/// through the first site's copies, then the next site's: the active copies rotate over
/// the first site's servers, each holding the active copy of an equal share (±1), as
/// Exchange's DAG design guidance lays them out.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LayoutSpec {
    /// How many databases (1 to 10,000 in all).
    pub count: u32,
    /// Name pattern with one number placeholder: `{}` or zero-padded `{:02}`, `{:03}`
    /// (e.g. `"DB{:02}"` gives DB01, DB02, ...).
    pub name: String,
    /// The first number (default 1).
    #[serde(default = "one")]
    pub first: u32,
    /// Size of each database file.
    pub size: Size,
    /// Mailboxes in each database. Give `mailboxes` or `users`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailboxes: Option<u64>,
    /// Users in all the layout's databases, spread evenly (the first `users % count`
    /// databases take one more). Give `mailboxes` or `users`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u64>,
    /// Copies of each database, lagged ones included (at most the number of servers).
    pub copies: u32,
    /// The servers (DAG members) that hold the copies, grouped by site in this order:
    /// the first listed server's site holds the active copies.
    pub servers: Vec<String>,
    /// Lagged copies: the least preferred copies of each database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lagged: Option<LaggedSpec>,
    /// Circular logging for every database (default as for a database written out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circular_logging: Option<bool>,
}

/// Lagged copies of a layout.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LaggedSpec {
    /// How many of each database's copies are lagged (the least preferred; fewer than
    /// `copies`: the active copy is never lagged).
    pub copies: u32,
    /// Their replay lag (at most 14 days).
    pub replay_lag: SimDuration,
}

fn one() -> u32 {
    1
}
