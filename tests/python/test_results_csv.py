"""results.csv as a researcher loads it: pandas.read_csv with no options, no string parsing.

Runs the real binary (DIALTONE_BIN, default target/debug/dialtone) on small studies,
comparisons and sweeps, then checks each column's dtype and the values against the
folder's summary.json (docs/METRICS.md, "results.csv").
"""

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("DIALTONE_BIN", ROOT / "target" / "debug" / "dialtone"))

# results.csv column -> (summary.json metric, divisor from the summary's unit).
FROM_SUMMARY = {
    "user_hours_without_send_receive": ("user_minutes_without_send_receive", 60.0),
    "user_hours_without_history": ("user_minutes_without_history", 60.0),
    "user_hours_offline_readable": ("user_minutes_offline_readable", 60.0),
    "database_hours_split_brain": ("split_brain_ms", 3_600_000.0),
}
COUNTS = [
    "split_brain_messages",
    "profile_changes",
    "failed_actions",
    "mail_accepted",
    "mail_not_delivered",
    "mail_delivered_on_time",
    "mail_delivered_late",
    "mail_bounced",
    "mail_lost_silently",
    "mail_queued_at_end",
    "mail_recovered",
    "mail_left_in_dial_tone",
]
TEXT = {"strategy", "variant"}


def dialtone(*args: str) -> None:
    subprocess.run([str(BIN), *args, "--quiet"], cwd=ROOT, check=True, capture_output=True)


def load(folder: Path) -> tuple[pd.DataFrame, dict]:
    df = pd.read_csv(folder / "results.csv")
    summary = json.loads((folder / "summary.json").read_text())
    return df, summary


def check_types(df: pd.DataFrame, axes: list[str]) -> None:
    """Every column but strategy and variant is numeric; counts are integers."""
    assert list(df.columns[:2]) == ["strategy", "variant"]
    assert list(df.columns[2 : 2 + len(axes)]) == axes
    assert df.columns[2 + len(axes)] == "replication"
    for col in df.columns:
        if col in TEXT:
            continue
        assert pd.api.types.is_numeric_dtype(df[col]), f"{col}: {df[col].dtype}"
        assert not pd.api.types.is_bool_dtype(df[col]), col
    for col in COUNTS + ["replication"]:
        assert pd.api.types.is_integer_dtype(df[col]), f"{col}: {df[col].dtype}"
    for col in df.columns:
        if col.endswith("_s") or "hours" in col or col == "availability":
            assert pd.api.types.is_float_dtype(df[col]), f"{col}: {df[col].dtype}"


def check_against(group: pd.DataFrame, metrics: dict) -> None:
    """The rows of one arm give back its summary's statistics."""
    for col in group.columns:
        if col in TEXT or col == "replication" or "." in col:
            continue
        key, divisor = FROM_SUMMARY.get(col, (col, 1.0))
        stat = metrics[key]
        values = group[col]
        assert values.isna().sum() == stat["nulls"], col
        if stat["mean"] is None:
            assert values.isna().all(), col
            continue
        assert values.mean() == pytest.approx(stat["mean"] / divisor, rel=1e-9, abs=1e-12), col
        assert values.max() == pytest.approx(stat["max"] / divisor, rel=1e-9, abs=1e-12), col


def test_study(tmp_path: Path) -> None:
    out = tmp_path / "study"
    dialtone("study", "scenarios/site-failure-dac.json", "--replications", "6", "--out", str(out))
    df, summary = load(out)
    check_types(df, [])
    assert len(df) == 6
    assert list(df["replication"]) == list(range(6))
    assert set(df["strategy"]) == {summary["strategy"]}
    check_against(df, summary["metrics"])


def test_compare(tmp_path: Path) -> None:
    out = tmp_path / "compare"
    strategies = ["restore-only", "dial-tone-same-server", "none"]
    dialtone(
        "compare",
        "scenarios/db-corruption-dial-tone-same-server.json",
        "--strategies",
        ",".join(strategies),
        "--replications",
        "5",
        "--out",
        str(out),
    )
    df, summary = load(out)
    check_types(df, [])
    assert len(df) == 5 * len(strategies)
    assert list(df["strategy"].unique()) == strategies
    # `none` never gives service back: an empty cell, read as NaN, not a number.
    assert df.loc[df["strategy"] == "none", "time_to_service_all_s"].isna().all()
    for arm in summary["strategies"]:
        check_against(df[df["strategy"] == arm["strategy"]], arm["summary"]["metrics"])
    # The paired difference as a researcher computes it, against summary.json's.
    wide = df.pivot(index="replication", columns="strategy", values="operator_hours")
    diff = (wide["dial-tone-same-server"] - wide["restore-only"]).mean()
    want = summary["differences"]["dial-tone-same-server"]["operator_hours"]["mean"]
    assert diff == pytest.approx(want, rel=1e-9)


def test_sweep(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    dialtone(
        "sweep",
        "scenarios/site-failure-dac.json",
        "--set",
        "topology.dns.ttl=60s,1h",
        "--set",
        "workload.messages_per_user_per_day=10,40",
        "--replications",
        "3",
        "--out",
        str(out),
    )
    df, summary = load(out)
    axes = ["topology.dns.ttl", "workload.messages_per_user_per_day"]
    check_types(df, axes)
    assert len(df) == 4 * 3
    # Swept durations are seconds, numbers stay numbers: group by them as they are.
    assert sorted(df["topology.dns.ttl"].unique()) == [60.0, 3600.0]
    assert sorted(df["workload.messages_per_user_per_day"].unique()) == [10, 40]
    for point in summary["points"]:
        ttl = pd.Timedelta(point["values"][0]).total_seconds()
        rate = point["values"][1]
        group = df[(df["topology.dns.ttl"] == ttl) & (df["workload.messages_per_user_per_day"] == rate)]
        assert len(group) == 3, point["point"]
        check_against(group, point["summary"]["metrics"])
