//! The files of a study folder.
//!
//! - `replications.csv`: `replication,<columns>`; one row a replication, sorted; floats in
//!   Rust's shortest round-trip form (parsing gives back the same bits); null is empty.
//!   Readable by pandas (`pd.read_csv`) and R (`read.csv`).
//! - `summary.json`: [`crate::StudySummary`].
//! - `study.json`: [`crate::StudyMeta`], what the folder is a study (or a shard) of.
//! - `journal.jsonl`: one line per finished replication, appended and flushed as they
//!   finish, for `--resume`; a torn last line (a kill mid-write) is ignored.
//!
//! Final files are written to a temporary name, synced and renamed: a folder never holds
//! a truncated replications.csv or summary.json.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{COLUMNS, Row, StudyError, StudyMeta, StudySummary};

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StudyError + '_ {
    move |source| StudyError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// FNV-1a 64 of a text, in hex: identifies a scenario in study.json.
pub fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A file could not be written atomically (see [`write_atomic`]).
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write: {source}", path.display())]
pub struct WriteError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl From<WriteError> for StudyError {
    fn from(e: WriteError) -> Self {
        StudyError::Io {
            path: e.path.display().to_string(),
            source: e.source,
        }
    }
}

/// Tells apart the temporary files of one process's concurrent writes.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes a file atomically, the one helper every dialtone output goes through: the bytes
/// go to a fresh temporary file in the target's folder (`.NAME.tmp.<pid>.<counter>`,
/// created exclusively, so concurrent writers, in this process or another, never share
/// one), the file is fsynced, renamed over `path`, and the folder is fsynced so the rename
/// itself survives a crash. Readers see the old file or the new one, never a torn one. On
/// error the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let err = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name",
        ))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let (tmp, mut file) = loop {
        let mut t = OsString::from(".");
        t.push(name);
        t.push(format!(
            ".tmp.{}.{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = dir.join(t);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => break (tmp, f),
            // A leftover of a crashed process that had our pid: take the next number.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(err(e)),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    sync_dir(dir).map_err(err)
}

/// Makes a rename in `dir` durable (a no-op where folders cannot be opened, e.g. Windows).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x}"))
}

/// replications.csv for sorted rows.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from("replication");
    for (name, _) in COLUMNS {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for r in rows {
        out.push_str(&r.replication.to_string());
        for v in &r.values {
            out.push(',');
            out.push_str(&fmt(*v));
        }
        out.push('\n');
    }
    out
}

/// Parses replications.csv (as written by [`csv`]).
pub fn parse_csv(path: &Path) -> Result<Vec<Row>, StudyError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let bad = |line: usize, why: &str| {
        StudyError::Input(format!("{}: line {line}: {why}", path.display()))
    };
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| bad(1, "empty file"))?;
    let want = csv(&[]);
    if header != want.trim_end() {
        return Err(bad(
            1,
            "the columns differ from this version's; rerun the shard",
        ));
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let mut cells = line.split(',');
        let replication = cells
            .next()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad(i + 2, "bad replication index"))?;
        let values = cells
            .map(|c| {
                if c.is_empty() {
                    Ok(None)
                } else {
                    c.parse::<f64>().map(Some)
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad(i + 2, "bad number"))?;
        if values.len() != COLUMNS.len() {
            return Err(bad(i + 2, "wrong number of columns (a truncated file?)"));
        }
        rows.push(Row {
            replication,
            values,
        });
    }
    Ok(rows)
}

/// Writes a finished study (or shard): replications.csv, summary.json, study.json.
pub fn write_study(
    dir: &Path,
    meta: &StudyMeta,
    rows: &[Row],
    summary: &StudySummary,
) -> Result<(), StudyError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    write_atomic(&dir.join("replications.csv"), csv(rows).as_bytes())?;
    let mut s =
        serde_json::to_string_pretty(summary).map_err(|e| StudyError::Input(e.to_string()))?;
    s.push('\n');
    write_atomic(&dir.join("summary.json"), s.as_bytes())?;
    let mut m = serde_json::to_string_pretty(meta).map_err(|e| StudyError::Input(e.to_string()))?;
    m.push('\n');
    write_atomic(&dir.join("study.json"), m.as_bytes())?;
    Ok(())
}

/// Reads study.json.
pub fn read_meta(dir: &Path) -> Result<StudyMeta, StudyError> {
    let p = dir.join("study.json");
    let text = std::fs::read_to_string(&p).map_err(io_err(&p))?;
    serde_json::from_str(&text).map_err(|e| StudyError::Input(format!("{}: {e}", p.display())))
}

/// The resume journal of a study folder.
#[derive(Debug)]
pub struct Journal {
    file: std::sync::Mutex<File>,
}

impl Journal {
    /// Opens (creating) `dir/journal.jsonl` for appending.
    pub fn open(dir: &Path) -> Result<Journal, StudyError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let p = dir.join("journal.jsonl");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map_err(io_err(&p))?;
        Ok(Journal {
            file: std::sync::Mutex::new(file),
        })
    }

    /// Appends one finished replication and flushes it to disk.
    pub fn append(&self, row: &Row) {
        let Ok(line) = serde_json::to_string(row) else {
            return;
        };
        if let Ok(mut f) = self.file.lock() {
            // A failed write loses only resumability of this row, never results.
            let _ = writeln!(f, "{line}").and_then(|()| f.sync_data());
        }
    }
}

/// Rows already in `dir/journal.jsonl` for `meta` (none if there is no journal). A torn
/// or unreadable line is skipped: that replication runs again.
pub fn read_journal(dir: &Path) -> Result<Vec<Row>, StudyError> {
    let p = dir.join("journal.jsonl");
    let Ok(f) = File::open(&p) else {
        return Ok(Vec::new());
    };
    let mut rows: Vec<Row> = Vec::new();
    for line in BufReader::new(f).lines() {
        let Ok(line) = line else { break };
        #[derive(serde::Deserialize)]
        struct R {
            replication: u64,
            values: Vec<Option<f64>>,
        }
        if let Ok(r) = serde_json::from_str::<R>(&line)
            && r.values.len() == COLUMNS.len()
        {
            rows.push(Row {
                replication: r.replication,
                values: r.values,
            });
        }
    }
    rows.sort_by_key(|r| r.replication);
    rows.dedup_by_key(|r| r.replication);
    Ok(rows)
}

/// Merges shard folders into the rows and metadata of the whole study, checking that
/// they are shards of one study and cover it exactly.
pub fn merge(dirs: &[&Path]) -> Result<(StudyMeta, Vec<Row>), StudyError> {
    let mut metas = Vec::new();
    let mut rows = Vec::new();
    for d in dirs {
        let m = read_meta(d)?;
        rows.extend(parse_csv(&d.join("replications.csv"))?);
        metas.push(m);
    }
    let first = metas
        .first()
        .ok_or_else(|| StudyError::Input("merge needs at least one folder".into()))?
        .clone();
    for (d, m) in dirs.iter().zip(&metas) {
        let same = m.scenario_digest == first.scenario_digest
            && m.seed == first.seed
            && m.replications == first.replications
            && m.strategy == first.strategy;
        if !same {
            return Err(StudyError::Input(format!(
                "{}: not a shard of the same study as {} (scenario, strategy, seed or size differ)",
                d.display(),
                dirs[0].display()
            )));
        }
    }
    rows.sort_by_key(|r| r.replication);
    let expected: Vec<u64> = (0..first.replications).collect();
    let got: Vec<u64> = rows.iter().map(|r| r.replication).collect();
    if got != expected {
        let missing = expected.iter().filter(|r| !got.contains(r)).count();
        let dup = got.len() + missing - expected.len();
        return Err(StudyError::Input(format!(
            "the folders hold {} replications of {}: {missing} missing, {dup} duplicated; merge every shard exactly once",
            got.len(),
            first.replications
        )));
    }
    Ok((
        StudyMeta {
            shard: None,
            ..first
        },
        rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dialtone-io-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn write_atomic_replaces_a_file_and_leaves_no_temporary_behind() {
        let d = tmp_dir("replace");
        let p = d.join("summary.json");
        std::fs::write(&p, "old and longer than the new content").expect("write");
        write_atomic(&p, b"new").expect("atomic");
        assert_eq!(std::fs::read(&p).expect("read"), b"new");
        write_atomic(&p, b"newer").expect("atomic");
        assert_eq!(std::fs::read(&p).expect("read"), b"newer");
        assert_eq!(names(&d), vec!["summary.json".to_owned()]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn write_atomic_cleans_up_when_the_rename_fails() {
        let d = tmp_dir("fail");
        // The target is a non-empty folder: the rename fails after the data was written.
        std::fs::create_dir_all(d.join("out").join("inside")).expect("dir");
        let e = write_atomic(&d.join("out"), b"data").expect_err("a folder is in the way");
        assert!(e.to_string().contains("out"), "{e}");
        assert_eq!(names(&d), vec!["out".to_owned()], "no temporary file left");
        let e = write_atomic(&d.join("missing").join("x.json"), b"data").expect_err("no folder");
        assert!(e.to_string().contains("x.json"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn concurrent_writers_in_one_folder_do_not_collide() {
        // The old helper used `path.with_extension("tmp")`: summary.json and summary.csv
        // shared summary.tmp. Two writers, two names, one stem, many rounds.
        let d = tmp_dir("concurrent");
        let writer = |name: &'static str, byte: u8| {
            let p = d.join(name);
            move || {
                for round in 0..200usize {
                    let body = vec![byte; 1000 + round];
                    write_atomic(&p, &body).expect("atomic");
                    let back = std::fs::read(&p).expect("read");
                    assert!(back.iter().all(|b| *b == byte), "{name}: foreign bytes");
                }
            }
        };
        std::thread::scope(|s| {
            s.spawn(writer("summary.json", b'j'));
            s.spawn(writer("summary.csv", b'c'));
            s.spawn(writer("summary.json", b'j'));
        });
        assert_eq!(
            names(&d),
            vec!["summary.csv".to_owned(), "summary.json".to_owned()]
        );
        assert_eq!(
            std::fs::read(d.join("summary.csv")).expect("csv").len(),
            1199
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn csv_round_trips_floats_exactly() {
        let n = COLUMNS.len();
        let vals: Vec<Option<f64>> = (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    None
                } else {
                    Some(0.1 * i as f64 + 1.0 / 3.0)
                }
            })
            .collect();
        let rows = vec![
            Row {
                replication: 0,
                values: vals.clone(),
            },
            Row {
                replication: 5,
                values: vals,
            },
        ];
        let dir = std::env::temp_dir().join(format!("dialtone-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("r.csv");
        std::fs::write(&p, csv(&rows)).expect("write");
        assert_eq!(parse_csv(&p).expect("parse"), rows);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
