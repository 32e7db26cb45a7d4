//! `sweep`: a grid over scenario parameters addressed by their JSON path
//! (`topology.dns.ttl`, `topology.databases[0].size`, `clients.1.share`), ranges, linked
//! paths and the strategy ([`crate::axis`] has the grammar). Every point runs the same
//! replications with the same master seed (common random numbers).

use dialtone_scenario::metrics::{Kind, SCHEMA_VERSION};
use dialtone_scenario::{Scenario, Strategy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::arms::ArmsMeta;
pub use crate::axis::{Axis, MAX_POINTS, STRATEGY, grid, parse_set, paths};
pub use crate::setpath::set_path;
use crate::{Row, StudyError, StudySummary, summarize};

/// summary.json of `dialtone sweep` (`kind` `sweep`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSummary {
    /// Always [`Kind::Sweep`].
    pub kind: Kind,
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// The swept JSON paths, in the order given (each path of a linked axis; `strategy`
    /// for the strategy axis).
    pub axes: Vec<String>,
    /// The grid's dimensions, in order: each the paths varied together (one path, or the
    /// paths of a linked axis).
    pub dimensions: Vec<Vec<String>>,
    /// Every grid point, first dimension slowest.
    pub points: Vec<SweepPoint>,
}

/// One grid point of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPoint {
    /// `PATH=VALUE` for every axis, space-separated.
    pub point: String,
    /// The value of each axis at this point, as given or as a range computed it (JSON: a
    /// number, or a string such as `"300s"` or a strategy name), in
    /// [`SweepSummary::axes`] order.
    pub values: Vec<Value>,
    /// The study at this point.
    pub summary: StudySummary,
    /// Its rows (not serialised into summary.json; empty when read back: they are in
    /// results.csv).
    #[serde(skip)]
    pub rows: Vec<Row>,
}

impl SweepSummary {
    /// The sweep of `scenario` over `axes` with these points.
    pub fn new(scenario: &str, axes: &[Axis], points: Vec<SweepPoint>) -> SweepSummary {
        SweepSummary {
            kind: Kind::Sweep,
            schema_version: SCHEMA_VERSION,
            scenario: scenario.to_owned(),
            axes: paths(axes),
            dimensions: axes.iter().map(|a| a.paths.clone()).collect(),
            points,
        }
    }

    /// The summary of a sweep over `points` (as [`points`] made them) whose arms ran
    /// `rows` under `meta`: one point per grid point, with its rows and statistics.
    pub fn of_points(
        scenario: &str,
        axes: &[Axis],
        points: &[(String, Vec<Value>, Scenario)],
        meta: &ArmsMeta,
        rows: &[Vec<Row>],
    ) -> SweepSummary {
        let points = points
            .iter()
            .enumerate()
            .map(|(k, (label, values, _))| SweepPoint {
                point: label.clone(),
                values: values.clone(),
                summary: summarize(&meta.study_meta(k), &[]),
                rows: Vec::new(),
            })
            .collect();
        SweepSummary::new(scenario, axes, points).with_rows(meta, rows)
    }

    /// The same sweep with each point's study recomputed from `rows` (per point) under
    /// `meta`: how a run and a merge of its shards give the same summary.json.
    pub fn with_rows(mut self, meta: &ArmsMeta, rows: &[Vec<Row>]) -> SweepSummary {
        for (k, (p, r)) in self.points.iter_mut().zip(rows).enumerate() {
            p.summary = summarize(&meta.study_meta(k), r);
            p.rows = r.clone();
        }
        self
    }
}

/// The label of a point: `PATH=VALUE` per path, space-separated.
pub fn label(paths: &[String], values: &[Value]) -> String {
    paths
        .iter()
        .zip(values)
        .map(|(p, v)| format!("{p}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The scenario `base` (the JSON of `file`, named `name`) with `sets` applied: each
/// `(path, value)` is set in the JSON ([`set_path`]) before validation, except the path
/// [`STRATEGY`], whose value (a strategy name) replaces the file's strategy (validated
/// and planned with the other settings, on the same random streams). `what` names the change in
/// errors (`--variant ttl`, a sweep point).
pub fn scenario_at(
    file: &str,
    name: &str,
    base: &Value,
    sets: &[(String, Value)],
    what: &str,
) -> Result<Scenario, StudyError> {
    let mut v = base.clone();
    let mut strategy: Option<Strategy> = None;
    for (path, x) in sets {
        if path == STRATEGY {
            strategy = Some(
                crate::axis::strategy_of(x)
                    .map_err(|e| StudyError::Input(format!("{what}: {STRATEGY}: {e}")))?,
            );
        } else {
            set_path(&mut v, path, x.clone())
                .map_err(|e| StudyError::Input(format!("{what}: {e}")))?;
        }
    }
    let origin = file;
    let file = format!("{file} ({what})");
    // Positions in the generated JSON mean nothing to the reader: the field path does.
    let bad = |e: dialtone_scenario::ScenarioError| {
        let text = e.to_string();
        StudyError::Input(match text.rfind(" at line ") {
            Some(i) if text[i..].split_whitespace().count() == 5 => text[..i].to_owned(),
            _ => text,
        })
    };
    let spec = dialtone_scenario::validate::parse_spec(&file, &v.to_string()).map_err(bad)?;
    // The strategy is validated with the settings (DAC off and a non-DAC switchover
    // together), as `Scenario::with_strategy` would plan it: same streams, same playbook.
    let mut sc =
        dialtone_scenario::validate::validate(&file, name, spec, strategy.map(|s| s.name()))
            .map_err(bad)?;
    sc.origin = dialtone_scenario::Origin {
        file: origin.to_owned(),
        sets: sets.to_vec(),
    };
    Ok(sc)
}

/// Every point of the grid of `axes` over `base`, validated before any runs: its label,
/// its values (in [`paths`] order) and its scenario.
pub fn points(
    file: &str,
    name: &str,
    base: &Value,
    axes: &[Axis],
) -> Result<Vec<(String, Vec<Value>, Scenario)>, StudyError> {
    let all = paths(axes);
    grid(axes)?
        .into_iter()
        .map(|p| {
            let label = label(&all, &p);
            let sets: Vec<(String, Value)> = all.iter().cloned().zip(p.iter().cloned()).collect();
            let sc = scenario_at(file, name, base, &sets, &format!("sweep point {label}"))?;
            Ok((label, p, sc))
        })
        .collect()
}

/// Merges the shard folders of one sweep: its metadata, the whole sweep and its rows
/// per point, as an unsharded run would have written them.
pub fn merge(
    dirs: &[&std::path::Path],
) -> Result<(ArmsMeta, SweepSummary, Vec<Vec<Row>>), StudyError> {
    let (meta, rows) = crate::arms::merge(dirs)?;
    let template: SweepSummary = crate::io::read_json(&dirs[0].join("summary.json"), Kind::Sweep)?;
    let s = template.with_rows(&meta, &rows);
    Ok((meta, s, rows))
}

/// Writes a sweep's folder: study.json, every point's rows, summary.json.
pub fn write(
    dir: &std::path::Path,
    meta: &ArmsMeta,
    s: &SweepSummary,
    rows: &[Vec<Row>],
) -> Result<(), StudyError> {
    crate::arms::write_rows(dir, meta, rows)?;
    crate::io::write_sweep(dir, s)
}
