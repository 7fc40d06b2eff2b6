"""The page itself: self-contained, every plot present, the verdicts and the scorecard."""

from __future__ import annotations

import re
from typing import Any

from chaos.report import read_report, render


def test_the_page_inlines_everything_and_loads_nothing_from_elsewhere(
    hung: dict[str, Any],
) -> None:
    html = render(read_report(hung))
    assert not re.search(r"""<(link|img|iframe)\b|\bsrc\s*=|url\(\s*['"]?https?:""", html)
    assert "@import" not in html


def test_each_run_has_its_sli_breaker_baseline_and_timeline_plots_from_matplotlib(
    hung: dict[str, Any], over_budget: dict[str, Any]
) -> None:
    doc = {"chaosbed_gameday": 1, "title": "g", "experiments": [
        {"journal": hung}, {"journal": over_budget}]}  # fmt: skip
    html = render(read_report(doc))
    figures = re.findall(r'<figure class="plot (\w+)"><svg', html)
    assert figures == ["sli", "baseline", "timeline"] * 2
    assert html.count("<dc:title>Matplotlib v") == 6  # drawn by matplotlib, not by hand
    assert "objective &gt;= 98" in html or "objective >= 98" in html
    assert "recommendations -&gt; catalog" in html or "recommendations -> catalog" in html


def test_the_verdict_says_why_and_the_scorecard_defines_its_figures(
    over_budget: dict[str, Any],
) -> None:
    html = render(read_report(over_budget))
    assert "SLO play-ok did not hold during the method" in html
    assert '<span class="deviated">deviated</span>' in html
    for figure in ("Error budget spent", "Time to detect", "Time to recover", "Held"):
        assert f"<dt>{figure}</dt>" in html
    assert "0 of 1 held" in html
