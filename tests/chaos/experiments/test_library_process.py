"""Every shipped experiment, run by `chaosbed run` against the process
runtime, ends with the verdict its hypothesis predicts, and leaves nothing
behind. Needs ports 8081-8084 and 9095 free (`pytest -m e2e`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.cli import main
from chaos.experiment import load_experiment
from chaos.runtime.process import ProcessRuntime

from .library import EXPERIMENTS, PREDICTED_EXIT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("library") / "state"
    assert main(["up", "--runtime", "process", "--state-dir", str(state), "--timeout", "120"]) == 0
    try:
        yield state
    finally:
        ProcessRuntime(state).down()


def run_experiment(path: Path, state_dir: Path, journal: Path, *extra: str) -> int:
    argv = [sys.executable, "-m", "chaos", "run", str(path), "--state-dir", str(state_dir)]
    done = subprocess.run(
        [*argv, "--journal", str(journal), *extra],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    sys.stdout.write(done.stdout[-3000:])
    sys.stderr.write(done.stderr[-3000:])
    return done.returncode


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_the_experiment_ends_with_its_predicted_verdict(
    path: Path, state_dir: Path, tmp_path: Path
) -> None:
    experiment = load_experiment(path)
    journal_path = tmp_path / "journal.json"
    status = run_experiment(path, state_dir, journal_path)
    journal = json.loads(journal_path.read_text())
    assert status == PREDICTED_EXIT[experiment.predicts], journal["reasons"]
    assert journal["verdict"] == experiment.predicts
    assert all(f["verified_at"] is not None for f in journal["faults"]), journal["faults"]
    assert all(f["rolled_back_at"] is not None and not f["error"] for f in journal["faults"])
    out = subprocess.run(
        [sys.executable, "-m", "chaos", "cleanup", "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "nothing left over" in out, out
