"""Shared helpers of the Python package's tests: the repository root and the CLI binary
(DIALTONE_BIN, default target/debug/dialtone) whose outputs the package must equal."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("DIALTONE_BIN", ROOT / "target" / "debug" / "dialtone"))
SITE = "scenarios/site-failure-dac.json"
CORRUPTION = "scenarios/db-corruption-dial-tone-same-server.json"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    """Every test runs from the repository root, as the CLI is run (relative paths in
    messages then match)."""
    monkeypatch.chdir(ROOT)


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the CLI from the repository root."""
    return subprocess.run(
        [str(BIN), *args], cwd=ROOT, check=check, capture_output=True, text=True
    )
