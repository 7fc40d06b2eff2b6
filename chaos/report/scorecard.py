"""The scorecard: four numbers per run, and their summary over a report.

Definitions (docs/reports.md says the same, for readers of a report):

held
    the verdict is `held`: every SLO held during the method, the stack
    recovered and every expectation was met. *As predicted* compares the
    verdict with the experiment's `predicts` (`held` or `deviated`).
error budget spent
    for each availability SLO with objective O %, the budget is the (100 - O) %
    of requests allowed to fail. Spent = the mean, over the SLI samples from
    the first injection to the end of the run, of (100 - value) / (100 - O),
    as a percent. 100 % means the run used the whole allowance; above 100 %
    the SLO was breached on average. A run's figure is its highest SLO's.
time to detect
    seconds from the first injection to the first sample after it that shows
    the fault: an SLO sample breaching its objective, or a circuit breaker
    leaving `closed`. None when nothing showed it (the fault was absorbed
    silently, or there was no fault).
time to recover
    seconds from the start of the last fault's rollback to the first check of
    a stable stretch at which every SLO holds (the runner's recovery: the
    longest SLO window and at least 3 checks). None when it did not recover
    (or never got that far).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from .model import Run

__all__ = ["RunScore", "Scorecard", "score", "score_run"]


@dataclass(frozen=True)
class RunScore:
    held: bool
    as_predicted: bool
    budget_spent: float | None  # percent
    detect_s: float | None
    recover_s: float | None


@dataclass(frozen=True)
class Scorecard:
    runs: tuple[RunScore, ...]

    @property
    def held(self) -> int:
        return sum(r.held for r in self.runs)

    @property
    def as_predicted(self) -> int:
        return sum(r.as_predicted for r in self.runs)

    @property
    def worst_budget_spent(self) -> float | None:
        spent = [r.budget_spent for r in self.runs if r.budget_spent is not None]
        return max(spent) if spent else None

    @property
    def median_detect_s(self) -> float | None:
        found = [r.detect_s for r in self.runs if r.detect_s is not None]
        return median(found) if found else None

    @property
    def median_recover_s(self) -> float | None:
        found = [r.recover_s for r in self.runs if r.recover_s is not None]
        return median(found) if found else None


def budget_spent(run: Run) -> float | None:
    if not run.faults:
        return None
    start = min(f.start for f in run.faults)
    spent = []
    for series in run.series:
        if series.kind != "availability" or series.limit is None or series.limit >= 100:
            continue
        values = [v for t, v, _, _ in series.points if t >= start and v is not None]
        if values:
            shortfall = sum(100.0 - v for v in values) / len(values)
            spent.append(100.0 * shortfall / (100.0 - series.limit))
    return round(max(spent), 1) if spent else None


def time_to_detect(run: Run) -> float | None:
    if not run.faults:
        return None
    start = min(f.start for f in run.faults)
    seen = [t for s in run.series for t, _, ok, _ in s.points if t >= start and ok is False]
    seen += [
        t
        for samples in run.breakers.values()
        for t, state in samples
        if t >= start and state is not None and state > 0
    ]
    return round(min(seen) - start, 3) if seen else None


def score_run(run: Run) -> RunScore:
    recover = run.recovered_after if run.faults else None
    return RunScore(
        held=run.verdict == "held",
        as_predicted=run.verdict == run.predicts,
        budget_spent=budget_spent(run),
        detect_s=time_to_detect(run),
        recover_s=None if recover is None else float(recover),
    )


def score(runs: tuple[Run, ...]) -> Scorecard:
    return Scorecard(tuple(score_run(r) for r in runs))
