"""The pytest plugin in a project's own session (pytest's `pytester`): the
marker is there, a bad experiment fails the test naming what is wrong, and
against a running stack a verdict as predicted passes while one that is not
fails with the reasons (the e2e test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.cli import main
from chaos.runtime.process import ProcessRuntime

TINY = """\
title: Profiles a little slow for recommendations
hypothesis: ten milliseconds more on profiles changes nothing members see
predicts: {predicts}
runtimes: [process]  # a 3s window holds 2 of its 1s scrapes
load: {{rate: 20, mix: {{homepage: 100}}, members: 20}}
steady_state:
  warmup: 2s
  hold: 2s
  slos:
    - name: homepage-ok
      availability: {{service: recommendations, source: members}}
      objective: 90
      window: 3s
method:
  - {{fault: latency, edge: recommendations -> profiles, delay_ms: 10, duration: 3s}}
expect:
  - {{recovered_within: 10s}}
"""

TESTS = """\
import pytest

@pytest.mark.chaos("held.yaml")
def test_held_as_predicted():
    pass

@pytest.mark.chaos("predicts-deviation.yaml")
def test_held_but_predicted_to_deviate():
    pass

@pytest.mark.chaos("explored.yaml")
def test_explored_as_predicted():
    pass
"""

EXPLORED = """\
title: The homepage, every call site, every fault
hypothesis: the homepage keeps its contract whatever one call does
explore: {journeys: [homepage]}
"""


def test_the_marker_is_registered_by_the_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.chaos(path, runtime='process'*"])


def test_a_missing_or_invalid_experiment_fails_the_test_naming_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", broken="title: t\nhypothesis: h\nsteady_state: {}\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.chaos("nowhere.yaml")
        def test_missing():
            pass

        @pytest.mark.chaos("broken.yaml")
        def test_broken():
            pass
        """
    )
    result = pytester.runpytest_subprocess("--strict-markers")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*nowhere.yaml*cannot read the file: No such file or directory*"])
    result.stdout.fnmatch_lines(["*invalid experiment: *broken.yaml:1: method: is required*"])
    result.stdout.fnmatch_lines(["*broken.yaml:3: steady_state.slos: is required*"])
    result.stdout.no_fnmatch_line("*During handling of the above exception*")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "state"
    assert main(["up", "--runtime", "process", "--state-dir", str(state), "--timeout", "120"]) == 0
    try:
        yield state
    finally:
        ProcessRuntime(state).down()


@pytest.mark.e2e
def test_a_verdict_as_predicted_passes_and_one_that_is_not_fails_with_the_reasons(
    pytester: pytest.Pytester, stack: Path
) -> None:
    pytester.makefile(".yaml", held=TINY.format(predicts="held"))
    pytester.makefile(".yaml", **{"predicts-deviation": TINY.format(predicts="deviated")})
    pytester.makefile(".yaml", explored=EXPLORED)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("--chaosbed-state-dir", str(stack), "-rA")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*predicted deviated, but the verdict is held*",
        "*journal: *test_held_but_predicted_to_deviate-*.json",
        "PASSED*test_held_as_predicted*",
        "PASSED*test_explored_as_predicted*",
    ])  # fmt: skip
