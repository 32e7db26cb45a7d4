"""The package's API: loading, setting values, a run, a study, a comparison, a sweep."""

import pandas as pd
import pytest

import dialtone
from conftest import CORRUPTION, ROOT, SITE


def test_load_gives_a_validated_scenario():
    sc = dialtone.load(SITE)
    assert sc.name == "site-failure-dac"
    assert sc.file == SITE
    assert sc.strategy == "datacenter-switchover-dac"
    assert isinstance(sc.seed, int) and sc.replications >= 1
    assert "switchover" in sc.description


def test_from_json_equals_load():
    text = (ROOT / SITE).read_text()
    a = dialtone.Scenario.from_json(text, name="site-failure-dac")
    b = dialtone.load(SITE)
    ra = dialtone.study(a, replications=5, seed=3).results
    rb = dialtone.study(b, replications=5, seed=3).results
    pd.testing.assert_frame_equal(ra, rb, check_exact=True)


def test_with_values_returns_a_new_scenario_and_keeps_the_old():
    sc = dialtone.load(SITE)
    longer = sc.with_values({"topology.dns.ttl": "4h", "strategy": "datacenter-switchover-non-dac"})
    assert longer.strategy == "datacenter-switchover-non-dac"
    assert sc.strategy == "datacenter-switchover-dac"
    assert '"4h"' in longer.to_json() and '"4h"' not in sc.to_json()
    # A longer TTL keeps users on the dead site's addresses longer.
    a = dialtone.study(sc.with_values({"topology.dns.ttl": "5m"}), replications=8, seed=1)
    b = dialtone.study(sc.with_values({"topology.dns.ttl": "4h"}), replications=8, seed=1)
    col = "user_hours_without_send_receive"
    assert b.results[col].mean() > a.results[col].mean()


def test_with_values_accepts_both_list_spellings():
    sc = dialtone.load(SITE)
    a = sc.with_values({"clients[0].share": 0.6, "clients[3].share": 0.25})
    b = sc.with_values({"clients.0.share": 0.6, "clients.3.share": 0.25})
    assert a.to_json() == b.to_json() != sc.to_json()


def test_run_gives_summary_timeline_and_users_in_service():
    r = dialtone.run(SITE, seed=1)
    assert r.summary["kind"] == "run" and r.summary["seed"] == 1
    assert list(r.timeline.columns) == ["time_s", "component", "what", "detail"]
    assert len(r.timeline) > 10
    u = r.users_in_service
    assert list(u.columns) == ["time_s", "users_in_service", "users_without_service"]
    users = r.summary["curves"]["users"]
    assert (u.users_in_service + u.users_without_service == users).all()
    assert u.users_in_service.min() < users  # the site failure takes service away
    assert u.time_s.is_monotonic_increasing


def test_run_replication_and_strategy_change_the_run():
    a = dialtone.run(SITE, seed=1, replication=0)
    b = dialtone.run(SITE, seed=1, replication=1)
    c = dialtone.run(SITE, seed=1, strategy="none")
    assert c.summary["strategy"] == "none"
    assert a.summary["metrics"] != c.summary["metrics"]
    assert a.summary["replication"] == 0 and b.summary["replication"] == 1


def test_study_results_and_intervals():
    res = dialtone.study(SITE, replications=12, seed=5, threads=2)
    df = res.results
    assert len(df) == 12 and list(df.replication) == list(range(12))
    assert (df.strategy == "datacenter-switchover-dac").all()
    assert res.summary["kind"] == "study" and res.summary["replications"] == 12
    iv = res.intervals.set_index("metric")
    row = iv.loc["user_minutes_without_send_receive"]
    assert row.ci95_low <= row["mean"] <= row.ci95_high
    # The summary's mean (user-minutes) is the results' mean (user-hours) times 60.
    assert row["mean"] == pytest.approx(df.user_hours_without_send_receive.mean() * 60, rel=1e-12)


def test_compare_arms_and_differences():
    res = dialtone.compare(
        CORRUPTION, strategies=["restore-only", "dial-tone-same-server"], replications=6, seed=2
    )
    assert list(res.results.strategy.unique()) == ["restore-only", "dial-tone-same-server"]
    assert set(res.intervals.arm) == {"restore-only", "dial-tone-same-server"}
    d = res.differences.set_index("metric").loc["user_minutes_without_send_receive"]
    assert d.arm == "dial-tone-same-server"
    # Dial tone gives users service long before the restore finishes.
    assert d["mean"] < 0 and bool(d.significant)


def test_compare_variants():
    res = dialtone.compare(
        SITE, variants={"ttl-4h": {"topology.dns.ttl": "4h"}}, replications=4, seed=2
    )
    assert list(res.results.variant.unique()) == ["base", "ttl-4h"]


def test_sweep_grid_forms_agree():
    sc = dialtone.load(SITE)
    a = dialtone.sweep(sc, {"topology.dns.ttl": ["5m", "1h"]}, replications=3, seed=1)
    b = dialtone.sweep(sc, {"topology.dns.ttl": "5m,1h"}, replications=3, seed=1)
    c = dialtone.sweep(sc, ["topology.dns.ttl=5m,1h"], replications=3, seed=1)
    pd.testing.assert_frame_equal(a.results, b.results, check_exact=True)
    pd.testing.assert_frame_equal(a.results, c.results, check_exact=True)
    assert sorted(a.results["topology.dns.ttl"].unique()) == [300.0, 3600.0]
    iv = a.intervals
    assert set(iv["topology.dns.ttl"]) == {300.0, 3600.0}
    assert len(iv[iv.metric == "user_minutes_without_send_receive"]) == 2


def test_progress_callback_counts_every_replication():
    seen = []
    dialtone.study(SITE, replications=10, seed=1, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (10, 10)
    assert all(t == 10 for _, t in seen) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_progress_true_draws_a_tqdm_bar(capsys):
    pytest.importorskip("tqdm")
    dialtone.compare(SITE, strategies=["datacenter-switchover-dac", "none"], replications=3, seed=1, progress=True)
    assert "6/6" in capsys.readouterr().err


def test_strategies_lists_the_built_in_ones():
    assert "restore-only" in dialtone.strategies()
    assert dialtone.__version__
