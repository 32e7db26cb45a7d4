//! The Python exceptions and how library errors become them: bad input (a scenario, a
//! path, a variant, a grid) is `dialtone.ScenarioError` (a `ValueError`) whose message is
//! the CLI's; a failed replication is `dialtone.RunError` (a `RuntimeError`) naming the
//! command that replays it.

use dialtone_study::StudyError;
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    dialtone,
    ScenarioError,
    PyValueError,
    "A scenario (or a value, variant or grid given for one) cannot be used. The message is \
     the CLI's: the file, the field path and the fix; `problems` lists every problem found."
);
create_exception!(
    dialtone,
    RunError,
    PyRuntimeError,
    "A replication failed (a bug, or an event budget exceeded); the message names the \
     `dialtone run` command that replays it alone."
);

/// A [`ScenarioError`] with this message and these problems (its `problems` attribute).
pub fn scenario_error(message: String, problems: Vec<String>) -> PyErr {
    Python::attach(|py| {
        let e = ScenarioError::new_err(message);
        match e.value(py).setattr("problems", problems) {
            Ok(()) => e,
            Err(other) => other,
        }
    })
}

/// The problems listed in a message of the form `FILE: N problem(s):\n  - A\n  - B`
/// (every scenario error), or the whole message as the one problem.
fn problems_of(message: &str) -> Vec<String> {
    let listed: Vec<String> = message
        .lines()
        .filter_map(|l| l.strip_prefix("  - "))
        .map(str::to_owned)
        .collect();
    if listed.is_empty() {
        vec![message.to_owned()]
    } else {
        listed
    }
}

/// A scenario error of the library as Python sees it.
pub fn from_scenario(e: &dialtone_scenario::ScenarioError) -> PyErr {
    let problems = match e {
        dialtone_scenario::ScenarioError::Invalid { issues, .. } => {
            issues.iter().map(ToString::to_string).collect()
        }
        other => vec![other.to_string()],
    };
    scenario_error(e.to_string(), problems)
}

/// A study error as Python sees it: bad input is a [`ScenarioError`], a failed
/// replication a [`RunError`], anything else a `RuntimeError`; the message is the CLI's.
pub fn from_study(e: StudyError) -> PyErr {
    match e {
        StudyError::Input(m) => {
            let problems = problems_of(&m);
            scenario_error(m, problems)
        }
        StudyError::Read(e) => scenario_error(e.to_string(), vec![e.to_string()]),
        e @ StudyError::Run { .. } => RunError::new_err(e.to_string()),
        e @ StudyError::Threads(_) => PyValueError::new_err(e.to_string()),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}
