#!/usr/bin/env bash
# The Python tests (tests/python): the real binary's results.csv read by pandas.
# pandas and pytest go into a virtual environment under target/py (never the system's
# Python: PEP 668 forbids installing into it, and a venv needs no root), pinned by
# tests/python/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/python/requirements.txt
# A no-op after cargo test; never test a stale binary.
cargo build --quiet --locked -p dialtone-cli
DIALTONE_BIN=target/debug/dialtone "$venv/bin/python" -m pytest -q tests/python
