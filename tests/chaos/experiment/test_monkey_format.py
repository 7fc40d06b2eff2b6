"""fault: monkey in a method: what loads, its defaults, how it is described and
dumped, and every bad menu, duration or target refused with the field named."""

from __future__ import annotations

import pytest

from chaos.experiment import ExperimentError, load_experiment_text
from chaos.experiment.describe import describe_fault
from chaos.experiment.dump import dump_experiment
from chaos.experiment.model import MONKEY_MENU, MonkeyFault, MonkeyGuard, MonkeyHalts

HEAD = """\
title: t
hypothesis: h
load: {rate: 20, mix: {homepage: 100}}
steady_state:
  slos:
    - {name: ok, availability: {service: recommendations, source: members}, objective: 95}
method:
"""


def text(step: str) -> str:
    return HEAD + f"  - {{fault: monkey, duration: 60s{step}}}\n"


def refused(source: str) -> dict[str, str]:
    with pytest.raises(ExperimentError) as caught:
        load_experiment_text(source)
    return {e.field: e.message for e in caught.value.errors}


def test_a_monkey_step_loads_with_its_defaults() -> None:
    (step,) = load_experiment_text(text("")).method
    assert step.fault == MonkeyFault()
    assert step.fault.menu == MONKEY_MENU and step.name == "1-monkey"
    assert (step.fault.mean_s, step.fault.hold_s, step.fault.max_at_once) == (10.0, 5.0, 1)
    assert describe_fault(step.fault) == (
        "monkey: about every 10s one of (kill 2, pause 1, restart 1, latency 1, error 1) on the "
        "opted-in services, held 5s (seed 0)"
    )


def test_every_key_is_read_and_a_dump_loads_back_the_same() -> None:
    source = text(", mean: 4s, hold: 1500ms, seed: 9, targets: [catalog, profiles-eu], "
                  "max_at_once: 2, menu: {kill: 1, error: 0.5, pause: 0}")  # fmt: skip
    experiment = load_experiment_text(source)
    (step,) = experiment.method
    assert step.fault == MonkeyFault(
        menu=(("kill", 1.0), ("error", 0.5), ("pause", 0.0)), mean_s=4.0, hold_s=1.5, seed=9,
        targets=("catalog", "profiles-eu"), max_at_once=2,
    )  # fmt: skip
    assert "on catalog, profiles-eu, held 1.5s, up to 2 at once" in describe_fault(step.fault)
    assert load_experiment_text(dump_experiment(experiment)) == experiment


@pytest.mark.parametrize(
    ("step", "field", "words"),
    [
        (", menu: {kill: 1, isolate: 1}", "method[0].menu.isolate", "a monkey has no fault"),
        (", menu: {kill: 1, deploy: 1}", "method[0].menu.deploy", "one of kill, pause"),
        (", menu: {kill: 0, pause: 0}", "method[0].menu", "every weight is 0"),
        (", menu: {kill: -1}", "method[0].menu.kill", ""),
        (", menu: [kill]", "method[0].menu", "fault kind to weight"),
        (", mean: 100ms", "method[0].mean", ""),
        (", hold: 11m", "method[0].hold", ""),
        (", targets: [catalogue]", "method[0].targets[0]", "catalog"),
        (", max_at_once: 0", "method[0].max_at_once", ""),
        (", target: catalog", "method[0].target", "does not apply to a monkey fault"),
        (", guard: {max_burn: 0}", "method[0].guard.max_burn", ""),
        (", guard: {budget_window: 1s}", "method[0].guard.budget_window", ""),
        (", guard: {recover: 1s}", "method[0].guard.recover", "unknown key"),
        (", guard: 14.4", "method[0].guard", "guardrails"),
    ],
)
def test_a_bad_monkey_step_is_refused_naming_the_field(step: str, field: str, words: str) -> None:
    errors = refused(text(step))
    assert field in errors, errors
    assert words in errors[field], errors[field]


def test_a_guard_loads_with_its_defaults_and_dumps_back() -> None:
    experiment = load_experiment_text(text(", guard: {max_burn: 20, alerts: false}"))
    (step,) = experiment.method
    assert isinstance(step.fault, MonkeyFault)
    assert step.fault.guard == MonkeyGuard(
        max_burn=20.0, budget_window_s=10.0, recover_for_s=10.0, alerts=False
    )
    assert load_experiment_text(dump_experiment(experiment)) == experiment


HALTS = """  - {name: m, fault: monkey, duration: 60s%s}
  - {name: cut, fault: error, target: catalog, offset: 10s, duration: 10s}
expect:
  - {monkey_halts: {after: %s, within: 5s}}
"""


def test_monkey_halts_loads_and_dumps_back() -> None:
    experiment = load_experiment_text(HEAD + HALTS % (", guard: {}", "cut"))
    assert experiment.expect == (MonkeyHalts("cut", 5.0),)
    assert load_experiment_text(dump_experiment(experiment)) == experiment


@pytest.mark.parametrize(
    ("guard", "after", "words"),
    [
        ("", "cut", "no monkey step with a guard"),
        (", guard: {}", "nowhere", "other than the monkey's (cut), not 'nowhere'"),
        (", guard: {}", "m", "not 'm'"),
    ],
)
def test_monkey_halts_needs_a_guarded_monkey_and_another_step(
    guard: str, after: str, words: str
) -> None:
    errors = refused(HEAD + HALTS % (guard, after))
    assert any(words in message for message in errors.values()), errors
