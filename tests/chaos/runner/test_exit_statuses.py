"""Every way a run ends, and what it leaves: the verdict, the exit status, what
was injected and rolled back, the phases the journal went through.

Fast: a scripted fault driver and SLI reader (tests/chaos/runner/scripted.py)
stand in for the stack, so each exit path takes well under a second. The
same paths on the real services: test_lifecycle.py and test_exit_paths.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chaos.exitcodes import ExitCode
from chaos.experiment.model import AbortCondition
from chaos.faults.errors import NoEffect, NotVerified
from chaos.runner import Journal, Verdict

from .scripted import STEP, Driver, History, Reader, experiment, run

HEALTHY = 100.0


def phases(journal: Journal) -> list[str]:
    """The phases the run entered, in order."""
    return [e["phase"] for e in journal.events if e["event"] == "phase"]


def healthy_unless(driver: Driver, during: float) -> Reader:
    """100 while no fault is in place, `during` while it is."""
    return Reader(lambda slo: during if driver.active() else HEALTHY)


# ------------------------------------------------------------ verdicts


async def test_held_runs_every_phase_and_rolls_the_fault_back() -> None:
    driver = Driver()
    verdict, journal = await run(experiment(), driver, healthy_unless(driver, 99.0))
    assert verdict is Verdict.HELD and journal.exit_code == ExitCode.HELD
    assert driver.called == ["inject", "verify", "confirm_effect", "rollback"]
    assert phases(journal) == [
        "warmup", "steady", "method", "tail", "rollback", "recovery", "expectations",
    ]  # fmt: skip
    assert journal.reasons == []


async def test_an_slo_broken_during_the_method_deviates_after_a_full_run() -> None:
    driver = Driver()
    verdict, journal = await run(experiment(), driver, healthy_unless(driver, 50.0))
    assert verdict is Verdict.DEVIATED and journal.exit_code == ExitCode.DEVIATED
    assert driver.called[-1] == "rollback" and "expectations" in phases(journal)
    assert any("catalog-server-ok" in reason for reason in journal.reasons), journal.reasons


@pytest.mark.parametrize(
    ("value", "why"),
    [(50.0, "did not hold before any fault"), (None, "no data before any fault")],
)
async def test_a_steady_state_not_met_injects_nothing(value: float | None, why: str) -> None:
    driver = Driver()
    verdict, journal = await run(experiment(), driver, Reader(lambda slo: value))
    assert verdict is Verdict.NOT_STEADY and journal.exit_code == ExitCode.STEADY_STATE_NOT_MET
    assert driver.called == [] and driver.injected is None
    assert "method" not in phases(journal)
    assert any(why in reason for reason in journal.reasons), journal.reasons


async def test_an_abort_condition_stops_the_method_and_rolls_back() -> None:
    driver = Driver()
    abort = AbortCondition("catalog-server-ok", below=50.0, for_=0.0)
    exp = experiment(abort_when=(abort,))
    verdict, journal = await run(exp, driver, healthy_unless(driver, 10.0))
    assert verdict is Verdict.ABORTED and journal.exit_code == ExitCode.ABORTED
    assert "confirm_effect" not in driver.called  # the step was cut short
    assert driver.called[-1] == "rollback"
    assert any(r.startswith("abort: SLO catalog-server-ok below 50") for r in journal.reasons)


# ------------------------------------------------------------ infrastructure failures


async def test_a_preflight_problem_fails_the_run_before_anything_is_touched() -> None:
    driver = Driver()

    async def preflight() -> list[str]:
        return ["catalog is not ready"]

    verdict, journal = await run(
        experiment(), driver, healthy_unless(driver, 99.0), preflight=preflight
    )
    assert verdict is Verdict.FAILED and journal.exit_code == ExitCode.INFRASTRUCTURE_FAILED
    assert driver.called == [] and phases(journal) == ["rollback"]  # with nothing to roll back
    assert journal.reasons == ["preflight: catalog is not ready"]


@pytest.mark.parametrize(
    ("fails", "error"),
    [
        ("inject", None),
        ("verify", lambda what: NotVerified(STEP.name, "the rule is not listed")),
        ("confirm_effect", lambda what: NoEffect(STEP.name, "it matched no request")),
        ("inject", lambda what: RuntimeError("a bug in a driver")),
    ],
    ids=["inject-fails", "not-verified", "no-effect", "driver-bug"],
)
async def test_a_fault_step_that_fails_fails_the_run_and_is_still_rolled_back(
    fails: str, error: Callable[[str], Exception] | None
) -> None:
    driver = Driver(fails=fails, error=error)
    verdict, journal = await run(experiment(), driver, healthy_unless(driver, 99.0))
    assert verdict is Verdict.FAILED and journal.exit_code == ExitCode.INFRASTRUCTURE_FAILED
    # a half-made injection is rolled back too: the runner tracks it before injecting
    assert driver.called[-1] == "rollback", driver.called
    assert driver.rollback_began is not None
    assert "recovery" not in phases(journal)  # a failed run is not judged
    assert journal.reasons, "a failure names its cause"


async def test_a_failed_rollback_turns_a_held_run_into_a_failure() -> None:
    driver = Driver(rollback_fails=True)
    verdict, journal = await run(experiment(), driver, healthy_unless(driver, 99.0))
    assert verdict is Verdict.FAILED and journal.exit_code == ExitCode.INFRASTRUCTURE_FAILED
    assert "a rollback failed: run `chaosbed cleanup`" in journal.reasons


# ------------------------------------------------------------ interruptions


@pytest.mark.parametrize("phase", ["warmup", "steady", "method", "tail"])
async def test_an_interruption_in_any_phase_rolls_back_and_skips_judging(phase: str) -> None:
    driver = Driver()
    history = History()
    exp = experiment(warmup=0.3)
    verdict, journal = await run(
        exp, driver, healthy_unless(driver, 99.0), history, cancel_in=phase
    )
    assert verdict is Verdict.ABORTED and journal.exit_code == ExitCode.ABORTED
    assert f"interrupted during {phase}" in journal.reasons
    assert "recovery" not in phases(journal)
    assert history.cancelled, "the history workload is stopped"
    if phase in ("warmup", "steady"):
        assert driver.called == []  # nothing was injected, so nothing to roll back
    else:
        assert driver.called[-1] == "rollback" and driver.rolled_back is not None


async def test_an_interruption_during_recovery_keeps_the_rollback_and_says_where() -> None:
    driver = Driver()
    reader = Reader(lambda slo: 50.0 if driver.injected is not None else HEALTHY)  # never heals
    verdict, journal = await run(experiment(), driver, reader, cancel_in="recovery")
    assert verdict is Verdict.ABORTED and journal.exit_code == ExitCode.ABORTED
    assert "interrupted during recovery" in journal.reasons
    assert driver.called[-1] == "rollback"
    assert "expectations" not in phases(journal)
