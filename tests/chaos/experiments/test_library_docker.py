"""Every shipped experiment, run by `chaosbed run --runtime docker` against
the compose stack, ends with the verdict its hypothesis predicts and leaves
nothing behind. Needs a Docker engine (`pytest -m docker`); the images are
built from this tree first (compose/build-images.sh, once per test session), so
the stack runs the code under test, never images left from an older build."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.cli import main
from chaos.runtime.docker import DockerRuntime
from tests.compose.compose_support import require_docker_images

from .library import chaosbed, check_run, experiments_for

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_docker_images()
    state = tmp_path_factory.mktemp("library-docker") / "state"
    try:  # a failed `up` is taken down too: nothing of it may outlive the module
        status = main(
            ["up", "--runtime", "docker", "--build", "--state-dir", str(state), "--timeout", "300"]
        )
        assert status == 0, "the compose stack did not come up: its reasons are on stderr"
        yield state
    finally:
        DockerRuntime(state).down()


@pytest.mark.parametrize("path", experiments_for("docker"), ids=lambda p: p.stem)
def test_the_experiment_ends_with_its_predicted_verdict(
    path: Path, state_dir: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.json"
    where = ("--runtime", "docker", "--state-dir", str(state_dir))
    done = chaosbed("run", str(path), *where, "--journal", str(journal))
    cleanup = chaosbed("cleanup", *where)
    check_run(path, json.loads(journal.read_text()), done.returncode, cleanup.stdout)


# A peak of member traffic: it runs with no other test driving a stack beside it
# (on two cores a neighbour's load pushed its control latency over 500 ms).
@pytest.mark.stacks(2)
def test_the_evening_peak_game_day_holds_as_predicted(state_dir: Path, tmp_path: Path) -> None:
    evening_peak = Path(__file__).parents[3] / "chaos" / "gamedays" / "evening-peak.yaml"
    out = tmp_path / "gameday"
    where = ("--runtime", "docker", "--state-dir", str(state_dir))
    done = chaosbed("gameday", str(evening_peak), "--no-pause", "--out", str(out), *where,
                    timeout=900)  # fmt: skip
    cleanup = chaosbed("cleanup", *where)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "4 of 4 as predicted" in done.stdout
    assert (out / "report.html").is_file()
    assert "nothing left over" in cleanup.stdout, cleanup.stdout
