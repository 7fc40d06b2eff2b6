"""Waiting on a condition instead of sleeping a guess: `await until(check)`
polls `check` until it is true and fails the test, naming what it waited
for, when it is not true within `timeout_s`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(
    check: Callable[[], object], *, timeout_s: float = 5.0, what: str = "", every_s: float = 0.01
) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout_s}s: {what or check}")
        await asyncio.sleep(every_s)
