//! `dialtone.Scenario`: a validated scenario with the JSON it came from, so that values
//! can be set in it (`with_values`, the paths of the CLI's `--set`) and variants and sweep
//! points derived from it as the CLI derives them from the file.

use std::path::PathBuf;

use dialtone_scenario::validate::{parse_json, parse_spec, validate};
use dialtone_scenario::{Scenario, ScenarioError};
use dialtone_study::axis::STRATEGY;
use dialtone_study::setpath::set_path;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::errors::{from_scenario, scenario_error};

/// A validated scenario (see the Python docstrings in `dialtone/__init__.py`).
#[pyclass(module = "dialtone._native", name = "Scenario", frozen)]
#[derive(Debug, Clone)]
pub struct PyScenario {
    /// The file it came from (as given), for messages.
    pub(crate) file: String,
    /// Its name (the file stem).
    pub(crate) name: String,
    /// Its JSON with every `with_values` path set (the strategy apart).
    pub(crate) json: Value,
    /// The strategy `with_values` chose instead of the file's, if any.
    pub(crate) strategy: Option<String>,
    /// The validated scenario.
    pub(crate) scenario: Scenario,
}

impl PyScenario {
    /// Validates scenario `text` (named `file`, `name`) under `strategy` (or the file's),
    /// as the CLI's `load` does.
    fn validated(
        file: &str,
        name: &str,
        text: &str,
        strategy: Option<&str>,
    ) -> Result<Scenario, ScenarioError> {
        validate(file, name, parse_spec(file, text)?, strategy)
    }

    /// [`Self::validated`] of a document made from values set by path (`json`).
    fn revalidated(&self, json: &Value, strategy: Option<&str>) -> PyResult<Scenario> {
        Self::validated(&self.file, &self.name, &json.to_string(), strategy)
            .map_err(|e| from_scenario(&without_position(e)))
    }

    fn new(file: String, name: String, text: &str) -> PyResult<PyScenario> {
        let scenario = Self::validated(&file, &name, text, None).map_err(|e| from_scenario(&e))?;
        let json = parse_json(&file, text).map_err(|e| from_scenario(&e))?;
        Ok(PyScenario {
            file,
            name,
            json,
            strategy: None,
            scenario,
        })
    }

    /// The scenario under `strategy` (validated with it, as `dialtone study --strategy`
    /// does), or as it is.
    pub(crate) fn resolve(&self, strategy: Option<&str>) -> PyResult<Scenario> {
        match strategy {
            None => Ok(self.scenario.clone()),
            Some(s) => self.revalidated(&self.json, Some(s)),
        }
    }

    /// `sets` with this scenario's strategy in front when it has its own and `sets` does
    /// not choose one: what a variant of it sets.
    pub(crate) fn with_own_strategy(&self, sets: Vec<(String, Value)>) -> Vec<(String, Value)> {
        match &self.strategy {
            Some(s) if !sets.iter().any(|(p, _)| p == STRATEGY) => {
                let mut all = vec![(STRATEGY.to_owned(), Value::String(s.clone()))];
                all.extend(sets);
                all
            }
            _ => sets,
        }
    }
}

/// The error without the positions serde gives in the JSON text (`at line 1 column
/// 1669`): they mean nothing in a document made from values set by path; the field path
/// says where (as the CLI's `--variant` and `sweep` messages, `dialtone_study::sweep`).
fn without_position(mut e: ScenarioError) -> ScenarioError {
    if let ScenarioError::Invalid { issues, .. } = &mut e {
        for i in issues {
            if let Some(k) = i.message.rfind(" at line ")
                && i.message[k..].split_whitespace().count() == 5
            {
                i.message.truncate(k);
            }
        }
    }
    e
}

/// `(path, JSON text)` pairs as `(path, value)`.
pub(crate) fn json_values(pairs: Vec<(String, String)>) -> PyResult<Vec<(String, Value)>> {
    pairs
        .into_iter()
        .map(|(p, text)| {
            serde_json::from_str(&text)
                .map(|v| (p.trim().to_owned(), v))
                .map_err(|e| scenario_error(format!("{p}: {e}"), vec![format!("{p}: {e}")]))
        })
        .collect()
}

#[pymethods]
impl PyScenario {
    /// Loads and validates a scenario file (`dialtone.load`).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<PyScenario> {
        let src = dialtone_scenario::validate::read(&path).map_err(|e| from_scenario(&e))?;
        Self::new(src.file, src.name, &src.text)
    }

    /// Validates a scenario given as JSON text (`Scenario.from_json`).
    #[staticmethod]
    #[pyo3(signature = (text, name = "scenario".to_owned(), file = "<json>".to_owned()))]
    fn from_json(text: &str, name: String, file: String) -> PyResult<PyScenario> {
        Self::new(file, name, text)
    }

    /// The scenario with `values` set: a mapping of paths as the CLI's `--set`
    /// (`topology.dns.ttl`, `clients[1].share`, `strategy`) to JSON-able values.
    fn with_values(&self, values: &Bound<'_, PyDict>) -> PyResult<PyScenario> {
        let dumps = values.py().import("json")?.getattr("dumps")?;
        let mut pairs = Vec::new();
        for (k, v) in values.iter() {
            pairs.push((
                k.extract::<String>()?,
                dumps.call1((v,))?.extract::<String>()?,
            ));
        }
        let mut json = self.json.clone();
        let mut strategy = self.strategy.clone();
        let values = json_values(pairs)?;
        for (path, v) in values.iter().cloned() {
            if path == STRATEGY {
                let s = dialtone_study::axis::strategy_of(&v).map_err(|e| {
                    let m = format!("{}: {STRATEGY}: {e}", self.file);
                    scenario_error(m.clone(), vec![m])
                })?;
                strategy = Some(s.name().to_owned());
            } else {
                set_path(&mut json, &path, v).map_err(|e| {
                    scenario_error(format!("{}: {e}", self.file), vec![e.to_string()])
                })?;
            }
        }
        let mut scenario = self.revalidated(&json, strategy.as_deref())?;
        scenario.origin = self.scenario.origin.then(&values);
        Ok(PyScenario {
            json,
            strategy,
            scenario,
            ..self.clone()
        })
    }

    /// The scenario's name (its file's stem).
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The file it was loaded from (`<json>` for `from_json`).
    #[getter]
    fn file(&self) -> &str {
        &self.file
    }

    /// What the scenario shows (the file's `description`).
    #[getter]
    fn description(&self) -> &str {
        &self.scenario.description
    }

    /// The strategy's name.
    #[getter]
    fn strategy(&self) -> &str {
        self.scenario.strategy.name()
    }

    /// The file's master seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.scenario.seed
    }

    /// The file's number of replications for a study.
    #[getter]
    fn replications(&self) -> u64 {
        self.scenario.replications
    }

    /// What is valid but probably a mistake (the CLI prints these as warnings).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.scenario
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The scenario's JSON document with the values set by `with_values` (not the
    /// strategy they chose: see `strategy`).
    fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.json).unwrap_or_default()
    }

    fn __repr__(&self) -> String {
        format!(
            "<dialtone.Scenario {:?} strategy={:?} from {:?}>",
            self.name,
            self.scenario.strategy.name(),
            self.file
        )
    }
}
