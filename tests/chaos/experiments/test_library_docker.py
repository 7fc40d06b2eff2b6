"""Every shipped experiment, run by `chaosbed run --runtime docker` against
the compose stack, ends with the verdict its hypothesis predicts and leaves
nothing behind. Needs a Docker engine (`pytest -m docker`); images are built
offline when missing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.cli import main
from chaos.experiment import load_experiment
from chaos.runtime.docker import DockerRuntime

from .library import EXPERIMENTS, PREDICTED_EXIT

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("library-docker") / "state"
    status = main(
        ["up", "--runtime", "docker", "--build", "--state-dir", str(state), "--timeout", "300"]
    )
    assert status == 0, "the compose stack did not come up (is a Docker engine reachable?)"
    try:
        yield state
    finally:
        DockerRuntime(state).down()


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_the_experiment_ends_with_its_predicted_verdict(
    path: Path, state_dir: Path, tmp_path: Path
) -> None:
    experiment = load_experiment(path)
    journal_path = tmp_path / "journal.json"
    argv = [sys.executable, "-m", "chaos", "run", str(path), "--runtime", "docker"]
    done = subprocess.run(
        [*argv, "--state-dir", str(state_dir), "--journal", str(journal_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    sys.stdout.write(done.stdout[-3000:] + done.stderr[-3000:])
    journal = json.loads(journal_path.read_text())
    assert done.returncode == PREDICTED_EXIT[experiment.predicts], journal["reasons"]
    assert journal["verdict"] == experiment.predicts
    assert all(f["verified_at"] is not None for f in journal["faults"]), journal["faults"]
    assert all(f["rolled_back_at"] is not None and not f["error"] for f in journal["faults"])
    cleanup = [sys.executable, "-m", "chaos", "cleanup", "--runtime", "docker"]
    out = subprocess.run(
        [*cleanup, "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "nothing left over" in out, out
