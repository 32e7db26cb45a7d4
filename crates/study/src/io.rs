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

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

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

/// Writes a file atomically: temporary name in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StudyError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
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
    write_atomic(&dir.join("study.json"), m.as_bytes())
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
