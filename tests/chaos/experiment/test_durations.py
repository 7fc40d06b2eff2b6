"""Durations as experiments write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("20s", 20), ("2m", 120), ("1h", 3600), ("1m30s", 90), (" 1.5 s ", 1.5)],
)
def test_durations_in_each_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "20", "s", "20 sec", "-5s", "1d", "5s later", "inf s"])
def test_what_is_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


@given(st.integers(0, 10 * 3600 * 1000))
def test_whole_milliseconds_format_and_parse_back(millis: int) -> None:
    seconds = millis / 1000
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=1e-9)


def test_format_duration_is_short() -> None:
    assert [format_duration(s) for s in (0.25, 20, 90, 3600, 3725, 1.5)] == [
        "250ms", "20s", "1m30s", "1h", "1h2m5s", "1.5s",
    ]  # fmt: skip
