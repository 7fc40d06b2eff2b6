"""A compared metric's samples from the load generator's requests: only the two
cohorts, only the journey asked, only requests whose outcome is known, and
starts per second scaled by each cohort's share of members."""

from __future__ import annotations

from chaos.compare.samples import CohortSamples
from chaos.experiment.model import CompareMetric
from chaos.load.outcome import Sample

LATENCY = CompareMetric("l", "latency", "homepage", "increase")
SUCCESS = CompareMetric("s", "success", "play", "decrease")
STARTS = CompareMetric("p", "starts_per_second", "play", "decrease")
EVEN = {"control": 25.0, "experiment": 25.0}


def sample(cohort: str, journey: str, at: float, *, outcome: str = "ok", latency: float = 0.01,
           member: str = "m-1") -> Sample:  # fmt: skip
    service = "recommendations" if journey == "homepage" else "playback"
    return Sample(journey, service, cohort, outcome, 200, at, latency, 0.0, member)


def test_only_the_two_cohorts_and_the_journey_asked_are_counted() -> None:
    samples = CohortSamples()
    for cohort in ("control", "experiment", "none"):
        samples.observe(sample(cohort, "homepage", 1.0, latency=0.02))
        samples.observe(sample(cohort, "play", 1.0))
    control, experiment = samples.values(LATENCY, 0.0, 10.0, EVEN)
    assert control.tolist() == [20.0] and experiment.tolist() == [20.0]
    assert len(samples) == 4  # the members in no cohort are not kept


def test_success_is_one_per_good_answer_and_an_unsent_arrival_is_a_failure_without_latency() -> (
    None
):
    samples = CohortSamples()
    samples.observe(sample("experiment", "play", 1.0))
    samples.observe(sample("experiment", "play", 1.1, outcome="timeout", latency=2.0))
    samples.observe(sample("experiment", "play", 1.2, outcome="client_overloaded", latency=0.0))
    _, success = samples.values(SUCCESS, 0.0, 10.0, EVEN)
    assert success.tolist() == [1.0, 0.0, 0.0]
    play_latency = CompareMetric("l", "latency", "play", "increase")
    _, latency = samples.values(play_latency, 0.0, 10.0, EVEN)
    assert latency.tolist() == [10.0, 2000.0]


def test_requests_outside_the_span_are_left_out() -> None:
    samples = CohortSamples()
    for at in (0.5, 1.0, 4.99, 5.0):
        samples.observe(sample("control", "play", at))
    control, _ = samples.values(SUCCESS, 1.0, 5.0, EVEN)
    assert control.size == 2


def test_starts_per_second_count_good_plays_in_whole_seconds_per_percent_of_members() -> None:
    samples = CohortSamples()
    for second in range(3):
        for k in range(4):
            samples.observe(sample("control", "play", 10.0 + second + k * 0.2))
        samples.observe(sample("experiment", "play", 10.0 + second))
        samples.observe(sample("experiment", "play", 10.1 + second, outcome="error"))
    samples.observe(sample("control", "play", 13.5))  # in a second not yet whole
    control, experiment = samples.values(STARTS, 10.0, 13.7, {"control": 40.0, "experiment": 10.0})
    assert control.tolist() == [0.1, 0.1, 0.1]  # 4 starts a second, 40% of members
    assert experiment.tolist() == [0.1, 0.1, 0.1]  # 1 a second (the errors are not starts), 10%


def test_counts_give_members_requests_and_good_answers_per_cohort() -> None:
    samples = CohortSamples()
    for member in ("m-1", "m-2", "m-2"):
        samples.observe(sample("control", "homepage", 1.0, member=member))
    samples.observe(sample("experiment", "homepage", 1.0, outcome="error", member="m-9"))
    counts = samples.counts(0.0, 5.0)
    assert (counts["control"].members, counts["control"].requests, counts["control"].good) == (
        2,
        3,
        3,
    )
    assert (counts["experiment"].members, counts["experiment"].good) == (1, 0)


def test_no_request_gives_no_data_never_a_run_of_zeros() -> None:
    """A cohort that sent no play has no starts per second to compare: zero starts a
    second in both cohorts would compare equal and pass without evidence."""
    samples = CohortSamples()
    for metric in (LATENCY, SUCCESS, STARTS):
        control, experiment = samples.values(metric, 0.0, 10.0, EVEN)
        assert control.size == 0 and experiment.size == 0
    samples.observe(sample("control", "play", 1.0))
    control, experiment = samples.values(STARTS, 0.0, 10.0, EVEN)
    assert control.size == 10 and experiment.size == 0
    assert samples.counts(0.0, 1.0)["control"].requests == 0
