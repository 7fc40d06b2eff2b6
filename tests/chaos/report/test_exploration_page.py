"""An exploration's page: the verdict, a matrix per journey (call site x fault ->
what the member got, violations marked and linked to their request and calls),
alone or beside experiments in a suite's report."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from chaos.report import JournalUnreadable, read_report, render


def test_an_exploration_alone_is_a_page_with_its_verdict_and_matrices(
    explored: dict[str, Any],
) -> None:
    report = read_report(explored)
    assert report.kind == "exploration" and report.runs == ()
    html = render(report)
    assert "Exploration report" in html and "Scorecard" not in html  # no SLI to score
    assert 'class="deviated">deviated' in html
    assert "8 of 99 executions broke the contract" in html
    for journey in ("homepage", "title", "play", "preferences", "sync"):
        assert f"<h4>{journey}: fault-free ok</h4>" in html
    cells = re.findall(r'<td class="cell [^"]*"', html)
    violations = re.findall(r'<td class="cell violation"', html)
    assert len(violations) == 8 and len(cells) >= 8 * 8  # 8 faults of at least 8 sites
    # each marked cell links to its row: the request id, what broke and the calls made
    for anchor in re.findall(r'<td class="cell violation"[^>]*><a href="#([^"]+)"', html):
        assert f'<tr id="{anchor}">' in html
    assert "recommendations -&gt; catalog GET /popular" in html


def test_a_suite_report_shows_experiments_and_explorations_in_suite_order(
    hung: dict[str, Any], explored: dict[str, Any]
) -> None:
    suite = {
        "chaosbed_gameday": 1, "title": "chaosbed verify: 2", "started_at": "T",
        "experiments": [
            {"name": "every-call-site", "journal": explored},
            {"name": "catalog-hung-retry-storm", "journal": hung},
        ],
    }  # fmt: skip
    report = read_report(suite)
    assert [type(p).__name__ for p in report.parts()] == ["ExplorationRun", "Run"]
    html = render(report)
    assert html.index('id="run-1" class="exploration"') < html.index('id="run-2"')
    assert "1 experiment(s), 1 exploration(s)" in html
    assert html.count('<tr><td><a href="#run-') == 2  # both in the verdicts table
    assert "Scorecard" in html  # the experiment's


def test_a_held_exploration_says_every_execution_met_the_contract(
    explored: dict[str, Any],
) -> None:
    held = copy.deepcopy(explored)
    for execution in held["executions"]:
        execution["violations"] = []
    held.update(verdict="held", reasons=[], violations=0)
    html = render(read_report(held))
    assert "every one of 99 executions met the contract" in html
    assert 'class="cell violation"' not in html and "<h3>Violations</h3>" not in html


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("executions",), "many", "journal.executions"),
        (("executions", 0), 7, "journal.executions[0]"),
        (("executions", 0, "outcome"), None, "journal.executions[0].outcome"),
        (("verdict",), 1, "journal.verdict"),
    ],
)
def test_an_unreadable_exploration_journal_names_the_field(
    explored: dict[str, Any], path: tuple[Any, ...], value: Any, field: str
) -> None:
    broken = copy.deepcopy(explored)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(JournalUnreadable) as raised:
        read_report(broken)
    assert field in str(raised.value)
