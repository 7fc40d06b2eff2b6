"""Which tags the control rolls back: every tag the experiment's injecting chaosbed
actions name, wherever they are (hypothesis, method, rollbacks); no other activity's."""

from __future__ import annotations

from typing import Any

import pytest

from chaos.ctk.control import agree, tags_of


def act(func: str, module: str = "chaos.ctk.actions", **arguments: Any) -> dict[str, Any]:
    provider = {"type": "python", "module": module, "func": func, "arguments": arguments}
    return {"type": "action", "name": func, "provider": provider}


def test_every_injecting_actions_tag_is_found_once_in_order() -> None:
    experiment = {
        "steady-state-hypothesis": {"title": "t", "probes": [act("add_latency", tag="early")]},
        "method": [
            act("add_errors", tag="a"),
            act("kill_service", service="catalog"),  # no tag: ""
            act("inject", step={"fault": "drop"}, tag="a"),
            act("faults_matched", "chaos.ctk.probes", tag="probed"),
            act("remove_faults", tag="removing"),
            act("add_errors", "elsewhere.actions", tag="not-ours"),
            {"type": "probe", "name": "http", "provider": {"type": "http", "url": "x"}},
            "not an activity",
        ],
        "rollbacks": [act("pause_service", service="profiles", tag="late")],
    }

    assert tags_of(experiment) == ["early", "a", "", "late"]


def test_an_experiment_without_chaosbed_actions_names_no_tag() -> None:
    assert tags_of({"title": "t", "method": []}) == []
    assert tags_of({"method": None, "rollbacks": None, "steady-state-hypothesis": None}) == []


def test_a_tag_written_with_a_variable_is_the_value_ctk_gives_it() -> None:
    experiment = {"method": [act("add_errors", tag="${run}"), act("add_drops", tag="x-${n}")]}

    tags = tags_of(experiment, {"run": "game-day-7", "n": "2"}, {})

    assert tags == ["game-day-7", "x-2"]


@pytest.mark.parametrize(
    ("status", "deviated", "verdict", "after"),
    [
        ("completed", False, "held", ("completed", False)),
        ("completed", False, "deviated", ("completed", True)),
        ("completed", False, "aborted", ("failed", False)),
        ("completed", False, "failed", ("failed", False)),
        ("completed", True, "held", ("completed", True)),  # CTK judged more: kept
        ("interrupted", False, "aborted", ("interrupted", False)),
    ],
)
def test_ctks_journal_never_says_less_than_chaosbeds_verdict(
    status: str, deviated: bool, verdict: str, after: tuple[str, bool]
) -> None:
    """CTK's exit status comes from its journal's status and `deviated`: a hypothesis
    strategy that never reads the verdict probe must not turn a deviation into exit 0."""
    state = {"status": status, "deviated": deviated}
    changed = agree(state, verdict)
    assert (state["status"], state["deviated"]) == after
    assert (changed is None) == ((status, deviated) == after)
