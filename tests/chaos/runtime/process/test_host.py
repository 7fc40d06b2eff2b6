import os
import signal
import socket
import subprocess
import sys

from chaos.runtime.health import port_free
from chaos.runtime.process.host import (
    listens_on,
    pid_alive,
    pid_runs,
    signal_name,
    terminate,
)


def test_a_port_with_a_listener_is_not_free() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_free(listener.getsockname()[1])


def test_a_port_nobody_listens_on_is_free() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert port_free(port)


def test_an_exited_child_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


def test_terminate_stops_a_process_that_ignores_sigterm() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ignoring', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, "marker-for-test"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ignoring\n"
        assert pid_runs(child.pid, "marker-for-test")
        assert terminate([child.pid], grace_s=0.5) == []
        assert child.wait(timeout=5) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()


def test_pid_runs_rejects_a_live_pid_running_something_else() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not pid_runs(child.pid, "services.catalog")
    finally:
        child.kill()
        child.wait()


def test_return_codes_are_described_as_exit_status_or_signal() -> None:
    assert (signal_name(3), signal_name(-9)) == ("exit status 3", "signal SIGKILL")


def test_listens_on_tells_which_process_holds_a_listening_port() -> None:
    code = (
        "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
        "print(s.getsockname()[1], flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        assert listens_on(child.pid, port) is True
        assert listens_on(os.getpid(), port) is False
    finally:
        child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
