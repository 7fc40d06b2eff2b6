"""The runner's comparison of the cohorts: looks that abort only on a critical
metric significantly bad at the look's sequential level, never on too few
samples or on requests whose outcome is not known yet, and the judgement
scored and journalled."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import replace

import pytest

from chaos.compare import look_level
from chaos.compare.samples import CohortSamples
from chaos.experiment.model import Compare, CompareMetric, Experiment, LoadSpec, PromQL, Slo
from chaos.load.outcome import Sample
from chaos.runner.comparison import MIN_SAMPLES, QUANTILES, Comparison
from chaos.runner.verdict import Verdict
from chaos.slo.errors import QueryFailed

from .scripted import STEP, Driver, Reader, experiment, run

LOAD = LoadSpec(rate=40, mix={"homepage": 50, "play": 50}, experiment_percent=25,
                control_percent=25, members=400, timeout=2.0)  # fmt: skip
SUCCESS = CompareMetric("play-success", "success", "play", "decrease", allowed_decrease=0.95,
                        critical=True)  # fmt: skip
LATENCY = CompareMetric("homepage-latency", "latency", "homepage", "increase",
                        allowed_increase=1.2)  # fmt: skip


def feed(samples: CohortSamples, *, seconds: int, failing: float = 0.0, slower: float = 1.0,
         seed: int = 1, rate: int = 10) -> None:  # fmt: skip
    """`rate` requests a second per cohort and journey from t=0; the experiment
    cohort's plays fail `failing` of the time and its homepages are `slower`."""
    rng = random.Random(seed)
    for k in range(seconds * rate):
        at = k / rate
        for cohort in ("control", "experiment"):
            bad = cohort == "experiment" and rng.random() < failing
            samples.observe(Sample("play", "playback", cohort, "error" if bad else "ok", 200,
                                   at, 0.02, 0.0, f"m-{rng.randrange(100)}"))  # fmt: skip
            latency = rng.lognormvariate(-4.0, 0.5) * (slower if cohort == "experiment" else 1)
            samples.observe(Sample("homepage", "recommendations", cohort, "ok", 200, at,
                                   latency, 0.0, f"m-{rng.randrange(100)}"))  # fmt: skip


def comparison(*metrics: CompareMetric) -> tuple[Comparison, CohortSamples]:
    samples = CohortSamples()
    return Comparison(Compare(metrics or (SUCCESS, LATENCY)), LOAD, samples), samples


def test_a_critical_metric_significantly_bad_aborts_at_a_look() -> None:
    judge, samples = comparison()
    feed(samples, seconds=20, failing=0.5)
    reason = judge.look(0.0, now=14.0, planned_end=22.0)
    assert reason is not None and "play-success" in reason and "lower" in reason
    assert judge.decision is not None and judge.decision["metric"] == "play-success"
    assert judge.decision["alpha"] == pytest.approx(look_level(0.02, 12 / 20))
    assert judge.decision["samples_to_s"] == 12.0  # a timeout before the look


def test_a_non_critical_metric_never_aborts_however_bad() -> None:
    judge, samples = comparison(LATENCY)
    feed(samples, seconds=20, slower=5.0)
    assert judge.look(0.0, now=18.0, planned_end=22.0) is None


def test_no_look_judges_a_cohort_with_too_few_samples_or_answers_not_yet_known() -> None:
    judge, samples = comparison()
    feed(samples, seconds=20, failing=1.0)
    # at 3.9 s only the requests before 1.9 s are known: 19 per cohort, under the minimum
    assert judge.look(0.0, now=3.9, planned_end=22.0) is None
    assert MIN_SAMPLES > 19
    assert judge.look(0.0, now=1.0, planned_end=22.0) is None  # nothing known at all


def test_an_early_look_needs_overwhelming_evidence() -> None:
    """A tenth of plays failing is found at the end, not a quarter of the way in."""
    judge, samples = comparison(SUCCESS)
    feed(samples, seconds=40, failing=0.1, seed=3, rate=20)
    assert judge.look(0.0, now=12.0, planned_end=42.0) is None
    reasons, journal = judge.judge(0.0, end=42.0)
    assert journal["metrics"][0]["classification"] == "low", journal["metrics"][0]["reason"]
    assert reasons and "play-success" in reasons[0]


def test_identical_cohorts_are_never_aborted_over_many_looks() -> None:
    judge, samples = comparison()
    feed(samples, seconds=30, seed=7)
    assert all(judge.look(0.0, now=float(t), planned_end=32.0) is None for t in range(3, 33))
    reasons, journal = judge.judge(0.0, end=32.0)
    assert reasons == [] and journal["score"] == 100.0 and journal["score_verdict"] == "pass"
    assert journal["looks"] == 30  # one per look asked for, from 3 s to 32 s


def test_the_judgement_is_scored_and_journalled_with_counts_effect_and_distributions() -> None:
    judge, samples = comparison()
    feed(samples, seconds=20, slower=2.0)
    reasons, journal = judge.judge(0.0, end=22.0)
    assert journal["score"] == 50.0 and journal["score_verdict"] == "fail"
    assert reasons and "homepage-latency" in reasons[0] and "score 50" in reasons[0]
    success, latency = journal["metrics"]
    assert success["classification"] == "pass" and success["alpha"] == pytest.approx(0.01)
    assert latency["classification"] == "high" and latency["alpha"] == pytest.approx(0.02)
    assert latency["ratio"] > 1.8 and latency["shift_low"] > 0  # the shift and its interval
    assert len(latency["distribution"]["control"]) == QUANTILES
    assert journal["cohorts"]["control"]["requests"] == 400  # 20 s x 10/s x 2 journeys
    assert journal["cohorts"]["experiment"]["members"] <= 100
    assert set(journal["percents"]) == {"control", "experiment"}


def test_a_metric_without_data_fails_unless_it_need_not_have_data() -> None:
    title = CompareMetric("title", "success", "title", "decrease")
    judge, samples = comparison(SUCCESS, title)
    feed(samples, seconds=20)
    reasons, journal = judge.judge(0.0, end=22.0)
    assert journal["metrics"][1]["classification"] == "nodata" and reasons
    optional = CompareMetric("title", "success", "title", "decrease", must_have_data=False)
    judge, samples = comparison(SUCCESS, optional)
    feed(samples, seconds=20)
    reasons, journal = judge.judge(0.0, end=22.0)
    assert reasons == [] and journal["left_out"] == ["title"]


ERRORS = CompareMetric("catalog-errors", "promql", "", "increase",
                       query='rate(errors{cohort="$cohort"}[2s])', every=2.0)  # fmt: skip


async def test_a_promql_metric_is_read_for_each_cohort_every_period_and_compared() -> None:
    asked: list[str] = []

    def value(slo: Slo) -> float | None:
        assert isinstance(slo.indicator, PromQL)
        asked.append(slo.indicator.query)
        return 3.0 if 'cohort="experiment"' in slo.indicator.query else 0.0

    samples = CohortSamples()
    judge = Comparison(Compare((ERRORS,)), LOAD, samples, Reader(value))
    for now in (0.5, 1.0, 2.5, 3.0, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5):
        await judge.sample(now)  # due every 2 s: 0.5, 2.5, 4.5, ...: 9 reads
    assert asked[:2] == [
        'rate(errors{cohort="control"}[2s])',
        'rate(errors{cohort="experiment"}[2s])',
    ]
    assert len(asked) == 18
    reasons, journal = judge.judge(0.0, end=19.0)
    (metric,) = journal["metrics"]
    assert metric["classification"] == "high" and metric["control_n"] == 9
    assert metric["query"] == ERRORS.query and metric["missed_reads"] == 0
    assert reasons


async def test_a_promql_read_without_data_or_that_fails_is_a_missed_sample_never_a_zero() -> None:
    def value(slo: Slo) -> float | None:
        assert isinstance(slo.indicator, PromQL)
        if 'cohort="control"' in slo.indicator.query:
            raise RuntimeError("Prometheus is down")
        return None

    judge = Comparison(Compare((ERRORS,)), LOAD, CohortSamples(), Reader(value))
    for now in range(0, 20, 2):
        await judge.sample(float(now))
    reasons, journal = judge.judge(0.0, end=22.0)
    (metric,) = journal["metrics"]
    assert metric["classification"] == "nodata" and metric["missed_reads"] == 20
    assert reasons and "no data" in reasons[0]


# ---------------------------------------------------------------- in a run

QUICK = replace(LOAD, timeout=0.05)  # an outcome is known 50 ms after its send


def cohort_traffic(samples: CohortSamples, driver: Driver, failing: float) -> asyncio.Task[None]:
    """Plays of both cohorts, 2,000 a second each, now on the monotonic clock; while the
    driver's fault is in place, `failing` of the experiment cohort's fail."""
    rng = random.Random(9)

    async def plays() -> None:
        while True:
            now = time.monotonic()
            for cohort in ("control", "experiment"):
                for _ in range(20):
                    bad = cohort == "experiment" and driver.active() and rng.random() < failing
                    samples.observe(Sample("play", "playback", cohort, "error" if bad else "ok",
                                           200, now, 0.01, 0.0, "m-1"))  # fmt: skip
            await asyncio.sleep(0.01)

    return asyncio.create_task(plays())


def long_method(seconds: float) -> Experiment:
    return replace(experiment(), method=(replace(STEP, duration=seconds),))


async def test_a_critical_metric_going_bad_stops_the_method_and_rolls_back_at_once() -> None:
    samples, driver = CohortSamples(), Driver()
    judge = Comparison(Compare((SUCCESS,)), QUICK, samples)
    traffic = cohort_traffic(samples, driver, failing=0.5)
    try:
        verdict, journal = await run(long_method(5.0), driver, Reader(lambda slo: 100.0),
                                     comparison=judge)  # fmt: skip
    finally:
        traffic.cancel()
    assert verdict is Verdict.ABORTED
    assert journal.reasons[0].startswith("abort: compared metric play-success")
    assert driver.injected is not None and driver.rolled_back is not None
    assert driver.rolled_back - driver.injected < 2.0  # not the step's 5 s
    assert journal.comparison["decision"]["metric"] == "play-success"


async def test_a_comparison_that_breaks_during_the_method_fails_the_run_not_silently() -> None:
    class Broken(Comparison):
        def look(self, since: float, now: float, planned_end: float) -> str | None:
            raise ZeroDivisionError("a judge that broke")

    driver = Driver()
    broken = Broken(Compare((SUCCESS,)), QUICK, CohortSamples())
    verdict, journal = await run(long_method(5.0), driver, Reader(lambda slo: 100.0),
                                 comparison=broken)  # fmt: skip
    assert verdict is Verdict.FAILED
    assert "the cohorts' comparison failed" in journal.reasons[0]
    assert any(e["event"] == "comparison_failed" for e in journal.events)
    assert driver.injected is not None and driver.rolled_back is not None
    assert driver.rolled_back - driver.injected < 2.0


async def test_a_promql_metric_that_cannot_be_read_is_found_before_any_fault() -> None:
    def value(slo: Slo) -> float | None:
        if isinstance(slo.indicator, PromQL):
            raise QueryFailed(slo.indicator.query, "parse error: unexpected }")
        return 100.0

    driver = Driver()
    judge = Comparison(Compare((ERRORS,)), QUICK, CohortSamples(), Reader(value))
    verdict, journal = await run(long_method(1.0), driver, Reader(value), comparison=judge)
    assert verdict is Verdict.NOT_STEADY and driver.injected is None
    assert "compared metric catalog-errors: its query could not be read" in journal.reasons[-1]
    assert "parse error" in journal.reasons[-1]


async def test_one_read_without_data_before_any_fault_is_retried_never_taken_for_no_data() -> None:
    """On a 2 s scrape interval a [4s] rate sometimes holds a single scrape and has no
    data (CI, docker): the check before any fault reads again; only a query that never
    has data in its tries stops the run."""
    answers = iter([None, 0.0, 0.25])

    def flaky(slo: Slo) -> float | None:
        return next(answers)

    judge = Comparison(Compare((ERRORS,)), QUICK, CohortSamples(), Reader(flaky))
    assert await judge.check_reads(pause=0.0) == []
    never = Comparison(Compare((ERRORS,)), QUICK, CohortSamples(), Reader(lambda slo: None))
    problems = await never.check_reads(pause=0.0)
    assert problems == [
        f"compared metric catalog-errors: no data for the {cohort} cohort before any fault "
        f"(3 reads)"
        for cohort in ("control", "experiment")
    ]
