"""Opening a page in headless Chromium (Debian's `chromium`): its DOM after the
scripts ran, a screenshot, and what the page's own guard recorded."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = ("--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars")


@dataclass(frozen=True)
class Opened:
    dom: str
    log: str
    screenshot: Path

    def attribute(self, name: str) -> str | None:
        html = re.search(r"<html\b[^>]*>", self.dom)
        found = re.search(rf'\b{name}="([^"]*)"', html.group(0)) if html else None
        return found.group(1) if found else None

    @property
    def console_errors(self) -> list[str]:
        """What the page's guard recorded, and any uncaught error Chromium logged."""
        recorded = self.attribute("data-errors")
        errors = [e for e in (recorded or "").split(" | ") if e]
        errors += re.findall(r"Uncaught .*", self.log)
        return errors


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "these tests need Debian's headless Chromium: `apt-get install -y "
            "--no-install-recommends chromium` (.ci/run installs it)"
        )
    return found


def open_page(page: Path, screenshot: Path, width: int = 1200, height: int = 2400) -> Opened:
    binary = chromium()
    url = page.resolve().as_uri()
    common = [binary, *FLAGS, "--enable-logging=stderr", "--v=0"]
    shot = subprocess.run(
        [*common, f"--screenshot={screenshot}", f"--window-size={width},{height}", url],
        capture_output=True,
        text=True,
        timeout=90,
    )
    dump = subprocess.run(
        [*common, "--virtual-time-budget=2000", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert dump.returncode == 0, dump.stderr[-2000:]
    return Opened(dump.stdout, shot.stderr + dump.stderr, screenshot)
