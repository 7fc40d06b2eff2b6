"""Interrupting `chaosbed up` (Ctrl-C to the terminal's process group, or SIGTERM) while it
waits for the stack leaves nothing running: no supervisor, no service, every port free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from chaos.project import PROJECT_ROOT
from chaos.runtime import StatePaths, SupervisorState
from chaos.runtime.health import port_free
from chaos.runtime.process.host import pid_alive


def start_up(state_dir: Path, alpha: int, beta: int) -> subprocess.Popen[str]:
    """`up` of a tiny stack whose beta never becomes ready, so `up` keeps waiting."""
    env = {**os.environ, "TINY_NEVER_READY_PORTS": str(beta), "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("CHAOSBED_CONTROL_TOKEN", None)
    argv = ["up", "--state-dir", str(state_dir), "--timeout", "60"]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.chaos.cli.tiny_cli", str(alpha), str(beta), *argv],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal gives a command
    )


def wait_for_both_services(state_dir: Path, cli: subprocess.Popen[str]) -> set[int]:
    """Every pid of the run (supervisor and services), once both services run."""
    state_file = StatePaths.at(state_dir).state_file
    deadline = time.monotonic() + 60  # a bound, not a pace: three Pythons on a busy machine
    while time.monotonic() < deadline:
        assert cli.poll() is None, cli.communicate()
        state = SupervisorState.read(state_file)
        if state and state.supervisor_pid and len(state.pids()) == 2:
            return {state.supervisor_pid, *state.pids()}
        time.sleep(0.05)
    raise AssertionError("the tiny stack did not start within 60s")


@pytest.mark.parametrize(
    ("send", "code", "name"),
    [
        (lambda cli: os.killpg(cli.pid, signal.SIGINT), 130, "SIGINT"),  # Ctrl-C
        (lambda cli: cli.send_signal(signal.SIGTERM), 143, "SIGTERM"),  # kill <pid>
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_an_interrupted_up_leaves_nothing_running(
    tmp_path: Path,
    free_port: Callable[[], int],
    send: Callable[[subprocess.Popen[str]], None],
    code: int,
    name: str,
) -> None:
    alpha, beta = free_port(), free_port()
    state_dir = tmp_path / "state"
    cli = start_up(state_dir, alpha, beta)
    try:
        pids = wait_for_both_services(state_dir, cli)
        send(cli)
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
    assert cli.returncode == code, err
    assert f"chaosbed: interrupted ({name})" in err
    assert sorted(pid for pid in pids if pid_alive(pid)) == []
    assert port_free(alpha) and port_free(beta)
    assert not StatePaths.at(state_dir).pid_file.exists()
