"""The plan `chaosbed run --dry-run` prints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chaos.experiment import (
    Capabilities,
    load_experiment,
    load_experiment_text,
    render_plan,
    static_targets,
)
from chaos.experiment.model import Fault, ProcessFault, Slo
from chaos.faults.network import DRIVEN

SKETCH = Path(__file__).parent / "valid" / "outage-falls-back.yaml"


def query(slo: Slo) -> str:
    return f"QUERY[{slo.name}]"


def test_each_step_shows_its_window_fault_and_resolved_targets() -> None:
    seen: list[Fault] = []

    def resolve(fault: Fault) -> Sequence[str]:
        seen.append(fault)
        return ["recommendations-1 (pid 42)"] if isinstance(fault, ProcessFault) else ["x"]

    experiment = load_experiment(SKETCH)
    plan = render_plan(experiment, resolve, query)
    assert seen == [step.fault for step in experiment.method]
    lines = plan.splitlines()
    kill = next(i for i, line in enumerate(lines) if line.strip().startswith("1-kill"))
    assert "0s → 20s" in lines[kill] and "kill every instance of recommendations" in lines[kill]
    assert lines[kill + 2].strip() == "targets: recommendations-1 (pid 42)"
    latency = next(line for line in lines if line.strip().startswith("2-latency"))
    assert "20s → 50s" in latency and "latency 800ms on 50% of calls" in latency
    assert "Method: 6 steps over 2m10s" in plan


def test_the_timeline_bar_marks_each_step_window() -> None:
    experiment = load_experiment_text(
        "title: t\nhypothesis: h\n"
        "steady_state: {slos: [{name: ok, availability: playback, objective: 99}]}\n"
        "method:\n  - {fault: kill, target: catalog, duration: 10s}\n"
        "  - {fault: kill, target: catalog, duration: 30s}\n"
    )
    bars = [line.strip() for line in render_plan(experiment, static_targets, query).splitlines()]
    bars = [line for line in bars if line.startswith("▕")]
    assert bars[0] == "▕" + "█" * 10 + "·" * 30 + "▏"
    assert bars[1] == "▕" + "·" * 10 + "█" * 30 + "▏"


def test_each_slo_shows_its_goal_and_the_query_it_becomes() -> None:
    plan = render_plan(load_experiment(SKETCH), static_targets, query)
    assert "play-ok        availability of playback (seen at the edge) >= 99.5%, over 10s" in plan
    assert "query: QUERY[play-ok]" in plan and "query: QUERY[homepage-fast]" in plan
    assert "p99 latency of recommendations (seen at the edge) < 300ms" in plan


def test_load_aborts_and_expectations_are_in_the_plan() -> None:
    plan = render_plan(load_experiment(SKETCH), static_targets, query)
    assert "50 members/s open-loop (homepage 60%, play 25%, title 10%, preferences 5%)" in plan
    assert "play-ok below 90 for 5s" in plan
    assert "the breaker on recommendations -> profiles opened" in plan
    assert "every SLO holds again within 15s of the rollback" in plan


def test_a_standin_is_labelled_with_the_rules_that_stand_in() -> None:
    experiment = load_experiment_text(
        "title: t\nhypothesis: h\n"
        "steady_state: {slos: [{name: ok, availability: playback, objective: 99}]}\n"
        "method:\n  - {fault: partition, between: [[playback], [profiles, catalog]],"
        " standin: allowed, duration: 10s}\n"
    )
    in_process = render_plan(
        experiment,
        static_targets,
        query,
        capabilities=Capabilities(netem=False, network_kinds=frozenset()),
    )
    assert (
        "STAND-IN (application layer, not the network): drop on calls playback -> profiles; "
        "drop on calls playback -> catalog" in in_process
    )
    docker = Capabilities(netem=False, network_kinds=frozenset(DRIVEN))
    in_docker = render_plan(experiment, static_targets, query, capabilities=docker)
    assert "STAND-IN" not in in_docker
