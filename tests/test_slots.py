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

import pytest

from chaos.exitcodes import ExitCode
from chaos.experiment import load_experiment
from tests import slots
from tests.chaos.experiments.library import EXPERIMENTS, PREDICTED_EXIT, judged_alone_if_busy

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


@pytest.mark.parametrize(
    ("predicts", "first"),
    [
        ("held", ExitCode.DEVIATED),
        ("held", ExitCode.STEADY_STATE_NOT_MET),
        ("deviated", ExitCode.STEADY_STATE_NOT_MET),
    ],
)
def test_an_exit_load_can_give_beside_others_is_run_again_alone(
    slot_dir: Path, predicts: str, first: int
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
            set_aside.append,
            lambda name, value: recorded.append((name, value)),
        )
        assert slots.held_slots() == 1 and len(locked(slot_dir)) == 1  # its own back
    assert result == PREDICTED_EXIT[predicts]
    assert alone_when_run == [False, True] and set_aside == [first]
    assert [name for name, _ in recorded] == [slots.RAN_AGAIN] * 2
    assert f"exit {first} beside other stacks" in str(recorded[0][1])
    assert f"again alone on the machine, exit {PREDICTED_EXIT[predicts]}" in str(recorded[1][1])


@pytest.mark.parametrize(
    ("predicts", "first", "wanted"),
    [
        ("held", ExitCode.HELD, 1),  # as predicted
        ("held", ExitCode.DEVIATED, 3),  # already alone
        ("deviated", ExitCode.HELD, 1),  # load does not hide a deviation
        ("held", ExitCode.INFRASTRUCTURE_FAILED, 1),  # a failed rollback, say
        ("held", ExitCode.ABORTED, 1),
        ("held", ExitCode.INVALID_INPUT, 1),
    ],
)
def test_any_other_run_decides_at_once(
    slot_dir: Path, predicts: str, first: int, wanted: int
) -> None:
    runs: list[int] = []

    def attempt() -> int:
        runs.append(first)
        return first

    def set_aside(run: int) -> None:
        raise AssertionError("not run again")

    with slots.slots(slot_dir, wanted):
        result = judged_alone_if_busy(experiment(predicts), attempt, int, set_aside, print)
    assert result == first and runs == [first]


def test_cpu_stall_totals_grow_or_are_unknown() -> None:
    first = slots.cpu_stalled_us()
    if first is None:
        assert not Path("/proc/pressure/cpu").exists()
        return
    assert isinstance(first, int) and first >= 0
    second = slots.cpu_stalled_us()
    assert second is not None and second >= first
