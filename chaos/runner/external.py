"""A method played from outside the runner: its steps arrive one by one from another
thread (a Chaos Toolkit run's activities), and its end is said from there.

The runner does everything else as for its own method: it starts the load, holds
the steady state before any step is accepted, judges every SLO about once a second
while the steps play, stops at an abort condition, injects, verifies, holds and
rolls back each step with its own drivers, and judges the tail, the recovery and
the expectations once the method is said to have ended.

Thread side: `wait_ready` (the method may begin), `play(step)` (one step, to its
rollback: blocks), `end()` (no more steps). Runner side: `run` in the runner's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode
from chaos.experiment.model import Step

__all__ = ["ExternalMethod", "MethodEnded"]


class MethodEnded(ChaosbedError):
    """A step came when the method is not playing (before it began, or after it ended)."""

    exit_code = ExitCode.INVALID_INPUT


class ExternalMethod:
    def __init__(self, on_stopped: Callable[[], None] = lambda: None) -> None:
        """`on_stopped` is called (in the runner's thread) when the method stops before
        it was said to end: an abort condition, a failed step, an interruption."""
        self._on_stopped = on_stopped
        self._ready = threading.Event()
        self._closed = threading.Event()  # the runner's method is over: no step is accepted
        self._no_more = threading.Event()  # the other side said the method ended
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ended: asyncio.Event | None = None
        self._failed: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._play: Callable[[Step], Coroutine[Any, Any, None]] | None = None
        self.played: list[str] = []  # the steps' names, in the order they came

    # ------------------------------------------------------------ the other thread

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Whether the method began (the steady state held) within `timeout`; False
        also when the run ended before it could."""
        self._ready.wait(timeout)
        return self._ready.is_set() and not self._closed.is_set()

    def play(self, step: Step, timeout: float | None = None) -> None:
        """Play `step` at its offset from the method's start (at once if that has
        passed), to its end.
        Raises what the step raised (FaultError, NoEffect), CancelledError when the
        run stopped it (an abort), or MethodEnded."""
        loop = self._loop
        playing = self._ready.is_set() and not self._closed.is_set() and not self._no_more.is_set()
        if loop is None or not playing:
            raise MethodEnded("the method is not playing: no step can be injected now")
        future = asyncio.run_coroutine_threadsafe(self._start(step), loop)
        try:
            future.result(timeout)
        except concurrent.futures.CancelledError:
            raise asyncio.CancelledError("the run stopped this step") from None

    def end(self) -> None:
        """No more steps: the runner goes on to the tail once the steps playing end."""
        self._no_more.set()
        loop, ended = self._loop, self._ended
        if loop is not None and ended is not None and not loop.is_closed():
            loop.call_soon_threadsafe(ended.set)

    # ------------------------------------------------------------ the runner's loop

    async def _start(self, step: Step) -> None:
        if self._closed.is_set() or self._no_more.is_set() or self._play is None:
            raise MethodEnded("the method has ended: no step can be injected now")
        task = asyncio.create_task(self._play(step), name=step.name)
        self._tasks.add(task)
        task.add_done_callback(self._settled)
        self.played.append(step.name)
        await asyncio.shield(task)

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        failed = self._failed
        if task.cancelled() or failed is None or failed.done():
            return
        error = task.exception()
        if error is not None:
            failed.set_exception(error)

    async def run(
        self, play: Callable[[Step, float], Coroutine[Any, Any, None]], clock: Callable[[], float]
    ) -> None:
        """Accept steps until the method is said to end and its steps have ended;
        raises the first step's error. Cancelled (an abort, an interruption), it
        stops accepting steps and cancels those playing (the runner rolls them back)."""
        self._loop = asyncio.get_running_loop()
        self._ended = asyncio.Event()
        failed = self._failed = self._loop.create_future()

        began = clock()

        async def at_offset(step: Step) -> None:  # its offset from the method's start
            await play(step, began)

        self._play = at_offset
        self._ready.set()
        ended = asyncio.create_task(self._ended.wait())
        try:
            await asyncio.wait({ended, failed}, return_when=asyncio.FIRST_COMPLETED)
            while self._tasks and not failed.done():  # said to end: the steps playing end
                await asyncio.wait({*self._tasks, failed}, return_when=asyncio.FIRST_COMPLETED)
            if failed.done():
                failed.result()  # a step failed: the method fails
        finally:
            ended.cancel()
            try:
                if not self._ended.is_set():
                    self._on_stopped()  # first: the other side may be waiting on a step
            finally:
                self.close()
            playing = list(self._tasks)
            await asyncio.gather(*playing, return_exceptions=True)

    def close(self) -> None:
        """No step is accepted any more (the method ended, or was stopped); the
        steps still playing are cancelled (the runner rolls them back)."""
        self._closed.set()
        self._ready.set()  # a waiter learns the method will not begin (or is over)
        for task in list(self._tasks):
            task.cancel()
        if self._failed is not None and not self._failed.done():
            self._failed.cancel()
