"""The detached process that ends a pause its monkey left: it counts its wait from
when it was armed, not from its own start (which a busy machine delays)."""

from __future__ import annotations

import time
from pathlib import Path

from chaos.monkey import expiry


def test_the_wait_counts_from_when_it_was_armed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    armed_at = time.time() - 4.0  # its start took 4 s: 1 s of its 5 is left
    began = time.monotonic()
    status = expiry.main(["--runtime", "process", "--state-dir", str(state), "--after", "5",
                          "--armed-at", f"{armed_at:.3f}", "catalog"])  # fmt: skip
    waited = time.monotonic() - began
    assert 0.8 <= waited < 2.5, waited
    assert status == 1  # no stack there: the resume fails, and says so


def test_without_the_arm_time_it_waits_the_whole_ttl_from_its_start(tmp_path: Path) -> None:
    began = time.monotonic()
    status = expiry.main(["--runtime", "process", "--state-dir", str(tmp_path / "state"),
                          "--after", "1.5", "catalog"])  # fmt: skip
    assert time.monotonic() - began >= 1.5
    assert status == 1
