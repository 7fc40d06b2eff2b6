"""The cohorts compared during a run: looks about once a second during the
method (a critical metric significantly bad aborts it), and the judgement over
the whole judged period, scored as Kayenta scores a canary.

Samples count from the method's start to one request timeout before the
look (every request counted has its outcome). A look needs at least
`MIN_SAMPLES` samples in each cohort (`MIN_SECONDS` for starts_per_second);
its significance level is `look_level` at the look's fraction of the
planned judged period, so every look of a run together is a false alarm at
most 1 - confidence of the time. The final judgement of a critical metric is
the last look of that family (at its fraction of the plan); of any other
metric, one test at 1 - confidence.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict
from typing import Any

import numpy as np

from chaos.compare import Judged, MetricComparison, Score, classify, look_level, score
from chaos.compare.samples import CohortSamples
from chaos.compare.score import fails
from chaos.compare.stats import classify_rates
from chaos.experiment.dump import compare_metric_document
from chaos.experiment.model import Compare, CompareMetric, LoadSpec, Objective, PromQL, Slo
from chaos.experiment.read_compare import COHORT_MARK, cohort_members
from chaos.slo import SliReader

__all__ = ["MIN_SAMPLES", "MIN_SECONDS", "Comparison"]

#: Per cohort, before a per-request metric is judged: the normal approximation
#: of the U statistic that scipy's asymptotic test uses is sound from about 20.
MIN_SAMPLES = 20
#: Per cohort, before starts_per_second is judged: one sample per whole second.
MIN_SECONDS = 10
#: Per cohort, before a promql metric is judged: one sample per `every`. With 5
#: reads each the smallest two-sided p the test can give is 0.0122 (`smallest_p`).
MIN_READS = 5
#: Seconds a promql read may take before it is a missed sample: a stalled Prometheus
#: delays a critical metric's look by at most this.
READ_TIMEOUT = 2.0
#: Reads of a promql metric before any fault, a second apart, before it is judged to
#: have no data: on a 2 s scrape interval a [4s] rate sometimes holds one scrape.
CHECK_TRIES = 3
#: The cohorts in the order a comparison takes them: (control, experiment).
COHORTS = ("control", "experiment")
#: Quantiles kept per cohort and metric for the report's distributions.
QUANTILES = 101


def _minimum(metric: CompareMetric) -> int:
    if metric.metric == "promql":
        return MIN_READS
    return MIN_SECONDS if metric.metric == "starts_per_second" else MIN_SAMPLES


class Comparison:
    def __init__(
        self,
        compare: Compare,
        load: LoadSpec,
        samples: CohortSamples,
        reader: SliReader | None = None,
    ) -> None:
        """`reader` reads the promql metrics (the prometheus backend's)."""
        self.compare = compare
        self.samples = samples
        self.reader = reader
        self.timeout = load.timeout
        self._promql = [m for m in compare.metrics if m.metric == "promql"]
        self._read: dict[str, dict[str, list[tuple[float, float]]]] = {
            m.name: {"control": [], "experiment": []} for m in self._promql
        }
        self._last_read: dict[str, float] = {}
        self.promql_misses: dict[str, int] = {m.name: 0 for m in self._promql}
        # each cohort's real share of the members (the hash gives about the percent
        # asked): arrivals pick members uniformly, so rates scale with it
        members = cohort_members(load)
        self.percents = {c: 100.0 * members[c] / load.members for c in ("experiment", "control")}
        self.looks = 0
        self.decision: dict[str, Any] | None = None

    async def sample(self, now: float) -> None:
        """Read each promql metric that is due (every `every` seconds), all of them and
        both cohorts at once, each read bounded by READ_TIMEOUT: a read without data,
        that fails or that is late is missed (and counted), never a sample."""
        due = []
        for metric in self._promql:
            last = self._last_read.get(metric.name)
            if last is None or now - last >= metric.every - 0.05:
                self._last_read[metric.name] = now
                due += [(metric, cohort) for cohort in COHORTS]
        values = await asyncio.gather(*(self._read_one(m, c) for m, c in due))
        for (metric, cohort), value in zip(due, values, strict=True):
            if isinstance(value, float) and math.isfinite(value):
                self._read[metric.name][cohort].append((now, value))
            else:
                self.promql_misses[metric.name] += 1

    async def _read_one(self, metric: CompareMetric, cohort: str) -> float | BaseException | None:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                value = await self._query(metric, cohort)
        except Exception as exc:  # noqa: BLE001 - a failed read is a missed sample, counted
            return exc
        return None if value is None else float(value)

    async def _query(self, metric: CompareMetric, cohort: str) -> float | None:
        if self.reader is None:
            raise RuntimeError("a promql metric needs an SLI reader")
        query = PromQL(metric.query.replace(COHORT_MARK, cohort))
        slo = Slo(f"{metric.name}-{cohort}", query, Objective("<", math.inf), metric.every)
        return await self.reader.value(slo)

    async def check_reads(self, *, tries: int = CHECK_TRIES, pause: float = 1.0) -> list[str]:
        """Before any fault: every promql metric reads a number for each cohort within
        `tries` reads `pause` seconds apart, or the reasons it does not (a query that
        cannot be read is found before injecting; one read without data is a rate
        whose window caught a single scrape, not a query without data)."""
        problems = []
        for metric in self._promql:
            for cohort in COHORTS:
                value: float | BaseException | None = None
                for attempt in range(tries):
                    if attempt:
                        await asyncio.sleep(pause)
                    value = await self._read_one(metric, cohort)
                    if isinstance(value, float) and math.isfinite(value):
                        break
                else:
                    problems.append(
                        f"compared metric {metric.name}: its query could not be read for the "
                        f"{cohort} cohort before any fault: {value}"
                        if isinstance(value, BaseException)
                        else f"compared metric {metric.name}: no data for the {cohort} cohort "
                        f"before any fault ({tries} reads)"
                    )
        return problems

    def _values(
        self, metric: CompareMetric, since: float, until: float
    ) -> tuple[np.ndarray, np.ndarray]:
        if metric.metric != "promql":
            return self.samples.values(metric, since, until, self.percents)
        read = self._read[metric.name]
        pick = [np.array([v for t, v in read[c] if since <= t < until]) for c in read]
        return pick[0], pick[1]

    def _classify(
        self,
        metric: CompareMetric,
        values: tuple[np.ndarray, np.ndarray],
        since: float,
        until: float,
        alpha: float,
        *,
        shift: bool,
    ) -> MetricComparison:
        """`values` are the metric's (control, experiment) samples over [since, until)."""
        control, experiment = values
        seconds = int(until - since)
        if metric.metric == "starts_per_second" and min(control.size, experiment.size) > 0:
            if seconds >= MIN_SECONDS:  # the counts over whole seconds, per member share
                counts = self.samples.counts(since, since + seconds, metric.journey)
                return classify_rates(
                    *[(counts[c].good, self.percents[c] * seconds) for c in COHORTS],
                    direction=metric.direction,
                    allowed_increase=metric.allowed_increase,
                    allowed_decrease=metric.allowed_decrease,
                    confidence=metric.confidence,
                    alpha=alpha,
                )
        return classify(
            control,
            experiment,
            direction=metric.direction,
            allowed_increase=metric.allowed_increase,
            allowed_decrease=metric.allowed_decrease,
            confidence=metric.confidence,
            alpha=alpha,
            min_samples=_minimum(metric),
            with_shift=shift,
        )

    def look(self, since: float, now: float, planned_end: float) -> str | None:
        """One look at the critical metrics at monotonic time `now`, the method having
        started at `since` and the judged period planned to end at `planned_end`: the
        abort reason when one is significantly bad at this look's level."""
        until = now - self.timeout
        fraction = self._fraction(since, until, planned_end)
        if until <= since or fraction is None:
            return None
        self.looks += 1
        for metric in self.compare.metrics:
            if not metric.critical:
                continue
            level = look_level(1 - metric.confidence, fraction)
            values = self._values(metric, since, until)
            found = self._classify(metric, values, since, until, level, shift=False)
            if found.classification in ("high", "low"):
                self.decision = {
                    "metric": metric.name,
                    "look": self.looks,
                    "fraction": round(fraction, 4),
                    "samples_to_s": round(until - since, 3),  # into the method
                    **asdict(found),
                }
                return (
                    f"abort: compared metric {metric.name} is significantly "
                    f"{'higher' if found.classification == 'high' else 'lower'} in the "
                    f"experiment cohort at look {self.looks}: {found.reason}"
                )
        return None

    def judge(
        self, since: float, end: float, planned_end: float | None = None
    ) -> tuple[list[str], dict[str, Any]]:
        """Every metric over [since, end - timeout), scored: the reasons the comparison
        does not hold (none: it does) and the journal's `comparison`. A critical metric
        is judged as the last of its looks (at its fraction of `planned_end`)."""
        until = max(end - self.timeout, since)
        planned = None if planned_end is None else self._fraction(since, until, planned_end)
        fraction = 1.0 if planned is None else planned
        values = {m.name: self._values(m, since, until) for m in self.compare.metrics}
        judged = []
        for metric in self.compare.metrics:
            alpha = 1 - metric.confidence
            level = look_level(alpha, fraction) if metric.critical else alpha
            found = self._classify(metric, values[metric.name], since, until, level, shift=True)
            judged.append(Judged(metric.name, found, metric.critical, metric.must_have_data))
        result = score(
            judged,
            pass_threshold=self.compare.pass_score,
            marginal_threshold=self.compare.marginal_score,
        )
        reasons = []
        if not result.holds:
            failing = [j for j in judged if fails(j)]
            named = "; ".join(f"{j.name}: {j.comparison.reason}" for j in failing)
            value = "no score" if result.value is None else f"score {result.value:g}"
            reasons.append(
                f"the cohorts' comparison is {result.verdict} ({value}; pass at "
                f"{self.compare.pass_score:g}): {named or 'no metric was counted'}"
            )
        return reasons, self._journal(judged, values, result, since, until)

    def _fraction(self, since: float, until: float, planned_end: float) -> float | None:
        """How far through the plan samples up to `until` are (None: no plan to speak of)."""
        span = planned_end - self.timeout - since
        return None if span <= 0 else (until - since) / span

    def _journal(
        self,
        judged: list[Judged],
        values: dict[str, tuple[np.ndarray, np.ndarray]],
        result: Score,
        since: float,
        until: float,
    ) -> dict[str, Any]:
        counts = self.samples.counts(since, until)
        metrics = []
        for item, metric in zip(judged, self.compare.metrics, strict=True):
            control, experiment = values[metric.name]
            metrics.append(
                {
                    **compare_metric_document(metric),
                    **(
                        {"missed_reads": self.promql_misses[metric.name]}
                        if metric.metric == "promql"
                        else {}
                    ),
                    "fails": fails(item),
                    **asdict(item.comparison),
                    "distribution": {
                        "control": _quantiles(control),
                        "experiment": _quantiles(experiment),
                    },
                }
            )
        return {
            "percents": dict(self.percents),
            "cohorts": {
                name: {"members": c.members, "requests": c.requests, "good": c.good}
                for name, c in counts.items()
            },
            "score": result.value,
            "score_verdict": result.verdict,
            "pass": self.compare.pass_score,
            "marginal": self.compare.marginal_score,
            "counted": result.counted,
            "passed": result.passed,
            "critical_failed": list(result.critical_failed),
            "left_out": list(result.left_out),
            "looks": self.looks,
            "decision": self.decision,
            "metrics": metrics,
        }


def _quantiles(values: Any) -> list[float]:
    """The distribution in QUANTILES evenly spaced quantiles (0..100%): enough for
    an ECDF, bounded whatever the sample size."""
    if not len(values):
        return []
    return [round(float(v), 4) for v in np.quantile(values, np.linspace(0, 1, QUANTILES))]
