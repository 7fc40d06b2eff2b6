"""The shipped experiment library, for the tests that run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import chaos
from chaos.experiment import load_experiment

LIBRARY = Path(chaos.__file__).parent / "experiments"
EXPERIMENTS = sorted(LIBRARY.glob("*.yaml"))
PREDICTED_EXIT = {"held": 0, "deviated": 1}
#: Where, under the suite's shared directory, the process library keeps its journals.
PROCESS_LIBRARY_JOURNALS = "process-library-journals"


def experiments_for(runtime: str) -> list[Path]:
    """The library's experiments that run in `runtime` (no `runtimes:` means every one)."""
    return [p for p in EXPERIMENTS if runtime in (load_experiment(p).runtimes or (runtime,))]


def check_run(path: Path, journal: dict[str, Any], status: int, cleanup_output: str) -> None:
    """A library run ended as its experiment predicts, every fault verified and
    rolled back, and nothing left over."""
    predicts = load_experiment(path).predicts
    assert status == PREDICTED_EXIT[predicts], journal["reasons"]
    assert journal["verdict"] == predicts
    assert all(f["verified_at"] is not None for f in journal["faults"]), journal["faults"]
    assert all(f["rolled_back_at"] is not None and not f["error"] for f in journal["faults"])
    assert "nothing left over" in cleanup_output, cleanup_output


def chaosbed(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`chaosbed ARGV` in a child process; its output is echoed for the test report."""
    done = subprocess.run(
        [sys.executable, "-m", "chaos", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    sys.stdout.write(done.stdout[-3000:] + done.stderr[-3000:])
    return done
