"""Reading an aborted run's detection and rollback times from its journal."""

from __future__ import annotations

import pytest

from benchmarks.runner_timings import abort_timings
from chaos.runner import Journal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def journal_of(*steps: tuple[float, str]) -> dict[str, object]:
    """A real journal whose events and SLI points happen at the given seconds."""
    clock = Clock()
    journal = Journal("bench", {}, clock=clock)
    for at, what in steps:
        clock.now = 100.0 + at
        if what == "check":
            journal.sli("edge", 100.0, True, "method")
        else:
            journal.event("method", what)
    return journal.to_json()


def test_detection_is_the_abort_minus_the_injection_and_rollback_the_last_rollback_after() -> None:
    journal = journal_of(
        (5.0, "check"),
        (5.3, "injected"),
        (6.0, "check"),
        (7.0, "abort"),
        (7.001, "check"),
        (7.004, "rolled_back"),
        (7.009, "rolled_back"),
    )

    timings = abort_timings(journal, "edge")

    assert timings.injected_t == 5.3
    assert timings.detection_s == pytest.approx(1.7)
    assert timings.rollback_s == pytest.approx(0.009)


def test_checks_between_the_injection_and_the_abort_are_the_ones_that_missed_it() -> None:
    journal = journal_of(
        (5.0, "check"),
        (5.3, "injected"),
        (6.0, "check"),
        (7.0, "abort"),
        (7.0, "check"),  # the check that fired the abort is stamped just after it
        (7.1, "rolled_back"),
    )

    assert abort_timings(journal, "edge").missed_checks == 1


def test_an_abort_before_the_injection_is_not_a_detection() -> None:
    journal = journal_of((1.0, "abort"), (2.0, "injected"), (2.5, "rolled_back"))

    with pytest.raises(ValueError, match="no 'abort' event after the injection"):
        abort_timings(journal, "edge")


def test_a_run_that_was_not_aborted_is_refused_with_its_verdict() -> None:
    journal = journal_of((2.0, "injected"), (9.0, "rolled_back"))
    journal["verdict"] = "held"

    with pytest.raises(ValueError, match=r"no 'abort' event .*verdict held"):
        abort_timings(journal, "edge")


def test_a_run_without_an_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="no 'injected' event"):
        abort_timings(journal_of((1.0, "abort")), "edge")


def test_an_abort_never_rolled_back_is_refused() -> None:
    journal = journal_of((1.0, "rolled_back"), (2.0, "injected"), (3.0, "abort"))

    with pytest.raises(ValueError, match="no 'rolled_back' event after the abort"):
        abort_timings(journal, "edge")
