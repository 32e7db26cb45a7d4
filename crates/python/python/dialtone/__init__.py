"""dialtone: disasters of Exchange-style mail systems, simulated, from Python.

The numbers are the CLI's: the same library code runs the same replications, and the
DataFrames are ``pandas.read_csv`` of the very text the CLI writes to results.csv (same
columns, same units, same dtypes; docs/METRICS.md describes them).

>>> import dialtone
>>> sc = dialtone.load("scenarios/site-failure-dac.json")
>>> res = dialtone.study(sc, replications=50, seed=1)
>>> res.results.groupby("strategy")["user_hours_without_send_receive"].mean()
>>> res.intervals.set_index("metric").loc["user_minutes_without_send_receive"]

Long calls release the GIL, stop on Ctrl-C (``KeyboardInterrupt``) within a fraction of
a second plus the replications already running, and show a tqdm progress bar with
``progress=True`` when tqdm is installed.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

import pandas as pd

from . import _native
from ._native import RunError, Scenario, ScenarioError

__all__ = [
    "Run",
    "RunError",
    "Results",
    "Scenario",
    "ScenarioError",
    "compare",
    "load",
    "run",
    "strategies",
    "study",
    "sweep",
]

__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]
Progress = Union[bool, Callable[[int, int], Any]]


def load(path: PathLike) -> Scenario:
    """Load and validate a scenario file.

    Raises ScenarioError (a ValueError) with the CLI's message (the file, the field path
    and the fix) and every problem in its ``problems`` list.
    """
    return Scenario.load(os.fspath(path))


def strategies() -> list[str]:
    """The names of the built-in strategies (``dialtone list strategies``)."""
    return list(_native.strategies())


@dataclass(frozen=True)
class Run:
    """One replication of a scenario (``dialtone run``).

    summary: summary.json's document (docs/METRICS.md).
    timeline: timeline.csv as a DataFrame (time_s, component, what, detail).
    users_in_service: the change points of the users' service: time_s, users_in_service,
        users_without_service (each value holds from its time to the next).
    """

    summary: dict
    timeline: pd.DataFrame
    users_in_service: pd.DataFrame


@dataclass(frozen=True)
class Results:
    """A study, a comparison or a sweep.

    results: results.csv as a DataFrame: one row per arm x replication, the CLI's columns
        and units (``pandas.read_csv`` of the same text).
    summary: summary.json's document (statistics with 95% confidence intervals, in
        summary.json's units: user-minutes, seconds, milliseconds of split brain).
    intervals: the summary's statistics, tidy: one row per arm x metric with arm, (for a
        sweep, point and the swept values as in results), metric, n, nulls, mean, sd,
        ci95_low, ci95_high, p50, p95, min, max.
    differences: for a comparison, each arm minus the first, paired: arm, metric, mean,
        ci95_low, ci95_high, significant; empty otherwise.
    """

    results: pd.DataFrame
    summary: dict
    intervals: pd.DataFrame
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)


def _scenario(s: Union[Scenario, PathLike]) -> Scenario:
    return s if isinstance(s, Scenario) else load(s)


def _progress(progress: Progress) -> tuple[Optional[Callable[[int, int], Any]], Callable[[], None]]:
    """The callback to give the native call, and what closes it afterwards."""
    if callable(progress):
        return progress, lambda: None
    if not progress:
        return None, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn("progress=True needs tqdm (pip install tqdm); running without a bar", stacklevel=3)
        return None, lambda: None
    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="replication")
        b = bar["bar"]
        b.update(done - b.n)

    return update, lambda: bar["bar"].close() if "bar" in bar else None


def _with_progress(progress: Progress, call: Callable[[Any], tuple[str, str]]) -> tuple[dict, pd.DataFrame]:
    cb, close = _progress(progress)
    try:
        summary, csv = call(cb)
    finally:
        close()
    return json.loads(summary), pd.read_csv(io.StringIO(csv))


def _stat_rows(summary: dict, lead: dict) -> list[dict]:
    rows = []
    for metric, s in summary["metrics"].items():
        ci = s.get("ci95") or [None, None]
        rows.append(
            {
                **lead,
                "metric": metric,
                "n": s["n"],
                "nulls": s["nulls"],
                "mean": s["mean"],
                "sd": s["sd"],
                "ci95_low": ci[0],
                "ci95_high": ci[1],
                "p50": s["p50"],
                "p95": s["p95"],
                "min": s["min"],
                "max": s["max"],
            }
        )
    return rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in ("mean", "sd", "ci95_low", "ci95_high", "p50", "p95", "min", "max"):
        if col in df:
            df[col] = df[col].astype("float64")
    return df


def run(
    scenario: Union[Scenario, PathLike],
    seed: Optional[int] = None,
    strategy: Optional[str] = None,
    replication: int = 0,
) -> Run:
    """Run one replication (``dialtone run FILE --seed S --strategy X --replication R``).

    seed defaults to the file's; strategy to the scenario's.
    """
    sc = _scenario(scenario)
    summary_text, timeline = _native.run(sc, seed=seed, strategy=strategy, replication=replication)
    summary = json.loads(summary_text)
    curves = summary["curves"]
    points = curves["without_service"]
    users = pd.DataFrame(
        {
            "time_s": pd.Series([float(t) for t, _ in points], dtype="float64"),
            "users_in_service": pd.Series([curves["users"] - int(u) for _, u in points], dtype="int64"),
            "users_without_service": pd.Series([int(u) for _, u in points], dtype="int64"),
        }
    )
    return Run(summary=summary, timeline=pd.read_csv(io.StringIO(timeline)), users_in_service=users)


def study(
    scenario: Union[Scenario, PathLike],
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: int = 0,
    strategy: Optional[str] = None,
    progress: Progress = False,
) -> Results:
    """Run a study (``dialtone study``): ``replications`` (default: the file's) with master
    ``seed`` (default: the file's) on ``threads`` threads (0: one a core; the results do
    not depend on it).

    progress: True for a tqdm bar, or a callable ``f(done, total)``.
    """
    sc = _scenario(scenario)
    summary, results = _with_progress(
        progress,
        lambda cb: _native.study(
            sc, replications=replications, seed=seed, threads=threads, strategy=strategy, progress=cb
        ),
    )
    intervals = _frame(_stat_rows(summary, {"arm": summary["strategy"]}))
    return Results(results=results, summary=summary, intervals=intervals)


def _json_items(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), json.dumps(v)) for k, v in values.items()]


def compare(
    scenario: Union[Scenario, PathLike],
    strategies: Iterable[str] = (),
    variants: Optional[Mapping[str, Mapping[str, Any]]] = None,
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: int = 0,
    progress: Progress = False,
) -> Results:
    """Compare strategies and/or variants on the same replications (``dialtone compare``).

    strategies: e.g. ["restore-only", "dial-tone-same-server"].
    variants: name -> {path: value} (the CLI's ``--variant NAME:PATH=VALUE,...``), e.g.
        {"ttl-1h": {"topology.dns.ttl": "1h"}}; the first arm is the scenario as given.
    Differences are paired, against the first arm (common random numbers).
    """
    sc = _scenario(scenario)
    var = [(name, _json_items(sets)) for name, sets in (variants or {}).items()]
    summary, results = _with_progress(
        progress,
        lambda cb: _native.compare(
            sc,
            strategies=list(strategies),
            variants=var,
            replications=replications,
            seed=seed,
            threads=threads,
            progress=cb,
        ),
    )
    rows: list[dict] = []
    for arm in summary["strategies"]:
        rows += _stat_rows(arm["summary"], {"arm": arm["arm"]})
    diffs = []
    for arm, metrics in summary["differences"].items():
        for metric, d in metrics.items():
            ci = d.get("ci95") or [None, None]
            diffs.append(
                {
                    "arm": arm,
                    "metric": metric,
                    "mean": d.get("mean"),
                    "ci95_low": ci[0],
                    "ci95_high": ci[1],
                    "significant": bool(d.get("significant")),
                }
            )
    return Results(results=results, summary=summary, intervals=_frame(rows), differences=_frame(diffs))


def _axes(grid: Union[Mapping[str, Any], Sequence[str]]) -> list[tuple[str, Optional[list[str]]]]:
    if isinstance(grid, str):
        return [(grid, None)]
    if not isinstance(grid, Mapping):
        return [(s, None) for s in grid]
    out: list[tuple[str, Optional[list[str]]]] = []
    for path, values in grid.items():
        if isinstance(values, str):
            out.append((f"{path}={values}", None))
        else:
            out.append((str(path), [json.dumps(v) for v in values]))
    return out


def sweep(
    scenario: Union[Scenario, PathLike],
    grid: Union[Mapping[str, Any], Sequence[str]],
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: int = 0,
    progress: Progress = False,
) -> Results:
    """A study at every point of a grid (``dialtone sweep``).

    grid: path -> list of values ({"topology.dns.ttl": ["5m", "1h"]}), path -> the CLI's
        value text ({"topology.dns.ttl": "5m..1h/6"}), or a list of the CLI's ``--set``
        texts (["topology.dns.ttl=5m..1h/6", "strategy=restore-only,dial-tone-same-server"]).
    """
    sc = _scenario(scenario)
    summary, results = _with_progress(
        progress,
        lambda cb: _native.sweep(
            sc, _axes(grid), replications=replications, seed=seed, threads=threads, progress=cb
        ),
    )
    paths = [c for c in results.columns[2 : results.columns.get_loc("replication")]]
    n = summary["points"][0]["summary"]["replications"] if summary["points"] else 0
    rows: list[dict] = []
    for k, p in enumerate(summary["points"]):
        lead: dict[str, Any] = {"arm": p["summary"]["strategy"], "point": p["point"]}
        first = results.iloc[k * n] if n else None
        for c in paths:
            lead[c] = first[c] if first is not None else None
        rows += _stat_rows(p["summary"], lead)
    return Results(results=results, summary=summary, intervals=_frame(rows))
