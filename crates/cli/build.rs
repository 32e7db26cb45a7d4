//! Names the git commit in `dialtone --version` (DIALTONE_COMMIT): `git rev-parse --short
//! HEAD`, or "unknown" outside a git checkout or without git. Reruns when HEAD moves.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DIALTONE_COMMIT={commit}");
    // HEAD names the branch; the branch's ref (or packed-refs) names the commit. In a
    // worktree HEAD is in the worktree's git dir and refs in the common one. Only files
    // that exist are watched (a missing one would rerun this script on every build).
    let (Some(dir), Some(common)) = (
        git(&["rev-parse", "--absolute-git-dir"]),
        git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]),
    ) else {
        return;
    };
    // Absolute: a relative common dir would be relative to this script's working
    // directory (crates/cli), and the branch ref would never be watched.
    let common = Path::new(&common);
    let mut watch = vec![Path::new(&dir).join("HEAD"), common.join("packed-refs")];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(common.join(r));
    }
    for p in watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
}
