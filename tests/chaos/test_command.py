"""tests/chaos/command.py: the tests' `chaosbed` children run in a session of their
own, and whatever stops a test's wait interrupts them as Ctrl-C would (their rollback
gets its grace), or, when the worker itself dies, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.chaos.command import run_in_own_session

ROOT = Path(__file__).parent.parent.parent

#: A child that says its session and, on SIGINT or SIGTERM, which one it got.
CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    mark = Path(sys.argv[1])
    def stopped(signum, frame):
        mark.write_text(signal.Signals(signum).name)
        sys.exit(130)
    signal.signal(signal.SIGINT, stopped)
    signal.signal(signal.SIGTERM, stopped)
    Path(str(mark) + ".ready").write_text("")
    print(os.getsid(0), flush=True)
    if len(sys.argv) > 2:
        time.sleep(float(sys.argv[2]))
""")


def until_exists(path: Path, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} not written within {timeout_s}s"
        time.sleep(0.02)


def test_the_child_runs_in_a_session_of_its_own_and_its_output_comes_back(
    tmp_path: Path,
) -> None:
    done = run_in_own_session([sys.executable, "-c", CHILD, str(tmp_path / "m")], timeout=30)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) not in (os.getsid(0), 0)
    assert not (tmp_path / "m").exists()  # ended by itself


def test_a_wait_that_times_out_interrupts_the_child_as_ctrl_c_would(tmp_path: Path) -> None:
    mark = tmp_path / "m"
    with pytest.raises(subprocess.TimeoutExpired):
        run_in_own_session([sys.executable, "-c", CHILD, str(mark), "60"], timeout=4)
    assert mark.read_text() == "SIGINT"  # it had the grace to roll back and said so


def test_a_child_outlives_no_worker_killed_outright(tmp_path: Path) -> None:
    """The worker SIGKILLed mid-wait (no except clause runs): the child gets SIGTERM."""
    mark = tmp_path / "m"
    worker = textwrap.dedent(f"""
        import sys
        from tests.chaos.command import run_in_own_session
        run_in_own_session([sys.executable, "-c", {CHILD!r}, {str(mark)!r}, "60"], timeout=60)
    """)
    process = subprocess.Popen([sys.executable, "-c", worker], cwd=ROOT)
    try:
        until_exists(Path(str(mark) + ".ready"))  # the child is up, its handlers set
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
        until_exists(mark)
        assert mark.read_text() == "SIGTERM"
    finally:
        process.kill()
        process.wait()
