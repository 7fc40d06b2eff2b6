"""The report opens in headless Chromium with no errors, every plot drawn and a
timeline; the check itself catches a page whose script fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.cli import main

from .browser import open_page
from .conftest import EXPLORED, HUNG, OVER_BUDGET

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_report_renders_in_chromium_with_plots_a_timeline_and_no_errors(
    tmp_path: Path,
) -> None:
    page = tmp_path / "report.html"
    assert main(["report", str(HUNG), "-o", str(page)]) == 0
    opened = open_page(page, tmp_path / "report.png")
    assert opened.attribute("data-errors") is not None, "the page's guard script did not run"
    assert opened.console_errors == []
    assert int(opened.attribute("data-plots") or 0) == 3, "a plot is missing"
    assert int(opened.attribute("data-timeline-rows") or 0) > 5, "the timeline is empty"
    assert opened.screenshot.read_bytes().startswith(PNG)
    assert opened.screenshot.stat().st_size > 20_000  # a blank page is a few kB


def test_an_exploration_renders_in_chromium_with_its_matrices_and_no_errors(
    tmp_path: Path,
) -> None:
    page = tmp_path / "explore.html"
    assert main(["report", str(EXPLORED), "-o", str(page)]) == 0
    opened = open_page(page, tmp_path / "explore.png")
    assert opened.attribute("data-errors") == "", opened.attribute("data-errors")
    assert opened.console_errors == []
    assert int(opened.attribute("data-matrix-cells") or 0) >= 64, "a matrix is missing"
    assert opened.attribute("data-violations") == "8"
    assert opened.screenshot.stat().st_size > 20_000


def test_a_script_error_on_the_page_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    assert main(["report", str(OVER_BUDGET), "-o", str(page)]) == 0
    html = page.read_text().replace("</body>", "<script>noSuchFunction();</script></body>")
    page.write_text(html)
    opened = open_page(page, tmp_path / "broken.png")
    assert any("noSuchFunction" in e for e in opened.console_errors), opened.console_errors
