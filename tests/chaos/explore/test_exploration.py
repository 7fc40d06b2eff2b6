"""An exploration as a file: what it holds, its defaults, and every mistake named by
line and field before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.cli.run import runnable_problems
from chaos.experiment import ExperimentError
from chaos.experiment.model import Experiment
from chaos.explore import DEFAULT_CONTRACT, EXPLORED
from chaos.explore.exploration import (
    Exploration,
    load_exploration_text,
    load_playable,
    load_playable_text,
)

SHIPPED = Path(__file__).parents[3] / "chaos" / "explorations" / "every-call-site.yaml"
EXPERIMENT = Path(__file__).parents[3] / "chaos" / "experiments" / "profiles-down.yaml"

MINIMAL = """\
title: Explore
hypothesis: every journey keeps its contract
explore: {}
"""


def test_the_defaults_are_every_journey_one_fault_the_shipped_contract() -> None:
    found = load_exploration_text(MINIMAL, "/x/e.yaml")
    assert found.journeys == EXPLORED and found.depth == 1 and found.concurrency == 4
    assert found.contract == DEFAULT_CONTRACT and found.predicts == "held"
    assert found.runtimes == () and found.covers == ()


def test_every_field_is_read(tmp_path: Path) -> None:
    contract = tmp_path / "mine.yaml"
    contract.write_text(DEFAULT_CONTRACT.read_text())
    text = """\
title: Two journeys, pairs
hypothesis: h
predicts: deviated
runtimes: [docker]
tags: [a]
covers: [retries, per-try-timeout]
explore: {journeys: [play, homepage], depth: 2, contract: mine.yaml, concurrency: 8}
"""
    found = load_exploration_text(text, str(tmp_path / "x.yaml"))
    assert found == Exploration(
        title="Two journeys, pairs", hypothesis="h", journeys=("play", "homepage"), depth=2,
        contract=contract.resolve(), concurrency=8, predicts="deviated", runtimes=("docker",),
        source=str(tmp_path / "x.yaml"), tags=("a",), covers=("retries", "per-try-timeout"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ("explore: {journeys: [homepage, checkout]}", "explore.journeys[1]", "checkout"),
        ("explore: {journeys: []}", "explore.journeys", "names no journey"),
        ("explore: {depth: 3}", "explore.depth", "from 1 to 2"),
        ("explore: {concurrency: 0}", "explore.concurrency", "from 1 to 32"),
        ("explore: {contract: nowhere.yaml}", "explore.contract", "cannot read the contract"),
        ("explore: {deepth: 2}", "explore.deepth", "did you mean 'depth'"),
        ("explore: [homepage]", "explore", "a mapping"),
    ],
)
def test_a_mistake_is_named_by_its_field(change: str, field: str, words: str) -> None:
    text = MINIMAL.replace("explore: {}", change)
    with pytest.raises(ExperimentError) as raised:
        load_exploration_text(text, "/x/e.yaml")
    assert field in raised.value.fields(), str(raised.value)
    assert words in str(raised.value)


def test_a_missing_title_and_an_unknown_mechanism_are_both_named() -> None:
    text = "hypothesis: h\ncovers: [retry]\nexplore: {}\n"
    with pytest.raises(ExperimentError) as raised:
        load_exploration_text(text, "/x/e.yaml")
    assert set(raised.value.fields()) >= {"title", "covers[0]"}, str(raised.value)


def test_a_file_is_an_exploration_when_its_top_level_has_explore() -> None:
    assert isinstance(load_playable(SHIPPED), Exploration)
    assert isinstance(load_playable(EXPERIMENT), Experiment)
    with pytest.raises(ExperimentError):  # neither: the experiment loader says what is wrong
        load_playable_text("title: t\nhypothesis: h\n", "/x/e.yaml")


def test_the_shipped_exploration_covers_the_mechanisms_it_catches() -> None:
    shipped = load_playable(SHIPPED)
    assert isinstance(shipped, Exploration)
    assert set(shipped.covers) == {
        "retries", "idempotent-retries", "per-try-timeout", "fallback-default-preferences",
        "fallback-cached-popular", "fallback-cached-profile",
    }  # fmt: skip


def test_an_exploration_runs_where_its_runtimes_say_and_reads_no_sli() -> None:
    docker_only = load_exploration_text(MINIMAL + "runtimes: [docker]\n", "/x/e.yaml")
    assert runnable_problems(docker_only, "docker", "scrape") == []
    (problem,) = runnable_problems(docker_only, "process", "auto")
    assert "runs in docker only, not process" in problem
