"""The README's first command: the short game day on the process runtime
ends with every experiment as predicted, prints the verdict table and the
report's path, and the report opens in headless Chromium without errors.
Needs the stack's ports free (the usual 8081-8086, 9090 and 9095, or the
block from CHAOSBED_PORT_BASE; `pytest -m e2e`) and Chromium."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chaos.runtime.process import ProcessRuntime

from ..report.browser import chromium, open_page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SHORT = Path(__file__).parents[3] / "chaos" / "gamedays" / "short.yaml"


#: Every slot, as the evening peak: its three acts on one stack are judged on 99%
#: objectives with no second run, and beside two stacks its recommendations-killed
#: read plays at 93-99% after the restart (never recovered within 20 s) in a
#: clean-clone run.
@pytest.mark.stacks(99)
def test_the_short_game_day_holds_as_predicted_and_its_report_opens(tmp_path: Path) -> None:
    chromium()  # fail before a few minutes of game day, not after
    state, out = tmp_path / "state", tmp_path / "out"

    def chaosbed(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "chaos", *argv, "--state-dir", str(state)],
            capture_output=True, text=True, timeout=600, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    assert chaosbed("up").returncode == 0
    try:
        done = chaosbed("gameday", str(SHORT), "--out", str(out))
    finally:
        ProcessRuntime(state).down()
    sys.stdout.write(done.stdout[-5000:] + done.stderr[-2000:])
    assert done.returncode == 0, done.stdout[-3000:]
    assert "3 of 3 as predicted" in done.stdout
    assert f"report: {out / 'report.html'}" in done.stdout
    opened = open_page(out / "report.html", tmp_path / "report.png")
    assert opened.console_errors == []
    assert int(opened.attribute("data-plots") or 0) == 9
    assert int(opened.attribute("data-timeline-rows") or 0) > 30
