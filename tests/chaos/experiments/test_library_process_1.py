"""Share 1 of 2 of the shipped library, run by `chaosbed run` against the process
runtime: every experiment ends with the verdict its hypothesis predicts and leaves
nothing behind (tests/chaos/experiments/library_runs.py says why it is dealt to two
files). Needs its worker's ports free (CHAOSBED_PORT_BASE; `pytest -m e2e`)."""

import pytest

from .library_runs import library_test, process_stack

pytestmark = pytest.mark.e2e

state_dir = process_stack()
test_the_experiment_ends_with_its_predicted_verdict = library_test("process", 1)
