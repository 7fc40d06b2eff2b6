"""How the readings become a judgement: pure functions over what the monitor read.

A reading is one SLO read once, at one check: met, breached, or no data
(the backend raised twice in one check, had no series, or a relative
objective had no baseline). No data is never met.

- The judged period is the method plus a tail after the last rollback (see
  `tail_seconds`). An SLO holds in it only when it was read at least once
  and every reading was met; each breach and each reading without data
  counts against it, and `Evidence` says which readings decided.
- Recovery is a stretch of checks at which every SLO was met, lasting at
  least `stretch` seconds and `MIN_STABLE_READINGS` checks; it starts at the
  first check of that stretch (`recovery_start`).
- A baseline is refused when it could not be a healthy steady state
  (`baseline_problem`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.experiment.model import Availability, Latency, Slo

from .monitor import Check

__all__ = [
    "AVAILABILITY_FLOOR",
    "LONE_NO_DATA_SHARE",
    "MIN_STABLE_READINGS",
    "Evidence",
    "baseline_problem",
    "evidence",
    "recovery_start",
    "stable_stretch",
    "tail_seconds",
]

#: The lowest availability baseline (percent) a relative objective is judged
#: against: a steady state below it is not healthy.
AVAILABILITY_FLOOR = 90.0
#: Recovery needs at least this many consecutive checks at which every SLO was met.
MIN_STABLE_READINGS = 3
#: A lone reading without data (the checks before and after it read the SLO) is a
#: missed read, not an SLO that could not be read, while such readings are at most
#: this share of all: two in a row, or more of them, and the SLO does not hold.
LONE_NO_DATA_SHARE = 0.1


@dataclass(frozen=True)
class Evidence:
    """The readings of one SLO over the judged period."""

    slo: str
    readings: int = 0
    breached: int = 0
    no_data: int = 0
    worst: float | None = None
    first_breach_t: float | None = None
    last_breach_t: float | None = None
    first_no_data_t: float | None = None
    last_no_data_t: float | None = None
    longest_no_data_run: int = 0  # consecutive readings without data, at most

    @property
    def no_data_tolerated(self) -> bool:
        """Only lone missed reads, few of them (`LONE_NO_DATA_SHARE`)."""
        return self.no_data == 0 or (
            self.longest_no_data_run == 1 and self.no_data <= LONE_NO_DATA_SHARE * self.readings
        )

    @property
    def held(self) -> bool:
        return self.readings > 0 and self.breached == 0 and self.no_data_tolerated

    def reasons(self) -> list[str]:
        """Why the SLO did not hold (none when it held)."""
        found = []
        if self.readings == 0:
            found.append(f"SLO {self.slo}: no data: not one reading during the method")
        if self.breached:
            found.append(
                f"SLO {self.slo} did not hold during the method (worst {self.worst:g}; "
                f"breached at {self.breached} of {self.readings} readings, "
                f"+{self.first_breach_t:g}s..+{self.last_breach_t:g}s)"
            )
        if not self.no_data_tolerated:
            found.append(
                f"SLO {self.slo}: no data at {self.no_data} of {self.readings} readings "
                f"during the method, +{self.first_no_data_t:g}s..+{self.last_no_data_t:g}s "
                "(no data is never held)"
            )
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "held": self.held,
            "readings": self.readings,
            "breached": self.breached,
            "no_data": self.no_data,
            "worst": self.worst,
            "first_breach_t": self.first_breach_t,
            "last_breach_t": self.last_breach_t,
            "first_no_data_t": self.first_no_data_t,
            "last_no_data_t": self.last_no_data_t,
            "longest_no_data_run": self.longest_no_data_run,
        }


def _worse(value: float, than: float | None, op: str) -> bool:
    return than is None or (value < than if ">" in op else value > than)


def evidence(slo: Slo, checks: Iterable[Check]) -> Evidence:
    """What the checks say about one SLO: a check that did not read it counts as no data."""
    readings = breached = no_data = run = longest_run = 0
    worst: float | None = None
    breach_t: list[float] = []
    no_data_t: list[float] = []
    for check in checks:
        readings += 1
        reading = check.readings.get(slo.name)
        if reading is None or reading.ok is None:
            no_data += 1
            no_data_t.append(check.t)
            run += 1
            longest_run = max(longest_run, run)
            continue
        run = 0
        if reading.ok is False:
            breached += 1
            breach_t.append(check.t)
            if reading.value is not None and _worse(reading.value, worst, slo.objective.op):
                worst = reading.value
    return Evidence(
        slo.name,
        readings,
        breached,
        no_data,
        worst,
        breach_t[0] if breach_t else None,
        breach_t[-1] if breach_t else None,
        no_data_t[0] if no_data_t else None,
        no_data_t[-1] if no_data_t else None,
        longest_run,
    )


def tail_seconds(
    slos: Sequence[Slo], *, request_timeout: float | None, scrape_interval: float
) -> float:
    """How long the method is judged on after its last rollback: long enough for a
    request the fault hung to time out, for every scrape to catch up (two scrape
    intervals) and for every SLO's window to have moved past the fault."""
    return max([s.window for s in slos] + [request_timeout or 0.0, 2 * scrape_interval])


def stable_stretch(slos: Sequence[Slo], interval: float) -> float:
    """How long every SLO must be met for the system to count as recovered."""
    return max([s.window for s in slos] + [(MIN_STABLE_READINGS - 1) * interval])


def recovery_start(checks: Sequence[Check], since: float, stretch: float) -> float | None:
    """The first check (at or after `since`) of a run of checks at which every SLO
    was met that lasts at least `stretch` seconds and MIN_STABLE_READINGS checks;
    None while there is no such run yet."""
    start: float | None = None
    count = 0
    for check in checks:
        if check.t < since:
            continue
        if not check.all_met:
            start, count = None, 0
            continue
        if start is None:
            start = check.t
        count += 1
        if count >= MIN_STABLE_READINGS and check.t - start >= stretch:
            return start
    return None


def baseline_problem(slo: Slo, baseline: float | None) -> str | None:
    """Why a steady-state baseline could not be a healthy steady state, if it could not.

    Only a relative objective is judged against its baseline: an availability
    baseline must reach AVAILABILITY_FLOOR, and the limit derived from a
    baseline must be one a reading could breach (an availability limit above
    0, a latency baseline above 0 and finite)."""
    objective = slo.objective
    if objective.relative_percent is None or baseline is None:
        return None
    said = f"SLO {slo.name}: steady-state baseline {baseline:g}"
    if not math.isfinite(baseline):
        return f"{said} is not a number a limit can be derived from"
    indicator = slo.indicator
    if isinstance(indicator, Availability):
        if baseline < AVAILABILITY_FLOOR:
            return f"{said}% is below {AVAILABILITY_FLOOR:g}%: not a healthy steady state"
        limit = objective.limit(baseline)
        if limit <= 0:
            return f"{said}% gives a limit of {limit:g}%: no reading can breach it"
    if isinstance(indicator, Latency) and baseline <= 0:
        return f"{said} ms gives a limit no reading can breach"
    return None
