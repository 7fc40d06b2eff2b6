"""The monkey's schedule: windows in a time zone, exponential waits, and seeded
choices among healthy opted-in services, every one explained."""

from __future__ import annotations

from datetime import datetime
from statistics import mean
from zoneinfo import ZoneInfo

import pytest

from chaos.experiment.model import AppFault, NetworkFault
from chaos.monkey.run import fault_of
from chaos.monkey.schedule import Menu, MenuItem, Schedule, menu_item, parse_window

LONDON = ZoneInfo("Europe/London")
MENU = Menu((MenuItem("kill", 3, 5.0), MenuItem("pause", 1, 5.0), MenuItem("latency", 0, 5.0)))
TAKES = {s: frozenset({"kill", "pause", "latency"}) for s in ("catalog", "playback", "profiles")}


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).timestamp()


def test_a_working_hours_window_opens_on_weekdays_in_its_own_time_zone() -> None:
    window = parse_window("mon-fri 09:00-17:00 Europe/London")
    assert window.open_at(at("2026-12-04T09:00"))  # a Friday
    assert not window.open_at(at("2026-12-04T08:59"))
    assert not window.open_at(at("2026-12-04T17:00"))
    assert not window.open_at(at("2026-12-05T12:00"))  # Saturday
    summer = at("2026-07-01T09:30")  # British Summer Time: 08:30 UTC
    assert window.open_at(summer)
    assert window.describe() == "mon,tue,wed,thu,fri 09:00-17:00 Europe/London"


def test_always_is_always_open() -> None:
    window = parse_window("always")
    assert window.always and window.open_at(0.0) and window.describe() == "always"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("weekdays", "a window is 'always' or like"),
        ("mon-fry 09:00-17:00 UTC", "unknown day 'fry'"),
        ("fri-mon 09:00-17:00 UTC", "run backwards"),
        ("mon 17:00-09:00 UTC", "does not move forward"),
        ("mon 09:00-25:00 UTC", "not a time of day"),
        ("mon 09:00-17:00 Mars/Olympus", "unknown time zone"),
    ],
)
def test_a_bad_window_says_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_window(text)


def test_waits_are_exponential_around_the_mean_and_never_under_the_minimum() -> None:
    schedule = Schedule(seed=7, mean_s=10.0, min_s=1.0)
    waits = [schedule.wait() for _ in range(5000)]
    assert min(waits) >= 1.0
    assert 9.5 < mean(waits) < 10.8  # the minimum adds a little to the mean


def test_the_same_seed_draws_the_same_waits_victims_and_faults() -> None:
    healthy = dict.fromkeys(TAKES, True)

    def draws(seed: int) -> list[object]:
        schedule = Schedule(seed=seed, mean_s=5)
        return [(schedule.wait(), schedule.choose(list(TAKES), healthy, MENU, takes=TAKES))
                for _ in range(20)]  # fmt: skip

    assert draws(3) == draws(3) and draws(3) != draws(4)


def test_an_unhealthy_or_opted_out_service_is_never_chosen_and_weights_are_kept() -> None:
    schedule = Schedule(seed=11, mean_s=5)
    healthy = {"catalog": True, "playback": False, "profiles": True}
    opted_in = ["catalog", "playback"]  # profiles opted out
    choices = [schedule.choose(opted_in, healthy, MENU, takes=TAKES) for _ in range(2000)]
    assert {c.victim for c in choices if c} == {"catalog"}
    kinds = [c.fault.kind for c in choices if c]
    assert "latency" not in kinds  # weight 0
    assert 0.7 < kinds.count("kill") / len(kinds) < 0.8  # 3 to 1
    assert choices[0] is not None and choices[0].candidates == ("catalog",)


def test_nothing_is_chosen_when_no_service_may_be() -> None:
    schedule = Schedule(seed=1, mean_s=5)
    assert schedule.choose(["catalog"], {"catalog": False}, MENU, takes=TAKES) is None
    assert schedule.choose([], {}, MENU, takes=TAKES) is None


def test_a_menu_that_could_choose_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="add up to zero"):
        Menu((MenuItem("kill", 0, 5.0),))


@pytest.mark.parametrize("kind", ["latency", "error", "corrupt"])
def test_an_application_fault_of_the_menu_is_a_rule_for_the_experiment_cohort(kind: str) -> None:
    fault = fault_of("profiles-eu", menu_item(kind, 1.0, 4.0))
    assert isinstance(fault, AppFault)
    assert (fault.kind, fault.target, fault.cohort) == (kind, "profiles-eu", "experiment")
    if kind == "corrupt":
        assert fault.message == "response"  # as served: only what reads it can tell


def test_a_partition_of_the_menu_cuts_its_victim_off_from_every_other_service() -> None:
    fault = fault_of("catalog", menu_item("partition", 1.0, 4.0))
    assert fault == NetworkFault("isolate", target="catalog")
