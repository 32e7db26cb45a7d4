//! `compare`: several arms over the same replications (common random numbers), with
//! paired differences against the first.
//!
//! An arm is a variant of the scenario under a strategy. Without `--variant` the arms are
//! the strategies of `--strategies` (labels: the strategy names). With variants, the
//! first variant is `base` (the file as given), then each `--variant` in order; without
//! `--strategies` each variant runs its own strategy (labels: the variant names), with
//! them the arms are every variant x every strategy, variant slowest (labels:
//! `VARIANT+STRATEGY`). The first arm is the baseline of every difference. Every arm runs
//! replications `0..n` with the same master seed, so its failures, mail and clients are
//! the same in every arm (the random streams are named by what draws from them, never by
//! a parameter a variant changes).

use dialtone_scenario::metrics::{Kind, SCHEMA_VERSION, nullable};
use dialtone_scenario::{Scenario, Strategy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::arms::{ArmsMeta, run_arms};
use crate::stats::{Diff, paired};
use crate::sweep::{STRATEGY, scenario_at};
use crate::{COLUMNS, Row, StudyError, StudySummary, summarize};

/// The name of the variant that is the scenario file as given.
pub const BASE: &str = "base";

/// A variant of the scenario: the file with some settings changed, or another file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Its name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Another scenario file (`--variant NAME=FILE`), or null.
    #[serde(deserialize_with = "nullable")]
    pub file: Option<String>,
    /// The settings changed, `PATH: VALUE` in the order given (`--variant
    /// NAME:PATH=VALUE,...`); empty for `base` and for a file.
    #[serde(serialize_with = "crate::as_map", deserialize_with = "crate::from_map")]
    pub settings: Vec<(String, Value)>,
}

/// Parses one `PATH=VALUE` setting (`run --set`, each of a variant's): VALUE is JSON
/// when it parses as JSON, else a string (`1h`); PATH is as in `sweep --set`
/// (`topology.dns.ttl`, `clients.1.share`, `clients[1].share`, or `strategy`). The error
/// says what is wrong with the item.
pub fn setting(item: &str) -> Result<(String, Value), String> {
    let (path, value) = item
        .split_once('=')
        .ok_or_else(|| format!("{item:?} is not PATH=VALUE"))?;
    let (path, value) = (path.trim(), value.trim());
    if path.is_empty() || value.is_empty() {
        return Err(format!("{item:?}: empty path or value"));
    }
    if path != STRATEGY {
        crate::setpath::parse_path(path).map_err(|e| e.to_string())?;
    }
    let v = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((path.to_owned(), v))
}

/// Parses `--variant NAME:PATH=VALUE[,PATH=VALUE...]` or `--variant NAME=FILE`. A VALUE
/// is JSON when it parses as JSON, else a string (`1h`); PATH is as in `sweep --set`
/// (`topology.dns.ttl`, `clients.1.share`, `clients[1].share`, or `strategy`).
pub fn parse_variant(s: &str) -> Result<Variant, StudyError> {
    let bad = |why: String| {
        StudyError::Input(format!(
            "--variant {s:?}: {why}; write NAME:PATH=VALUE[,PATH=VALUE...] (e.g. ttl-1h:topology.dns.ttl=1h) or NAME=FILE"
        ))
    };
    let (colon, eq) = (s.find(':'), s.find('='));
    let (name, rest, is_file) = match (colon, eq) {
        (Some(c), _) if eq.is_none_or(|e| c < e) => (&s[..c], &s[c + 1..], false),
        (_, Some(e)) => (&s[..e], &s[e + 1..], true),
        _ => return Err(bad("no settings and no file".into())),
    };
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(bad(format!(
            "the name {name:?} must be letters, digits, '-', '_' or '.'"
        )));
    }
    if name == BASE {
        return Err(bad(format!(
            "{BASE:?} is the file as given; name the variant otherwise"
        )));
    }
    if is_file {
        let file = rest.trim();
        if file.is_empty() {
            return Err(bad("empty file".into()));
        }
        return Ok(Variant {
            name: name.to_owned(),
            file: Some(file.to_owned()),
            settings: Vec::new(),
        });
    }
    let settings = rest
        .split(',')
        .map(|item| setting(item).map_err(&bad))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Variant {
        name: name.to_owned(),
        file: None,
        settings,
    })
}

/// One arm of a comparison: a validated scenario under a label.
#[derive(Debug, Clone)]
pub struct Arm {
    /// Its label: the strategy, the variant, or `VARIANT+STRATEGY`.
    pub label: String,
    /// Its variant (none when the comparison has no variants).
    pub variant: Option<Variant>,
    /// The scenario it runs.
    pub scenario: Scenario,
}

/// Warnings for arms that run a differently sized organisation than the first (a
/// `--variant NAME=FILE` of another organisation): their paired differences still share
/// the failure and mail streams, but compare organisations with other users or databases.
pub fn size_warnings(arms: &[Arm]) -> Vec<String> {
    let size = |a: &Arm| {
        let w = &a.scenario.world;
        (
            w.cohorts.iter().map(|c| c.users).sum::<u64>(),
            w.databases.len(),
        )
    };
    let Some(first) = arms.first() else {
        return Vec::new();
    };
    let (users, dbs) = size(first);
    arms.iter()
        .filter(|a| size(a) != (users, dbs))
        .map(|a| {
            let (u, d) = size(a);
            format!(
                "arm {}: {u} users and {d} databases against the baseline's {users} and {dbs}: \
                 its differences compare organisations of different sizes",
                a.label
            )
        })
        .collect()
}

/// The file, name and JSON of the scenario to which variants apply.
#[derive(Debug, Clone)]
pub struct Base<'a> {
    /// The validated scenario.
    pub scenario: &'a Scenario,
    /// Its JSON, as read from the file.
    pub json: &'a Value,
}

/// The scenario of one variant, validated (errors name the variant).
fn variant_scenario(base: &Base<'_>, v: &Variant) -> Result<Scenario, StudyError> {
    let what = format!("--variant {}", v.name);
    match &v.file {
        Some(f) => dialtone_scenario::load(std::path::Path::new(f))
            .map_err(|e| StudyError::Input(format!("{what}: {e}"))),
        None => {
            let mut sc = scenario_at(
                &base.scenario.file,
                &base.scenario.name,
                base.json,
                &v.settings,
                &what,
            )?;
            // The base may itself carry settings (Python's with_values): a replay
            // applies them first.
            sc.origin = base.scenario.origin.then(&v.settings);
            Ok(sc)
        }
    }
}

/// The arms of a comparison (see the module docs), every one validated before any runs.
pub fn arms(
    base: &Base<'_>,
    variants: &[Variant],
    strategies: &[Strategy],
) -> Result<Vec<Arm>, StudyError> {
    let mut designs: Vec<(Option<Variant>, Scenario)> = Vec::new();
    if variants.is_empty() {
        designs.push((None, base.scenario.clone()));
    } else {
        let v0 = Variant {
            name: BASE.into(),
            file: None,
            settings: Vec::new(),
        };
        designs.push((Some(v0), base.scenario.clone()));
        for v in variants {
            if designs
                .iter()
                .any(|(d, _)| d.as_ref().is_some_and(|d| d.name == v.name))
            {
                return Err(StudyError::Input(format!(
                    "--variant {}: two variants have this name",
                    v.name
                )));
            }
            designs.push((Some(v.clone()), variant_scenario(base, v)?));
        }
    }
    let mut out = Vec::new();
    for (v, sc) in designs {
        let name = v.as_ref().map(|v| v.name.clone());
        if strategies.is_empty() {
            out.push(Arm {
                label: name.unwrap_or_else(|| sc.strategy.name().to_owned()),
                variant: v,
                scenario: sc,
            });
            continue;
        }
        for st in strategies {
            let s = sc.with_strategy(*st).map_err(|e| {
                let who = name
                    .as_deref()
                    .map_or(String::new(), |n| format!("variant {n}, "));
                StudyError::Input(format!("{who}strategy {:?}: {e}", st.name()))
            })?;
            out.push(Arm {
                label: name
                    .as_ref()
                    .map_or_else(|| st.name().to_owned(), |n| format!("{n}+{}", st.name())),
                variant: v.clone(),
                scenario: s,
            });
        }
    }
    if out.len() < 2 {
        return Err(StudyError::Input("compare needs at least two arms: --strategies A,B (e.g. restore-only,dial-tone-same-server) and/or --variant".into()));
    }
    if let Some(dup) = out.iter().enumerate().find_map(|(i, a)| {
        out[..i]
            .iter()
            .any(|b| b.label == a.label)
            .then_some(&a.label)
    }) {
        return Err(StudyError::Input(format!(
            "--strategies: {dup} is given twice"
        )));
    }
    Ok(out)
}

/// The arms of a comparison of strategies only (no variants).
pub fn strategy_arms(scenario: &Scenario, strategies: &[Strategy]) -> Result<Vec<Arm>, StudyError> {
    let base = Base {
        scenario,
        json: &Value::Null,
    };
    arms(&base, &[], strategies)
}

/// One arm's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyResult {
    /// The arm's label (unique; the key of [`Comparison::differences`]).
    pub arm: String,
    /// Strategy name.
    pub strategy: String,
    /// The arm's variant and its settings; null in a comparison without variants.
    #[serde(deserialize_with = "nullable")]
    pub variant: Option<Variant>,
    /// Its study summary.
    pub summary: StudySummary,
    /// Its rows (not serialised into the comparison; empty when read back: they are in
    /// replications-ARM.csv).
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
    /// Master seed shared by every arm.
    pub seed: u64,
    /// Replications per arm.
    pub replications: u64,
    /// Each arm's results, in order; the first is the baseline.
    pub strategies: Vec<StrategyResult>,
    /// For each arm after the first (by label), per metric, the paired difference
    /// (arm − first).
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

impl Comparison {
    /// A comparison of `arms` (labels, strategies, variants) with every arm's study and
    /// the differences computed from `rows` (per arm, sorted) under `meta`: a run, a
    /// shard and a merge of shards all go through here, so they agree byte for byte.
    pub fn assemble(arms: Vec<StrategyResult>, meta: &ArmsMeta, rows: Vec<Vec<Row>>) -> Comparison {
        let n = rows.first().map_or(0, Vec::len) as u64;
        let results: Vec<StrategyResult> = arms
            .into_iter()
            .zip(rows)
            .enumerate()
            .map(|(k, (a, r))| StrategyResult {
                summary: summarize(&meta.study_meta(k), &r),
                rows: r,
                ..a
            })
            .collect();
        let col = |rows: &[Row], i: usize| rows.iter().map(|r| r.values[i]).collect::<Vec<_>>();
        let base = results.first().map_or(&[][..], |r| &r.rows[..]);
        let differences = results
            .iter()
            .skip(1)
            .map(|r| {
                let d = COLUMNS
                    .iter()
                    .enumerate()
                    .map(|(i, (c, _))| ((*c).to_owned(), paired(&col(base, i), &col(&r.rows, i))))
                    .collect();
                (r.arm.clone(), d)
            })
            .collect();
        Comparison {
            kind: Kind::Compare,
            schema_version: SCHEMA_VERSION,
            scenario: meta
                .arms
                .first()
                .map_or(String::new(), |a| a.scenario.clone()),
            seed: meta.arms.first().map_or(0, |a| a.seed),
            replications: n,
            strategies: results,
            differences,
        }
    }

    /// The arms' heads (label, strategy, variant) without results, to [`Self::assemble`]
    /// again (a merge).
    pub fn heads(&self) -> Vec<StrategyResult> {
        self.strategies
            .iter()
            .map(|s| StrategyResult {
                rows: Vec::new(),
                ..s.clone()
            })
            .collect()
    }
}

/// The heads of `arms`, with placeholder summaries that [`Comparison::assemble`] replaces.
pub fn heads(arms: &[Arm], meta: &ArmsMeta) -> Vec<StrategyResult> {
    arms.iter()
        .enumerate()
        .map(|(k, a)| StrategyResult {
            arm: a.label.clone(),
            strategy: a.scenario.strategy.name().to_owned(),
            variant: a.variant.clone(),
            summary: summarize(&meta.study_meta(k), &[]),
            rows: Vec::new(),
        })
        .collect()
}

/// What to compare: strategies of one scenario (see [`ArmOptions`] for variants).
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

/// What to compare: any arms ([`arms`]).
#[derive(Debug, Clone)]
pub struct ArmOptions<'a> {
    /// The arms; differences are against the first.
    pub arms: &'a [Arm],
    /// Replications per arm.
    pub replications: u64,
    /// Master seed shared by every arm.
    pub seed: u64,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Give each arm its own seed instead (only to show what CRN buys).
    pub independent: bool,
}

impl ArmOptions<'_> {
    /// The metadata of this comparison (or of its `shard`).
    pub fn meta(&self, shard: Option<crate::Shard>) -> ArmsMeta {
        let seeded: Vec<(&str, &Scenario, u64)> = self
            .arms
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let s = if self.independent {
                    self.seed.wrapping_add(1_000_003 * k as u64)
                } else {
                    self.seed
                };
                (a.label.as_str(), &a.scenario, s)
            })
            .collect();
        ArmsMeta::new(Kind::Compare, &seeded, self.replications, shard)
    }
}

/// Runs every strategy on replications `0..n` with the same seed (common random
/// numbers), calling `done` with each finished row.
pub fn compare(
    o: &CompareOptions<'_>,
    done: &(dyn Fn(&Row) + Sync),
) -> Result<Comparison, StudyError> {
    let arms = strategy_arms(o.scenario, o.strategies)?;
    let a = ArmOptions {
        arms: &arms,
        replications: o.replications,
        seed: o.seed,
        threads: o.threads,
        independent: o.independent,
    };
    compare_arms(&a, done)
}

/// Runs every arm on replications `0..n` with the same seed (common random numbers),
/// calling `done` with each finished row.
pub fn compare_arms(
    o: &ArmOptions<'_>,
    done: &(dyn Fn(&Row) + Sync),
) -> Result<Comparison, StudyError> {
    let meta = o.meta(None);
    let runs: Vec<(&Scenario, u64)> = o
        .arms
        .iter()
        .zip(&meta.arms)
        .map(|(a, m)| (&a.scenario, m.seed))
        .collect();
    let todo = vec![(0..o.replications).collect::<Vec<u64>>(); o.arms.len()];
    let rows = run_arms(&runs, &todo, o.threads, &|_, r| done(r))?;
    Ok(Comparison::assemble(heads(o.arms, &meta), &meta, rows))
}

/// Merges the shard folders of one comparison: the whole comparison, its metadata, as
/// an unsharded run would have written them.
pub fn merge(dirs: &[&std::path::Path]) -> Result<(ArmsMeta, Comparison), StudyError> {
    let (meta, rows) = crate::arms::merge(dirs)?;
    let template: Comparison = crate::io::read_json(&dirs[0].join("summary.json"), Kind::Compare)?;
    Ok((
        meta.clone(),
        Comparison::assemble(template.heads(), &meta, rows),
    ))
}

/// Writes a comparison's folder: study.json, every arm's rows, summary.json.
pub fn write(dir: &std::path::Path, meta: &ArmsMeta, c: &Comparison) -> Result<(), StudyError> {
    let rows: Vec<Vec<Row>> = c.strategies.iter().map(|s| s.rows.clone()).collect();
    crate::arms::write_rows(dir, meta, &rows)?;
    crate::io::write_compare(dir, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_arm_of_another_size_is_warned_about() {
        let sc = dialtone_scenario::load(std::path::Path::new(
            "../../scenarios/site-failure-dac.json",
        ))
        .expect("a shipped scenario");
        let arm = |label: &str, sc: Scenario| Arm {
            label: label.into(),
            variant: None,
            scenario: sc,
        };
        let same = [arm("a", sc.clone()), arm("b", sc.clone())];
        assert!(size_warnings(&same).is_empty());
        let mut smaller = sc.clone();
        let mut w = (*smaller.world).clone();
        w.cohorts[0].users /= 2;
        smaller.world = std::sync::Arc::new(w);
        let v = size_warnings(&[arm("a", sc), arm("half", smaller)]);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].starts_with("arm half: ") && v[0].contains("different sizes"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn variants_parse_settings_or_a_file() {
        let v = parse_variant("ttl-1h:topology.dns.ttl=1h,clients.1.share=0.5").expect("ok");
        assert_eq!(v.name, "ttl-1h");
        assert_eq!(
            v.settings,
            vec![
                ("topology.dns.ttl".to_owned(), json!("1h")),
                ("clients.1.share".to_owned(), json!(0.5))
            ]
        );
        let f = parse_variant("other=scenarios/x.json").expect("file");
        assert_eq!(f.file.as_deref(), Some("scenarios/x.json"));
        let e = |s: &str| parse_variant(s).expect_err(s).to_string();
        assert!(e("nothing").contains("NAME:PATH=VALUE"));
        assert!(e("base:topology.dns.ttl=1h").contains("the file as given"));
        assert!(e("a b:topology.dns.ttl=1h").contains("letters, digits"));
        assert!(e("x:topology.dns.ttl").contains("not PATH=VALUE"));
        assert!(e("x:clients[y].share=1").contains("not a list index"));
    }
}
