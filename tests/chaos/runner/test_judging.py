"""How the runner reaches its verdict from its readings: no data is never held,
the method is judged on for a tail after its last rollback, recovery is a
stable stretch measured from the fault's removal, a baseline that could not
be a healthy steady state is refused, a failed rollback fails any run.

Fast: a scripted SLI reader answers from the scripted fault driver's state
(the fault is in place, it is being rolled back, it is gone) and the time."""

from __future__ import annotations

import time

from chaos.experiment.model import (
    AbortCondition,
    Availability,
    HistoryHolds,
    Latency,
    Objective,
    RecoveredWithin,
    Slo,
)
from chaos.runner import Verdict

from .scripted import Driver, History, Reader, experiment, run

# ------------------------------------------------------------ no data is never held


async def test_a_server_slo_that_reads_nothing_while_its_service_is_down_deviates() -> None:
    driver = Driver()
    reader = Reader(lambda slo: None if driver.active() else 100.0)
    verdict, journal = await run(experiment(), driver, reader)
    assert verdict is Verdict.DEVIATED
    (reason,) = journal.reasons
    assert "SLO catalog-server-ok: no data at " in reason and "never held" in reason, reason


async def test_a_backend_that_raises_for_the_whole_method_deviates() -> None:
    driver = Driver()

    def value(slo: Slo) -> float:
        if driver.active():
            raise TimeoutError("the backend timed out")
        return 100.0

    verdict, journal = await run(experiment(), driver, Reader(value))
    assert verdict is Verdict.DEVIATED
    assert any("catalog-server-ok: no data" in reason for reason in journal.reasons)


async def test_a_reading_that_raised_once_is_read_again_in_the_same_check() -> None:
    flaky_calls = 0

    def value(slo: Slo) -> float:
        nonlocal flaky_calls
        flaky_calls += 1
        if flaky_calls % 2:
            raise ConnectionResetError("one transient error")
        return 100.0

    verdict, journal = await run(experiment(), Driver(), Reader(value))
    assert verdict is Verdict.HELD, journal.reasons
    assert all(point.value == 100.0 for point in journal.series["catalog-server-ok"])


async def test_the_journal_names_the_readings_that_decided_each_slo() -> None:
    driver = Driver()
    reader = Reader(lambda slo: 50.0 if driver.active() else 100.0)
    verdict, journal = await run(experiment(), driver, reader)
    assert verdict is Verdict.DEVIATED
    decided = journal.to_json()["judgement"]["slos"]["catalog-server-ok"]
    assert decided["breached"] >= 5 and decided["no_data"] == 0
    assert decided["readings"] > decided["breached"]  # the tail's good readings count too
    assert decided["worst"] == 50.0
    assert decided["first_breach_t"] <= decided["last_breach_t"]
    (reason,) = [r for r in journal.reasons if "did not hold during the method" in r]
    assert f"breached at {decided['breached']} of {decided['readings']} readings" in reason


# ------------------------------------------------------------ the tail, recovery


async def test_damage_that_lands_after_the_last_rollback_is_judged() -> None:
    """Requests the fault hung time out after it is gone: the tail sees them."""
    driver = Driver()
    slo = Slo("late", Availability("catalog"), Objective(">=", 95.0), window=0.6)

    def value(slo: Slo) -> float:
        after = driver.since_rolled_back()
        return 40.0 if after is not None and 0.1 < after < 0.4 else 100.0

    verdict, journal = await run(experiment(slos=(slo,)), driver, Reader(value))
    assert verdict is Verdict.DEVIATED
    assert any("SLO late did not hold during the method" in r for r in journal.reasons)
    assert journal.timings["tail_s"] == 0.6


async def test_one_good_reading_after_the_rollback_is_not_recovery() -> None:
    driver = Driver()
    flapping: list[bool] = []

    def value(slo: Slo) -> float:
        after = driver.since_rollback_began()
        if after is None:
            return 50.0 if driver.active() else 100.0
        if after < 1.0:  # flapping: every other reading good
            flapping.append(not flapping[-1] if flapping else True)
            return 100.0 if flapping[-1] else 50.0
        return 100.0

    verdict, journal = await run(experiment(), driver, Reader(value))
    assert verdict is Verdict.DEVIATED
    recovered_after = journal.timings["recovered_after_s"]
    # the stable stretch may begin at the flapping's last good reading, just before 1 s
    assert recovered_after is not None and recovered_after >= 0.9, recovered_after


async def test_time_to_recover_counts_from_the_start_of_the_rollback() -> None:
    """The rollback waits 0.6 s for readiness; the SLO is back 0.3 s into it."""
    driver = Driver(rollback_wait=0.6)

    def value(slo: Slo) -> float:
        began = driver.since_rollback_began()
        if driver.injected is None or (began is not None and began > 0.3):
            return 100.0
        return 50.0

    verdict, journal = await run(experiment(), driver, Reader(value))
    recovered_after = journal.timings["recovered_after_s"]
    assert recovered_after is not None and 0.3 <= recovered_after < 0.6, recovered_after
    (rolled,) = [e for e in journal.events if e["event"] == "rolled_back"]
    assert journal.timings["rollback_started_t"] == rolled["started_t"] < rolled["t"]


async def test_recovery_within_its_limit_needs_a_stable_stretch_inside_the_limit() -> None:
    driver = Driver()

    def value(slo: Slo) -> float:
        after = driver.since_rollback_began()
        return 50.0 if driver.active() or (after is not None and after < 0.8) else 100.0

    exp = experiment(expect=(RecoveredWithin(0.5),))
    verdict, journal = await run(exp, driver, Reader(value))
    assert verdict is Verdict.DEVIATED
    assert journal.timings["recovered_after_s"] is None
    assert "SLOs were not all met for 0.3s in a row within 0.5s of the last rollback's start" in (
        journal.reasons
    )


async def test_the_history_is_checked_from_the_end_of_the_rollback_not_of_the_tail() -> None:
    driver = Driver()
    history = History()
    slo = Slo("long", Availability("catalog"), Objective(">=", 95.0), window=1.5)
    exp = experiment(slos=(slo,), expect=(HistoryHolds(),))
    verdict, journal = await run(exp, driver, Reader(lambda s: 100.0), history)
    assert verdict is Verdict.HELD, journal.reasons
    assert driver.rolled_back is not None and history.heal_at is not None
    rolled_back_wall = time.time() - (time.monotonic() - driver.rolled_back)
    assert abs(history.heal_at - rolled_back_wall) < 0.5, journal.timings["tail_s"]


async def test_the_history_check_is_given_each_faults_window_in_wall_time() -> None:
    driver = Driver()
    history = History()
    exp = experiment(expect=(HistoryHolds(),))
    verdict, journal = await run(exp, driver, Reader(lambda s: 100.0), history)
    assert verdict is Verdict.HELD, journal.reasons
    assert driver.injected is not None and driver.rolled_back is not None
    (start, end) = history.faults[0]
    to_wall = time.time() - time.monotonic()
    assert abs(start - (driver.injected + to_wall)) < 0.3, history.faults
    assert abs(end - (driver.rolled_back + to_wall)) < 0.3, history.faults


async def test_a_run_that_never_reaches_its_checks_stops_the_history_workload() -> None:
    driver = Driver()
    history = History()
    exp = experiment(expect=(HistoryHolds(),))
    verdict, _ = await run(exp, driver, Reader(lambda s: 50.0), history)  # never steady
    assert verdict is Verdict.NOT_STEADY
    assert history.cancelled and driver.injected is None


# ------------------------------------------------------------ the baseline


async def test_an_availability_baseline_of_zero_is_not_a_steady_state() -> None:
    relative = Slo("avail", Availability("catalog"), Objective(">=", relative_percent=5.0), 0.3)
    driver = Driver()
    verdict, journal = await run(experiment(slos=(relative,)), driver, Reader(lambda s: 0.0))
    assert verdict is Verdict.NOT_STEADY
    assert driver.injected is None and journal.injections == []
    (reason,) = journal.reasons
    assert "SLO avail: steady-state baseline 0%" in reason, reason


async def test_a_latency_baseline_of_zero_is_not_a_steady_state() -> None:
    relative = Slo("fast", Latency("catalog", 99), Objective("<", relative_percent=50.0), 0.3)
    driver = Driver()
    verdict, journal = await run(experiment(slos=(relative,)), driver, Reader(lambda s: 0.0))
    assert verdict is Verdict.NOT_STEADY
    assert driver.injected is None
    assert any("SLO fast: steady-state baseline 0" in r for r in journal.reasons)


# ------------------------------------------------------------ a failed rollback


async def test_an_abort_whose_rollback_fails_is_a_failure_that_keeps_the_abort_reason() -> None:
    driver = Driver(rollback_fails=True)
    reader = Reader(lambda slo: 10.0 if driver.active() else 100.0)
    exp = experiment(abort_when=(AbortCondition("catalog-server-ok", below=50.0, for_=0.0),))
    verdict, journal = await run(exp, driver, reader)
    assert verdict is Verdict.FAILED and journal.exit_code == 5
    assert any(r.startswith("abort: SLO catalog-server-ok below 50") for r in journal.reasons)
    assert "a rollback failed: run `chaosbed cleanup`" in journal.reasons
