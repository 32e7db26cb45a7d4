#!/usr/bin/env bash
# The Python package (crates/python): installed with the README's command
# (`pip install ./crates/python`, maturin pulled in as the build backend) into the venv
# under target/py, then its tests (crates/python/tests: the API, errors equal to the
# CLI's, results equal to the CLI's, Ctrl-C, thread invariance) and the notebooks
# executed with nbclient (examples/notebooks: they never rot).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" -r crates/python/requirements-dev.txt
# The dev profile reuses what `cargo test --workspace` built in target/debug (the same
# code as the CLI binary the tests compare with); a release build would add minutes.
MATURIN_PEP517_ARGS="--profile dev --locked" "${pip[@]}" --force-reinstall --no-deps ./crates/python
# A no-op after cargo test; never compare with a stale binary.
cargo build --quiet --locked -p dialtone-cli
DIALTONE_BIN=target/debug/dialtone "$venv/bin/python" -m pytest -q crates/python/tests
"$venv/bin/python" scripts/run-notebook.py examples/notebooks/*.ipynb
