"""Share 2 of 2 of the shipped library as the suite plays it on docker, run by `chaosbed
run --runtime docker` against the compose stack (as share 1, test_library_docker_1.py),
and the evening-peak game day on the same stack. Needs a Docker engine (`pytest -m docker`)."""

from pathlib import Path

import pytest

from .library import chaosbed
from .library_runs import docker_stack, library_test

pytestmark = pytest.mark.docker

state_dir = docker_stack()
test_the_experiment_ends_with_its_predicted_verdict = library_test("docker", 2)


# A peak of member traffic: it runs with no other test driving a stack beside it
# (on two cores a neighbour's load pushed its control latency over 500 ms): it asks
# for more slots than there are, so it holds them all.
@pytest.mark.stacks(99)
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
