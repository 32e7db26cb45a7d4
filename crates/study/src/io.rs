//! The files of dialtone's output folders, written and read back in one place.
//!
//! Every JSON file starts with `kind` ([`Kind`]) and `schema_version`
//! ([`SCHEMA_VERSION`]), and reads back into the very type that wrote it
//! ([`read_json`], [`read_output`]): an unknown `kind`, another `schema_version`, a
//! missing or an unknown key is a [`ReadError`] naming the file and the key.
//!
//! - A run (`dialtone run --out`, [`write_run`]): `summary.json`
//!   ([`dialtone_scenario::Summary`], kind `run`), `timeline.csv` ([`TIMELINE_HEADER`]),
//!   and with `--trace` `trace.jsonl` (the engine's trace records); the two trace files
//!   are streamed to disk as the run goes ([`RunTrace`]).
//! - A study or a merge ([`write_study`]): `replications.csv`: `replication,<columns>`;
//!   one row a replication, sorted; floats in Rust's shortest round-trip form (parsing
//!   gives back the same bits); null is empty. Readable by pandas (`pd.read_csv`) and R
//!   (`read.csv`). `summary.json`: [`crate::StudySummary`] (kind `study`). `study.json`:
//!   [`crate::StudyMeta`] (kind `study-meta`), what the folder is a study (or a shard) of.
//!   `journal.jsonl`: one line per finished replication, appended and flushed as they
//!   finish, for `--resume`; a torn last line (a kill mid-write) is ignored.
//! - A comparison ([`write_compare`]): `summary.json` ([`crate::compare::Comparison`],
//!   kind `compare`) and `replications-ARM.csv` per arm (ARM: the arm's label).
//! - A sweep ([`write_sweep`]): `summary.json` ([`crate::sweep::SweepSummary`], kind
//!   `sweep`).
//! - Each of a study, a merge, a comparison and a sweep also writes `results.csv`
//!   ([`crate::results`]): one long-format file, one row per arm × replication, typed
//!   columns, one unit per kind of quantity; the file to analyse (never read back).
//! - A comparison or sweep written with `--out` also holds `study.json`
//!   ([`crate::arms::ArmsMeta`], kind `arms-meta`), each arm's rows file and
//!   `journal.jsonl` ([`crate::arms`]), for `--resume`, `--shard` and `merge`.
//!
//! CSV and JSON Lines files carry no envelope (pandas, R and jq read them as they are):
//! they belong to the folder's JSON file, whose `schema_version` covers them, and their
//! header lines are checked exactly when read back.
//!
//! Final files go through [`write_atomic`]: a folder never holds a truncated
//! replications.csv or summary.json.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use dialtone_engine::{OwnedTraceRecord, TraceRecord, TraceSink};
use dialtone_scenario::Summary;
pub use dialtone_scenario::metrics::{Kind, SCHEMA_VERSION};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::compare::Comparison;
use crate::results::{Arm, results_csv};
use crate::sweep::SweepSummary;
use crate::{COLUMNS, Row, StudyError, StudyMeta, StudySummary};

/// The header line of timeline.csv.
pub const TIMELINE_HEADER: &str = "time_s,component,what,detail";

/// Why an output file cannot be read back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a JSON object.
    #[error("{}: not a JSON object: {source}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// `kind` is missing or not the expected one.
    #[error("{}: `kind` is {found}; expected {expected}", file.display())]
    Kind {
        /// The file.
        file: PathBuf,
        /// What the file says (`missing`, or its JSON value).
        found: String,
        /// What was expected.
        expected: String,
    },
    /// `schema_version` is missing or not one this version reads.
    #[error("{}: `schema_version` is {found}; this dialtone reads schema_version {supported} (rerun the study or run with this version)", file.display())]
    SchemaVersion {
        /// The file.
        file: PathBuf,
        /// What the file says (`missing`, or its JSON value).
        found: String,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// A key is missing, unknown (renamed?) or has the wrong type.
    #[error("{}: `{key}`: {problem}", file.display())]
    Key {
        /// The file.
        file: PathBuf,
        /// The key's JSON path, e.g. `metrics.operator_hours`.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A CSV file is not as this version writes it.
    #[error("{}: line {line}: {problem}", file.display())]
    Csv {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// An output file read back, by its `kind`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// `kind` `run`.
    Run(Box<Summary>),
    /// `kind` `study`.
    Study(Box<StudySummary>),
    /// `kind` `study-meta`.
    StudyMeta(Box<StudyMeta>),
    /// `kind` `compare`.
    Compare(Box<Comparison>),
    /// `kind` `sweep`.
    Sweep(Box<SweepSummary>),
    /// `kind` `arms-meta`.
    ArmsMeta(Box<crate::arms::ArmsMeta>),
}

/// A file's text; a leading UTF-8 byte-order mark is dropped, as scenario files read it.
fn read_text(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path)
        .map(|t| dialtone_scenario::validate::json_text(&t).to_owned())
        .map_err(|source| ReadError::Io {
            file: path.to_path_buf(),
            source,
        })
}

/// Checks `kind` and `schema_version` of a JSON file's text and returns its kind.
fn header(file: &Path, text: &str, expected: &str) -> Result<Kind, ReadError> {
    #[derive(serde::Deserialize)]
    struct Header {
        kind: Option<Value>,
        schema_version: Option<Value>,
    }
    let h: Header = serde_json::from_str(text).map_err(|source| ReadError::Syntax {
        file: file.to_path_buf(),
        source,
    })?;
    let kind_error = |found: String| ReadError::Kind {
        file: file.to_path_buf(),
        found,
        expected: expected.to_owned(),
    };
    let kind = match h.kind {
        None => {
            return Err(kind_error(
                "missing (not a dialtone output, or one written before outputs carried `kind` and `schema_version`)".into(),
            ));
        }
        Some(v) => {
            serde_json::from_value::<Kind>(v.clone()).map_err(|_| kind_error(v.to_string()))?
        }
    };
    match h.schema_version {
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(SCHEMA_VERSION)) => Ok(kind),
        other => Err(ReadError::SchemaVersion {
            file: file.to_path_buf(),
            found: other.map_or("missing".to_owned(), |v| v.to_string()),
            supported: SCHEMA_VERSION,
        }),
    }
}

/// The `kind` of a JSON output file, after checking its `schema_version`.
pub fn kind_of(path: &Path) -> Result<Kind, ReadError> {
    header(path, &read_text(path)?, "a dialtone output kind")
}

/// A segment of a key's JSON path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn segments(p: &serde_path_to_error::Path) -> Vec<Seg> {
    p.iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
            _ => None,
        })
        .collect()
}

fn show_path(at: &[Seg]) -> String {
    let mut o = String::new();
    for s in at {
        match s {
            Seg::Key(k) => {
                if !o.is_empty() {
                    o.push('.');
                }
                o.push_str(k);
            }
            Seg::Index(i) => o.push_str(&format!("[{i}]")),
        }
    }
    if o.is_empty() {
        "(top level)".into()
    } else {
        o
    }
}

fn join(at: &[Seg], name: &str) -> String {
    let mut v = at.to_vec();
    v.push(Seg::Key(name.to_owned()));
    show_path(&v)
}

/// The field serde's message names after `prefix` (`unknown field `x``).
fn field_named(msg: &str, prefix: &str) -> Option<String> {
    msg.strip_prefix(prefix)?
        .split('`')
        .next()
        .map(str::to_owned)
}

const MISSING: &str = "missing field `";
const UNKNOWN: &str = "unknown field `";

/// Parses `text` as `T`; errors name the key by its JSON path.
fn typed<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, ReadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = serde_path_to_error::deserialize::<_, T>(&mut de)
        .map_err(|e| explain::<T>(file, text, &e))?;
    de.end().map_err(|source| ReadError::Syntax {
        file: file.to_path_buf(),
        source,
    })?;
    Ok(v)
}

fn explain<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    e: &serde_path_to_error::Error<serde_json::Error>,
) -> ReadError {
    let mut at = segments(e.path());
    let msg = e.inner().to_string();
    let key = |key: String, problem: String| ReadError::Key {
        file: file.to_path_buf(),
        key,
        problem,
    };
    if let Some(name) = field_named(&msg, MISSING) {
        return key(join(&at, &name), "missing".into());
    }
    if let Some(name) = field_named(&msg, UNKNOWN) {
        if at.last() == Some(&Seg::Key(name.clone())) {
            at.pop();
        }
        let unknown = join(&at, &name);
        return match missing_without::<T>(text, &at, &name) {
            Some(missing) => key(
                join(&at, &missing),
                format!(
                    "missing; the file has `{unknown}` instead, a key schema_version {SCHEMA_VERSION} does not have (renamed?)"
                ),
            ),
            None => key(
                unknown,
                format!("unknown key: schema_version {SCHEMA_VERSION} does not have it"),
            ),
        };
    }
    key(show_path(&at), msg)
}

/// A rename shows as an unknown key first: without it, which key is missing in the same
/// object?
fn missing_without<T: DeserializeOwned>(text: &str, at: &[Seg], name: &str) -> Option<String> {
    let mut v: Value = serde_json::from_str(text).ok()?;
    let mut cur = &mut v;
    for s in at {
        cur = match s {
            Seg::Key(k) => cur.get_mut(k.as_str())?,
            Seg::Index(i) => cur.get_mut(*i)?,
        };
    }
    cur.as_object_mut()?.remove(name)?;
    let e = serde_path_to_error::deserialize::<_, T>(v).err()?;
    let missing = field_named(&e.inner().to_string(), MISSING)?;
    (segments(e.path()) == at).then_some(missing)
}

/// Reads a JSON output file of kind `kind` into its type (`T` must be that kind's type:
/// [`Summary`] for [`Kind::Run`], and so on).
pub fn read_json<T: DeserializeOwned>(path: &Path, kind: Kind) -> Result<T, ReadError> {
    let text = read_text(path)?;
    let found = header(path, &text, &format!("{:?}", kind.as_str()))?;
    if found != kind {
        return Err(ReadError::Kind {
            file: path.to_path_buf(),
            found: format!("{:?}", found.as_str()),
            expected: format!("{:?}", kind.as_str()),
        });
    }
    typed(path, &text)
}

/// Reads any JSON output file into the type its `kind` names.
pub fn read_output(path: &Path) -> Result<Output, ReadError> {
    let text = read_text(path)?;
    let kinds = Kind::ALL
        .iter()
        .map(|k| format!("{:?}", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(match header(path, &text, &format!("one of {kinds}"))? {
        Kind::Run => Output::Run(Box::new(typed(path, &text)?)),
        Kind::Study => Output::Study(Box::new(typed(path, &text)?)),
        Kind::StudyMeta => Output::StudyMeta(Box::new(typed(path, &text)?)),
        Kind::Compare => Output::Compare(Box::new(typed(path, &text)?)),
        Kind::Sweep => Output::Sweep(Box::new(typed(path, &text)?)),
        Kind::ArmsMeta => Output::ArmsMeta(Box::new(typed(path, &text)?)),
    })
}

/// A value as the pretty JSON dialtone writes (with a final newline).
pub fn to_json<T: Serialize>(v: &T) -> Result<String, StudyError> {
    let mut s = serde_json::to_string_pretty(v).map_err(|e| StudyError::Input(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// Writes a value as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), StudyError> {
    write_atomic(path, to_json(v)?.as_bytes())?;
    Ok(())
}

/// Appends a CSV field to `out`, quoted when it needs to be.
fn push_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n']) {
        out.push('"');
        for part in s.split_inclusive('"') {
            out.push_str(part);
            if part.ends_with('"') {
                out.push('"');
            }
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Appends one line of timeline.csv (with its newline) for a trace record.
fn push_timeline_line(out: &mut String, rec: &TraceRecord<'_>) {
    use std::fmt::Write as _;
    let _ = write!(out, "{},", rec.time.as_secs_f64());
    push_field(out, rec.component);
    out.push(',');
    push_field(out, rec.what);
    out.push(',');
    push_field(out, rec.detail);
    out.push('\n');
}

/// timeline.csv of a run's trace records, in memory (a run's folder streams it instead:
/// [`RunTrace`]; the lines are the same).
pub fn timeline_csv(records: &[OwnedTraceRecord]) -> String {
    let mut csv = format!("{TIMELINE_HEADER}\n");
    for r in records {
        push_timeline_line(
            &mut csv,
            &TraceRecord {
                time: r.time,
                component: &r.component,
                what: &r.what,
                detail: &r.detail,
            },
        );
    }
    csv
}

/// The trace files of a run's folder, written while the run goes: a [`TraceSink`] that
/// appends each record to timeline.csv (and, with `trace`, to trace.jsonl) through a
/// buffer, so a run's memory does not grow with its trace. The files are written under
/// temporary names ([`AtomicFile`]) and take their final names only in [`write_run`]: a
/// run that fails or is killed leaves no timeline.csv, and a dropped `RunTrace` removes
/// its temporary files.
#[derive(Debug)]
pub struct RunTrace {
    timeline: AtomicFile,
    trace: Option<AtomicFile>,
    line: String,
    error: Option<std::io::Error>,
}

impl RunTrace {
    /// Starts the trace files of a run in `dir` (created if needed); with `trace`, also
    /// trace.jsonl.
    pub fn create(dir: &Path, trace: bool) -> Result<RunTrace, StudyError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut timeline = AtomicFile::create(&dir.join("timeline.csv"))?;
        let trace = match trace {
            true => Some(AtomicFile::create(&dir.join("trace.jsonl"))?),
            false => None,
        };
        let error = writeln!(timeline.out, "{TIMELINE_HEADER}").err();
        Ok(RunTrace {
            timeline,
            trace,
            line: String::new(),
            error,
        })
    }

    fn write(&mut self, rec: &TraceRecord<'_>) -> std::io::Result<()> {
        self.line.clear();
        push_timeline_line(&mut self.line, rec);
        self.timeline.out.write_all(self.line.as_bytes())?;
        if let Some(t) = &mut self.trace {
            serde_json::to_writer(&mut t.out, rec)?;
            t.out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Gives the files their final names: timeline.csv, then trace.jsonl; or the first
    /// write error met (the temporary files are then removed).
    fn commit(self) -> Result<(), WriteError> {
        if let Some(source) = self.error {
            return Err(WriteError {
                path: self.timeline.path.clone(),
                source,
            });
        }
        self.timeline.commit()?;
        self.trace.map_or(Ok(()), AtomicFile::commit)
    }
}

impl TraceSink for RunTrace {
    fn record(&mut self, rec: &TraceRecord<'_>) {
        if self.error.is_none() {
            self.error = self.write(rec).err();
        }
    }
}

/// Writes a run's folder: summary.json, then the trace files the run streamed (`trace`,
/// made by [`RunTrace::create`] on the same folder before the run): timeline.csv and,
/// if asked for, trace.jsonl.
pub fn write_run(dir: &Path, summary: &Summary, trace: RunTrace) -> Result<(), StudyError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    crate::folder::begin(dir)?;
    write_json(&dir.join("summary.json"), summary)?;
    trace.commit()?;
    Ok(crate::folder::write_manifest(dir)?)
}

/// Reads a run folder's timeline.csv, checking its header.
pub fn read_timeline(dir: &Path) -> Result<String, ReadError> {
    let p = dir.join("timeline.csv");
    let text = read_text(&p)?;
    if text.lines().next() != Some(TIMELINE_HEADER) {
        return Err(ReadError::Csv {
            file: p,
            line: 1,
            problem: format!("the header is not `{TIMELINE_HEADER}`"),
        });
    }
    Ok(text)
}

/// Writes a comparison's folder: summary.json and replications-ARM.csv per arm.
pub fn write_compare(dir: &Path, c: &Comparison) -> Result<(), StudyError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    crate::folder::begin(dir)?;
    write_json(&dir.join("summary.json"), c)?;
    for s in &c.strategies {
        write_atomic(
            &dir.join(format!("replications-{}.csv", s.arm)),
            csv(&s.rows).as_bytes(),
        )?;
    }
    write_compare_results(dir, c)?;
    Ok(crate::folder::write_manifest(dir)?)
}

/// Writes a sweep's folder: summary.json and results.csv.
pub fn write_sweep(dir: &Path, s: &SweepSummary) -> Result<(), StudyError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    crate::folder::begin(dir)?;
    write_sweep_results(dir, s)?;
    write_json(&dir.join("summary.json"), s)?;
    Ok(crate::folder::write_manifest(dir)?)
}

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StudyError + '_ {
    move |source| StudyError::Io {
        path: path.display().to_string(),
        source,
    }
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
    let mut file = AtomicFile::create(path)?;
    file.out.write_all(bytes).map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })?;
    file.commit()
}

/// A file being written under a temporary name in its final folder, as [`write_atomic`]
/// writes (the same temporary names): [`AtomicFile::commit`] flushes and fsyncs it,
/// renames it over its final name and fsyncs the folder; dropped uncommitted (an error,
/// a failed run), it is removed.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: std::io::BufWriter<File>,
}

impl AtomicFile {
    /// Creates the temporary file of `path`.
    pub fn create(path: &Path) -> Result<AtomicFile, WriteError> {
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
        let dir = parent_dir(path);
        loop {
            let mut t = OsString::from(".");
            t.push(name);
            t.push(format!(
                ".tmp.{}.{}",
                std::process::id(),
                TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let tmp = dir.join(t);
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => {
                    return Ok(AtomicFile {
                        path: path.to_path_buf(),
                        tmp,
                        out: std::io::BufWriter::with_capacity(1 << 16, f),
                    });
                }
                // A leftover of a crashed process that had our pid: take the next number.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(err(e)),
            }
        }
    }

    /// Flushes, fsyncs and renames the file over its final name, then fsyncs the folder.
    pub fn commit(mut self) -> Result<(), WriteError> {
        let written = self
            .out
            .flush()
            .and_then(|()| self.out.get_ref().sync_all())
            .and_then(|()| std::fs::rename(&self.tmp, &self.path));
        let path = self.path.clone();
        let err = |source| WriteError {
            path: path.clone(),
            source,
        };
        // Dropping `self` removes the temporary file, which is gone once renamed.
        drop(self);
        written.map_err(err)?;
        sync_dir(parent_dir(&path)).map_err(err)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // After a successful rename the temporary name no longer exists: nothing happens.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// The folder a file is in (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
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

/// Parses replications.csv (as written by [`csv`]); its header must be this version's.
pub fn parse_csv(path: &Path) -> Result<Vec<Row>, ReadError> {
    let text = read_text(path)?;
    let bad = |line: usize, why: &str| ReadError::Csv {
        file: path.to_path_buf(),
        line,
        problem: why.to_owned(),
    };
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| bad(1, "empty file"))?;
    let want = csv(&[]);
    if header != want.trim_end() {
        let names: Vec<&str> = header.split(',').collect();
        let why = match (
            COLUMNS.iter().find(|(n, _)| !names.contains(n)),
            names[1.min(names.len())..]
                .iter()
                .find(|n| !COLUMNS.iter().any(|(c, _)| c == *n)),
        ) {
            (Some((missing, _)), _) => {
                format!(
                    "column `{missing}` is missing; the columns differ from this version's, rerun the study"
                )
            }
            (None, Some(unknown)) => {
                format!(
                    "unknown column `{unknown}`; the columns differ from this version's, rerun the study"
                )
            }
            (None, None) => "the columns differ from this version's; rerun the study".to_owned(),
        };
        return Err(bad(1, &why));
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
    crate::folder::begin(dir)?;
    write_atomic(&dir.join("replications.csv"), csv(rows).as_bytes())?;
    write_study_results(dir, meta, rows)?;
    write_json(&dir.join("summary.json"), summary)?;
    write_json(&dir.join("study.json"), meta)?;
    Ok(crate::folder::write_manifest(dir)?)
}

/// results.csv of a study: one arm, no swept path.
fn write_study_results(dir: &Path, meta: &StudyMeta, rows: &[Row]) -> Result<(), StudyError> {
    write_results(dir, &study_results_csv(&meta.strategy, rows))
}

/// Writes results.csv ([`crate::results`]).
fn write_results(dir: &Path, text: &str) -> Result<(), StudyError> {
    write_atomic(&dir.join("results.csv"), text.as_bytes())?;
    Ok(())
}

/// The text of a study's results.csv: one arm (`strategy`), no swept path.
pub fn study_results_csv(strategy: &str, rows: &[Row]) -> String {
    let arm = Arm {
        strategy,
        variant: "",
        values: &[],
        rows,
    };
    results_csv(&[], &[arm])
}

/// results.csv of a comparison: one arm per strategy.
fn write_compare_results(dir: &Path, c: &Comparison) -> Result<(), StudyError> {
    write_results(dir, &compare_results_csv(c))
}

/// The text of a comparison's results.csv: one arm per strategy (or variant).
pub fn compare_results_csv(c: &Comparison) -> String {
    let arms: Vec<Arm<'_>> = c
        .strategies
        .iter()
        .map(|s| Arm {
            strategy: &s.strategy,
            variant: s.variant.as_ref().map_or("", |v| v.name.as_str()),
            values: &[],
            rows: &s.rows,
        })
        .collect();
    results_csv(&[], &arms)
}

/// results.csv of a sweep: one arm per grid point, a column per swept path.
fn write_sweep_results(dir: &Path, s: &SweepSummary) -> Result<(), StudyError> {
    write_results(dir, &sweep_results_csv(s))
}

/// The text of a sweep's results.csv: one arm per grid point, a column per swept path.
pub fn sweep_results_csv(s: &SweepSummary) -> String {
    let arms: Vec<Arm<'_>> = s
        .points
        .iter()
        .map(|p| Arm {
            strategy: &p.summary.strategy,
            variant: "",
            values: &p.values,
            rows: &p.rows,
        })
        .collect();
    results_csv(&s.axes, &arms)
}

/// Reads study.json.
pub fn read_meta(dir: &Path) -> Result<StudyMeta, StudyError> {
    Ok(read_json(&dir.join("study.json"), Kind::StudyMeta)?)
}

/// The resume journal of a study folder.
///
/// One JSON object a line, each ending with its own checksum (for example `"crc32":"1c291ca3"`), the
/// CRC-32 (IEEE) in hex of the line's text without that key (the object as written, up to
/// and including its closing brace); see [`seal`]. A line whose checksum is missing or
/// wrong, or which is not one JSON object of the expected shape, is dropped when read
/// ([`read_journal`]) and its replication runs again.
#[derive(Debug)]
pub struct Journal {
    file: std::sync::Mutex<File>,
}

impl Journal {
    /// Opens (creating) `dir/journal.jsonl` for appending. A torn last line (a kill
    /// mid-write) is ended first, so the next line is not glued to it.
    pub fn open(dir: &Path) -> Result<Journal, StudyError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let p = dir.join("journal.jsonl");
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&p)
            .map_err(io_err(&p))?;
        if ends_torn(&mut file).map_err(io_err(&p))? {
            writeln!(file).map_err(io_err(&p))?;
        }
        Ok(Journal {
            file: std::sync::Mutex::new(file),
        })
    }

    /// Appends one finished replication and flushes it to disk.
    pub fn append(&self, row: &Row) {
        self.append_line(row);
    }

    /// Appends one JSON line, sealed with its checksum, and flushes it to disk (a
    /// compare's or sweep's journal writes its arm-tagged lines through this too).
    pub(crate) fn append_line<T: Serialize>(&self, line: &T) {
        let Ok(text) = serde_json::to_string(line) else {
            return;
        };
        if let Ok(mut f) = self.file.lock() {
            // A failed write loses only resumability of this row, never results.
            let _ = writeln!(f, "{}", seal(&text)).and_then(|()| f.sync_data());
        }
    }
}

/// Whether a non-empty file does not end with a newline.
fn ends_torn(file: &mut File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// The key that ends a journal line.
const CRC_KEY: &str = ",\"crc32\":\"";

/// A journal line: the JSON object `text` with `"crc32":` and eight hex digits (the CRC-32 of
/// `text`) added as its last key.
pub fn seal(text: &str) -> String {
    let crc = crc32fast::hash(text.as_bytes());
    let body = text.strip_suffix('}').unwrap_or(text);
    format!("{body}{CRC_KEY}{crc:08x}\"}}")
}

/// The object a journal line sealed (see [`seal`]), if its checksum is there and right.
pub fn unseal(line: &str) -> Option<String> {
    let rest = line.strip_suffix("\"}")?;
    let at = rest.rfind(CRC_KEY)?;
    let hex = &rest[at + CRC_KEY.len()..];
    if hex.len() != 8 {
        return None;
    }
    let crc = u32::from_str_radix(hex, 16).ok()?;
    let text = format!("{}}}", &rest[..at]);
    (crc32fast::hash(text.as_bytes()) == crc).then_some(text)
}

/// The lines of `dir/journal.jsonl` that unseal and parse as `T` and pass `keep`, and how
/// many lines were dropped (damaged, torn, or written before lines carried a checksum).
pub(crate) fn journal_lines<T: DeserializeOwned>(
    dir: &Path,
    keep: impl Fn(&T) -> bool,
) -> (Vec<T>, usize) {
    let Ok(f) = File::open(dir.join("journal.jsonl")) else {
        return (Vec::new(), 0);
    };
    let mut good = Vec::new();
    let mut dropped = 0;
    for line in BufReader::new(f).split(b'\n') {
        let Ok(line) = line else { break };
        if line.is_empty() {
            continue;
        }
        let parsed = std::str::from_utf8(&line)
            .ok()
            .and_then(unseal)
            .and_then(|t| serde_json::from_str::<T>(&t).ok())
            .filter(&keep);
        match parsed {
            Some(v) => good.push(v),
            None => dropped += 1,
        }
    }
    (good, dropped)
}

/// Rows already in `dir/journal.jsonl` (none if there is no journal), sorted, and how many
/// lines were dropped as damaged (their replications run again, never trusted).
pub fn read_journal(dir: &Path) -> Result<(Vec<Row>, usize), StudyError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct R {
        replication: u64,
        values: Vec<Option<f64>>,
    }
    let (lines, dropped) = journal_lines(dir, |r: &R| r.values.len() == COLUMNS.len());
    let mut rows: Vec<Row> = lines
        .into_iter()
        .map(|r| Row {
            replication: r.replication,
            values: r.values,
        })
        .collect();
    rows.sort_by_key(|r| r.replication);
    rows.dedup_by_key(|r| r.replication);
    Ok((rows, dropped))
}

/// Merges shard folders into the rows and metadata of the whole study, checking that
/// they are shards of one study and cover it exactly.
pub fn merge(dirs: &[&Path]) -> Result<(StudyMeta, Vec<Row>), StudyError> {
    let mut metas = Vec::new();
    let mut rows = Vec::new();
    for d in dirs {
        crate::folder::check(d)?;
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
