"""`monkey_halts` judged from the monkey's relayed journal and the named step's start:
met only by a halt soon enough after that step began with nothing injected while
halted; each way of missing it says what was seen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chaos.experiment.model import MonkeyHalts
from chaos.faults.base import Injection
from chaos.runner.monkey_halts import monkey_halted

WALL0 = 1_800_000_000.0  # the wall clock when the runner's monotonic clock read 0
EXPECT = MonkeyHalts("cut", 5.0)


def at(t: float) -> str:
    return datetime.fromtimestamp(WALL0 + t, UTC).isoformat()


def monkey(*events: tuple[str, float]) -> Injection:
    injection = Injection("monkey", "monkey", "a monkey")
    for event, t in events:
        detail: dict[str, Any] = {"at": at(t)}
        if event == "halted":
            detail["why"] = ["catalog burns its error budget 22x over 10s (at most 14.4x)"]
        injection.note(f"monkey_{event}", **detail)
    return injection


def cut(began: float | None) -> Injection:
    return Injection("cut", "application", "catalog errors", began_at=began)


def test_a_halt_soon_after_the_step_with_nothing_injected_while_halted_is_met() -> None:
    events = [("injected", 5), ("halted", 13), ("resumed", 30), ("injected", 31)]
    result = monkey_halted(EXPECT, [monkey(*events), cut(10.0)], WALL0)
    assert result.met, result.measured
    assert result.measured.startswith("halted 3.0s after 'cut' began (catalog burns")
    assert "0 actions injected while halted; resumed after the calm" in result.measured


@pytest.mark.parametrize(
    ("events", "began", "words"),
    [
        ([("injected", 5), ("injected", 12)], 10.0, "never halted (2 actions injected)"),
        ([("halted", 17)], 10.0, "halted 7.0s after 'cut' began"),
        ([("halted", 8)], 10.0, "halted 2.0s before 'cut' began"),
        ([("halted", 12), ("injected", 13)], 10.0, "1 actions injected while halted"),
        ([("halted", 12)], None, "step 'cut' never began"),
    ],
)
def test_every_way_to_miss_it_is_not_met_and_says_what_was_seen(
    events: list[tuple[str, float]], began: float | None, words: str
) -> None:
    result = monkey_halted(EXPECT, [monkey(*events), cut(began)], WALL0)
    assert not result.met
    assert words in result.measured, result.measured
