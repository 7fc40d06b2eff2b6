"""The member requests of the two cohorts, as the load generator reports them,
turned into a compared metric's samples.

`CohortSamples.observe` is a load generator observer: it keeps every request
of the `experiment` and `control` cohorts (members in no cohort are left out)
in compact arrays: when it was scheduled (the generator's clock, which is
`time.monotonic`), whether its answer was good, its latency and its member.
An arrival the generator never sent (`client_overloaded`) is a failure for
success and starts, and has no latency.

A metric's samples come from the requests scheduled in [since, until): a
caller passes an `until` at least one request timeout in the past, so every
request counted has its outcome (answered or timed out), and a cohort whose
answers are slow is not undercounted.

- success:            1.0 for a good answer, 0.0 otherwise, per request
- latency:            milliseconds from the scheduled send to the end of the
                      answer, per request that was sent
- starts_per_second:  good play answers in each whole second of the span, per
                      percent of the load's members in the cohort (the cohorts'
                      sizes differ: a member's cohort is a hash of its id);
                      a cohort that sent no play in the span has no data
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from chaos.experiment.model import JOURNEYS, CompareMetric
from chaos.load.outcome import Sample

__all__ = ["CohortCounts", "CohortSamples"]

_COHORT = {"control": 0, "experiment": 1}
_JOURNEY = {journey: index for index, journey in enumerate(JOURNEYS)}


@dataclass(frozen=True)
class CohortCounts:
    members: int
    requests: int
    good: int


class CohortSamples:
    def __init__(self) -> None:
        self._at = array("d")
        self._latency_ms = array("d")
        self._good = array("b")
        self._sent = array("b")
        self._cohort = array("b")
        self._journey = array("b")
        self._member = array("q")

    def __len__(self) -> int:
        return len(self._at)

    def observe(self, sample: Sample) -> None:
        cohort = _COHORT.get(sample.cohort)
        if cohort is None or sample.journey not in _JOURNEY:
            return
        self._at.append(sample.scheduled_at)
        self._latency_ms.append(sample.latency * 1000.0)
        self._good.append(1 if sample.good else 0)
        self._sent.append(1 if sample.sent else 0)
        self._cohort.append(cohort)
        self._journey.append(_JOURNEY[sample.journey])
        member = sample.member[2:] if sample.member.startswith("m-") else ""
        self._member.append(int(member) if member.isdigit() else -1)

    def _column(self, column: array[Any], rows: np.ndarray) -> np.ndarray:
        dtype = {"d": float, "b": np.int8, "q": np.int64}[column.typecode]
        return np.frombuffer(column, dtype=dtype)[rows] if rows.size else np.empty(0, dtype)

    def _by_cohort(
        self, since: float, until: float, journey: str | None = None
    ) -> dict[str, np.ndarray]:
        """The rows of each cohort's requests scheduled in [since, until), of one journey
        or of all."""
        at = np.frombuffer(self._at, dtype=float) if len(self._at) else np.empty(0)
        rows = np.flatnonzero((at >= since) & (at < until))
        if journey is not None:
            rows = rows[self._column(self._journey, rows) == _JOURNEY[journey]]
        cohort = self._column(self._cohort, rows)
        return {name: rows[cohort == code] for name, code in _COHORT.items()}

    def values(
        self,
        metric: CompareMetric,
        since: float,
        until: float,
        percents: Mapping[str, float],
    ) -> tuple[np.ndarray, np.ndarray]:
        """(control, experiment) samples of `metric` over [since, until); `percents`
        is each cohort's share of members, for starts_per_second."""
        rows = self._by_cohort(since, until, metric.journey)
        control, experiment = (
            self._metric(metric, rows[name], since, until, percents[name])
            for name in ("control", "experiment")
        )
        return control, experiment

    def _metric(
        self, metric: CompareMetric, rows: np.ndarray, since: float, until: float, percent: float
    ) -> np.ndarray:
        good = self._column(self._good, rows).astype(float)
        if metric.metric == "success":
            return good
        if metric.metric == "latency":
            sent = self._column(self._sent, rows) == 1
            return np.asarray(self._column(self._latency_ms, rows)[sent])
        seconds = int(until - since)  # whole seconds only
        if seconds <= 0 or percent <= 0 or not rows.size:  # no play sent: no data, not 0
            return np.empty(0)
        which = np.floor(self._column(self._at, rows) - since).astype(int)
        kept = which < seconds
        counts = np.bincount(which[kept], weights=good[kept], minlength=seconds)
        return np.asarray(counts[:seconds], dtype=float) / percent

    def counts(
        self, since: float, until: float, journey: str | None = None
    ) -> dict[str, CohortCounts]:
        """Members and requests (and good answers) of each cohort over [since, until),
        of one journey or of all."""
        return {
            name: CohortCounts(
                int(np.unique(self._column(self._member, mine)).size),
                int(mine.size),
                int(self._column(self._good, mine).sum()),
            )
            for name, mine in self._by_cohort(since, until, journey).items()
        }
