//! The contract of an output folder, whoever writes it (`run --out`, `study`, `compare`,
//! `sweep`, `merge`, `report`): one writer at a time, a manifest written last, no stray
//! temporary files (docs/METRICS.md, "Output folders").
//!
//! - **Lock** ([`FolderLock`]): a writing command holds an exclusive advisory lock on
//!   `DIR/.dialtone.lock` (the standard library's `File::try_lock`: `flock` on Unix,
//!   `LockFileEx` on Windows) for its whole duration; the file names the holder (pid, host,
//!   command line). A second writer is refused at once ([`FolderError::Locked`]). The lock
//!   dies with its process (a kill never leaves a stale lock); the file is removed when the
//!   holder finishes.
//! - **Manifest** ([`write_manifest`], [`check`]): the last file a writer writes,
//!   `manifest.sha256`, one line `SHA256  NAME` per output file of the folder
//!   ([`is_output_file`]), sorted by name, the format of `sha256sum` (`sha256sum -c
//!   manifest.sha256` checks a folder by hand). It holds no time, pid or path, so it is as
//!   deterministic as the files it lists. A writer removes it first ([`begin`]); a reader
//!   refuses a folder without it, with a listed file missing or changed, or with an output
//!   file it does not list ([`FolderError::Incomplete`]).
//! - **Temporaries**: [`crate::io::write_atomic`]'s `.NAME.tmp.PID.N` files left by a
//!   process killed mid-write are removed when the next command locks the folder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The lock file in an output folder.
pub const LOCK_FILE: &str = ".dialtone.lock";

/// The manifest of an output folder, written last.
pub const MANIFEST: &str = "manifest.sha256";

/// Why an output folder cannot be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FolderError {
    /// Another process holds the folder's lock.
    #[error(
        "{}: another dialtone is writing this folder ({holder}); wait for it to finish or use another folder",
        dir.display()
    )]
    Locked {
        /// The folder.
        dir: PathBuf,
        /// What the lock file says about its holder.
        holder: String,
    },
    /// The lock or the manifest could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The folder was not finished (no manifest), or a file changed since.
    #[error(
        "{}: an incomplete or damaged output folder: {problem}; re-run the command that wrote it (--resume continues a study, compare or sweep; --force starts over)",
        dir.display()
    )]
    Incomplete {
        /// The folder.
        dir: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FolderError + '_ {
    move |source| FolderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The exclusive lock of an output folder, held until dropped.
#[derive(Debug)]
pub struct FolderLock {
    file: File,
    path: PathBuf,
    /// The folder did not exist before the lock created it.
    created: Option<PathBuf>,
    /// Temporary files of an interrupted writer removed when the lock was taken.
    pub removed_temporaries: usize,
}

impl FolderLock {
    /// Locks `dir` (creating it) for `command` (the command line, written into the lock
    /// file for a refused second writer to show), then removes stray temporary files.
    pub fn acquire(dir: &Path, command: &str) -> Result<FolderLock, FolderError> {
        let created = (!dir.exists()).then(|| dir.to_path_buf());
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOCK_FILE);
        let file = loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io(&path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = match holder.trim() {
                        "" => "a process that is starting or finishing".to_owned(),
                        h => h.to_owned(),
                    };
                    return Err(FolderError::Locked {
                        dir: dir.to_path_buf(),
                        holder,
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(&path)(e)),
            }
            // The holder before us removed the file between our open and our lock: the
            // lock we hold is on a file nobody else will open; start again.
            if same_file(&file, &path) {
                break file;
            }
        };
        let mut lock = FolderLock {
            file,
            path,
            created,
            removed_temporaries: 0,
        };
        let me = format!("pid {} on {}: {command}\n", std::process::id(), hostname());
        lock.file.set_len(0).map_err(io(&lock.path))?;
        lock.file.write_all(me.as_bytes()).map_err(io(&lock.path))?;
        lock.removed_temporaries = clean_temporaries(dir);
        Ok(lock)
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Removed while still locked: a process that opened it meanwhile sees another
        // file at the path once it gets the lock, and starts again.
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = &self.created {
            // Only if nothing was written (a refused run leaves no empty folder behind).
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    // Windows does not remove a file another process holds open.
    path.exists()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map_or_else(|| "an unknown host".to_owned(), |h| h.trim().to_owned())
}

/// Whether `name` is a temporary file of [`crate::io::write_atomic`].
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp.")
}

/// Removes the temporary files a killed writer left in `dir`; how many. Call it only
/// under the folder's lock (a live writer's temporary file must not go).
pub fn clean_temporaries(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(is_temporary))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// Whether `name` is one of the output files a manifest covers: `summary.json`,
/// `study.json`, `results.csv`, `timeline.csv`, `trace.jsonl`, `replications.csv` and
/// `replications-*.csv`. Not the journal (resume state, appended to), the lock, the
/// report (built from the others) or the manifest itself.
pub fn is_output_file(name: &str) -> bool {
    matches!(
        name,
        "summary.json"
            | "study.json"
            | "results.csv"
            | "timeline.csv"
            | "trace.jsonl"
            | "replications.csv"
    ) || (name.starts_with("replications-")
        && name.ends_with(".csv")
        && !name.contains(['/', '\\']))
}

/// The output files in `dir`, sorted.
fn output_files(dir: &Path) -> Result<Vec<String>, FolderError> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_output_file(n))
        .collect();
    v.sort();
    Ok(v)
}

/// The SHA-256 of a file, in hex.
fn sha256(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A writer starts: the folder is incomplete until [`write_manifest`] (removes the
/// manifest of an earlier write).
pub fn begin(dir: &Path) -> Result<(), FolderError> {
    let p = dir.join(MANIFEST);
    match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&p)(e)),
        _ => Ok(()),
    }
}

/// Writes `dir/manifest.sha256`, the last file of every writer: the digest of every
/// output file in the folder.
pub fn write_manifest(dir: &Path) -> Result<(), FolderError> {
    let mut text = String::new();
    for name in output_files(dir)? {
        let p = dir.join(&name);
        text.push_str(&format!("{}  {name}\n", sha256(&p).map_err(io(&p))?));
    }
    crate::io::write_atomic(&dir.join(MANIFEST), text.as_bytes()).map_err(|e| FolderError::Io {
        path: e.path,
        source: e.source,
    })
}

/// Checks that `dir` is a finished output folder: its manifest exists, every file it lists
/// is there with its digest, and every output file is listed.
pub fn check(dir: &Path) -> Result<(), FolderError> {
    let bad = |problem: String| FolderError::Incomplete {
        dir: dir.to_path_buf(),
        problem,
    };
    let p = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad(format!(
                "no {MANIFEST} (the command that wrote the folder did not finish)"
            )));
        }
        Err(e) => return Err(io(&p)(e)),
    };
    let mut listed = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((digest, name)) = line.split_once("  ") else {
            return Err(bad(format!("{MANIFEST} line {} is malformed", i + 1)));
        };
        if digest.len() != 64 || !is_output_file(name) {
            return Err(bad(format!("{MANIFEST} line {} is malformed", i + 1)));
        }
        match sha256(&dir.join(name)) {
            Ok(d) if d == digest => listed.push(name.to_owned()),
            Ok(_) => {
                return Err(bad(format!(
                    "{name} changed after the folder was written (its SHA-256 is not the one in {MANIFEST})"
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(bad(format!("{name} is missing")));
            }
            Err(e) => return Err(io(&dir.join(name))(e)),
        }
    }
    match output_files(dir)?.into_iter().find(|n| !listed.contains(n)) {
        Some(extra) => Err(bad(format!(
            "{extra} is not in {MANIFEST} (written after the folder was finished?)"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dialtone-folder-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    #[test]
    fn a_second_writer_is_refused_and_named_the_holder() {
        let d = tmp_dir("lock");
        let first = FolderLock::acquire(&d, "dialtone study a.json --out d").expect("first");
        let e = FolderLock::acquire(&d, "dialtone study b.json --out d").expect_err("second");
        let msg = e.to_string();
        assert!(matches!(e, FolderError::Locked { .. }), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id()))
                && msg.contains("dialtone study a.json --out d"),
            "{msg}"
        );
        drop(first);
        assert!(
            !d.join(LOCK_FILE).exists(),
            "the lock file goes with its holder"
        );
        let again = FolderLock::acquire(&d, "dialtone report d").expect("free again");
        drop(again);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_lock_on_a_new_folder_that_wrote_nothing_leaves_no_folder() {
        let d = tmp_dir("fresh").join("new");
        drop(FolderLock::acquire(&d, "x").expect("lock"));
        assert!(!d.exists());
        let l = FolderLock::acquire(&d, "x").expect("lock");
        std::fs::write(d.join("summary.json"), "{}").expect("write");
        drop(l);
        assert!(d.join("summary.json").exists(), "a folder with files stays");
        let _ = std::fs::remove_dir_all(d.parent().expect("parent"));
    }

    #[test]
    fn locking_removes_the_temporaries_of_a_killed_writer() {
        let d = tmp_dir("tmp");
        std::fs::write(d.join(".summary.json.tmp.123.0"), "torn").expect("write");
        std::fs::write(d.join(".results.csv.tmp.9.4"), "torn").expect("write");
        std::fs::write(d.join("summary.json"), "{}").expect("write");
        let l = FolderLock::acquire(&d, "x").expect("lock");
        assert_eq!(l.removed_temporaries, 2);
        drop(l);
        let names: Vec<String> = std::fs::read_dir(&d)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["summary.json".to_owned()]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_folder_is_complete_only_with_a_manifest_that_matches_every_output_file() {
        let d = tmp_dir("manifest");
        std::fs::write(d.join("summary.json"), "{\"a\":1}\n").expect("write");
        std::fs::write(d.join("timeline.csv"), "time_s\n1\n").expect("write");
        std::fs::write(d.join("journal.jsonl"), "anything\n").expect("write");
        let e = check(&d).expect_err("no manifest");
        assert!(e.to_string().contains("no manifest.sha256"), "{e}");
        write_manifest(&d).expect("manifest");
        check(&d).expect("complete");
        let text = std::fs::read_to_string(d.join(MANIFEST)).expect("read");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.ends_with("  timeline.csv\n"), "sorted by name: {text}");
        // The journal is not covered: it may grow.
        std::fs::write(d.join("journal.jsonl"), "more\n").expect("write");
        check(&d).expect("still complete");
        std::fs::write(d.join("timeline.csv"), "time_s\n2\n").expect("write");
        let e = check(&d).expect_err("changed");
        assert!(e.to_string().contains("timeline.csv changed"), "{e}");
        assert!(e.to_string().contains("re-run"), "{e}");
        write_manifest(&d).expect("manifest");
        std::fs::remove_file(d.join("timeline.csv")).expect("rm");
        let e = check(&d).expect_err("missing");
        assert!(e.to_string().contains("timeline.csv is missing"), "{e}");
        write_manifest(&d).expect("manifest");
        std::fs::write(d.join("replications-a.csv"), "x\n").expect("write");
        let e = check(&d).expect_err("unlisted");
        assert!(
            e.to_string().contains("replications-a.csv is not in"),
            "{e}"
        );
        begin(&d).expect("begin");
        assert!(!d.join(MANIFEST).exists());
        let _ = std::fs::remove_dir_all(&d);
    }
}
