"""A pytest plugin: run chaosbed experiments inside a project's own pytest session.

    import pytest

    @pytest.mark.chaos("chaos/experiments/profiles-down.yaml")
    def test_profiles_down() -> None:
        pass  # the experiment is the test; a body may add its own checks after it

    @pytest.mark.chaos("experiments/partition.yaml", runtime="docker")
    def test_partition() -> None: ...

    @pytest.mark.chaos("chaos/explorations/every-call-site.yaml")
    def test_every_call_site() -> None: ...  # an exploration, judged the same way

The experiment runs against the stack that is already up (`chaosbed up`,
state in `--chaosbed-state-dir`, default `$CHAOSBED_STATE_DIR` or
`.chaosbed`) before the test's body. The test passes when the verdict is the
one the experiment predicts, and fails with the runner's reasons (the SLO
or expectation and its measured value) otherwise. A relative path is taken
from the rootdir, else from the test file's directory. Journals are written
to `--chaosbed-journals` (default `STATE_DIR/pytest`); the failure message
says where.

Installed with chaosbed (entry point `pytest11: chaosbed`).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from chaos.experiment import ExperimentError
from chaos.experiment.loader import RUNTIMES

if TYPE_CHECKING:
    from chaos.explore.exploration import Exploration, Playable
    from chaos.runtime.interface import Runtime

__all__ = ["MARKER", "resolve_path"]

MARKER = "chaos"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaosbed", "chaosbed experiments (@pytest.mark.chaos)")
    group.addoption(
        "--chaosbed-state-dir",
        type=Path,
        default=Path(os.environ.get("CHAOSBED_STATE_DIR", ".chaosbed")),
        help="the running stack's state directory (default $CHAOSBED_STATE_DIR or .chaosbed)",
    )
    group.addoption(
        "--chaosbed-journals",
        type=Path,
        default=None,
        help="where experiment journals go (default STATE_DIR/pytest)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path, runtime='process', backend='auto'): run the chaosbed experiment at "
        "path against the running stack before the test; the test fails unless its verdict "
        "is the one the experiment predicts",
    )


def resolve_path(name: str | Path, rootdir: Path, test_file: Path) -> Path:
    path = Path(name)
    if path.is_absolute():
        return path
    for base in (rootdir, test_file.parent):
        if (base / path).is_file():
            return base / path
    return rootdir / path


def _experiment(item: pytest.Item, mark: pytest.Mark) -> tuple[Playable, str, str]:
    if len(mark.args) != 1:
        pytest.fail(
            f"@pytest.mark.{MARKER}: give exactly one experiment (or exploration) path",
            pytrace=False,
        )
    unknown = set(mark.kwargs) - {"runtime", "backend"}
    if unknown:
        pytest.fail(f"@pytest.mark.{MARKER}: unknown option(s) {sorted(unknown)}", pytrace=False)
    runtime = str(mark.kwargs.get("runtime", os.environ.get("CHAOSBED_RUNTIME", "process")))
    if runtime not in RUNTIMES:
        pytest.fail(f"@pytest.mark.{MARKER}: runtime must be one of {RUNTIMES}", pytrace=False)
    from chaos.explore.exploration import load_playable  # loads the explorer: only when used

    path = resolve_path(mark.args[0], item.config.rootpath, item.path)
    try:
        experiment = load_playable(path)
    except ExperimentError as exc:
        problem = f"invalid experiment: {exc}"
    except OSError as exc:
        problem = f"{path}: {exc.strerror or exc}"
    else:
        return experiment, runtime, str(mark.kwargs.get("backend", "auto"))
    pytest.fail(problem, pytrace=False)


def _run(item: pytest.Item, mark: pytest.Mark) -> None:
    # imported here: a session without chaos-marked tests never loads the runner
    from chaos.cli.command import RuntimeChoice
    from chaos.cli.run import runnable_problems
    from chaos.cli.runtime_options import make_runtime
    from chaos.explore.exploration import Exploration
    from chaos.runner.session import RunRequest, new_run_id, run_experiment

    experiment, runtime_name, backend = _experiment(item, mark)
    state_dir: Path = item.config.getoption("chaosbed_state_dir")
    problems = runnable_problems(experiment, runtime_name, backend, state_dir)
    if problems:
        pytest.fail(f"{experiment.source}: cannot run here: " + "; ".join(problems), False)
    journals: Path = item.config.getoption("chaosbed_journals") or state_dir / "pytest"
    run_id = new_run_id()
    journal = journals / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', item.name)}-{run_id}.json"
    runtime = make_runtime(RuntimeChoice(runtime_name, state_dir))
    if isinstance(experiment, Exploration):
        verdict, reasons = _explore(experiment, runtime, runtime_name, journal)
    else:
        request = RunRequest(experiment, runtime_name, journal, run_id, backend=backend)
        outcome, _ = asyncio.run(run_experiment(request, runtime))
        verdict, reasons = outcome.verdict.value, outcome.reasons
    if verdict != experiment.predicts:
        why = "\n".join(f"  - {r}" for r in reasons) or "  (no reason recorded)"
        pytest.fail(
            f"chaosbed: {experiment.title}\npredicted {experiment.predicts}, but the "
            f"verdict is {verdict}:\n{why}\njournal: {journal}",
            pytrace=False,
        )


def _explore(
    exploration: Exploration, runtime: Runtime, runtime_name: str, journal: Path
) -> tuple[str, Sequence[str]]:
    """Play an exploration and write its journal; its verdict and reasons."""
    from chaos.explore.session import explore_into

    document = asyncio.run(explore_into(exploration, runtime, runtime_name, journal))
    return document["verdict"], document["reasons"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    mark = item.get_closest_marker(MARKER)
    if mark is not None:
        _run(item, mark)
    return (yield)
