"""A command run in a session of its own is never left behind by an interrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from chaos.runtime import session
from chaos.runtime.process.host import pid_alive


def wait_for_pid(path: Path) -> int:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.01)
    raise AssertionError(f"{path} never written")


def test_a_ctrl_c_that_lands_while_the_command_is_being_started_still_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"

    class InterruptedWhileStarting(subprocess.Popen[str]):
        """Ctrl-C arrives once the child runs but before Popen has returned."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[call-overload]
            wait_for_pid(pid_file)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the interrupt is due here, inside Popen

    # the very module `session` starts its children with (`session.subprocess is subprocess`)
    monkeypatch.setattr(subprocess, "Popen", InterruptedWhileStarting)

    with pytest.raises(KeyboardInterrupt):
        session.run_in_session(
            ["sh", "-c", f'echo $$ > "{pid_file}"; exec sleep 30'],
            os.environ,
            timeout_s=30,
            capture=True,
        )

    assert not pid_alive(int(pid_file.read_text()))


def test_the_command_gets_default_signal_handling_not_ours(tmp_path: Path) -> None:
    code, output = session.run_in_session(
        ["sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"],
        os.environ,
        timeout_s=30,
        capture=True,
    )
    fields = dict(line.split(":\t") for line in output.strip().splitlines())
    blocked, ignored = int(fields["SigBlk"], 16), int(fields["SigIgn"], 16)
    for sig in (signal.SIGINT, signal.SIGTERM):
        assert not blocked & (1 << (sig - 1)), output
        assert not ignored & (1 << (sig - 1)), output
    assert code == 0


def test_a_group_that_outlasts_the_grace_periods_is_still_reaped_before_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No grace at all (a loaded machine, where a killed process takes longer to go
    than the grace periods): the command is still ended and reaped, not left running
    or a zombie behind the timeout."""
    monkeypatch.setattr(session, "STOP_GRACE_S", 0.0)
    pid_file = tmp_path / "pid"
    with pytest.raises(subprocess.TimeoutExpired):
        session.run_in_session(
            ["sh", "-c", f'echo $$ > "{pid_file}"; exec sleep 30'],
            os.environ,
            timeout_s=0.5,
            capture=True,
        )
    pid = wait_for_pid(pid_file)
    assert not Path(f"/proc/{pid}").exists()  # not even a zombie: reaped
