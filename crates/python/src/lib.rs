//! `dialtone-python`: the Python package `dialtone` (PyO3; built with maturin, see
//! `crates/python/pyproject.toml` and docs/PYTHON.md).
//!
//! This crate is the native half, the module `dialtone._native`: it loads and validates
//! scenarios ([`scenario`]), and runs a replication, a study, a comparison and a sweep
//! ([`studies`]) with the library crates, exactly as the CLI wires them, returning the
//! documents the CLI writes (summary.json's text, results.csv's text, timeline.csv's text).
//! The pure-Python half (`crates/python/python/dialtone/__init__.py`) turns those into
//! dicts and pandas DataFrames (`pandas.read_csv` of the same text, so values and dtypes
//! are those of `pandas.read_csv("results.csv")`).
//!
//! Long calls release the GIL and run on a worker thread while the calling thread checks
//! for Ctrl-C and reports progress ([`supervise`]); an interrupt stops the worker threads
//! before the next replication starts and raises `KeyboardInterrupt`.
#![warn(missing_docs, unreachable_pub)]

pub mod errors;
pub mod scenario;
pub mod studies;
pub mod supervise;

use pyo3::prelude::*;

/// The module `dialtone._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<scenario::PyScenario>()?;
    m.add("ScenarioError", py.get_type::<errors::ScenarioError>())?;
    m.add("RunError", py.get_type::<errors::RunError>())?;
    m.add_function(wrap_pyfunction!(studies::run, m)?)?;
    m.add_function(wrap_pyfunction!(studies::study, m)?)?;
    m.add_function(wrap_pyfunction!(studies::compare, m)?)?;
    m.add_function(wrap_pyfunction!(studies::sweep, m)?)?;
    m.add_function(wrap_pyfunction!(studies::strategies, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
