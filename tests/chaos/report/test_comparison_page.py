"""The report's comparison of the cohorts: score, cohort sizes, each metric's test
and effect, the distributions side by side, and the look that stopped a method."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chaos.report import JournalUnreadable, read_journal, read_report
from chaos.report.page import render

from .conftest import COMPARED, HUNG, STOPPED


def test_a_compared_run_shows_its_score_sizes_tests_effects_and_distributions() -> None:
    page = render(read_journal(COMPARED))
    section = page.split("<h3>Cohorts compared</h3>", 1)[1].split("<h3>Expectations", 1)[0]
    assert 'data-score="50"' in section and 'data-score-verdict="fail"' in section
    assert "Score <strong>50</strong> (fail: passes at" in section  # the score's, not a metric's
    assert re.findall(r'data-classification="(\w+)"', section) == ["high", "pass"]
    assert "homepage-success (critical)" in section
    assert "Hodges-Lehmann" in section and "U=" in section
    journal = json.loads(COMPARED.read_text())["comparison"]
    members = journal["cohorts"]["experiment"]["members"]
    assert (
        f"<td>experiment</td><td>{journal['percents']['experiment']:.3g}%</td><td>{members}<"
        in (section)
    )
    figure = section.split('<figure class="plot comparison">', 1)[1]
    assert figure.startswith("<svg") and figure.count("homepage-latency: high") == 1
    assert "Stopped at look" not in section


def test_a_method_the_comparison_stopped_says_at_which_look_and_why() -> None:
    page = render(read_journal(STOPPED))
    assert "Stopped at look 8" in page
    assert "Score <strong>0</strong> (fail:" in page and "critical failed: title-success" in page
    assert "title-success" in page and "significantly lower" in page


def test_a_run_without_a_comparison_has_no_comparison_section() -> None:
    assert "Cohorts compared" not in render(read_journal(HUNG))


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (lambda c: c.update(metrics="many"), "comparison.metrics"),
        (lambda c: c["metrics"][0].pop("classification"), "comparison.metrics[0].classification"),
        (
            lambda c: c["metrics"][1].update(distribution=[1, 2]),
            "comparison.metrics[1].distribution",
        ),
    ],
    ids=["metrics-not-a-list", "no-classification", "distribution-not-a-mapping"],
)
def test_a_bad_comparison_is_an_error_naming_the_field(spoil: Any, field: str) -> None:
    doc = json.loads(COMPARED.read_text())
    spoil(doc["comparison"])
    with pytest.raises(JournalUnreadable, match=re.escape(field)):
        read_report(doc)


def test_a_comparison_with_no_metric_or_a_one_value_distribution_still_renders() -> None:
    doc = json.loads(COMPARED.read_text())
    doc["comparison"]["metrics"][0]["distribution"] = {"control": [5.0], "experiment": []}
    assert "Cohorts compared" in render(read_report(doc))
    doc["comparison"]["metrics"] = []
    assert "Cohorts compared" in render(read_report(doc))
