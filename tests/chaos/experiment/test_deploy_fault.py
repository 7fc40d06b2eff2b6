"""Loading a `deploy` fault: a release of known variables, checked before anything is touched."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment import ExperimentError, load_experiment_text
from chaos.experiment.describe import describe_fault
from chaos.experiment.model import ProcessFault
from chaos.experiment.release import RELEASE_VARIABLES
from services.common.mutants import MUTANTS

EXPERIMENT = """\
title: t
hypothesis: h
steady_state:
  slos:
    - {{name: ok, availability: {{service: playback}}, objective: 99}}
method:
  - {step}
"""


def load(step: str) -> ProcessFault:
    experiment = load_experiment_text(EXPERIMENT.format(step=step))
    fault = experiment.method[0].fault
    assert isinstance(fault, ProcessFault)
    return fault


def errors(step: str) -> list[str]:
    with pytest.raises(ExperimentError) as caught:
        load_experiment_text(EXPERIMENT.format(step=step))
    return [f"{e.line}: {e.field}: {e.message}" for e in caught.value.errors]


def test_a_deploy_carries_its_release_to_the_target() -> None:
    fault = load(
        "{fault: deploy, target: profiles-eu, env: {CHAOSBED_MUTANT: partial-sync-tv}, "
        "duration: 10s}"
    )
    assert (fault.kind, fault.target, fault.env) == (
        "deploy",
        "profiles-eu",
        (("CHAOSBED_MUTANT", "partial-sync-tv"),),
    )
    assert describe_fault(fault) == (
        "deploy CHAOSBED_MUTANT=partial-sync-tv to every instance of profiles-eu"
    )


def test_an_unknown_mutant_is_a_load_error_naming_it() -> None:
    (error,) = errors(
        "{fault: deploy, target: profiles, env: {CHAOSBED_MUTANT: sync-tv}, duration: 5s}"
    )
    assert error.startswith("7: method[0].env.CHAOSBED_MUTANT: 'sync-tv' is not a known mutant")
    assert "partial-sync-tv" in error  # the known ones are named


def test_a_mutant_with_no_branch_in_the_target_is_refused_as_changing_nothing() -> None:
    (error,) = errors(
        "{fault: deploy, target: catalog, env: {CHAOSBED_MUTANT: partial-sync-tv}, duration: 5s}"
    )
    assert "mutant partial-sync-tv has no branch in catalog (only in profiles)" in error


def test_a_deploy_needs_a_release() -> None:
    (missing,) = errors("{fault: deploy, target: profiles, duration: 5s}")
    assert "method[0].env: is required" in missing
    (empty,) = errors("{fault: deploy, target: profiles, env: {}, duration: 5s}")
    assert "a deploy that sets no variable changes nothing" in empty


def test_env_belongs_to_a_deploy_only() -> None:
    (error,) = errors(
        "{fault: restart, target: profiles, env: {CHAOSBED_MUTANT: partial-sync-tv}, duration: 5s}"
    )
    assert "method[0].env: does not apply to a restart fault" in error


@given(
    st.from_regex(r"[A-Z][A-Z_]{0,20}", fullmatch=True).filter(
        lambda name: name not in RELEASE_VARIABLES
    )
)
def test_only_known_variables_may_be_deployed(variable: str) -> None:
    # quoted: YAML reads a bare NO, ON or Y as a boolean, not a name
    env = f'{{"{variable}": x}}'
    (error,) = errors(f"{{fault: deploy, target: profiles, env: {env}, duration: 5s}}")
    assert f"env.{variable}: {variable} cannot be deployed; a release may set only: " in error
    assert "CHAOSBED_MUTANT" in error


@given(st.sampled_from(sorted(MUTANTS)))
def test_every_mutant_deploys_to_a_service_that_has_its_branch(name: str) -> None:
    target = MUTANTS[name].services[0]
    release = f"{{CHAOSBED_MUTANT: {name}}}"
    fault = load(f"{{fault: deploy, target: {target}, env: {release}, duration: 5s}}")
    assert fault.env == (("CHAOSBED_MUTANT", name),)
