//! Several studies on common random numbers: the arms of a comparison, the points of a
//! sweep. Arm `k`'s replication `r` runs with streams `(seed, r)` whatever the arm, so
//! every arm sees the same failures, mail and clients.
//!
//! A compare or sweep folder holds, besides its summary.json, `study.json`
//! ([`ArmsMeta`], kind `arms-meta`: every arm's label, scenario digest, strategy and seed,
//! the size and the shard), one replications CSV per arm (the file named in
//! [`ArmMeta::rows`]), and `journal.jsonl` (one line `{"arm", "replication", "values"}`
//! per finished replication, for `--resume`). A shard runs the same slice of
//! replications ([`Shard::range`]) of every arm; [`merge`] puts the shards back together.

use std::path::Path;

use dialtone_scenario::Scenario;
use dialtone_scenario::metrics::{Kind, SCHEMA_VERSION, nullable};
use serde::{Deserialize, Serialize};

use crate::io::{ReadError, csv, io_err, parse_csv, read_json, write_json};
use crate::{COLUMNS, Row, Shard, StudyError, StudyMeta, run_replications_with};

/// One arm of a study folder's [`ArmsMeta`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmMeta {
    /// The arm's label (a strategy, a variant, `VARIANT+STRATEGY`, or a sweep point).
    pub label: String,
    /// Its scenario's name.
    pub scenario: String,
    /// Its strategy.
    pub strategy: String,
    /// Its master seed.
    pub seed: u64,
    /// Its RTO target, seconds.
    pub rto_target_s: f64,
    /// A digest of its validated scenario.
    pub scenario_digest: String,
    /// The file of its rows in the folder.
    pub rows: String,
}

/// study.json of a compare or sweep folder (`kind` `arms-meta`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmsMeta {
    /// Always [`Kind::ArmsMeta`].
    pub kind: Kind,
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The kind of the folder's summary.json: [`Kind::Compare`] or [`Kind::Sweep`].
    pub summary: Kind,
    /// Replications of every arm in the whole study.
    pub replications: u64,
    /// The arms, in order.
    pub arms: Vec<ArmMeta>,
    /// This output's shard, if it is one.
    #[serde(deserialize_with = "nullable")]
    pub shard: Option<Shard>,
}

/// The name of arm `k`'s rows file: `replications-LABEL.csv` in a comparison (labels are
/// strategy and variant names), `replications-point-K.csv` in a sweep.
pub fn rows_file(summary: Kind, k: usize, label: &str) -> String {
    match summary {
        Kind::Sweep => format!("replications-point-{k}.csv"),
        _ => format!("replications-{label}.csv"),
    }
}

impl ArmsMeta {
    /// The metadata of arms `(label, scenario, seed)`.
    pub fn new(
        summary: Kind,
        arms: &[(&str, &Scenario, u64)],
        replications: u64,
        shard: Option<Shard>,
    ) -> ArmsMeta {
        let arms = arms
            .iter()
            .enumerate()
            .map(|(k, (label, sc, seed))| ArmMeta {
                label: (*label).to_owned(),
                scenario: sc.name.clone(),
                strategy: sc.strategy.name().to_owned(),
                seed: *seed,
                rto_target_s: sc.rto_target.as_secs_f64(),
                scenario_digest: sc.digest(),
                rows: rows_file(summary, k, label),
            })
            .collect();
        ArmsMeta {
            kind: Kind::ArmsMeta,
            schema_version: SCHEMA_VERSION,
            summary,
            replications,
            arms,
            shard,
        }
    }

    /// Arm `k` as a study's metadata (what its summary is computed from).
    pub fn study_meta(&self, k: usize) -> StudyMeta {
        let a = &self.arms[k];
        StudyMeta {
            kind: Kind::StudyMeta,
            schema_version: SCHEMA_VERSION,
            scenario: a.scenario.clone(),
            strategy: a.strategy.clone(),
            seed: a.seed,
            replications: self.replications,
            rto_target_s: a.rto_target_s,
            scenario_digest: a.scenario_digest.clone(),
            shard: self.shard,
        }
    }

    /// The same study (arms, seeds, size), whatever the shard.
    pub fn same_study(&self, other: &ArmsMeta) -> bool {
        self.summary == other.summary
            && self.replications == other.replications
            && self.arms == other.arms
    }

    /// What differs between the folder's study (`self`) and the one asked for (`new`),
    /// in words, for a refused `--resume`; `None` when they are the same study and shard.
    pub fn difference(&self, new: &ArmsMeta) -> Option<String> {
        let shard =
            |s: Option<Shard>| s.map_or("none".to_owned(), |s| format!("{}/{}", s.index, s.count));
        if self.summary != new.summary {
            return Some(format!(
                "the folder holds a {}, not a {}",
                self.summary.as_str(),
                new.summary.as_str()
            ));
        }
        if self.replications != new.replications {
            return Some(format!(
                "--replications: the folder's {}, asked {}",
                self.replications, new.replications
            ));
        }
        if self.shard != new.shard {
            return Some(format!(
                "--shard: the folder's {}, asked {}",
                shard(self.shard),
                shard(new.shard)
            ));
        }
        let labels = |m: &ArmsMeta| {
            m.arms
                .iter()
                .map(|a| a.label.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.arms.len() != new.arms.len()
            || self
                .arms
                .iter()
                .zip(&new.arms)
                .any(|(a, b)| a.label != b.label)
        {
            return Some(format!(
                "the arms: the folder's {}, asked {}",
                labels(self),
                labels(new)
            ));
        }
        self.arms
            .iter()
            .zip(&new.arms)
            .find(|(a, b)| a != b)
            .map(|(a, b)| {
                if a.seed != b.seed {
                    format!(
                        "arm {}: --seed: the folder's {}, asked {}",
                        a.label, a.seed, b.seed
                    )
                } else {
                    format!(
                        "arm {}: the scenario or its settings changed since the folder was written",
                        a.label
                    )
                }
            })
    }

    /// The replications this output holds.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.shard
            .map_or(0..self.replications, |s| s.range(self.replications))
    }
}

/// Runs, for every arm `k`, the replications `todo[k]` of `arms[k] = (scenario, seed)`;
/// `done(k, row)` is called with each finished row. Rows per arm, sorted.
pub fn run_arms(
    arms: &[(&Scenario, u64)],
    todo: &[Vec<u64>],
    threads: usize,
    done: &(dyn Fn(usize, &Row) + Sync),
) -> Result<Vec<Vec<Row>>, StudyError> {
    run_arms_with(arms, todo, threads, &|k, r, _, _| done(k, r))
}

/// [`run_arms`] whose `done(k, row, events, micros)` also receives the replication's
/// cost (see [`crate::run_replications_with`]).
pub fn run_arms_with(
    arms: &[(&Scenario, u64)],
    todo: &[Vec<u64>],
    threads: usize,
    done: &(dyn Fn(usize, &Row, u64, u64) + Sync),
) -> Result<Vec<Vec<Row>>, StudyError> {
    arms.iter()
        .zip(todo)
        .enumerate()
        .map(|(k, ((sc, seed), idx))| {
            run_replications_with(sc, *seed, idx, threads, &|r, e, t| done(k, r, e, t))
        })
        .collect()
}

/// One journal line (sealed with its checksum: [`crate::io::seal`]).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    arm: usize,
    replication: u64,
    values: Vec<Option<f64>>,
}

/// The resume journal of a compare or sweep folder: the study's journal file, with lines
/// tagged by arm.
#[derive(Debug)]
pub struct ArmJournal(crate::io::Journal);

impl ArmJournal {
    /// Opens (creating) `dir/journal.jsonl` for appending.
    pub fn open(dir: &Path) -> Result<ArmJournal, StudyError> {
        crate::io::Journal::open(dir).map(ArmJournal)
    }

    /// Appends arm `arm`'s finished replication and flushes it to disk.
    pub fn append(&self, arm: usize, row: &Row) {
        self.0.append_line(&Line {
            arm,
            replication: row.replication,
            values: row.values.clone(),
        });
    }
}

/// The rows per arm already in `dir/journal.jsonl` (none without a journal), sorted and
/// without duplicates, and how many lines were dropped as damaged (a bad or missing
/// checksum, a torn or unreadable line, an arm out of range): those run again.
pub fn read_journal(dir: &Path, arms: usize) -> (Vec<Vec<Row>>, usize) {
    let mut rows: Vec<Vec<Row>> = vec![Vec::new(); arms];
    let (lines, dropped) = crate::io::journal_lines(dir, |l: &Line| {
        l.values.len() == COLUMNS.len() && l.arm < arms
    });
    for l in lines {
        rows[l.arm].push(Row {
            replication: l.replication,
            values: l.values,
        });
    }
    for r in &mut rows {
        r.sort_by_key(|r| r.replication);
        r.dedup_by_key(|r| r.replication);
    }
    (rows, dropped)
}

/// Reads a folder's study.json as [`ArmsMeta`].
pub fn read_meta(dir: &Path) -> Result<ArmsMeta, StudyError> {
    Ok(read_json(&dir.join("study.json"), Kind::ArmsMeta)?)
}

/// `--resume` in `dir` for `meta`: the rows per arm already done in its slice, and how
/// many damaged journal lines were dropped (see [`read_journal`]). A folder without
/// study.json has nothing done if it holds nothing ([`check_unknown`]); one of another
/// study (scenarios, arms, seeds, size or shard) is refused.
pub fn resume(dir: &Path, meta: &ArmsMeta) -> Result<(Vec<Vec<Row>>, usize), StudyError> {
    match read_meta(dir) {
        Ok(old) if old.same_study(meta) && old.shard == meta.shard => {}
        Ok(old) => {
            let why = old
                .difference(meta)
                .unwrap_or_else(|| "another study".to_owned());
            return Err(StudyError::Input(format!(
                "{}: --resume of another study ({why}); rerun with the folder's arguments or use another --out",
                dir.display()
            )));
        }
        Err(StudyError::Read(ReadError::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            check_unknown(dir)?;
        }
        Err(e) => return Err(e),
    }
    let range = meta.range();
    let (rows, dropped) = read_journal(dir, meta.arms.len());
    let rows = rows
        .into_iter()
        .map(|rows| {
            rows.into_iter()
                .filter(|r| range.contains(&r.replication))
                .collect()
        })
        .collect();
    Ok((rows, dropped))
}

/// `--resume` in a folder without study.json: nothing says what its journal or results
/// are a study of, so a folder holding any is refused (an empty or new folder starts
/// afresh: a scheduler may start every job with `--resume`).
pub fn check_unknown(dir: &Path) -> Result<(), StudyError> {
    let journal = std::fs::metadata(dir.join("journal.jsonl")).is_ok_and(|m| m.len() > 0);
    let outputs = std::fs::read_dir(dir).is_ok_and(|d| {
        d.filter_map(Result::ok).any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(crate::folder::is_output_file)
        })
    });
    if journal || outputs {
        return Err(StudyError::Input(format!(
            "{}: --resume without study.json: nothing says which study its {} belong to (another seed or scenario would mix in); use --force to start over, or another --out",
            dir.display(),
            if journal { "journal rows" } else { "files" }
        )));
    }
    Ok(())
}

/// What is left to run per arm: the slice's replications not in `done`.
pub fn todo(meta: &ArmsMeta, done: &[Vec<Row>]) -> Vec<Vec<u64>> {
    done.iter()
        .map(|d| {
            meta.range()
                .filter(|r| d.binary_search_by_key(r, |x| x.replication).is_err())
                .collect()
        })
        .collect()
}

/// Writes study.json (first, so an interrupted folder says what it holds).
pub fn write_meta(dir: &Path, meta: &ArmsMeta) -> Result<(), StudyError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    crate::folder::begin(dir)?;
    write_json(&dir.join("study.json"), meta)
}

/// Writes study.json and every arm's rows file.
pub fn write_rows(dir: &Path, meta: &ArmsMeta, rows: &[Vec<Row>]) -> Result<(), StudyError> {
    write_meta(dir, meta)?;
    for (a, r) in meta.arms.iter().zip(rows) {
        crate::io::write_atomic(&dir.join(&a.rows), csv(r).as_bytes())?;
    }
    Ok(())
}

/// Merges shard folders of one compare or sweep: checks they are shards of one study
/// and cover every arm's replications exactly once; returns the whole study's metadata
/// and rows per arm.
pub fn merge(dirs: &[&Path]) -> Result<(ArmsMeta, Vec<Vec<Row>>), StudyError> {
    let first_dir = dirs
        .first()
        .ok_or_else(|| StudyError::Input("merge needs at least one folder".into()))?;
    crate::folder::check(first_dir)?;
    let first = read_meta(first_dir)?;
    let mut rows: Vec<Vec<Row>> = vec![Vec::new(); first.arms.len()];
    for d in dirs {
        crate::folder::check(d)?;
        let m = read_meta(d)?;
        if !m.same_study(&first) {
            return Err(StudyError::Input(format!(
                "{}: not a shard of the same study as {} (scenarios, arms, seeds or size differ)",
                d.display(),
                first_dir.display()
            )));
        }
        for (k, a) in m.arms.iter().enumerate() {
            rows[k].extend(parse_csv(&d.join(&a.rows))?);
        }
    }
    let expected: Vec<u64> = (0..first.replications).collect();
    for (a, r) in first.arms.iter().zip(&mut rows) {
        r.sort_by_key(|x| x.replication);
        let got: Vec<u64> = r.iter().map(|x| x.replication).collect();
        if got != expected {
            let missing = expected.iter().filter(|x| !got.contains(x)).count();
            let dup = got.len() + missing - expected.len();
            return Err(StudyError::Input(format!(
                "arm {:?}: the folders hold {} replications of {}: {missing} missing, {dup} duplicated; merge every shard exactly once",
                a.label,
                got.len(),
                first.replications
            )));
        }
    }
    Ok((
        ArmsMeta {
            shard: None,
            ..first
        },
        rows,
    ))
}
