"""Run a command (docker compose, the image build) in a session of its own, and never leave it.

A Ctrl-C in the terminal goes to the terminal's whole process group; the
command, in its own session, does not get it, so chaosbed decides what
happens. On any exception while it runs (KeyboardInterrupt, SIGTERM turned
into one, a timeout), its whole process group gets SIGTERM, then SIGKILL:
`docker compose` runs its work in a plugin process that killing the docker
CLI alone would leave behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence

__all__ = ["run_in_session"]

STOP_GRACE_S = 5.0


def run_in_session(
    command: Sequence[str],
    environ: Mapping[str, str],
    *,
    timeout_s: float,
    capture: bool,
) -> tuple[int, str]:
    """Run `command`; (its exit code, its combined output if `capture`, else "").

    Without `capture`, its output goes to this process's stderr. Raises
    subprocess.TimeoutExpired after `timeout_s`, with the group stopped.
    """
    process = subprocess.Popen(
        list(command),
        env=dict(environ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else 2,
        stderr=subprocess.STDOUT if capture else 2,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except BaseException:
        _stop_group(process)
        raise
    return process.returncode, output or ""


def _stop_group(process: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.communicate(timeout=STOP_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue
