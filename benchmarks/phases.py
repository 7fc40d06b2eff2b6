"""Where in the runner's two cycles a benchmark's breach falls.

A breach is seen at the first check after the first scrape after it: how
long that takes depends on the breach's phase against the scrapes and on the
checks' phase against the scrapes. The scrape backend scrapes on whole
wall-clock seconds (Prometheus on a fixed phase of its own); the runner
checks from the moment a run starts, and a method starts just after a check.
So a run that starts at wall phase `start` and injects `offset` seconds into
its method sets both. `phase_plan` spreads both evenly over one interval as a
Latin square: every run has its own start phase and its own offset, and no
two runs pair the same ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Phase", "phase_plan", "wait_for_phase"]


@dataclass(frozen=True)
class Phase:
    start: float  # wall-clock phase (seconds into the interval) at which the run starts
    offset: float  # seconds from the method's start to the injection


def phase_plan(count: int, interval: float) -> list[Phase]:
    """`count` runs, each in the middle of its own share of the interval on both axes."""
    if count < 1:
        raise ValueError(f"count: at least one run is needed, not {count}")
    if interval <= 0:
        raise ValueError(f"interval: must be positive, not {interval}")
    shares = [round((k + 0.5) * interval / count, 3) for k in range(count)]
    return [Phase(shares[(k + count // 2) % count], shares[k]) for k in range(count)]


async def wait_for_phase(
    phase: float, interval: float, clock: Callable[[], float] = time.time
) -> None:
    """Sleep until the wall clock is `phase` seconds into an interval."""
    await asyncio.sleep((phase - clock()) % interval)
