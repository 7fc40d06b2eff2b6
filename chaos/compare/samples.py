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

    def _rows(self, since: float, until: float) -> np.ndarray:
        at = np.frombuffer(self._at, dtype=float) if len(self._at) else np.empty(0)
        return np.flatnonzero((at >= since) & (at < until))

    def values(
        self,
        metric: CompareMetric,
        since: float,
        until: float,
        percents: Mapping[str, float],
    ) -> tuple[np.ndarray, np.ndarray]:
        """(control, experiment) samples of `metric` over [since, until); `percents`
        is each cohort's share of members, for starts_per_second."""
        rows = self._rows(since, until)
        journey = np.frombuffer(self._journey, dtype=np.int8)[rows] if rows.size else rows
        rows = rows[journey == _JOURNEY[metric.journey]] if rows.size else rows
        cohort = np.frombuffer(self._cohort, dtype=np.int8)[rows] if rows.size else rows
        out = []
        for name in ("control", "experiment"):
            mine = rows[cohort == _COHORT[name]] if rows.size else rows
            out.append(self._metric(metric, mine, since, until, percents[name]))
        return out[0], out[1]

    def _metric(
        self, metric: CompareMetric, rows: np.ndarray, since: float, until: float, percent: float
    ) -> np.ndarray:
        good = np.frombuffer(self._good, dtype=np.int8)[rows].astype(float) if rows.size else rows
        if metric.metric == "success":
            return np.asarray(good, dtype=float)
        if metric.metric == "latency":
            if not rows.size:
                return np.empty(0)
            sent = np.frombuffer(self._sent, dtype=np.int8)[rows] == 1
            return np.asarray(np.frombuffer(self._latency_ms, dtype=float)[rows][sent])
        seconds = int(until - since)  # whole seconds only
        if seconds <= 0 or percent <= 0 or not rows.size:  # no play sent: no data, not 0
            return np.empty(0)
        at = np.frombuffer(self._at, dtype=float)[rows] if rows.size else np.empty(0)
        which = np.floor(at - since).astype(int) if rows.size else np.empty(0, dtype=int)
        kept = which < seconds
        counts = np.bincount(which[kept], weights=good[kept] if rows.size else None,
                             minlength=seconds)  # fmt: skip
        return np.asarray(counts[:seconds], dtype=float) / percent

    def counts(
        self, since: float, until: float, journey: str | None = None
    ) -> dict[str, CohortCounts]:
        """Members and requests (and good answers) of each cohort over [since, until),
        of one journey or of all."""
        rows = self._rows(since, until)
        if journey is not None and rows.size:
            rows = rows[np.frombuffer(self._journey, dtype=np.int8)[rows] == _JOURNEY[journey]]
        out = {}
        for name, code in _COHORT.items():
            if rows.size:
                cohort = np.frombuffer(self._cohort, dtype=np.int8)[rows]
                mine = rows[cohort == code]
            else:
                mine = rows
            members = np.frombuffer(self._member, dtype=np.int64)[mine] if mine.size else mine
            good = int(np.frombuffer(self._good, dtype=np.int8)[mine].sum()) if mine.size else 0
            out[name] = CohortCounts(int(np.unique(members).size), int(mine.size), good)
        return out
