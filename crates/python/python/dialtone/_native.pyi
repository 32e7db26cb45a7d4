"""Type stubs of the native half of dialtone (crates/python/src, PyO3). Use the
functions of the package `dialtone`, which wrap these into dicts and DataFrames."""

from typing import Any, Callable, Mapping, Optional, Sequence

__version__: str

class ScenarioError(ValueError):
    """Bad input; the message is the CLI's (file, field path, fix)."""

    problems: list[str]

class RunError(RuntimeError):
    """A replication failed; the message names the command that replays it."""

class Scenario:
    """A validated scenario."""

    @staticmethod
    def load(path: str) -> Scenario: ...
    @staticmethod
    def from_json(text: str, name: str = "scenario", file: str = "<json>") -> Scenario: ...
    def with_values(self, values: Mapping[str, Any]) -> Scenario: ...
    @property
    def name(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def strategy(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def replications(self) -> int: ...
    @property
    def warnings(self) -> list[str]: ...
    def to_json(self) -> str: ...

Callback = Optional[Callable[[int, int], Any]]

def strategies() -> list[str]: ...
def run(
    scenario: Scenario, seed: Optional[int] = None, strategy: Optional[str] = None, replication: int = 0
) -> tuple[str, str]: ...
def study(
    scenario: Scenario,
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: int = 0,
    strategy: Optional[str] = None,
    progress: Callback = None,
) -> tuple[str, str]: ...
def compare(
    scenario: Scenario,
    strategies: Sequence[str] = (),
    variants: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: int = 0,
    progress: Callback = None,
) -> tuple[str, str]: ...
def sweep(
    scenario: Scenario,
    axes: Sequence[tuple[str, Optional[Sequence[str]]]],
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    threads: int = 0,
    progress: Callback = None,
) -> tuple[str, str]: ...
