"""`chaosbed ARGV` in a child process, for the end-to-end tests that drive the CLI."""

from __future__ import annotations

import subprocess
import sys

__all__ = ["chaosbed"]


def chaosbed(
    *argv: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run it; the tail of its output is echoed for the test report."""
    done = subprocess.run(
        [sys.executable, "-m", "chaos", *argv],
        capture_output=True, text=True, timeout=timeout, check=False, env=env,
    )  # fmt: skip
    sys.stdout.write(done.stdout[-6000:] + done.stderr[-2000:])
    return done
