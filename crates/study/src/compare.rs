//! `compare`: several strategies over the same replications (common random numbers), with
//! paired differences against the first.

use dialtone_scenario::metrics::{Kind, SCHEMA_VERSION};
use dialtone_scenario::{Scenario, Strategy};
use serde::{Deserialize, Serialize};

use crate::stats::{Diff, paired};
use crate::{COLUMNS, Row, StudyError, StudySummary, meta, run_replications, summarize};

/// One strategy's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyResult {
    /// Strategy name.
    pub strategy: String,
    /// Its study summary.
    pub summary: StudySummary,
    /// Its rows (not serialised into the comparison; empty when read back: they are in
    /// replications-STRATEGY.csv).
    #[serde(skip)]
    pub rows: Vec<Row>,
}

/// The comparison: summary.json of `dialtone compare` (`kind` `compare`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// Always [`Kind::Compare`].
    pub kind: Kind,
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// Scenario.
    pub scenario: String,
    /// Master seed shared by every strategy.
    pub seed: u64,
    /// Replications per strategy.
    pub replications: u64,
    /// Each strategy's results, in the order given.
    pub strategies: Vec<StrategyResult>,
    /// For each strategy after the first, per metric, the paired difference
    /// (strategy − first).
    #[serde(
        serialize_with = "diffs_as_map",
        deserialize_with = "crate::metric_maps"
    )]
    pub differences: Vec<(String, Vec<(String, Diff)>)>,
}

fn diffs_as_map<S: serde::Serializer>(
    v: &[(String, Vec<(String, Diff)>)],
    s: S,
) -> Result<S::Ok, S::Error> {
    struct M<'a>(&'a [(String, Diff)]);
    impl Serialize for M<'_> {
        fn serialize<T: serde::Serializer>(&self, s: T) -> Result<T::Ok, T::Error> {
            crate::as_map(self.0, s)
        }
    }
    s.collect_map(v.iter().map(|(k, d)| (k, M(d))))
}

/// What to compare.
#[derive(Debug, Clone)]
pub struct CompareOptions<'a> {
    /// The validated scenario (its own strategy is replaced by each of `strategies`).
    pub scenario: &'a Scenario,
    /// Strategies; differences are against the first.
    pub strategies: &'a [Strategy],
    /// Replications per strategy.
    pub replications: u64,
    /// Master seed shared by every strategy.
    pub seed: u64,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Give each strategy its own seed instead (only to show what CRN buys).
    pub independent: bool,
}

/// Runs every strategy on replications `0..n` with the same seed (common random
/// numbers), calling `done` with each finished row.
pub fn compare(
    o: &CompareOptions<'_>,
    done: &(dyn Fn(&Row) + Sync),
) -> Result<Comparison, StudyError> {
    let (scenario, strategies, n, seed, threads, independent) = (
        o.scenario,
        o.strategies,
        o.replications,
        o.seed,
        o.threads,
        o.independent,
    );
    if strategies.len() < 2 {
        return Err(StudyError::Input("compare needs at least two strategies, e.g. --strategies restore-only,dial-tone-same-server".into()));
    }
    let indices: Vec<u64> = (0..n).collect();
    let mut results = Vec::new();
    for (k, strat) in strategies.iter().enumerate() {
        let sc = scenario
            .with_strategy(*strat)
            .map_err(|e| StudyError::Input(format!("strategy {:?}: {e}", strat.name())))?;
        let s = if independent {
            seed.wrapping_add(1_000_003 * k as u64)
        } else {
            seed
        };
        let rows = run_replications(&sc, s, &indices, threads, done)?;
        let m = meta(&sc, s, n, None);
        results.push(StrategyResult {
            strategy: strat.name().to_owned(),
            summary: summarize(&m, &rows),
            rows,
        });
    }
    let base = &results[0].rows;
    let col = |rows: &[Row], i: usize| rows.iter().map(|r| r.values[i]).collect::<Vec<_>>();
    let differences = results[1..]
        .iter()
        .map(|r| {
            let d = COLUMNS
                .iter()
                .enumerate()
                .map(|(i, (c, _))| ((*c).to_owned(), paired(&col(base, i), &col(&r.rows, i))))
                .collect();
            (r.strategy.clone(), d)
        })
        .collect();
    Ok(Comparison {
        kind: Kind::Compare,
        schema_version: SCHEMA_VERSION,
        scenario: scenario.name.clone(),
        seed,
        replications: n,
        strategies: results,
        differences,
    })
}
