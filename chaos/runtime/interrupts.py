"""Ctrl-C (SIGINT) and SIGTERM: raised as exceptions, and kept from cutting a cleanup in half.

Inside `termination_raises()` (the CLI wraps every command in it) SIGTERM
raises `Terminated`, a KeyboardInterrupt, as Ctrl-C does: the stack unwinds
through every `finally`, instead of the process dying where it stands.

`up` launches things that must either be fully started or not at all, and
then, when interrupted, stops them: an interruption in the middle of either
would leave something running that nobody tracks. Inside
`interrupts_deferred()` both signals are only noted; on leaving, the first one
noted is raised again (under the handlers restored by then), unless the block
is already leaving by an exception. Only the main thread can handle signals:
elsewhere the block runs as it is.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Terminated", "interrupts_deferred", "termination_raises"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (handled like Ctrl-C: unwind, clean up, exit)."""

    signum = int(signal.SIGTERM)


def _raise_terminated(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def termination_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        noted.append(signum)

    previous = {}
    for sig in _SIGNALS:
        handler = signal.getsignal(sig)
        if handler is not None:  # None: installed outside Python, cannot be restored
            previous[sig] = handler
            signal.signal(sig, note)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if noted:
        signal.raise_signal(noted[0])
