//! `dialtone bench`: runs the standard set (`dialtone_study::bench`) and prints, per
//! scenario, events, events/s, replications/s, peak memory and the fingerprint, checked
//! against the one recorded in `scenarios/golden/fingerprints.json`.
//!
//! Each scenario runs in a child process (this binary, `bench --child NAME`), so its peak
//! memory is its own: the child's peak resident set (`VmHWM` of /proc/self/status, Linux;
//! `null` elsewhere), scenario loading included. The wall time counts the replications
//! only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dialtone_study::bench::{self, BenchCase};
use serde::{Deserialize, Serialize};

use crate::{Failure, Format};

/// Options of `dialtone bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// The folder of scenarios (the set: its files plus scaled copies of
    /// enterprise-two-sites).
    #[arg(long, default_value = "scenarios")]
    scenarios: PathBuf,
    /// The recorded fingerprints (default: SCENARIOS/golden/fingerprints.json).
    #[arg(long)]
    fingerprints: Option<PathBuf>,
    /// Run only this scenario of the set (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// Leave out the scaled scenarios (the shipped files only: seconds instead of a minute).
    #[arg(long)]
    quick: bool,
    /// Record the fingerprints measured instead of failing when they changed.
    #[arg(long)]
    update: bool,
    /// Worker threads per scenario (default: all cores). Fingerprints do not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// What stdout prints: `text` (a table) or `json` (one document, see
    /// docs/PERFORMANCE.md).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Internal: measure one scenario and print its figures as one JSON line.
    #[arg(long, hide = true)]
    child: Option<String>,
}

/// What a child measures of one scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Measure {
    name: String,
    replications: u64,
    events: u64,
    trace_records: u64,
    seconds: f64,
    peak_rss_kb: Option<u64>,
    fingerprint: String,
}

/// A recorded fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recorded {
    replications: u64,
    fingerprint: String,
}

/// The fingerprints file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fingerprints {
    about: String,
    scenarios: BTreeMap<String, Recorded>,
}

/// One row of `bench --format json`.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    measure: Measure,
    events_per_s: f64,
    replications_per_s: f64,
    expected_fingerprint: Option<String>,
    fingerprint_ok: bool,
}

/// The document of `bench --format json`.
#[derive(Debug, Serialize)]
struct Report {
    bench_schema_version: u32,
    dialtone_version: &'static str,
    threads: usize,
    scenarios: Vec<Row>,
}

const ABOUT: &str = "Fingerprints of `dialtone bench` (docs/PERFORMANCE.md): a digest of the traces and event counts of replications 0..replications of each scenario. Rewrite with `dialtone bench --update` after reviewing a change of behaviour.";

pub(crate) fn run(a: &BenchArgs) -> Result<(), Failure> {
    let set = bench::standard_set(&a.scenarios).map_err(|e| Failure::Input(e.to_string()))?;
    if let Some(name) = &a.child {
        return child(a, find(&set, name)?);
    }
    for n in &a.only {
        find(&set, n)?;
    }
    let cases: Vec<&BenchCase> = set
        .iter()
        .filter(|c| match a.only.is_empty() {
            true => c.shipped || !a.quick,
            false => a.only.contains(&c.name),
        })
        .collect();
    let path = a
        .fingerprints
        .clone()
        .unwrap_or_else(|| a.scenarios.join("golden").join("fingerprints.json"));
    let mut recorded = read_fingerprints(&path)?;
    if a.format == Format::Text {
        line(&format!(
            "{:<38} {:>5} {:>12} {:>12} {:>9} {:>9}  fingerprint",
            "scenario", "reps", "events", "events/s", "reps/s", "peak MB"
        ));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for c in cases {
        let m = measure(a, c)?;
        let row = check(m, recorded.scenarios.get(&c.name), &path, &mut problems);
        if a.format == Format::Text {
            print_row(&row);
        }
        rows.push(row);
    }
    if a.update {
        for r in &rows {
            let rec = Recorded {
                replications: r.measure.replications,
                fingerprint: r.measure.fingerprint.clone(),
            };
            recorded.scenarios.insert(r.measure.name.clone(), rec);
        }
        recorded.about = ABOUT.to_owned();
        dialtone_study::io::write_json(&path, &recorded)?;
        eprintln!("fingerprints: {} updated", path.display());
    }
    if a.format == Format::Json {
        let report = Report {
            bench_schema_version: 1,
            dialtone_version: env!("CARGO_PKG_VERSION"),
            threads: a.threads,
            scenarios: rows,
        };
        crate::study::print_json(&dialtone_study::io::to_json(&report)?)?;
    }
    match problems.is_empty() || a.update {
        true => Ok(()),
        false => Err(Failure::Run(problems.join("\n"))),
    }
}

fn find<'a>(set: &'a [BenchCase], name: &str) -> Result<&'a BenchCase, Failure> {
    set.iter().find(|c| c.name == name).ok_or_else(|| {
        let names: Vec<&str> = set.iter().map(|c| c.name.as_str()).collect();
        Failure::Input(format!(
            "bench: no scenario {name:?} in the set; it has: {}",
            names.join(", ")
        ))
    })
}

fn read_fingerprints(path: &Path) -> Result<Fingerprints, Failure> {
    if !path.exists() {
        return Ok(Fingerprints::default());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::Input(format!(
            "{}: not a fingerprints file: {e}; rewrite it with `dialtone bench --update`",
            path.display()
        ))
    })
}

/// Compares a measure with its recorded fingerprint; a mismatch is added to `problems`.
fn check(m: Measure, rec: Option<&Recorded>, path: &Path, problems: &mut Vec<String>) -> Row {
    let ok =
        rec.is_some_and(|r| r.fingerprint == m.fingerprint && r.replications == m.replications);
    match rec {
        None => problems.push(format!(
            "bench: {}: no fingerprint recorded in {}; record it with `dialtone bench --update`",
            m.name,
            path.display()
        )),
        Some(r) if !ok => problems.push(format!(
            "bench: {}: fingerprint changed: expected {} ({} replications), got {} ({} replications); if the change of behaviour is intended, record it with `dialtone bench --update`",
            m.name, r.fingerprint, r.replications, m.fingerprint, m.replications
        )),
        Some(_) => {}
    }
    let secs = m.seconds.max(1e-9);
    Row {
        events_per_s: m.events as f64 / secs,
        replications_per_s: m.replications as f64 / secs,
        expected_fingerprint: rec.map(|r| r.fingerprint.clone()),
        fingerprint_ok: ok,
        measure: m,
    }
}

fn line(s: &str) {
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = writeln!(std::io::stdout().lock(), "{s}");
}

fn print_row(r: &Row) {
    let m = &r.measure;
    let peak = m
        .peak_rss_kb
        .map_or("-".to_owned(), |kb| format!("{:.1}", kb as f64 / 1024.0));
    let status = match (r.fingerprint_ok, &r.expected_fingerprint) {
        (true, _) => "ok",
        (false, None) => "NEW",
        (false, Some(_)) => "CHANGED",
    };
    line(&format!(
        "{:<38} {:>5} {:>12} {:>12.0} {:>9.2} {:>9}  {} {status}",
        m.name, m.replications, m.events, r.events_per_s, r.replications_per_s, peak, m.fingerprint
    ));
}

/// Measures one scenario in a child process.
fn measure(a: &BenchArgs, c: &BenchCase) -> Result<Measure, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Run(format!("bench: cannot find this program: {e}")))?;
    let out = std::process::Command::new(exe)
        .arg("bench")
        .arg("--scenarios")
        .arg(&a.scenarios)
        .args(["--threads", &a.threads.to_string(), "--child", &c.name])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| Failure::Run(format!("bench: {}: cannot start: {e}", c.name)))?;
    if !out.status.success() {
        return Err(Failure::Run(format!(
            "bench: {}: the measurement failed ({})",
            c.name, out.status
        )));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| Failure::Run(format!("bench: {}: unreadable measurement: {e}", c.name)))
}

/// The child: runs the replications of one scenario and prints its [`Measure`].
fn child(a: &BenchArgs, c: &BenchCase) -> Result<(), Failure> {
    let sc = c.load().map_err(|e| Failure::Input(e.to_string()))?;
    let start = Instant::now();
    let digests = bench::digests(&sc, sc.seed, c.replications, a.threads)?;
    let seconds = start.elapsed().as_secs_f64();
    let m = Measure {
        name: c.name.clone(),
        replications: c.replications,
        events: digests.iter().map(|d| d.events).sum(),
        trace_records: digests.iter().map(|d| d.records).sum(),
        seconds,
        peak_rss_kb: peak_rss_kb(),
        fingerprint: bench::fingerprint(&digests),
    };
    let text = serde_json::to_string(&m).map_err(|e| Failure::Run(e.to_string()))?;
    line(&text);
    Ok(())
}

/// This process's peak resident set in KiB (Linux: `VmHWM` of /proc/self/status).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}
