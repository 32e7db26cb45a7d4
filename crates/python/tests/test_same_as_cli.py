"""The numbers are the CLI's: the same study, comparison and sweep run through Python and
through the CLI give equal results.csv frames (every value, every dtype) and equal
summary.json documents."""

import json

import pandas as pd

import dialtone
from conftest import CORRUPTION, SITE, cli


def cli_output(tmp_path, *args: str) -> tuple[pd.DataFrame, dict]:
    out = tmp_path / "out"
    cli(*args, "--out", str(out), "--quiet")
    return pd.read_csv(out / "results.csv"), json.loads((out / "summary.json").read_text())


def same(res: dialtone.Results, frame: pd.DataFrame, summary: dict) -> None:
    pd.testing.assert_frame_equal(res.results, frame, check_exact=True)
    assert res.summary == summary


def test_study_equals_the_cli(tmp_path):
    frame, summary = cli_output(tmp_path, "study", SITE, "--replications", "25", "--seed", "7", "--threads", "2")
    same(dialtone.study(SITE, replications=25, seed=7, threads=2), frame, summary)
    assert len(frame) == 25 and frame.user_hours_without_send_receive.nunique() > 1


def test_study_with_another_strategy_equals_the_cli(tmp_path):
    frame, summary = cli_output(
        tmp_path, "study", SITE, "--replications", "10", "--seed", "3", "--strategy", "datacenter-switchover-non-dac"
    )
    same(dialtone.study(SITE, replications=10, seed=3, strategy="datacenter-switchover-non-dac"), frame, summary)


def test_compare_equals_the_cli(tmp_path):
    strategies = ["restore-only", "dial-tone-same-server", "dial-tone-alternate-server"]
    frame, summary = cli_output(
        tmp_path, "compare", CORRUPTION, "--strategies", ",".join(strategies), "--replications", "8", "--seed", "11"
    )
    same(dialtone.compare(CORRUPTION, strategies=strategies, replications=8, seed=11), frame, summary)


def test_compare_with_variants_equals_the_cli(tmp_path):
    frame, summary = cli_output(
        tmp_path, "compare", SITE, "--variant", "ttl-4h:topology.dns.ttl=4h",
        "--variant", "shares:clients[0].share=0.6,clients[3].share=0.25", "--replications", "5", "--seed", "2",
    )
    res = dialtone.compare(
        SITE,
        variants={"ttl-4h": {"topology.dns.ttl": "4h"}, "shares": {"clients[0].share": 0.6, "clients[3].share": 0.25}},
        replications=5,
        seed=2,
    )
    same(res, frame, summary)


def test_sweep_equals_the_cli(tmp_path):
    frame, summary = cli_output(
        tmp_path, "sweep", SITE, "--set", "topology.dns.ttl=5m..1h/3",
        "--set", "strategy=datacenter-switchover-dac,none", "--replications", "4", "--seed", "9",
    )
    res = dialtone.sweep(
        SITE, {"topology.dns.ttl": "5m..1h/3", "strategy": ["datacenter-switchover-dac", "none"]},
        replications=4, seed=9,
    )
    same(res, frame, summary)
    assert len(frame) == 3 * 2 * 4


def test_run_equals_the_cli(tmp_path):
    out = tmp_path / "run"
    cli("run", SITE, "--seed", "4", "--replication", "2", "--out", str(out))
    r = dialtone.run(SITE, seed=4, replication=2)
    assert r.summary == json.loads((out / "summary.json").read_text())
    pd.testing.assert_frame_equal(r.timeline, pd.read_csv(out / "timeline.csv"), check_exact=True)
