"""`chaosbed report` of a monkey's journal, written by the monkey's own journal class:
its actions and halts read back as they happened, the page self-contained, and a
bad line refused naming it. Availability from a real Prometheus is drawn in the
monkey's e2e test (tests/chaos/monkey/test_monkey_process.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from chaos.cli import main
from chaos.monkey.journal import MonkeyJournal
from chaos.report.errors import JournalUnreadable
from chaos.report.monkey import is_monkey_journal, read_monkey_journal, render_monkey

from .browser import open_page


def journal(path: Path) -> Path:
    """A monkey's day in a few lines: one action rolled back, one that failed, a halt."""
    now = [0.0]
    written = MonkeyJournal(path, clock=lambda: now[0], wall=lambda: 1_800_000_000.0 + now[0])

    class OneSecondPerLine:
        def write(self, event: str, **detail: Any) -> None:
            written.write(event, **detail)
            now[0] += 1.0

    out = OneSecondPerLine()
    out.write("started", seed=7, mean_s=10.0, window="always", opted_in=["catalog"],
              max_at_once=1)  # fmt: skip
    out.write("chosen", action=1, victim="catalog", fault="kill", duration_s=4.0)
    out.write("injected", action=1, verification="catalog's pid 42 is gone", ttl_s=9.0)
    out.write("effect", action=1, how="3 calls from recommendations to catalog ended error")
    out.write("rolled_back", action=1, how="restarted")
    out.write("chosen", action=2, victim="profiles-eu", fault="pause", duration_s=4.0)
    out.write("failed", action=2, why="profiles-eu is not running")
    out.write("rolled_back", action=2, how="nothing to undo")
    out.write("halted", why=["catalog burns its error budget 22x over 10s (at most 14.4x)"],
              reading={}, holding=[])  # fmt: skip
    out.write("skipped", why="halted: catalog burns its error budget")
    out.write("resumed", clear_for_s=10.0)
    out.write("stopped", actions=2)
    return path


def test_a_monkey_journal_reads_back_its_actions_and_halts(tmp_path: Path) -> None:
    path = journal(tmp_path / "monkey.jsonl")
    assert is_monkey_journal(path)
    record = read_monkey_journal(path)
    kill, pause = record.actions
    assert (kill.kind, kill.victim, kill.outcome) == ("kill", "catalog", "rolled_back")
    assert kill.injected_t is not None and kill.ended_t is not None
    assert kill.ended_t - kill.injected_t == 2.0
    assert kill.evidence.startswith("3 calls from recommendations")
    assert (pause.outcome, pause.evidence) == ("failed", "profiles-eu is not running")
    ((start, end, why),) = record.halts
    assert end is not None and end - start == 2.0 and "22x over 10s" in why
    assert (record.skipped, record.stopped, record.seconds) == (1, True, 11.0)


def test_the_page_is_self_contained_and_says_why_no_availability_is_drawn(
    tmp_path: Path,
) -> None:
    html = render_monkey(read_monkey_journal(journal(tmp_path / "m.jsonl")), None, "")
    assert "<svg" in html and "22x over 10s" in html
    rows = re.findall(r"<tr><td>\d+</td>", html)
    assert len(rows) == 2
    assert "No availability drawn: no Prometheus was given (--prometheus URL)." in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)


def test_the_report_command_renders_a_monkey_journal(tmp_path: Path) -> None:
    page = tmp_path / "out" / "monkey.html"
    assert main(["report", str(journal(tmp_path / "m.jsonl")), "-o", str(page)]) == 0
    assert "chaosbed monkey: m" in page.read_text()


def test_a_bad_line_is_refused_naming_it(tmp_path: Path) -> None:
    path = journal(tmp_path / "m.jsonl")
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(JournalUnreadable, match=r"m\.jsonl:13: is not JSON"):
        read_monkey_journal(path)
    assert main(["report", str(path)]) == 2


def test_a_journal_that_does_not_start_as_a_monkey_is_not_one(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    path.write_text('{"event": "chosen", "t": 0, "at": "2026-01-01T00:00:00+00:00"}\n')
    assert not is_monkey_journal(path)
    with pytest.raises(JournalUnreadable, match="no `started` line first"):
        read_monkey_journal(path)


@pytest.mark.browser
def test_a_monkey_report_opens_in_chromium_with_its_timeline_and_no_errors(
    tmp_path: Path,
) -> None:
    page = tmp_path / "monkey.html"
    assert main(["report", str(journal(tmp_path / "m.jsonl")), "-o", str(page)]) == 0
    opened = open_page(page, tmp_path / "monkey.png")
    assert opened.attribute("data-errors") == "", opened.attribute("data-errors")
    assert opened.console_errors == []
    assert opened.attribute("data-plots") == "1"
    assert opened.attribute("data-timeline-rows") == "2"
