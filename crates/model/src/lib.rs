//! `dialtone-model`: the physics of the simulated mail organisation. Each module is one
//! component with its rules as named, tested functions; docs/MODEL.md lists every rule
//! with its parameters, defaults and source.
//!
//! The model defines state and how it changes; it never decides which administrator
//! action to take (that is the scenario layer's playbooks).
#![warn(missing_docs, unreachable_pub)]

pub mod active_manager;
pub mod causes;
pub mod clients;
pub mod dac;
pub mod database;
pub mod dns;
mod draw;
pub mod fixtures;
pub mod ids;
pub mod network;
pub mod quorum;
pub mod residual;
pub mod restore;
pub mod seeding;
pub mod server;
pub mod transport;
pub mod world;

pub use ids::{BucketId, CohortId, DatabaseId, HomeId, LinkId, ServerId, SiteId};
