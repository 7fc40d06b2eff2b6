"""Steady-state checks, about once a second: every SLO's value, whether it
holds, and whether an abort condition has been breached long enough."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from chaos.experiment.model import AbortCondition, Slo
from chaos.slo import SliReader

__all__ = ["AbortTracker", "Reading", "read_slos"]


@dataclass(frozen=True)
class Reading:
    """One SLO at one check: met (`ok` True), breached (False) or no data (None).

    `error` says why a reading has no data when its backend raised.
    """

    slo: Slo
    value: float | None
    limit: float | None
    ok: bool | None
    error: str = ""


async def read_slos(
    reader: SliReader, slos: tuple[Slo, ...], baseline: Mapping[str, float | None]
) -> dict[str, Reading]:
    """Read every SLO once. A backend that raises is asked once more in the same
    check (one transient error is not a verdict); if it raises again, the
    reading has no data (never a crash, never met)."""
    values = await asyncio.gather(*(_value(reader, s) for s in slos), return_exceptions=True)
    readings: dict[str, Reading] = {}
    for slo, value in zip(slos, values, strict=True):
        base = baseline.get(slo.name)
        try:
            limit = slo.objective.limit(base)
        except ValueError:
            limit = None
        if isinstance(value, BaseException):
            readings[slo.name] = Reading(slo, None, limit, None, repr(value))
        elif value is None or limit is None:
            readings[slo.name] = Reading(slo, value, limit, None)
        else:
            readings[slo.name] = Reading(slo, value, limit, slo.objective.holds(value, base))
    return readings


async def _value(reader: SliReader, slo: Slo) -> float | None:
    try:
        return await reader.value(slo)
    except Exception:  # noqa: BLE001 - retried once; the second error is the reading's
        return await reader.value(slo)


class AbortTracker:
    """Says when an abort condition has held for its `for` duration.

    A condition is breached at a check when its SLO's value is below/above
    its bound; it fires once the breach has lasted `for` seconds across
    consecutive checks (at once when `for` is 0). A check without data
    neither starts nor ends a breach.
    """

    def __init__(self, conditions: tuple[AbortCondition, ...]) -> None:
        self._conditions = conditions
        self._since: dict[int, float] = {}

    def check(self, readings: Mapping[str, Reading], now: float) -> AbortCondition | None:
        for index, condition in enumerate(self._conditions):
            reading = readings.get(condition.slo)
            if reading is None or reading.value is None:
                continue
            if condition.breached(reading.value):
                started = self._since.setdefault(index, now)
                if now - started >= condition.for_:
                    return condition
            else:
                self._since.pop(index, None)
        return None
