"""The suite's stack slots (tests/slots.py): a test holding some takes every one for a
while without deadlocking against tests waiting at the turnstile, and gets its own
back after; and a library run whose exit was not the predicted one, beside other
stacks, is run again alone (tests/chaos/experiments/library.py)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaos.exitcodes import ExitCode
from chaos.experiment import load_experiment
from chaos.experiment.describe import describe_expectation
from chaos.experiment.model import HistoryHolds
from chaos.history.report import CheckReport, Finding
from chaos.runner.history_driver import describe_findings
from tests import slots
from tests.chaos.experiments.library import (
    EXPERIMENTS,
    PREDICTED_EXIT,
    judged_alone_if_busy,
    load_can_give,
)

ROOT = Path(__file__).parent.parent


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[bytes]]]:
    """The other workers a test starts, killed and reaped however it ends."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


@pytest.fixture
def slot_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A slot directory of its own (a run id no suite has), three slots."""
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", f"test-slots-{uuid.uuid4().hex}")
    monkeypatch.setattr(slots, "STACK_SLOTS", 3)
    directory = slots.slot_dir()
    assert directory is not None
    yield directory
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()


def appeared(path: Path, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} not written within {timeout_s}s"
        time.sleep(0.01)


def locked(directory: Path) -> list[int]:
    """Which slots someone holds, tried from a descriptor of our own."""
    held = []
    for i in range(3):
        with open(directory / f"slot-{i}", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(i)
    return held


def holder(
    started: list[subprocess.Popen[bytes]], directory: Path, wanted: int, hold_s: float, mark: Path
) -> subprocess.Popen[bytes]:
    """Another worker: a process that takes `wanted` slots in turn, writes `mark`, holds
    them `hold_s` seconds and lets go."""
    code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from tests import slots
        slots.STACK_SLOTS = 3
        with slots.slots(Path({str(directory)!r}), {wanted}):
            Path({str(mark)!r}).write_text(str(time.monotonic()))
            time.sleep({hold_s})
    """)
    started.append(subprocess.Popen([sys.executable, "-c", code], cwd=ROOT))
    return started[-1]


def test_alone_waits_for_the_others_holds_every_slot_and_gives_its_own_back(
    slot_dir: Path, tmp_path: Path, holders: list[subprocess.Popen[bytes]]
) -> None:
    other = holder(holders, slot_dir, 1, 1.0, tmp_path / "other")
    appeared(tmp_path / "other")
    with slots.slots(slot_dir, 1):
        assert slots.held_slots() == 1 and not slots.holds_every_slot()
        assert len(locked(slot_dir)) == 2  # the other's and ours
        with slots.alone_on_the_machine():
            entered = time.monotonic()
            assert slots.holds_every_slot()
            assert locked(slot_dir) == [0, 1, 2]
        assert other.wait(timeout=10) == 0
        assert entered >= float((tmp_path / "other").read_text()) + 1.0  # after it let go
        assert len(locked(slot_dir)) == 1  # ours again, the rest free
    assert locked(slot_dir) == []


def test_alone_does_not_deadlock_with_a_test_at_the_turnstile_wanting_every_slot(
    slot_dir: Path, tmp_path: Path, holders: list[subprocess.Popen[bytes]]
) -> None:
    """We hold one, a neighbour holds one, a third waits at the turnstile for all three:
    holding ours while waiting for the turnstile would wait forever. Ours is let go
    first, so the waiter gets all three once the neighbour ends, then we do."""
    neighbour = holder(holders, slot_dir, 1, 1.0, tmp_path / "neighbour")
    appeared(tmp_path / "neighbour")
    with slots.slots(slot_dir, 1):
        waiter = holder(holders, slot_dir, 3, 0.3, tmp_path / "waiter")
        deadline = time.monotonic() + 10
        while len(locked(slot_dir)) < 3:  # at the turnstile, holding the third slot
            assert time.monotonic() < deadline, "the waiter never took the free slot"
            time.sleep(0.01)
        with slots.alone_on_the_machine():
            entered = time.monotonic()
        assert waiter.wait(timeout=10) == 0 and neighbour.wait(timeout=10) == 0
    assert entered >= float((tmp_path / "waiter").read_text()) + 0.3


def experiment(predicts: str) -> Path:
    """A library experiment that predicts `predicts`."""
    return next(p for p in EXPERIMENTS if load_experiment(p).predicts == predicts)


BREACHED = "SLO play-ok did not hold during the method (worst 93.4; breached at 5 of 21 readings)"
NOT_STEADY = "SLO play-ok did not hold before any fault: 98.26 (objective >= 99)"
SLOW_RECOVERY = "SLOs were not all met for 10s in a row within 30s after the rollback"
NOT_RECOVERED = (
    "expected every SLO holds again within 20s of the rollback, but not so: never recovered"
)
P99_EXPECTED = "expected p99 within 300ms, but not so: 412 ms"
COMPARED_SLOWER = (
    "the cohorts' comparison is fail (score 66.6667; pass at 95): homepage-latency: the "
    "experiment is significantly higher (p=0.00179 < 0.02) and its mean is 1.33x the "
    "control's, above the 1.25x allowed"
)
COMPARED_NO_DATA = (
    "the cohorts' comparison is fail (score 50; pass at 95): play-success: the experiment is "
    "significantly lower (p=0.001 < 0.02) and its mean is 0.5x the control's, below the "
    "0.95x allowed; homepage-latency: no data: 0 control and 12 experiment samples"
)


def history(
    *,
    lost: int = 0,
    partial: int = 0,
    conflicting: int = 0,
    nm: int = 0,
    stale: int = 0,
    apart: int = 0,
    after: float | None = 0.82,
    allowed_partial: int = 0,
    notes: tuple[str, ...] = (),
) -> str:
    """A history expectation's reason as the runner gives it (the checker's report and
    the driver's description of it) with these findings, of a 5 s bound; `apart`:
    members whose final states differ, `after`: the catch-up after the heal."""
    kinds = {"lost": lost, "partial": partial, "conflict": conflicting, "non_monotonic": nm}
    kinds |= {"stale": stale, "stale_in_fault": 14}
    blames_writer = ("lost", "partial")
    findings = tuple(
        Finding(
            kind, (100 + i, 10 + i), "web", kind, writer=10 + i if kind in blames_writer else None
        )
        for kind, count in kinds.items()
        for i in range(count)
    )
    divergent = [f"m-{i}: us@v2, eu@v1, apac@v2" for i in range(apart)]
    if after is None or after > 5.0:  # as the checker counts a late catch-up
        divergent.append(f"replicas did not catch up within 5s of the heal (after: {after})")
    report = CheckReport(
        {"ok": 873, "fail": 2250, "info": 249},
        findings,
        divergent=tuple(divergent),
        converged_after=after,
        notes=notes,
    )
    measured = "; ".join([report.summary(), describe_findings(report), *report.notes])
    expected = describe_expectation(HistoryHolds(partial=allowed_partial))
    measured += "; history in h.jsonl (checked 11.1s after heal)"
    return f"expected {expected}, but not so: {measured}"


STALE_BEFORE_FAULTS = history(stale=3)
SLOW_CATCH_UP = history(after=5.01)


def journal(exit_code: int, *reasons: str, rollback_error: str | None = None) -> dict[str, Any]:
    """What the runner journals, as much of it as the rerun reads."""
    fault = {"description": "a fault", "rolled_back_at": 12.5, "error": rollback_error}
    return {"exit_code": exit_code, "reasons": list(reasons), "faults": [fault]}


@pytest.mark.parametrize(
    ("predicts", "first", "reasons"),
    [
        ("held", ExitCode.DEVIATED, [BREACHED]),
        ("held", ExitCode.DEVIATED, [BREACHED, SLOW_RECOVERY]),
        ("held", ExitCode.DEVIATED, [SLOW_RECOVERY, NOT_RECOVERED]),
        ("held", ExitCode.DEVIATED, [COMPARED_SLOWER]),
        ("held", ExitCode.STEADY_STATE_NOT_MET, [NOT_STEADY]),
        ("deviated", ExitCode.STEADY_STATE_NOT_MET, [NOT_STEADY]),
        ("held", ExitCode.DEVIATED, [STALE_BEFORE_FAULTS]),
        ("held", ExitCode.DEVIATED, [BREACHED, SLOW_CATCH_UP]),
    ],
)
def test_an_exit_and_reasons_load_can_give_beside_others_is_run_again_alone(
    slot_dir: Path, predicts: str, first: int, reasons: list[str]
) -> None:
    exits = iter([first, PREDICTED_EXIT[predicts]])
    alone_when_run: list[bool] = []
    set_aside: list[int] = []
    recorded: list[tuple[str, object]] = []

    def attempt() -> int:
        alone_when_run.append(slots.holds_every_slot())
        return next(exits)

    with slots.slots(slot_dir, 1):
        result = judged_alone_if_busy(
            experiment(predicts),
            attempt,
            lambda status: status,
            lambda status: journal(status, *reasons),
            set_aside.append,
            lambda name, value: recorded.append((name, value)),
        )
        assert slots.held_slots() == 0 and locked(slot_dir) == []  # no stack work left
    assert result == PREDICTED_EXIT[predicts]
    assert alone_when_run == [False, True] and set_aside == [first]
    assert [name for name, _ in recorded] == [slots.RAN_AGAIN] * 2
    assert f"exit {first} beside other stacks" in str(recorded[0][1])
    assert reasons[0] in str(recorded[0][1])
    assert f"again alone on the machine, exit {PREDICTED_EXIT[predicts]}" in str(recorded[1][1])


LOST = "expected the profiles history has at most 0 lost and 0 partial operations, but not so"


@pytest.mark.parametrize(
    ("reason", "load"),
    [
        (STALE_BEFORE_FAULTS, True),
        (SLOW_CATCH_UP, True),
        (history(stale=2, after=7.4), True),
        (history(partial=1, stale=1, allowed_partial=1), True),  # as many as it allows
        (history(), False),  # nothing found: not a failure load explains
        (history(lost=1, stale=3), False),
        (history(partial=2, stale=1, allowed_partial=1), False),
        (history(conflicting=1, stale=1), False),
        (history(nm=1, stale=1), False),
        (history(apart=1, stale=1), False),  # final states differ, caught up in time
        (history(apart=1, after=6.0), False),  # late, and final states differ
        (history(after=None), False),  # never caught up
        (
            history(stale=1, notes=("no final states recorded: lost writes cannot be judged",)),
            False,
        ),
        (history(stale=1, notes=("no write was acknowledged: there is nothing to judge",)), False),
        # no write acknowledged, so nothing to judge, though late like a lagging one
        (
            history(after=6.0, notes=("no write was acknowledged: there is nothing to judge",)),
            False,
        ),
        (LOST, False),
    ],
)
def test_a_history_load_explains_is_one_of_lagging_replication_only(
    reason: str, load: bool
) -> None:
    assert load_can_give(reason) is load


@pytest.mark.parametrize(
    ("predicts", "first", "wanted", "reasons", "journal_exit"),
    [
        ("held", ExitCode.HELD, 1, [], None),  # as predicted
        ("held", ExitCode.DEVIATED, 3, [BREACHED], None),  # already alone
        ("deviated", ExitCode.HELD, 1, [], None),  # load does not hide a deviation
        ("held", ExitCode.INFRASTRUCTURE_FAILED, 1, ["rollback failed"], None),
        ("held", ExitCode.ABORTED, 1, ["abort: SLO play-ok below 50"], None),
        ("held", ExitCode.INVALID_INPUT, 1, [], None),
        ("held", ExitCode.DEVIATED, 1, [LOST], None),  # a history: load loses no write
        ("held", ExitCode.DEVIATED, 1, [BREACHED, LOST], None),
        ("held", ExitCode.DEVIATED, 1, [SLOW_RECOVERY, P99_EXPECTED], None),
        ("held", ExitCode.DEVIATED, 1, [COMPARED_NO_DATA], None),  # no data is never load's
        (
            "held",
            ExitCode.DEVIATED,
            1,
            ["the cohorts' comparison is fail (no score; pass at 95): no metric was counted"],
            None,
        ),
        ("held", ExitCode.DEVIATED, 1, ["SLO play-ok: no data at 3 of 19 readings"], None),
        ("held", ExitCode.DEVIATED, 1, [], None),  # no reason given
        ("held", ExitCode.DEVIATED, 1, [BREACHED], ExitCode.HELD),  # a crash after its journal
    ],
)
def test_any_other_run_decides_at_once(
    slot_dir: Path,
    predicts: str,
    first: int,
    wanted: int,
    reasons: list[str],
    journal_exit: int | None,
) -> None:
    runs: list[int] = []

    def attempt() -> int:
        runs.append(first)
        return first

    def set_aside(run: int) -> None:
        raise AssertionError("not run again")

    def journal_of(run: int) -> dict[str, Any]:
        return journal(first if journal_exit is None else journal_exit, *reasons)

    with slots.slots(slot_dir, wanted):
        result = judged_alone_if_busy(
            experiment(predicts), attempt, int, journal_of, set_aside, print
        )
    assert result == first and runs == [first]


def test_a_run_on_a_quiet_machine_is_not_run_again(slot_dir: Path) -> None:
    runs: list[int] = []

    def attempt() -> int:
        runs.append(1)
        return ExitCode.DEVIATED

    result = judged_alone_if_busy(
        experiment("held"),
        attempt,
        int,
        lambda status: journal(status, BREACHED),
        lambda run: None,
        print,
        busy=lambda: False,
    )
    assert result == ExitCode.DEVIATED and runs == [1]


def test_a_run_whose_rollback_failed_is_not_run_again_but_fails(slot_dir: Path) -> None:
    with slots.slots(slot_dir, 1), pytest.raises(AssertionError, match="rule still in"):
        judged_alone_if_busy(
            experiment("held"),
            lambda: ExitCode.DEVIATED,
            int,
            lambda status: journal(status, BREACHED, rollback_error="rule still in"),
            lambda run: None,
            print,
        )


def test_cpu_stall_totals_grow_or_are_unknown() -> None:
    first = slots.cpu_stalled_us()
    if first is None:
        assert not Path("/proc/pressure/cpu").exists()
        return
    assert isinstance(first, int) and first >= 0
    second = slots.cpu_stalled_us()
    assert second is not None and second >= first
