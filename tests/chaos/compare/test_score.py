"""Kayenta's scoring: the share of metrics that pass, a failing critical metric
scores 0, no data counts as a failure unless the metric need not have it, and
the pass and marginal thresholds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.compare.score import Judged, fails, score
from chaos.compare.stats import Classification, MetricComparison


def metric(name: str, kind: Classification, *, critical: bool = False,
           must_have_data: bool = True) -> Judged:  # fmt: skip
    comparison = MetricComparison(
        kind, 10, 10, 0, 1.0, 1.0, 1.0, 50.0, 0.5, 0.0, -1.0, 1.0, 0.02, kind
    )
    return Judged(name, comparison, critical, must_have_data)


def test_every_metric_passing_scores_100_and_passes() -> None:
    found = score([metric("a", "pass"), metric("b", "pass")])
    assert (found.value, found.verdict, found.holds) == (100.0, "pass", True)


def test_a_failing_critical_metric_scores_0_whatever_the_rest() -> None:
    found = score(
        [metric("a", "high", critical=True)] + [metric(f"m{i}", "pass") for i in range(9)]
    )
    assert found.value == 0.0 and found.verdict == "fail" and found.critical_failed == ("a",)


@pytest.mark.parametrize(
    ("passing", "total", "verdict"),
    [(19, 20, "pass"), (18, 20, "marginal"), (15, 20, "marginal"), (14, 20, "fail")],
)
def test_the_thresholds_decide_pass_marginal_and_fail(
    passing: int, total: int, verdict: str
) -> None:
    metrics = [metric(f"p{i}", "pass") for i in range(passing)]
    metrics += [metric(f"h{i}", "high") for i in range(total - passing)]
    found = score(metrics)
    assert found.value == pytest.approx(100 * passing / total)
    assert found.verdict == verdict and found.holds == (verdict == "pass")


def test_no_data_fails_a_metric_that_must_have_data_and_is_left_out_otherwise() -> None:
    assert fails(metric("a", "nodata"))
    found = score([metric("a", "nodata", must_have_data=False), metric("b", "pass")])
    assert found.value == 100.0 and found.left_out == ("a",) and found.counted == 1
    critical = score([metric("a", "nodata", critical=True), metric("b", "pass")])
    assert critical.value == 0.0 and critical.verdict == "fail"


def test_nothing_counted_is_no_score_never_a_pass() -> None:
    for metrics in ([], [metric("a", "nodata", must_have_data=False)]):
        found = score(metrics)
        assert found.value is None and found.verdict == "nodata" and not found.holds


def test_thresholds_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="marginal"):
        score([metric("a", "pass")], pass_threshold=70, marginal_threshold=80)


kinds = st.sampled_from(["pass", "high", "low", "nodata"])


@given(st.lists(st.tuples(kinds, st.booleans(), st.booleans()), max_size=30))
def test_the_score_is_between_0_and_100_and_holds_only_when_it_passes(
    parts: list[tuple[Classification, bool, bool]],
) -> None:
    metrics = [metric(f"m{i}", k, critical=c, must_have_data=d)
               for i, (k, c, d) in enumerate(parts)]  # fmt: skip
    found = score(metrics)
    if found.value is None:
        assert found.verdict == "nodata" and not found.holds
        return
    assert 0 <= found.value <= 100
    assert found.holds == (found.value >= 95)
    if any(m.critical and fails(m) for m in metrics):
        assert found.value == 0
