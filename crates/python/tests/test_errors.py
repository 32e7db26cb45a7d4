"""Bad input raises dialtone.ScenarioError whose message is the CLI's, with the problems
as a list."""

import json

import pytest

import dialtone
from conftest import ROOT, SITE, cli


def cli_message(*args: str) -> str:
    """The CLI's message for bad input: stderr without the program name; exit status 2."""
    p = cli(*args, check=False)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("dialtone: ")
    return p.stderr[len("dialtone: "):].rstrip("\n")


@pytest.fixture
def bad_file(tmp_path):
    doc = json.loads((ROOT / SITE).read_text())
    doc["topology"]["dns"]["ttl"] = "soon"
    doc["clients"][0]["share"] = 7
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def test_bad_file_message_equals_the_cli(bad_file):
    with pytest.raises(dialtone.ScenarioError) as e:
        dialtone.load(bad_file)
    assert str(e.value) == cli_message("validate", str(bad_file))
    assert isinstance(e.value, ValueError)


def test_every_problem_is_listed(bad_file):
    doc = json.loads(bad_file.read_text())
    doc["topology"]["dns"]["ttl"] = "1h"
    bad_file.write_text(json.dumps(doc))
    with pytest.raises(dialtone.ScenarioError) as e:
        dialtone.load(bad_file)
    assert str(e.value) == cli_message("validate", str(bad_file))
    assert e.value.problems and all(isinstance(p, str) for p in e.value.problems)
    assert any("share" in p for p in e.value.problems)
    for p in e.value.problems:
        assert f"  - {p}" in str(e.value)


def test_missing_file_message_equals_the_cli(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(dialtone.ScenarioError) as e:
        dialtone.load(missing)
    assert str(e.value) == cli_message("validate", str(missing))


def test_refused_strategy_message_equals_the_cli():
    with pytest.raises(dialtone.ScenarioError) as e:
        dialtone.study(SITE, replications=2, strategy="restore-only")
    assert str(e.value) == cli_message("study", SITE, "--replications", "2", "--strategy", "restore-only", "--quiet")


def test_bad_sweep_message_equals_the_cli():
    with pytest.raises(dialtone.ScenarioError) as e:
        dialtone.sweep(SITE, ["topology.dns.ttl=5m..1h/0"], replications=2)
    assert str(e.value) == cli_message("sweep", SITE, "--set", "topology.dns.ttl=5m..1h/0", "--replications", "2", "--quiet")


def test_with_values_errors_name_the_path():
    sc = dialtone.load(SITE)
    with pytest.raises(dialtone.ScenarioError) as e:
        sc.with_values({"topology.dns.no_such_field": "1h"})
    assert "no_such_field" in str(e.value)
    with pytest.raises(dialtone.ScenarioError) as e:
        sc.with_values({"topology.dns.ttl": "soon"})
    assert "topology.dns.ttl" in str(e.value) and e.value.problems
    with pytest.raises(dialtone.ScenarioError, match="not a strategy"):
        sc.with_values({"strategy": "pray"})


def test_bad_sizes_are_value_errors():
    with pytest.raises(ValueError, match="at least 1"):
        dialtone.study(SITE, replications=0)
    with pytest.raises(ValueError, match="at most 256"):
        dialtone.study(SITE, replications=2, threads=1000)


def test_a_failed_replication_names_a_replay_command_with_the_values_set(tmp_path):
    # Scenario.with_values is recorded: the replay command sets the same values with
    # `run --set`, and running it fails the same way.
    doc = json.loads((ROOT / SITE).read_text())
    doc["run"]["max_events"] = 10_000_000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    sc = dialtone.load(path).with_values({"run.max_events": 100, "topology.dns.ttl": "1h"})
    with pytest.raises(dialtone.RunError) as e:
        dialtone.study(sc, replications=2, seed=5)
    message = str(e.value)
    command = message[message.index("dialtone run "):].splitlines()[0]
    assert "--set run.max_events=100 --set topology.dns.ttl=1h" in command, message
    words = command.split()
    p = cli(*words[1:], check=False)
    assert p.returncode == 1, p.stderr
    assert "budget of 100 events" in p.stderr
