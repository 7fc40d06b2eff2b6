"""Reading game day files: the shipped ones, relative paths, inline
experiments, and every bad field named."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chaos.cli.run import runnable_problems
from chaos.experiment.model import Experiment, MonkeyHalts, NetworkFault
from chaos.gameday import GameDayInvalid, load_gameday, load_gameday_text

GAMEDAYS = Path(__file__).parents[3] / "chaos" / "gamedays"
EXPERIMENTS = Path(__file__).parents[3] / "chaos" / "experiments"
TINY: dict[str, Any] = {
    "title": "tiny",
    "hypothesis": "h",
    "steady_state": {"slos": [{"name": "ok", "availability": {"service": "catalog"},
                               "objective": 99, "window": "5s"}]},
    "method": [{"fault": "latency", "edge": "playback -> catalog", "delay_ms": 5,
                "duration": "2s"}],
}  # fmt: skip


def test_the_short_game_day_runs_on_the_process_runtime_without_docker() -> None:
    gameday = load_gameday(GAMEDAYS / "short.yaml")
    assert len(gameday.acts) == 3
    for act in gameday.acts:
        assert runnable_problems(act.experiment, "process", "scrape") == [], act.name
        assert act.before and act.expect
    assert not any(act.pause for act in gameday.acts)


def test_the_evening_peak_has_an_outage_a_slow_profiles_a_lost_container_and_a_partition() -> None:
    gameday = load_gameday(GAMEDAYS / "evening-peak.yaml")
    experiments = [act.experiment for act in gameday.acts]
    assert all(isinstance(e, Experiment) for e in experiments)
    kinds = [e.method[0].fault.kind for e in experiments if isinstance(e, Experiment)]
    assert kinds == ["down", "latency", "kill", "partition"]
    last = experiments[3]
    assert isinstance(last, Experiment)
    partition = last.method[0].fault
    assert isinstance(partition, NetworkFault)
    assert partition.between == (("playback",), ("profiles",))
    assert all(act.pause for act in gameday.acts)


def test_experiment_paths_are_relative_to_the_game_day_file(tmp_path: Path) -> None:
    (tmp_path / "days").mkdir()
    shutil.copy(EXPERIMENTS / "profiles-down.yaml", tmp_path / "x.yaml")
    day = tmp_path / "days" / "d.yaml"
    day.write_text("title: t\nexperiments:\n  - experiment: ../x.yaml\n")
    (act,) = load_gameday(day).acts
    assert act.name == "x" and act.experiment.title.startswith("Profiles down")


def test_an_inline_experiment_is_validated_like_a_file() -> None:
    text = yaml.safe_dump({"title": "t", "experiments": [{"inline": TINY, "name": "a"}]})
    (act,) = load_gameday_text(text).acts
    assert act.experiment.title == "tiny" and act.name == "a"
    broken = dict(TINY, method=[{"fault": "latency", "edge": "nowhere -> catalog"}])
    text = yaml.safe_dump({"title": "t", "experiments": [{"inline": broken}]})
    with pytest.raises(GameDayInvalid, match=r"experiments\[0\]\.inline: .*method"):
        load_gameday_text(text)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"experiments": [{"inline": TINY}]}, "title: required"),
        ({"title": "t", "experiments": []}, "experiments: required"),
        ({"title": "t", "experiments": [{"inline": TINY, "experiment": "x.yaml"}]},
         r"experiments\[0\]: give exactly one of"),
        ({"title": "t", "experiments": [{"inline": TINY, "befor": "x"}]},
         r"experiments\[0\]\.befor: unknown key"),
        ({"title": "t", "experiments": [{"inline": TINY, "pause": "yes"}]},
         r"experiments\[0\]\.pause: must be true or false"),
        ({"title": "t", "experiments": [{"inline": TINY, "before": 3}]},
         r"experiments\[0\]\.before: must be text"),
        ({"title": "t", "experiments": [{"experiment": "missing.yaml"}]},
         r"experiments\[0\]\.experiment: no such file"),
        ({"title": "t", "experiments": [{"inline": TINY, "name": "a"},
                                        {"inline": TINY, "name": "a"}]}, "used twice"),
        ({"title": "t", "experiments": [{"inline": TINY}], "speed": 2}, "speed: unknown key"),
    ],
    ids=["no-title", "no-experiments", "both", "unknown-act-key", "pause-not-bool",
         "text-not-text", "missing-file", "duplicate-names", "unknown-top-key"],
)  # fmt: skip
def test_a_bad_field_is_named(document: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(GameDayInvalid, match=message):
        load_gameday_text(yaml.safe_dump(document), "day.yaml", base=tmp_path)


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)


@given(before=texts, expect=texts, narration=texts)
def test_any_narration_text_is_kept_as_written(before: str, expect: str, narration: str) -> None:
    act = {"inline": TINY, "before": before, "expect": expect, "narration": narration}
    gameday = load_gameday_text(yaml.safe_dump({"title": "t", "experiments": [act]}))
    (loaded,) = gameday.acts
    assert (loaded.before, loaded.expect, loaded.narration) == (
        before.strip(), expect.strip(), narration.strip())  # fmt: skip


@given(
    st.dictionaries(
        st.sampled_from(["title", "experiments", "pause", "narration", "x"]),
        st.one_of(st.none(), st.integers(), texts, st.lists(st.integers())),
    )
)
def test_any_mapping_is_a_game_day_or_a_named_error(document: dict[str, Any]) -> None:
    try:
        load_gameday_text(yaml.safe_dump(document))
    except GameDayInvalid as exc:
        assert exc.problems and all(":" in p for p in exc.problems)


@pytest.mark.parametrize("path", sorted(GAMEDAYS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_game_day_loads_with_every_experiment_it_names(path: Path) -> None:
    gameday = load_gameday(path)
    assert gameday.acts and all(act.before and act.expect for act in gameday.acts), path.name


def test_a_day_of_monkeys_is_a_compressed_day_then_a_monkey_that_halts_in_both_runtimes() -> None:
    gameday = load_gameday(GAMEDAYS / "a-day-of-monkeys.yaml")
    assert all(isinstance(act.experiment, Experiment) for act in gameday.acts)
    experiments = [act.experiment for act in gameday.acts if isinstance(act.experiment, Experiment)]
    assert [type(e.method[0].fault).__name__ for e in experiments] == ["MonkeyFault"] * 2
    assert [e.predicts for e in experiments] == ["held", "held"]
    assert any(isinstance(x, MonkeyHalts) for x in experiments[1].expect)
    for experiment in experiments:
        for runtime in ("process", "docker"):
            assert runnable_problems(experiment, runtime, "prometheus") == [], runtime
