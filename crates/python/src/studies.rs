//! `run`, `study`, `compare` and `sweep`: the CLI's commands of the same names, wired to
//! the same library functions in the same way (crates/cli/src/study.rs), returning the
//! text of the files the CLI writes instead of writing them.

use dialtone_engine::MemoryTrace;
use dialtone_scenario::metrics::Kind;
use dialtone_scenario::validate::limits;
use dialtone_scenario::{Scenario, Strategy};
use dialtone_study::arms::ArmsMeta;
use dialtone_study::axis::{Axis, STRATEGY, parse_set, strategy_of};
use dialtone_study::compare::{self as cmp, Comparison, Variant};
use dialtone_study::io::{
    compare_results_csv, study_results_csv, sweep_results_csv, timeline_csv, to_json,
};
use dialtone_study::sweep::{self as sw, SweepSummary};
use dialtone_study::{Row, StudyError, meta, run_replications_until, summarize};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value;

use crate::errors::{RunError, from_study};
use crate::scenario::{PyScenario, json_values};
use crate::supervise::{Control, supervised};

/// The names of the built-in strategies.
#[pyfunction]
pub fn strategies() -> Vec<&'static str> {
    Strategy::ALL.iter().map(|s| s.name()).collect()
}

/// One replication: `(summary.json's text, timeline.csv's text)`.
#[pyfunction]
#[pyo3(signature = (scenario, seed = None, strategy = None, replication = 0))]
pub fn run(
    py: Python<'_>,
    scenario: &PyScenario,
    seed: Option<u64>,
    strategy: Option<&str>,
    replication: u64,
) -> PyResult<(String, String)> {
    if replication >= limits::REPLICATIONS {
        return Err(PyValueError::new_err(format!(
            "replication {replication}: give 0 to {}",
            limits::REPLICATIONS - 1
        )));
    }
    let sc = scenario.resolve(strategy)?;
    let seed = seed.unwrap_or(sc.seed);
    let out = supervised(py, None, |_| {
        dialtone_scenario::run_with(&sc, seed, replication, MemoryTrace::default())
    })?;
    let (summary, trace) = out.map_err(|e| RunError::new_err(format!("{}: {e}", scenario.file)))?;
    Ok((
        to_json(&summary).map_err(from_study)?,
        timeline_csv(&trace.records),
    ))
}

/// Checks `replications` (or the file's) and `threads` as the CLI's arguments are.
fn sizes(replications: Option<u64>, default: u64, threads: usize) -> PyResult<u64> {
    if threads > limits::THREADS {
        return Err(PyValueError::new_err(format!(
            "threads={threads}: give at most {} (0, the default, is one a core)",
            limits::THREADS
        )));
    }
    match replications.unwrap_or(default) {
        0 => Err(PyValueError::new_err("replications must be at least 1")),
        n if n > limits::REPLICATIONS => Err(PyValueError::new_err(format!(
            "replications={n}: give at most {}",
            limits::REPLICATIONS
        ))),
        n => Ok(n),
    }
}

/// Every arm `(scenario, seed)` on replications `0..n`, arm after arm as the CLI's
/// `run_arms_with`, until `ctl.stop`. Rows per arm, sorted.
fn run_arms(
    runs: &[(&Scenario, u64)],
    n: u64,
    threads: usize,
    ctl: &Control,
) -> Result<Vec<Vec<Row>>, StudyError> {
    let todo: Vec<u64> = (0..n).collect();
    runs.iter()
        .map(|(sc, seed)| {
            run_replications_until(sc, *seed, &todo, threads, &|_, _, _| ctl.tick(), &ctl.stop)
        })
        .collect()
}

/// A study: `(summary.json's text, results.csv's text)`.
#[pyfunction]
#[pyo3(signature = (scenario, replications = None, seed = None, threads = 0, strategy = None, progress = None))]
pub fn study(
    py: Python<'_>,
    scenario: &PyScenario,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: usize,
    strategy: Option<&str>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(String, String)> {
    let sc = scenario.resolve(strategy)?;
    let n = sizes(replications, sc.replications, threads)?;
    let seed = seed.unwrap_or(sc.seed);
    let m = meta(&sc, seed, n, None);
    let rows = supervised(py, progress.as_ref().map(|p| (p, n)), |ctl| {
        run_arms(&[(&sc, seed)], n, threads, ctl)
    })?
    .map_err(from_study)?
    .concat();
    let summary = summarize(&m, &rows);
    let json = to_json(&summary).map_err(from_study)?;
    Ok((json, study_results_csv(&m.strategy, &rows)))
}

/// Variants `(name, [(path, JSON text)])` as the CLI's `--variant NAME:PATH=VALUE,...`.
fn variants_of(
    base: &PyScenario,
    given: Vec<(String, Vec<(String, String)>)>,
) -> PyResult<Vec<Variant>> {
    given
        .into_iter()
        .map(|(name, sets)| {
            Ok(Variant {
                name,
                file: None,
                settings: base.with_own_strategy(json_values(sets)?),
            })
        })
        .collect()
}

/// A comparison: `(summary.json's text, results.csv's text)`.
#[pyfunction]
#[pyo3(signature = (scenario, strategies = Vec::new(), variants = Vec::new(), replications = None, seed = None, threads = 0, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn compare(
    py: Python<'_>,
    scenario: &PyScenario,
    strategies: Vec<String>,
    variants: Vec<(String, Vec<(String, String)>)>,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<(String, String)> {
    let list = strategies
        .iter()
        .map(|s| s.trim().parse::<Strategy>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| from_study(StudyError::Input(format!("strategies: {e}"))))?;
    let variants = variants_of(scenario, variants)?;
    let base = cmp::Base {
        scenario: &scenario.scenario,
        json: &scenario.json,
    };
    let arms = cmp::arms(&base, &variants, &list).map_err(from_study)?;
    let opts = cmp::ArmOptions {
        arms: &arms,
        replications: sizes(replications, scenario.scenario.replications, threads)?,
        seed: seed.unwrap_or(scenario.scenario.seed),
        threads,
        independent: false,
    };
    let meta = opts.meta(None);
    let runs: Vec<_> = arms
        .iter()
        .zip(&meta.arms)
        .map(|(a, m)| (&a.scenario, m.seed))
        .collect();
    let total = opts.replications * runs.len() as u64;
    let rows = supervised(py, progress.as_ref().map(|p| (p, total)), |ctl| {
        run_arms(&runs, opts.replications, threads, ctl)
    })?
    .map_err(from_study)?;
    let c = Comparison::assemble(cmp::heads(&arms, &meta), &meta, rows);
    Ok((to_json(&c).map_err(from_study)?, compare_results_csv(&c)))
}

/// One axis of a sweep: `(CLI --set text, None)` or `(path, Some([JSON text, ...]))`.
fn axis_of(given: (String, Option<Vec<String>>)) -> Result<Axis, StudyError> {
    let (path, values) = match given {
        (set, None) => return parse_set(&set),
        (path, Some(values)) => (path, values),
    };
    let path = match path.trim() {
        STRATEGY => STRATEGY.to_owned(),
        p => dialtone_study::setpath::canonical(p)?,
    };
    let mut out = Vec::new();
    for text in values {
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| StudyError::Input(format!("{path}: {text}: {e}")))?;
        if path == STRATEGY {
            strategy_of(&v).map_err(|e| StudyError::Input(format!("{path}: {e}")))?;
        }
        out.push(vec![v]);
    }
    Ok(Axis {
        paths: vec![path],
        values: out,
    })
}

/// A sweep: `(summary.json's text, results.csv's text)`.
#[pyfunction]
#[pyo3(signature = (scenario, axes, replications = None, seed = None, threads = 0, progress = None))]
pub fn sweep(
    py: Python<'_>,
    scenario: &PyScenario,
    axes: Vec<(String, Option<Vec<String>>)>,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<(String, String)> {
    let mut axes = axes
        .into_iter()
        .map(axis_of)
        .collect::<Result<Vec<_>, _>>()
        .map_err(from_study)?;
    if axes.is_empty() {
        return Err(PyValueError::new_err("sweep needs at least one axis"));
    }
    if let Some(s) = &scenario.strategy
        && !axes.iter().any(|a| a.paths.iter().any(|p| p == STRATEGY))
    {
        axes.push(Axis {
            paths: vec![STRATEGY.to_owned()],
            values: vec![vec![Value::String(s.clone())]],
        });
    }
    let (file, name) = (&scenario.file, &scenario.name);
    let mut pts = sw::points(file, name, &scenario.json, &axes).map_err(from_study)?;
    // A replay applies the scenario's own settings (with_values) before the point's.
    for p in &mut pts {
        p.2.origin = scenario.scenario.origin.then(&p.2.origin.sets);
    }
    let n = sizes(replications, pts[0].2.replications, threads)?;
    let seeded: Vec<_> = pts
        .iter()
        .map(|(l, _, sc)| (l.as_str(), sc, seed.unwrap_or(sc.seed)))
        .collect();
    let meta = ArmsMeta::new(Kind::Sweep, &seeded, n, None);
    let runs: Vec<_> = seeded.iter().map(|(_, sc, s)| (*sc, *s)).collect();
    let total = n * runs.len() as u64;
    let rows = supervised(py, progress.as_ref().map(|p| (p, total)), |ctl| {
        run_arms(&runs, n, threads, ctl)
    })?
    .map_err(from_study)?;
    let s = SweepSummary::of_points(name, &axes, &pts, &meta, &rows);
    Ok((to_json(&s).map_err(from_study)?, sweep_results_csv(&s)))
}
