"""Where in the runner's two cycles a benchmark's breach falls.

A breach is seen at the first check after the first scrape after it, so
its detection time is (next scrape - breach) + (next check - that scrape):
it depends on the breach's phase and the checks' phase against the scrapes.
The scrape backend scrapes on whole wall-clock seconds, Prometheus on a
fixed phase of its own; the runner checks from the moment a run starts, and
a method starts just after a check. A run that starts at wall phase `start`
and injects `offset` seconds into its method therefore puts its checks at
phase `start` and its breach at phase `start + offset`.

`phase_plan` puts both on the same grid, the middle of each of `count`
shares of the interval, paired in reverse (a Latin square). When every
target is scraped at one phase (the scrape backend), whatever that phase
the two waits then average one interval over the runs, as they do for a
breach at a random moment. Prometheus spreads its targets' scrapes over the
interval, so an SLI read from several targets can see a breach sooner.
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
    """`count` runs: checks at share k's middle, the breach at share count-1-k's middle."""
    if count < 1:
        raise ValueError(f"count: at least one run is needed, not {count}")
    if interval <= 0:
        raise ValueError(f"interval: must be positive, not {interval}")
    grid = [(k + 0.5) * interval / count for k in range(count)]
    return [
        Phase(round(check, 3), round((breach - check) % interval, 3))
        for check, breach in zip(grid, reversed(grid), strict=True)
    ]


async def wait_for_phase(
    phase: float, interval: float, clock: Callable[[], float] = time.time
) -> None:
    """Sleep until the wall clock is `phase` seconds into an interval."""
    await asyncio.sleep((phase - clock()) % interval)
