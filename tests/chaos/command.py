"""`chaosbed ARGV` in a child process, for the end-to-end tests that drive the CLI.

Each in a session of its own (`run_in_own_session`): with the kernel's autogroups
(kernel.sched_autogroup_enabled, for the tasks in the root cpu cgroup, as on the
reference machine) each session is one group the CPU is shared among, so a runner
(the load generator scheduling members' requests, the judge) started in the pytest
session would share that group's CPU with the workers, one of them on the fast
tests, a core of its own; in such runs a runner's schedule was late by up to 445 ms,
and every request's latency counts from its schedule. In its own session it weighs
like the process stack it judges, whose services the process runtime starts in a
session of their own. Where processes are grouped otherwise (systemd's slices under
cgroup v2) the session changes nothing for the CPU.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["chaosbed", "run_in_own_session"]

_PR_SET_PDEATHSIG = 1
#: How long a child interrupted with the test (Ctrl-C, a timeout) has for its rollback.
ROLLBACK_GRACE_S = 30.0


def _die_with_the_test() -> None:  # runs in the forked child, before exec
    """Linux: the child gets SIGTERM (and rolls back) if the worker dies, even by
    SIGKILL: in a session of its own no signal to the suite's group reaches it."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def run_in_own_session(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(argv, capture_output=True, text=True)` in a session of its own.
    Whatever stops the wait (its timeout, Ctrl-C, pytest-timeout) sends its group
    SIGINT, as a terminal's Ctrl-C would, gives it ROLLBACK_GRACE_S to roll back, then
    SIGKILL; the error goes on."""
    process = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
        start_new_session=True, preexec_fn=_die_with_the_test,  # noqa: PLW1509
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.communicate(timeout=ROLLBACK_GRACE_S)
        except BaseException:
            process.kill()
            process.communicate()
        raise
    return subprocess.CompletedProcess(list(argv), process.returncode, stdout, stderr)


def chaosbed(
    *argv: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run it; the tail of its output is echoed for the test report."""
    done = run_in_own_session([sys.executable, "-m", "chaos", *argv], timeout=timeout, env=env)
    sys.stdout.write(done.stdout[-6000:] + done.stderr[-2000:])
    return done
