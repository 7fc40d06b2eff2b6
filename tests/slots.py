"""The suite's stack slots: at most STACK_SLOTS tests drive stacks at once, across
every xdist worker (tests/conftest.py says how tests take them), and how a test
whose verdict a busy machine may have decided runs again alone.

A slot is an flock on a file in the run's slot directory; a process holds the ones
it locked until it closes them. `alone_on_the_machine` lets a test that holds
slots hold every one for a while: it lets go of its own first (holding some while
waiting for the rest could deadlock with a test waiting at the turnstile for
those), then gathers them all in the usual turn, and takes its own back after.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: How many tests may drive stacks at once, across all workers.
STACK_SLOTS = int(os.environ.get("CHAOSBED_TEST_STACKS", "3"))

#: The niceness of a worker while it runs a test that drives no stack. The fast tests
#: take a core each on a worker of their own while stacks run beside them, and every
#: stack's objectives judge the machine: a worker at a nice of 10 weighs about a tenth
#: of one at 0 when the CPUs are contended (Linux's CFS), so the fast tests take the
#: time the stacks leave. A stack test's worker goes back to 0 before its fixtures
#: start anything (its services, its runner and their children inherit it); see
#: tests/conftest.py `pytest_runtest_setup`.
FAST_TEST_NICENESS = 10

#: A test that ran an experiment again alone on the machine says so in its report's
#: user properties under this name; the suite's summary lists them.
RAN_AGAIN_ALONE = "ran_again_alone"

#: The slot files this process holds locked, a list per `slots` it is inside of.
_held: list[list[IO[str]]] = []


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
    """Hold `wanted` of the STACK_SLOTS slot locks, in turn.

    Every test passes one turnstile (a blocking lock) on its way to the slots and
    holds it until it has all it wants. Without it a test wanting two slots
    starved: each time one freed, the worker whose test had just released it took
    it again for its next test long before the waiter's next look, for as long as
    a module of stack tests lasted (minutes), while the waiter held the other slot
    idle. With it the next test in line gets the next free slot."""
    held: list[int] = []
    turnstile = open(directory / "turnstile", "w")  # noqa: SIM115
    try:
        fcntl.flock(turnstile, fcntl.LOCK_EX)  # waits in the kernel for those before it
        files = [open(directory / f"slot-{i}", "w") for i in range(STACK_SLOTS)]  # noqa: SIM115
        try:
            while len(held) < wanted:
                for i, handle in enumerate(files):
                    if i in held:
                        continue
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue
                    held.append(i)
                    if len(held) == wanted:
                        break
                else:
                    time.sleep(0.1)
            turnstile.close()  # the set is whole: the next in line may gather theirs
            mine: list[IO[str]] = [files[i] for i in held]
            _held.append(mine)
            try:
                yield
            finally:
                _held.remove(mine)
        finally:
            for handle in files:
                handle.close()  # closing releases its lock
    finally:
        turnstile.close()


def held_slots() -> int:
    """How many slots this process holds now."""
    return sum(len(files) for files in _held)


def holds_every_slot() -> bool:
    """Whether this process holds every slot (or the suite runs in one process, alone
    by construction): no other test drives a stack beside it."""
    return slot_dir() is None or held_slots() >= STACK_SLOTS


@contextlib.contextmanager
def alone_on_the_machine() -> Iterator[None]:
    """Every slot held for the block, by a test that may hold some already: it lets
    go of them, gathers all of them in turn, and takes its own back after (waiting
    for them like any test), so that the rest of its module keeps what it had."""
    directory = slot_dir()
    if directory is None:
        yield
        return
    mine = [handle for files in _held for handle in files]
    for handle in mine:
        fcntl.flock(handle, fcntl.LOCK_UN)
    try:
        with slots(directory, STACK_SLOTS):
            yield
    finally:
        for handle in mine:
            fcntl.flock(handle, fcntl.LOCK_EX)


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
