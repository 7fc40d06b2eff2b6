"""Reading a journal for the report: one run, a game day's runs, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaos.report import JournalUnreadable, read_journal, read_report

from .conftest import HUNG


def test_a_run_journal_becomes_one_run_with_its_series_faults_and_breakers() -> None:
    report = read_journal(HUNG)
    assert report.kind == "experiment"
    (run,) = report.runs
    assert run.verdict == "held" and run.predicts == "held"
    (series,) = run.series
    assert series.name == "homepage-ok" and series.kind == "availability"
    assert series.limit == 98.0 and series.baseline is not None
    assert len(series.points) > 20
    (fault,) = run.faults
    assert 0 < fault.start < fault.end <= run.duration
    states = [s for _, s in run.breakers["recommendations -> catalog"]]
    assert 1 in states


def test_a_fault_is_shaded_from_when_its_injection_began(hung: dict[str, Any]) -> None:
    """A deploy restarts its target before the fault is in place: the shade starts
    when injecting began (journals before `began_at` shade from `injected_at`)."""
    (fault,) = hung["faults"]
    fault["began_at"] = fault["injected_at"] - 3.0
    (run,) = read_report(hung).runs
    assert run.faults[0].start == pytest.approx(fault["injected_at"] - 3.0)


def test_a_game_day_journal_becomes_its_runs_with_their_notes(
    hung: dict[str, Any], over_budget: dict[str, Any]
) -> None:
    doc = {
        "chaosbed_gameday": 1,
        "title": "Tuesday",
        "narration": "we break things",
        "experiments": [
            {"name": "hung", "before": "catalog hangs next", "journal": hung},
            {"name": "budget", "expect": "starts fail", "journal": over_budget},
        ],
    }
    report = read_report(doc)
    assert report.kind == "gameday" and report.title == "Tuesday"
    assert [r.verdict for r in report.runs] == ["held", "deviated"]
    assert report.runs[0].notes["before"] == "catalog hangs next"
    assert report.runs[1].notes["expect"] == "starts fail"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("verdict"), "journal.verdict: missing"),
        (lambda d: d.update(events="soon"), "journal.events: must be list"),
        (lambda d: d["experiment"]["steady_state"].pop("slos"), "steady_state.slos: missing"),
        (lambda d: d.pop("chaosbed_journal"), "not a chaosbed journal"),
    ],
    ids=["no-verdict", "events-not-a-list", "no-slos", "not-a-journal"],
)
def test_a_bad_journal_is_an_error_naming_the_field(
    hung: dict[str, Any], mutate: Any, field: str
) -> None:
    mutate(hung)
    with pytest.raises(JournalUnreadable, match=field.replace(".", r"\.")):
        read_report(hung)


def test_a_game_day_entry_without_a_journal_is_named(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"chaosbed_gameday": 1, "title": "t", "experiments": [{}]}))
    with pytest.raises(JournalUnreadable, match=r"experiments\[0\]\.journal: missing"):
        read_journal(path)


def test_a_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    path.write_text("{not json")
    with pytest.raises(JournalUnreadable, match="j.json: not JSON"):
        read_journal(path)
