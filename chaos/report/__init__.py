"""`chaosbed report`: a journal (one run, or a game day's) as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

from .errors import JournalUnreadable, ReportError
from .model import Report, Run, read_journal, read_report
from .page import render
from .scorecard import Scorecard, score

__all__ = [
    "JournalUnreadable",
    "Report",
    "ReportError",
    "Run",
    "Scorecard",
    "read_journal",
    "read_report",
    "render",
    "score",
    "write_report",
]


def write_report(journal: Path, out: Path | None = None) -> Path:
    """Render `journal` and write the page to `out` (default: beside it, `.html`)."""
    target = out or journal.with_suffix(".html")
    html = render(read_journal(journal))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
