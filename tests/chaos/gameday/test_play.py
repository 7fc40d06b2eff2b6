"""Playing a game day on the four real services in this test's event loop:
the narration in order, pauses, one combined journal, the report, and a
verdict other than the prediction failing the game day."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import yaml

from chaos.exitcodes import ExitCode
from chaos.experiment.model import Experiment
from chaos.gameday import Act, load_gameday_text, play, suite_exit_code, verdict_table
from chaos.runner import Journal, Runner, RunOptions
from chaos.runner.load_driver import GeneratorLoad

from ..runner.conftest import start_stack

EXPERIMENT: dict[str, Any] = {
    "title": "Profiles a little slow for recommendations",
    "hypothesis": "ten milliseconds more on profiles changes nothing members see",
    # a 2s window holds two scrapes of the process runtime only (the in-process stack here)
    "runtimes": ["process"],
    "load": {"rate": 20, "mix": {"homepage": 100}, "members": 20},
    "steady_state": {"warmup": "1s", "hold": "1s", "slos": [
        {"name": "homepage-ok", "availability": {"service": "recommendations",
         "source": "members"}, "objective": 90, "window": "2s"}]},
    "method": [{"fault": "latency", "edge": "recommendations -> profiles", "delay_ms": 10,
                "duration": "2s"}],
    "expect": [{"recovered_within": "5s"}],
}  # fmt: skip
GAMEDAY = {
    "title": "Two small things",
    "narration": "Opening words.",
    "experiments": [
        {"name": "first", "inline": EXPERIMENT, "before": "B1", "expect": "E1",
         "narration": "N1", "pause": True},
        {"name": "second", "inline": dict(EXPERIMENT, predicts="deviated"), "before": "B2"},
    ],
}  # fmt: skip


def run_on(tmp_path: Path) -> Any:
    def run_act(act: Act, journal_path: Path) -> int | None:
        async def go() -> None:
            stack, runners = await start_stack(tmp_path / act.name)
            experiment = act.experiment
            assert isinstance(experiment, Experiment)
            journal = Journal(act.name, {"title": experiment.title, "steady_state": {
                "slos": [{"name": "homepage-ok", "indicator": {"service": "recommendations"},
                          "objective": {"op": ">=", "threshold": 90.0}}]}})  # fmt: skip
            journal.context.update(runtime="in-process", predicts=experiment.predicts)
            try:
                assert experiment.load is not None
                async with stack.reader(interval=0.5) as reader:
                    await Runner(
                        experiment,
                        drivers=[stack.app_driver()],
                        reader=reader,
                        journal=journal,
                        load=GeneratorLoad(
                            experiment.load, stack.targets, metrics_port=stack.load_port
                        ),
                        options=RunOptions(interval=0.5),
                    ).run()
            finally:
                journal.write(journal_path)
                await stack.session.close()
                for runner in reversed(runners):
                    await runner.cleanup()

        asyncio.run(go())
        return None

    return run_act


def test_a_game_day_narrates_pauses_and_writes_one_journal_and_a_report(tmp_path: Path) -> None:
    gameday = load_gameday_text(yaml.safe_dump(GAMEDAY), "day.yaml")
    said: list[str] = []
    pauses: list[str] = []
    played = play(gameday, tmp_path / "out", run_on(tmp_path), say=said.append, pause=pauses.append)
    text = "\n".join(said)
    order = [text.index(s) for s in ("Opening words.", "Next: B1", "We expect: E1", "We saw:",
                                      "N1", "Next: B2")]  # fmt: skip
    assert order == sorted(order), text
    assert len(pauses) == 1  # only the first act pauses

    first, second = played.results
    assert (first.verdict, first.passed) == ("held", True)
    assert (second.verdict, second.passed) == ("held", False)  # it predicted a deviation
    assert suite_exit_code(played.results) == ExitCode.DEVIATED

    combined = json.loads(played.journal_path.read_text())
    assert combined["chaosbed_gameday"] == 1 and combined["passed"] is False
    assert [e["name"] for e in combined["experiments"]] == ["first", "second"]
    assert combined["experiments"][0]["before"] == "B1"
    assert combined["experiments"][1]["journal"]["verdict"] == "held"
    assert played.report_path.read_text().count('<figure class="plot') == 6

    table = verdict_table(played.results)
    assert "first" in table and "PASS" in table and "FAIL" in table
    assert table.endswith("1 of 2 as predicted")


def test_without_a_pause_function_nothing_waits(tmp_path: Path) -> None:
    document = dict(GAMEDAY, experiments=GAMEDAY["experiments"][:1])
    gameday = load_gameday_text(yaml.safe_dump(document), "day.yaml")
    played = play(gameday, tmp_path / "out", run_on(tmp_path), say=lambda _: None, pause=None)
    assert [r.passed for r in played.results] == [True]
