"""Run a command (docker compose, the image build) in a session of its own, and never leave it.

A Ctrl-C in the terminal goes to the terminal's whole process group; the
command, in its own session, does not get it, so chaosbed decides what
happens. On any exception while it runs (KeyboardInterrupt, SIGTERM turned
into one, a timeout), its whole process group gets SIGTERM, then SIGKILL:
`docker compose` runs its work in a plugin process that killing the docker
CLI alone would leave behind. A SIGINT or SIGTERM that lands while the
command is still being started is held until `Popen` has returned, so the
group is known and stopped then too (otherwise the exception would leave
`Popen` with the child running and no one to stop it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import FrameType
from typing import Any

__all__ = ["run_in_session"]

STOP_GRACE_S = 5.0
#: How long a group already SIGKILLed is waited for, at most.
KILLED_WAIT_S = 60.0


def run_in_session(
    command: Sequence[str],
    environ: Mapping[str, str],
    *,
    timeout_s: float,
    capture: bool,
) -> tuple[int, str]:
    """Run `command`; (its exit code, its combined output if `capture`, else "").

    Without `capture`, its output goes to this process's stderr. Raises
    subprocess.TimeoutExpired after `timeout_s`, with the group stopped.
    """
    with _signals_held() as delivered:
        process = subprocess.Popen(
            list(command),
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else 2,
            stderr=subprocess.STDOUT if capture else 2,
            text=True,
            start_new_session=True,
        )
    try:
        delivered()
        output, _ = process.communicate(timeout=timeout_s)
    except BaseException:
        _stop_group(process)
        raise
    return process.returncode, output or ""


_HELD = (signal.SIGINT, signal.SIGTERM)
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@contextlib.contextmanager
def _signals_held() -> Iterator[Callable[[], None]]:
    """Record SIGINT/SIGTERM instead of acting on them; yields a function that
    acts on what was recorded with the handlers that were in place. Python
    handlers, not a blocked mask: the child would inherit a mask, while exec
    gives it default dispositions again. Off the main thread (where no signal
    handler runs) nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    pending: list[int] = []
    previous: dict[int, _Handler] = {}
    for signum in _HELD:
        previous[signum] = signal.signal(signum, lambda n, _frame: pending.append(n))
    try:
        yield lambda: _deliver(pending, previous)
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)


def _deliver(pending: list[int], handlers: Mapping[int, _Handler]) -> None:
    for signum in pending:
        handler = handlers[signum]
        if callable(handler):
            handler(signum, None)
        elif handler == signal.SIG_DFL:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            signal.raise_signal(signum)


def _stop_group(process: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.communicate(timeout=STOP_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue
    # SIGKILLed and not ended yet (a process in uninterruptible sleep on a loaded
    # machine): waited for, so that it is reaped here when it goes, not left running
    # behind the caller's exception
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=KILLED_WAIT_S)
    if process.stdout is not None:
        process.stdout.close()
