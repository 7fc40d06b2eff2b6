"""Bounded inputs: every load setting out of bounds is refused, naming the field."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment.model import JOURNEYS, LoadSpec
from chaos.load import MAX_DURATION_S, MAX_RATE, InvalidLoad, LoadConfig, Targets
from chaos.load.parsing import DEFAULT_MIX, parse_duration, parse_mix

SPEC = LoadSpec(rate=50.0, mix={"homepage": 1.0})


def config(duration: float = 10.0, **spec_changes: object) -> LoadConfig:
    return LoadConfig(dataclasses.replace(SPEC, **spec_changes), duration)  # type: ignore[arg-type]


@given(st.floats(min_value=0.001, max_value=MAX_RATE))
def test_any_rate_above_zero_up_to_the_maximum_is_accepted(rate: float) -> None:
    assert config(rate=rate).spec.rate == rate


@given(st.one_of(st.floats(max_value=0.0), st.floats(min_value=MAX_RATE, exclude_min=True)))
def test_a_rate_outside_the_bounds_is_refused_naming_rate(rate: float) -> None:
    with pytest.raises(InvalidLoad, match=r"^rate: must be a number above 0 and at most 1000") as e:
        config(rate=rate)
    assert e.value.field == "rate"


@pytest.mark.parametrize("rate", [math.nan, math.inf, -math.inf])
def test_a_rate_that_is_not_finite_is_refused(rate: float) -> None:
    with pytest.raises(InvalidLoad, match="^rate:"):
        config(rate=rate)


@pytest.mark.parametrize("duration", [0.0, -1.0, MAX_DURATION_S + 1, math.nan, math.inf])
def test_a_duration_outside_the_bounds_is_refused(duration: float) -> None:
    with pytest.raises(InvalidLoad, match="^duration:"):
        config(duration=duration)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mix": {}}, "mix"),
        ({"mix": {"binge": 1.0}}, "mix"),
        ({"mix": {"homepage": 0.0}}, "mix"),
        ({"mix": {"homepage": -1.0}}, "mix.homepage"),
        ({"mix": {"play": math.nan}}, "mix.play"),
        ({"experiment_percent": 100.5}, "experiment_percent"),
        ({"experiment_percent": -0.1}, "experiment_percent"),
        ({"members": 0}, "members"),
        ({"members": 10_000_000}, "members"),
        ({"timeout": 0.0}, "timeout"),
        ({"timeout": 61.0}, "timeout"),
        ({"seed": -1}, "seed"),
    ],
)
def test_a_spec_value_out_of_bounds_is_refused_naming_its_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidLoad) as e:
        config(**changes)
    assert e.value.field == field
    assert str(e.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"max_in_flight": 0}, "max_in_flight"), ({"catalog_size": 0}, "catalog_size")],
)
def test_generator_limits_out_of_bounds_are_refused(changes: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidLoad) as e:
        LoadConfig(SPEC, 1.0, **changes)  # type: ignore[arg-type]
    assert e.value.field == field


def test_a_target_that_is_not_an_http_url_is_refused_naming_the_service() -> None:
    with pytest.raises(InvalidLoad, match="^playback_url: must be an http"):
        Targets(playback="127.0.0.1:8083")


def test_target_urls_lose_a_trailing_slash() -> None:
    assert Targets(catalog="http://127.0.0.1:1/").url("catalog") == "http://127.0.0.1:1"


# ------------------------------------------------------------------ parsing


def test_the_default_mix_parses_to_all_four_journeys() -> None:
    assert parse_mix(DEFAULT_MIX) == {"homepage": 60, "play": 25, "title": 10, "preferences": 5}


@given(
    st.dictionaries(
        st.sampled_from(JOURNEYS),
        st.floats(min_value=0, max_value=1e6, allow_nan=False),
        min_size=1,
    ).filter(lambda mix: sum(mix.values()) > 0)
)
def test_a_written_mix_reads_back_as_the_same_weights(mix: dict[str, float]) -> None:
    text = ",".join(f"{journey}={weight!r}" for journey, weight in mix.items())
    assert parse_mix(text) == mix


@given(st.text(max_size=40))
def test_any_text_as_a_mix_parses_or_is_refused_naming_mix(text: str) -> None:
    try:
        mix = parse_mix(text)
    except InvalidLoad as invalid:
        assert invalid.field == "mix"
    else:
        assert set(mix) <= set(JOURNEYS) and sum(mix.values()) > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("homepage", "is not JOURNEY=WEIGHT"),
        ("binge=3", "unknown journey 'binge'"),
        ("play=1,play=2", "given twice"),
        ("play=lots", "not a number"),
        ("play=-1", "finite number >= 0"),
        ("play=0", "add up to zero"),
    ],
)
def test_a_bad_mix_is_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(InvalidLoad, match=message):
        parse_mix(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("1.5m", 90.0), ("2h", 7200.0), ("500ms", 0.5)],
)
def test_durations_read_with_or_without_a_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@given(st.text(max_size=20))
def test_any_text_as_a_duration_parses_positive_or_is_refused_naming_duration(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except InvalidLoad as invalid:
        assert invalid.field == "duration"
    else:
        assert math.isfinite(seconds) and seconds > 0
