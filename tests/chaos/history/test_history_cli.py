"""`chaosbed history check`: findings by op id and by device type; stale reads decide."""

from __future__ import annotations

import io
import json
from pathlib import Path

from chaos.cli.main import main
from chaos.history import save_history, value_preferences

from .histories import history, read, write


def _check(tmp_path: Path, *args: str, **kwargs: object) -> tuple[int, str]:
    path = tmp_path / "history.jsonl"
    save_history(path, history(**kwargs))  # type: ignore[arg-type]
    out = io.StringIO()
    code = main(["history", "check", str(path), *args], out=out, err=io.StringIO())
    return code, out.getvalue()


def test_a_stale_read_outside_the_fault_windows_fails_the_check(tmp_path: Path) -> None:
    ops = [write(0, 1, 1, 0.0), write(1, 2, 2, 1.0), read(2, 1, 1, 20.0, device="d4")]
    code, out = _check(tmp_path, ops=ops, final={"m": (2, value_preferences(2))})
    assert code == 1 and "stale ops: 1, 2" in out


def test_the_check_breaks_findings_down_by_device_type(tmp_path: Path) -> None:
    ops = [write(0, 1, 1, 0.0, device="d0"), write(1, 2, 2, 1.0, device="d2")]
    code, out = _check(tmp_path, ops=ops, final={"m": (1, value_preferences(1))})
    assert code == 1 and "lost ops: 1" in out
    assert "  web: 1 ops; lost 1" in out and "  tv: 1 ops; no findings" in out


def test_the_json_report_counts_findings_by_device_type(tmp_path: Path) -> None:
    ops = [write(0, 1, 1, 0.0, device="d0"), write(1, 2, 2, 1.0, device="d2")]
    code, out = _check(tmp_path, "--json", ops=ops, final={"m": (1, value_preferences(1))})
    report = json.loads(out)
    assert report["by_device_type"] == {"web": {"lost": 1}} and report["lost"] == [1]
