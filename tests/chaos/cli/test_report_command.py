"""`chaosbed report`: writes the page beside the journal, or exits 2 naming the field."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from chaos.cli import main
from chaos.exitcodes import ExitCode

from ..report.conftest import HUNG


def test_report_writes_the_page_beside_the_journal_by_default(tmp_path: Path) -> None:
    journal = tmp_path / "journal.json"
    shutil.copy(HUNG, journal)
    out = io.StringIO()
    assert main(["report", str(journal)], out=out) == ExitCode.OK
    page = tmp_path / "journal.html"
    assert f"report: {page}" in out.getvalue()
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_report_of_a_bad_journal_exits_2_naming_the_field(tmp_path: Path) -> None:
    doc = json.loads(HUNG.read_text())
    del doc["reasons"]
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps(doc))
    err = io.StringIO()
    assert main(["report", str(journal)], err=err) == ExitCode.INVALID_INPUT
    assert "journal.json.reasons: missing" in err.getvalue()
    assert not (tmp_path / "journal.html").exists()
