"""The suite's stack slots: at most STACK_SLOTS tests drive stacks at once, across
every xdist worker (tests/conftest.py says how tests take them), and how a test
whose verdict a busy machine may have decided runs again alone.

A slot is an flock on a file in the run's slot directory; a process holds the ones
it locked until it closes them. Every test passes one turnstile (a blocking lock)
on its way to the slots and holds it until it has all it wants. Without it a test
wanting two slots starved: each time one freed, the worker whose test had just
released it took it again for its next test long before the waiter's next look,
for as long as a module of stack tests lasted (minutes), while the waiter held the
other slot idle. With it the one test past the turnstile gets the next free slot.

`alone_on_the_machine` lets a test that holds slots hold every one for a while: it
lets go of its own first (holding some while waiting at the turnstile for the rest
could deadlock with a test there waiting for those), gathers them all in turn, and
after the block takes as many as it had back in turn, whichever are free.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: How many tests may drive stacks at once, across all workers.
STACK_SLOTS = int(os.environ.get("CHAOSBED_TEST_STACKS", "3"))

#: A test that ran an experiment again says so in its report's
#: user properties under this name; the suite's summary lists them.
RAN_AGAIN = "ran_again"


@dataclass
class _Hold:
    """One `slots` block: a handle on every slot file, and the indices it has locked."""

    files: list[IO[str]]
    held: list[int]


#: The `slots` blocks this process is inside of.
_holds: list[_Hold] = []


def _gather(directory: Path, wants: list[tuple[_Hold, int]]) -> None:
    """Through the turnstile, lock any free slots until each hold has its count; the
    caller holds none while it waits there (holding some could deadlock)."""
    turnstile = open(directory / "turnstile", "w")  # noqa: SIM115
    try:
        fcntl.flock(turnstile, fcntl.LOCK_EX)  # one at a time; no queue order (flock wakes all)
        taken: set[int] = {i for hold in _holds for i in hold.held}
        for hold, wanted in wants:
            while len(hold.held) < wanted:
                for i, handle in enumerate(hold.files):
                    if i in taken:
                        continue
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue
                    hold.held.append(i)
                    taken.add(i)
                    if len(hold.held) == wanted:
                        break
                else:
                    time.sleep(0.1)
    finally:
        turnstile.close()  # the set is whole: the next in line may gather theirs


def slot_dir() -> Path | None:
    """Where this run's slot locks live; None when the suite runs in one process."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        return None
    directory = Path(tempfile.gettempdir()) / f"chaosbed-test-slots-{run}"
    directory.mkdir(exist_ok=True)
    return directory


@contextlib.contextmanager
def slots(directory: Path, wanted: int) -> Iterator[None]:
    """Hold `wanted` of the STACK_SLOTS slot locks, in turn (the turnstile: see the
    module's docstring)."""
    files: list[IO[str]] = [open(directory / f"slot-{i}", "w") for i in range(STACK_SLOTS)]  # noqa: SIM115
    hold = _Hold(files, [])
    try:
        _gather(directory, [(hold, wanted)])
        _holds.append(hold)
        try:
            yield
        finally:
            _holds.remove(hold)
    finally:
        for handle in files:
            handle.close()  # closing releases its lock


def held_slots() -> int:
    """How many slots this process holds now."""
    return sum(len(hold.held) for hold in _holds)


def holds_every_slot() -> bool:
    """Whether this process holds every slot (or the suite runs in one process, alone
    by construction): no other test drives a stack beside it."""
    return slot_dir() is None or held_slots() >= STACK_SLOTS


@contextlib.contextmanager
def alone_on_the_machine(*, regain: bool = True) -> Iterator[None]:
    """Every slot held for the block, by a test that may hold some already: it lets go
    of them and gathers all of them in turn; after the block, when `regain`, it takes
    as many as it had back through the turnstile, any free ones, like any test (a
    test with no stack work left after the block need not wait for them)."""
    directory = slot_dir()
    if directory is None:
        yield
        return
    mine = [(hold, len(hold.held)) for hold in _holds]
    for hold, _ in mine:
        for i in hold.held:
            fcntl.flock(hold.files[i], fcntl.LOCK_UN)
        hold.held.clear()
    try:
        with slots(directory, STACK_SLOTS):
            yield
    finally:
        if regain:
            _gather(directory, mine)


def cpu_stalled_us() -> int | None:
    """The kernel's total of microseconds in which some runnable task waited for a
    CPU (/proc/pressure/cpu, "some"), None where the kernel has no pressure stall
    information: the difference over a run, divided by its length, is how busy the
    machine was for everything on it."""
    try:
        text = Path("/proc/pressure/cpu").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("some "):
            for field in line.split()[1:]:
                key, _, value = field.partition("=")
                if key == "total":
                    return int(value)
    return None


def cpu_waited_since(stalled: int | None, began: float) -> str:
    """How much of the time since `began` (time.monotonic()) some task waited for a
    CPU, from `stalled` (cpu_stalled_us() then), as a percentage; "unknown" where the
    kernel has no pressure stall information."""
    now = cpu_stalled_us()
    if stalled is None or now is None:
        return "unknown"
    return f"{(now - stalled) / 1e6 / (time.monotonic() - began):.0%}"
