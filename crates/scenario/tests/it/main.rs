//! The scenario crate's integration tests: every shipped scenario against its golden
//! file, the catalogue of bad files, directions a domain expert expects, determinism.

mod bad;
mod clients;
mod crews;
mod directions;
mod fuzz_replay;
mod golden;
mod init;
mod layout;
mod limits;
mod matrix;
mod random;
mod restores;
mod rsg;
mod schema;
mod shift;
mod switchback;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Loads a shipped scenario by name.
pub fn scenario(name: &str) -> dialtone_scenario::Scenario {
    dialtone_scenario::load(&root().join("scenarios").join(format!("{name}.json")))
        .unwrap_or_else(|e| panic!("{e}"))
}
