"""`mutate --baseline DIR` reads an unmutated verdict only from a journal of the same
experiment in the same runtime, the latest of them, and a bad one is a false alarm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaos.experiment import load_experiment_text
from chaos.experiment.model import Experiment
from chaos.gameday import Act
from chaos.mutate.baseline import BaselineError, from_baseline
from chaos.mutate.matrix import cell_of
from chaos.runner.session import experiment_record
from tests.chaos.cli.test_mutate_command import COVERS_RETRIES


def act(name: str, delay: int = 20) -> Act:
    text = COVERS_RETRIES.replace("delay_ms: 20", f"delay_ms: {delay}")
    return Act(name, load_experiment_text(text, source=f"/somewhere/{name}.yaml"))


def write_journal(
    path: Path, of: Act, *, verdict: str = "held", runtime: str = "process", at: str = "T1"
) -> Path:
    assert isinstance(of.experiment, Experiment)
    record: dict[str, Any] = experiment_record(of.experiment)
    record["source"] = f"relative/{of.name}.yaml"  # the path as another command was given it
    journal = {
        "chaosbed_journal": 1,
        "started_at": at,
        "experiment": record,
        "context": {"runtime": runtime},
        "verdict": verdict,
        "reasons": [] if verdict == "held" else ["home-ok fell to 12 (< 50)"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(journal))
    return path


def test_a_journal_of_the_same_experiment_and_runtime_gives_its_verdict(tmp_path: Path) -> None:
    slow, other = act("slow"), act("other", delay=30)
    journal = write_journal(tmp_path / "lane-1" / "01-slow.json", slow)
    (tmp_path / "matrix.json").write_text('{"mutants": []}')  # not a journal
    (tmp_path / "half.json").write_text('{"chaosbed_jour')  # a half-written file

    found, missing = from_baseline(tmp_path, [slow, other], "process")

    assert [(r.name, r.verdict, r.journal_path) for r in found] == [("slow", "held", journal)]
    assert missing == [other]
    assert cell_of(found[0], mutated=False).outcome == "held"


def test_an_edited_experiment_or_another_runtime_is_played_again(tmp_path: Path) -> None:
    write_journal(tmp_path / "old.json", act("slow", delay=20))
    write_journal(tmp_path / "docker.json", act("slow", delay=30), runtime="docker")

    found, missing = from_baseline(tmp_path, [act("slow", delay=30)], "process")

    assert found == [] and [a.name for a in missing] == ["slow"]


def test_of_several_journals_the_latest_counts(tmp_path: Path) -> None:
    slow = act("slow")
    write_journal(tmp_path / "a.json", slow, verdict="deviated", at="2026-12-03T10:00:00")
    write_journal(tmp_path / "b.json", slow, verdict="held", at="2026-12-03T11:00:00")

    found, _ = from_baseline(tmp_path, [slow], "process")

    assert [r.verdict for r in found] == ["held"]


def test_a_baseline_verdict_that_is_not_the_prediction_is_a_false_alarm(tmp_path: Path) -> None:
    slow = act("slow")
    write_journal(tmp_path / "slow.json", slow, verdict="deviated")

    found, _ = from_baseline(tmp_path, [slow], "process")

    cell = cell_of(found[0], mutated=False)
    assert cell.outcome == "false alarm" and "home-ok fell to 12" in cell.why


def test_a_baseline_that_is_not_a_directory_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match=r"--baseline .*nowhere: not a directory"):
        from_baseline(tmp_path / "nowhere", [act("slow")], "process")
