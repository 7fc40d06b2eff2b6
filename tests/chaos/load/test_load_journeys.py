"""The journeys: requests drawn by the mix, valid for the services that receive them."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from chaos.experiment.model import LoadSpec
from chaos.load import LoadConfig, Targets
from chaos.load.journeys import JourneyPlanner
from services.profiles.validation import parse_patch
from services.vocabulary import parse_member

TARGETS = Targets(
    catalog="http://c:1", recommendations="http://r:2", playback="http://p:3", profiles="http://q:4"
)
MIX = {"homepage": 60.0, "play": 25.0, "title": 10.0, "preferences": 5.0}


def planner(mix: dict[str, float] = MIX, seed: int = 1, **spec: object) -> JourneyPlanner:
    config = LoadConfig(
        LoadSpec(rate=10.0, mix=mix, **spec),  # type: ignore[arg-type]
        1.0,
        TARGETS,
        catalog_size=50,
    )
    return JourneyPlanner(config, random.Random(seed))


def test_journeys_are_drawn_in_proportion_to_their_weights() -> None:
    p = planner()
    draws = Counter(p.next().journey for _ in range(20_000))
    for journey, weight in MIX.items():
        assert draws[journey] / 20_000 == pytest.approx(weight / 100, abs=0.015)


def test_a_journey_weighted_zero_or_left_out_is_never_drawn() -> None:
    p = planner({"title": 1.0, "play": 0.0})
    assert {p.next().journey for _ in range(1000)} == {"title"}


def test_each_journey_goes_to_its_service_and_route() -> None:
    p = planner(members=5)
    seen = {}
    for _ in range(500):
        planned = p.next()
        seen[planned.journey] = planned
    assert seen["homepage"].method == "GET"
    assert seen["homepage"].url == f"http://r:2/recommendations/{seen['homepage'].member}"
    assert seen["title"].method == "GET"
    assert seen["title"].url.startswith("http://c:1/titles/")
    assert seen["play"].method == "POST" and seen["play"].url == "http://p:3/playback/start"
    assert seen["play"].body is not None
    assert seen["play"].body == {"member": seen["play"].member, "title": seen["play"].body["title"]}
    assert seen["preferences"].method == "PATCH"
    assert seen["preferences"].url == f"http://q:4/profiles/{seen['preferences'].member}"


def test_members_and_titles_stay_within_their_ranges_and_use_all_of_them() -> None:
    p = planner(members=7)
    members, titles = set(), set()
    for _ in range(3000):
        planned = p.next()
        members.add(planned.member)
        if planned.journey == "title":
            titles.add(int(planned.url.rsplit("/", 1)[1]))
        if planned.journey == "play":
            assert planned.body is not None
            titles.add(planned.body["title"])
    assert members == {f"m-{i}" for i in range(7)}
    assert titles == set(range(1, 51))


def test_every_preference_change_is_a_valid_profiles_patch_with_its_own_key() -> None:
    p = planner({"preferences": 1.0})
    keys = set()
    for _ in range(500):
        planned = p.next()
        parse_member(planned.member)
        patch = parse_patch(planned.body)  # raises InvalidField on a bad body
        assert patch is not None
        assert planned.idempotency_key is not None
        keys.add(planned.idempotency_key)
    assert len(keys) == 500


def test_the_same_seed_draws_the_same_journeys_members_and_titles() -> None:
    def draws(seed: int) -> list[tuple[str, str, str]]:
        p = planner(seed=seed)
        return [(r.journey, r.member, r.url) for r in (p.next() for _ in range(200))]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)


def test_the_cohort_follows_the_member() -> None:
    p = planner(experiment_percent=50.0)
    cohorts: dict[str, set[str]] = {}
    for _ in range(2000):
        planned = p.next()
        cohorts.setdefault(planned.member, set()).add(planned.cohort)
    assert all(len(c) == 1 for c in cohorts.values())
    assert {c for cs in cohorts.values() for c in cs} == {"experiment", "control"}
