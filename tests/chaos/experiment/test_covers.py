"""`covers: [mechanism, ...]`: which mechanisms an experiment protects (for `chaosbed mutate`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment import ExperimentError, load_experiment, load_experiment_text
from services.common.mutants import MECHANISMS

LIBRARY = Path(__file__).parents[3] / "chaos" / "experiments"
MINIMAL = """\
title: t
hypothesis: h
steady_state:
  slos:
    - {name: ok, availability: {service: playback}, objective: 99}
method:
  - {fault: kill, target: catalog, duration: 5s}
"""


def test_covers_lists_mechanisms_from_the_closed_set() -> None:
    experiment = load_experiment_text(MINIMAL + "covers: [retries, breaker]\n")

    assert experiment.covers == ("retries", "breaker")


def test_covers_defaults_to_nothing() -> None:
    assert load_experiment_text(MINIMAL).covers == ()


def test_an_unknown_mechanism_is_refused_naming_the_field_and_the_known_ones() -> None:
    with pytest.raises(ExperimentError) as refused:
        load_experiment_text(MINIMAL + "covers: [retries, retry]\n", "x.yaml")

    (error,) = refused.value.errors
    assert error.field == "covers[1]"
    assert "'retry'" in error.message and "retry-budget" in error.message


def test_a_mechanism_listed_twice_is_refused() -> None:
    with pytest.raises(ExperimentError) as refused:
        load_experiment_text(MINIMAL + "covers: [retries, retries]\n", "x.yaml")

    assert refused.value.errors[0].field == "covers"


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True).filter(lambda w: w not in MECHANISMS))
def test_any_other_word_is_refused(word: str) -> None:
    with pytest.raises(ExperimentError):
        load_experiment_text(MINIMAL + f"covers: [{word}]\n")


def test_every_mechanism_a_mutant_breaks_is_covered_by_a_shipped_experiment() -> None:
    covered = {m for path in LIBRARY.glob("*.yaml") for m in load_experiment(path).covers}
    assert set(MECHANISMS) - covered == set()
