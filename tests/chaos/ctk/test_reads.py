"""The SLO a CTK probe reads is written as in a chaosbed experiment and read by its
loader: a bad one is refused naming the field, and a relative objective (which needs a
steady-state baseline no probe has) is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.ctk import faults
from chaos.ctk.reads import breaker_state, history_holds, read_slo_mapping
from chaos.ctk.stack import ActivityError, Stack
from chaos.history import save_history, value_preferences
from tests.chaos.history.histories import history, write
from tests.chaos.runner.conftest import Stack as Services

OK = {"name": "ok", "availability": {"service": "catalog"}, "objective": 99, "window": "30s"}


def test_an_slo_as_in_an_experiment_is_read() -> None:
    slo = read_slo_mapping(OK)

    assert slo.name == "ok" and slo.window == 30.0
    assert slo.objective.holds(99.5) and not slo.objective.holds(98.0)


@pytest.mark.parametrize(
    ("slo", "named"),
    [
        ({**OK, "objective": 140}, "slo.objective"),
        ({**OK, "availability": {"service": "nowhere"}}, "slo.availability.service"),
        ({"name": "x", "objective": 99}, "exactly one indicator"),
        ("catalog-ok", "expected a mapping"),
    ],
)
def test_a_bad_slo_is_refused_naming_what_is_wrong(slo: object, named: str) -> None:
    with pytest.raises(ActivityError) as refused:
        read_slo_mapping(slo)  # type: ignore[arg-type]

    assert named in str(refused.value)


def test_a_relative_objective_is_refused_for_a_probe() -> None:
    relative = {"name": "ok", "availability": {"service": "catalog"},
                "max_percent_below_baseline": 2, "window": "30s"}  # fmt: skip

    with pytest.raises(ActivityError, match="relative objective needs a steady-state baseline"):
        read_slo_mapping(relative)


async def test_a_breaker_reads_closed_then_open_once_its_dependency_fails(
    stack: Stack, services: Services
) -> None:
    edge = "recommendations -> catalog"
    assert await breaker_state(stack.runtime, edge) == "closed"
    popular = {"fault": "error", "target": "catalog", "route": "/popular", "duration": "30s"}
    await faults.inject(stack, popular, "breaker")
    for n in range(40):  # each homepage asks catalog for the popular list until it opens
        async with services.session.get(f"{services.url('recommendations')}/recommendations/m{n}"):
            pass
        if await breaker_state(stack.runtime, edge) == "open":
            break
    assert await breaker_state(stack.runtime, edge) == "open"
    await faults.remove(stack, "breaker")


async def test_a_breaker_of_no_edge_is_refused_naming_the_edges(stack: Stack) -> None:
    with pytest.raises(ActivityError, match="not an edge of the stack; one of"):
        await breaker_state(stack.runtime, "catalog -> playback")


def test_a_history_holds_only_when_the_checker_finds_nothing_and_had_something_to_judge(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.jsonl"
    ops = [write(0, 1, 1, 0.0), write(1, 2, 2, 1.0)]
    save_history(path, history(ops=ops, final={"m": (2, value_preferences(2))}))
    assert history_holds(str(path), 5.0) is True
    save_history(path, history(ops=ops, final={"m": (1, value_preferences(1))}))  # 2 lost
    assert history_holds(str(path), 5.0) is False
    save_history(path, history(ops=[], final={}))
    assert history_holds(str(path), 5.0) is False  # nothing to judge is not "holds"
    with pytest.raises(ActivityError, match="cannot read"):
        history_holds(str(tmp_path / "none.jsonl"), 5.0)
