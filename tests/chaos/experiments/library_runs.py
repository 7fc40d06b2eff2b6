"""The library tests' stacks and test bodies, for the files that run a share each.

The library is dealt to two files per runtime (test_library_process_1.py and
_2.py, test_library_docker_1.py and _2.py): `make test` hands whole files to
its workers, so each share runs on a worker and a stack of its own, side by
side, instead of one stack playing the whole library in a row.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chaos.cli import main
from chaos.runtime.docker import DockerRuntime
from chaos.runtime.process import ProcessRuntime
from tests.compose.compose_support import require_docker_images

from .library import (
    PROCESS_LIBRARY_JOURNALS,
    chaosbed,
    check_run,
    judged_alone_if_busy,
    played_by_suite,
    runs_alone,
)

#: How many files each runtime's library is dealt to.
SHARES = 2


def share(runtime: str, which: int) -> list[Any]:
    """The `which`th (from 1) of SHARES deals of the experiments the suite plays on
    `runtime` (`played_by_suite`); one that judges sub-second latency holds every
    stack slot while it runs (more slots than there are means all of them), so no
    neighbour's load is judged."""
    return [
        pytest.param(path, marks=pytest.mark.stacks(99)) if runs_alone(path) else path
        for path in played_by_suite(runtime)[which - 1 :: SHARES]
    ]


def process_stack() -> Any:
    """A module's process stack, up for as long as the module's tests run."""

    @pytest.fixture(scope="module")
    def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
        state = tmp_path_factory.mktemp("library") / "state"
        status = main(["up", "--runtime", "process", "--state-dir", str(state), "--timeout", "120"])
        assert status == 0
        try:
            yield state
        finally:
            ProcessRuntime(state).down()

    return state_dir


def docker_stack() -> Any:
    """A module's compose stack (images built from this tree first), taken down after."""

    @pytest.fixture(scope="module")
    def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
        require_docker_images()
        state = tmp_path_factory.mktemp("library-docker") / "state"
        try:  # a failed `up` is taken down too: nothing of it may outlive the module
            argv = ["up", "--runtime", "docker", "--build", "--state-dir", str(state)]
            status = main([*argv, "--timeout", "300"])
            assert status == 0, "the compose stack did not come up: its reasons are on stderr"
            yield state
        finally:
            DockerRuntime(state).down()

    return state_dir


def library_test(runtime: str, which: int) -> Callable[..., None]:
    """Each experiment of the share, run by `chaosbed run` on the module's stack, ends
    with the verdict it predicts and leaves nothing behind; the process library keeps
    its journals where the mutate test reads its unmutated baseline."""

    @pytest.mark.parametrize("path", share(runtime, which), ids=lambda p: p.stem)
    def test_the_experiment_ends_with_its_predicted_verdict(
        path: Path,
        state_dir: Path,
        tmp_path: Path,
        suite_shared_dir: Path,
        record_property: Callable[[str, object], None],
    ) -> None:
        journal = tmp_path / "journal.json"
        where = ("--runtime", runtime, "--state-dir", str(state_dir))

        def attempt() -> tuple[subprocess.CompletedProcess[str], str]:
            done = chaosbed("run", str(path), *where, "--journal", str(journal), timeout=600)
            cleanup = chaosbed("cleanup", *where)
            assert "nothing left over" in cleanup.stdout, cleanup.stdout
            return done, cleanup.stdout

        def journal_of(run: tuple[subprocess.CompletedProcess[str], str]) -> dict[str, Any]:
            assert journal.exists(), f"no journal: {run[0].stdout[-2000:]}{run[0].stderr[-2000:]}"
            return dict(json.loads(journal.read_text()))

        def set_aside(run: tuple[subprocess.CompletedProcess[str], str]) -> None:
            journal.rename(tmp_path / "journal.beside-others.json")
            history = journal.with_suffix(".history.jsonl")  # the next run writes its own
            if history.exists():
                history.rename(tmp_path / "journal.beside-others.history.jsonl")

        done, cleanup = judged_alone_if_busy(
            path,
            attempt,
            lambda run: run[0].returncode,
            journal_of,
            set_aside,
            record_property,
        )
        check_run(path, json.loads(journal.read_text()), done.returncode, cleanup)
        if runtime == "process":  # the mutate test's baseline (tests/chaos/mutate)
            kept = suite_shared_dir / PROCESS_LIBRARY_JOURNALS
            kept.mkdir(exist_ok=True)
            shutil.copyfile(journal, kept / f"{path.stem}.json")

    return test_the_experiment_ends_with_its_predicted_verdict
