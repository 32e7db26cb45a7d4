//! What every test of the real binary shares: the workspace root and a run of `dialtone`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root: the binary runs there, so `scenarios/...` paths work.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `dialtone ARGS` in the workspace root and returns what it did.
#[allow(dead_code)] // not every test file runs the binary through this
pub(crate) fn dialtone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}
