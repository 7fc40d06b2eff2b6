"""Every shipped experiment, run by `chaosbed run` against the process
runtime, ends with the verdict its hypothesis predicts, and leaves nothing
behind.
Needs the stack's ports free (the usual 8081-8086, 9090 and 9095, or the
block from CHAOSBED_PORT_BASE; `pytest -m e2e`)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.cli import main
from chaos.runtime.process import ProcessRuntime

from .library import PROCESS_LIBRARY_JOURNALS, chaosbed, check_run, experiments_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("library") / "state"
    assert main(["up", "--runtime", "process", "--state-dir", str(state), "--timeout", "120"]) == 0
    try:
        yield state
    finally:
        ProcessRuntime(state).down()


@pytest.mark.parametrize("path", experiments_for("process"), ids=lambda p: p.stem)
def test_the_experiment_ends_with_its_predicted_verdict(
    path: Path, state_dir: Path, tmp_path: Path, suite_shared_dir: Path
) -> None:
    journal = tmp_path / "journal.json"
    where = ("--state-dir", str(state_dir))
    done = chaosbed("run", str(path), *where, "--journal", str(journal))
    cleanup = chaosbed("cleanup", *where)
    check_run(path, json.loads(journal.read_text()), done.returncode, cleanup.stdout)
    # the unmutated baseline of the mutate test (tests/chaos/mutate), when it runs later
    kept = suite_shared_dir / PROCESS_LIBRARY_JOURNALS
    kept.mkdir(exist_ok=True)
    shutil.copyfile(journal, kept / f"{path.stem}.json")
