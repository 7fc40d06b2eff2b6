"""`up`, `down` and `status` of the process runtime, on a tiny stack on free ports."""

from __future__ import annotations

import os
import signal
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chaos.runtime import (
    AlreadyRunning,
    PortBusy,
    ProcessRuntime,
    ServiceNeverHealthy,
    ServiceSpec,
)
from chaos.runtime.health import port_free
from chaos.runtime.process.host import pid_alive

Eventually = Callable[..., None]
MakeRuntime = Callable[..., ProcessRuntime]


@pytest.fixture
def listener(tiny_stack: tuple[ServiceSpec, ...]) -> Iterator[socket.socket]:
    """Something else listening on beta's port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", tiny_stack[1].port))
        sock.listen()
        yield sock


def all_pids(runtime: ProcessRuntime) -> list[int]:
    supervisor = runtime.supervisor_pid()
    assert supervisor is not None
    return [supervisor] + [s.pid for s in runtime.status() if s.pid is not None]


def test_up_returns_once_every_service_is_ready(runtime: ProcessRuntime) -> None:
    statuses = runtime.up()
    assert [(s.name, s.state, s.healthy, s.ready) for s in statuses] == [
        ("alpha", "running", True, True),
        ("beta", "running", True, True),
    ]
    assert all(s.pid is not None and pid_alive(s.pid) for s in statuses)


def test_up_refuses_a_busy_port_naming_service_and_port(
    runtime: ProcessRuntime, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    with pytest.raises(PortBusy, match=f"port {port} on 127.0.0.1, needed by beta"):
        runtime.up()


def test_up_refused_for_a_busy_port_starts_nothing(
    runtime: ProcessRuntime, listener: socket.socket
) -> None:
    with pytest.raises(PortBusy):
        runtime.up()
    assert runtime.supervisor_pid() is None
    assert not runtime.paths.pid_file.exists()
    assert port_free(runtime.services[0].port)


def test_a_second_up_is_refused_and_leaves_the_running_stack_alone(
    runtime: ProcessRuntime, make_runtime: MakeRuntime
) -> None:
    before = runtime.up()
    with pytest.raises(AlreadyRunning, match="already running from .*supervisor pid"):
        make_runtime().up()
    after = runtime.status()
    assert [s.pid for s in after] == [s.pid for s in before]
    assert all(s.ready for s in after)


def test_down_leaves_no_process_behind(runtime: ProcessRuntime) -> None:
    runtime.up()
    pids = all_pids(runtime)
    assert runtime.down() is True
    assert [pid for pid in pids if pid_alive(pid)] == []
    assert all(port_free(spec.port) for spec in runtime.services)
    assert not runtime.paths.pid_file.exists()


def test_down_when_nothing_runs_reports_that_nothing_was_stopped(
    runtime: ProcessRuntime,
) -> None:
    assert runtime.down() is False


def test_down_after_a_restart_stops_the_new_process_too(
    runtime: ProcessRuntime, eventually: Eventually
) -> None:
    old = runtime.up()[0].pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    eventually(lambda: runtime.status()[0].pid not in (None, old), what="alpha restarted")
    pids = all_pids(runtime)
    runtime.down()
    assert [pid for pid in pids if pid_alive(pid)] == []


def test_up_gives_up_on_a_service_that_never_becomes_ready_and_stops_everything(
    make_runtime: MakeRuntime, tiny_stack: tuple[ServiceSpec, ...]
) -> None:
    beta_port = tiny_stack[1].port
    runtime = make_runtime(ready_timeout_s=2.0, TINY_NEVER_READY_PORTS=str(beta_port))
    with pytest.raises(ServiceNeverHealthy, match=f"beta \\(port {beta_port}\\) was not ready"):
        runtime.up()
    assert runtime.supervisor_pid() is None
    assert all(port_free(spec.port) for spec in tiny_stack)


def test_a_supervisor_killed_outright_takes_its_services_with_it(
    runtime: ProcessRuntime, eventually: Eventually
) -> None:
    runtime.up()
    pids = all_pids(runtime)
    os.kill(pids[0], signal.SIGKILL)
    eventually(lambda: not any(pid_alive(pid) for pid in pids), what="every process gone")
    assert [s.state for s in runtime.status()] == ["stopped", "stopped"]


def test_pid_of_gives_the_recorded_pid_of_a_running_service(runtime: ProcessRuntime) -> None:
    alpha = runtime.up()[0]
    assert runtime.pid_of("alpha") == alpha.pid


def test_pid_of_gives_none_when_nothing_runs(runtime: ProcessRuntime) -> None:
    assert runtime.pid_of("alpha") is None


def test_status_when_nothing_runs_reports_every_service_stopped(
    runtime: ProcessRuntime,
) -> None:
    assert [(s.name, s.state, s.pid, s.healthy) for s in runtime.status()] == [
        ("alpha", "stopped", None, False),
        ("beta", "stopped", None, False),
    ]


def test_status_reports_a_paused_service(runtime: ProcessRuntime) -> None:
    alpha = runtime.up()[0]
    assert alpha.pid is not None
    os.kill(alpha.pid, signal.SIGSTOP)
    try:
        paused = runtime.status()[0]
    finally:
        os.kill(alpha.pid, signal.SIGCONT)
    assert (paused.state, paused.healthy) == ("paused", False)


def test_up_stores_a_generated_control_token_for_the_owner_only(
    runtime: ProcessRuntime,
) -> None:
    runtime.up()
    token_file: Path = runtime.paths.token_file
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert len(token_file.read_text().strip()) >= 32


def test_down_after_the_supervisor_died_stops_its_orphaned_services(
    make_runtime: MakeRuntime, tiny_stack: tuple[ServiceSpec, ...], eventually: Eventually
) -> None:
    runtime = make_runtime(TINY_IGNORE_SIGTERM_PORTS=str(tiny_stack[0].port))
    runtime.up()
    pids = all_pids(runtime)
    os.kill(pids[0], signal.SIGKILL)  # alpha ignores the SIGTERM it gets when its parent dies
    eventually(lambda: runtime.status()[0].state == "orphaned", what="alpha orphaned")
    assert runtime.down() is True
    assert [pid for pid in pids if pid_alive(pid)] == []
