"""Waiting on a condition instead of sleeping a guess: `await until(check)`
polls `check` (a coroutine's result is awaited) until it is true and fails
the test, naming what it waited for, when it is not true within `timeout_s`."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable


async def until(
    check: Callable[[], object], *, timeout_s: float = 5.0, what: str = "", every_s: float = 0.01
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await _value(check()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout_s}s: {what or check}")
        await asyncio.sleep(every_s)


async def _value(result: object) -> object:
    return await result if inspect.isawaitable(result) else result
