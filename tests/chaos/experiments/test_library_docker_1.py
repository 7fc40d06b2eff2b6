"""Share 1 of 2 of the shipped library, run by `chaosbed run --runtime docker` against
the compose stack: every experiment ends with the verdict its hypothesis predicts and
leaves nothing behind (tests/chaos/experiments/library_runs.py says why it is dealt to
two files). Needs a Docker engine (`pytest -m docker`); the images are built from this
tree first (compose/build-images.sh, once per test session), so the stack runs the
code under test, never images left from an older build."""

import pytest

from .library_runs import docker_stack, library_test

pytestmark = pytest.mark.docker

state_dir = docker_stack()
test_the_experiment_ends_with_its_predicted_verdict = library_test("docker", 1)
