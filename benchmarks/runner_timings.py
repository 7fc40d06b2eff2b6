"""How long an aborted run took to see its breach and to roll back, read from
its journal: the `injected`, `abort` and `rolled_back` events' times (`t`,
seconds since the run started), and how many of the SLO's checks after the
injection still missed the breach (its SLI points between the injection and
the abort: a check's point is stamped just after its abort event)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["AbortTimings", "abort_timings"]


@dataclass(frozen=True)
class AbortTimings:
    injected_t: float
    detection_s: float  # the first abort after the first injection, minus that injection
    rollback_s: float  # the last rolled_back event, minus that abort
    missed_checks: int  # checks of the SLO after the injection that did not see it yet


def abort_timings(journal: Mapping[str, Any], slo: str) -> AbortTimings:
    """The timings of a run aborted on SLO `slo`, from its journal as
    `Journal.to_json()` writes it.

    Raises ValueError naming what is missing when the run was not aborted
    after an injection, or never finished rolling back after its abort.
    """
    events: Sequence[Mapping[str, Any]] = journal.get("events", ())
    injected = [float(e["t"]) for e in events if e.get("event") == "injected"]
    if not injected:
        raise ValueError("journal events: no 'injected' event (nothing was injected)")
    aborts = [float(e["t"]) for e in events if e.get("event") == "abort" and e["t"] >= injected[0]]
    if not aborts:
        verdict = journal.get("verdict", "?")
        raise ValueError(
            f"journal events: no 'abort' event after the injection (verdict {verdict})"
        )
    rolled = [float(e["t"]) for e in events if e.get("event") == "rolled_back"]
    if not rolled or rolled[-1] < aborts[0]:
        raise ValueError("journal events: no 'rolled_back' event after the abort")
    points: Sequence[Mapping[str, Any]] = journal.get("slis", {}).get(slo, ())
    missed = sum(1 for p in points if injected[0] < float(p["t"]) < aborts[0])
    return AbortTimings(injected[0], aborts[0] - injected[0], rolled[-1] - aborts[0], missed)
