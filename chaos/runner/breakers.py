"""Circuit breaker state over a run: each edge's breaker, sampled with the SLOs.

Every caller exports `chaosbed_circuit_breaker_state{service, dependency}`
(0 closed, 1 open, 2 half-open). At each check the runner records, per edge
of the topology, the highest state any instance of the caller reported over
the last check interval (so a breaker that opened and closed between two
checks is still seen), or None when no instance reported one.
"""

from __future__ import annotations

import asyncio

from chaos.experiment.topology import EDGES
from chaos.slo import SliReader
from services.topology import Metric

__all__ = ["BREAKER_METRIC", "BREAKER_STATES", "breaker_window", "sample_breakers"]

BREAKER_METRIC = Metric.BREAKER_STATE
#: The gauge's values, as the report names them.
BREAKER_STATES = {0: "closed", 1: "open", 2: "half-open"}


def breaker_window(interval: float) -> float:
    """How far back each sample looks, for checks every `interval` seconds."""
    return max(1.5 * interval, 2.5)


async def sample_breakers(reader: SliReader, since: float) -> dict[str, float | None]:
    """Each edge (`"caller -> dependency"`) to its highest breaker state since `since`.

    A backend error is no data for that edge, never a failed run.
    """

    async def one(caller: str, dependency: str) -> float | None:
        labels = {"service": caller, "dependency": dependency}
        try:
            return await reader.max_over(BREAKER_METRIC, labels, since)
        except Exception:  # noqa: BLE001 - breaker state is context, not a verdict input
            return None

    values = await asyncio.gather(*(one(e.caller, e.dependency) for e in EDGES))
    return {f"{e.caller} -> {e.dependency}": v for e, v in zip(EDGES, values, strict=True)}
