"""The scorecard's four figures, on runs whose answers are known by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chaos.report.model import FaultWindow, Run, Series
from chaos.report.scorecard import budget_spent, score, score_run, time_to_detect


def run_of(
    points: Sequence[tuple[float, float | None, bool | None]],
    *,
    verdict: str = "held",
    predicts: str = "held",
    breakers: Mapping[str, tuple[tuple[float, float | None], ...]] | None = None,
    faults: tuple[FaultWindow, ...] = (FaultWindow("1-error", "x", 10.0, 20.0),),
    recovered_after: float | None = 2.5,
) -> Run:
    series = Series(
        "ok", "availability", ">=", 99.0, 100.0, tuple((t, v, ok, "") for t, v, ok in points)
    )
    return Run(
        title="t", hypothesis="h", source="s", runtime="process", predicts=predicts,
        verdict=verdict, reasons=(), duration=30.0, events=(), series=(series,),
        faults=faults, aborts=(), breakers=breakers or {}, method_t=10.0,
        recovered_after=recovered_after, expectations=(),
    )  # fmt: skip


def test_budget_spent_is_the_mean_shortfall_over_the_budget_from_the_first_injection() -> None:
    # before the fault (ignored), then 100, 98 and 99.5 with a 1% budget:
    # mean shortfall (0 + 2 + 0.5) / 3 = 0.8333 -> 83.3% of the budget
    run = run_of([(5, 90.0, False), (10, 100.0, True), (11, 98.0, False), (12, 99.5, True)])
    assert budget_spent(run) == 83.3


def test_time_to_detect_is_the_first_breach_or_open_breaker_after_injection() -> None:
    points = [(5, 90.0, False), (10, 100.0, True), (14, 98.0, False)]
    assert time_to_detect(run_of(points)) == 4.0
    opened = {"recommendations -> catalog": ((11.0, 0.0), (12.5, 1.0))}
    assert time_to_detect(run_of(points, breakers=opened)) == 2.5


def test_a_fault_absorbed_silently_is_never_detected() -> None:
    assert time_to_detect(run_of([(10, 100.0, True), (15, 99.9, True)])) is None


def test_a_run_without_faults_has_no_budget_detection_or_recovery() -> None:
    card = score_run(run_of([(1, 100.0, True)], faults=()))
    assert (card.budget_spent, card.detect_s, card.recover_s) == (None, None, None)


def test_the_summary_counts_held_and_as_predicted_and_takes_medians() -> None:
    runs = (
        run_of([(11, 98.0, False)], recovered_after=1.0),
        run_of([(12, 98.0, False)], verdict="deviated", predicts="deviated", recovered_after=3.0),
        run_of([(13, 50.0, False)], verdict="deviated", recovered_after=None),
    )
    card = score(runs)
    assert (card.held, card.as_predicted) == (1, 2)
    assert card.median_detect_s == 2.0 and card.median_recover_s == 2.0
    assert card.worst_budget_spent == 5000.0
