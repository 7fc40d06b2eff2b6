"""The supervisor restarts what exits, honours holds, gives up on what keeps failing."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chaos.runtime import (
    ProcessRuntime,
    RestartPolicy,
    ServiceNeverHealthy,
    ServiceRecord,
    ServiceSpec,
    StatePaths,
    SupervisorState,
)
from chaos.runtime.health import probe
from chaos.runtime.process.host import pid_alive
from chaos.runtime.process.plan_file import Plan
from chaos.runtime.process.supervisor import Supervisor

Eventually = Callable[..., None]
FAST = RestartPolicy(backoff_initial_s=0.05, backoff_max_s=0.1, max_restarts=2, stop_grace_s=2.0)
MakeRuntime = Callable[..., ProcessRuntime]


def record(runtime: ProcessRuntime, name: str) -> ServiceRecord:
    state = SupervisorState.read(runtime.paths.state_file)
    assert state is not None
    found = state.record(name)
    assert found is not None
    return found


def test_supervisor_restarts_a_killed_service(
    runtime: ProcessRuntime, eventually: Eventually
) -> None:
    alpha = runtime.up()[0]
    assert alpha.pid is not None
    os.kill(alpha.pid, signal.SIGKILL)

    def restarted() -> bool:
        now = record(runtime, "alpha")
        return now.pid not in (None, alpha.pid) and now.state == "running"

    eventually(restarted, what="alpha restarted and ready")
    assert record(runtime, "alpha").restarts == 1
    assert probe(runtime.services[0].port, "/readyz").ok


def test_supervisor_keeps_a_held_service_stopped_until_released(
    runtime: ProcessRuntime, eventually: Eventually
) -> None:
    alpha = runtime.up()[0]
    assert alpha.pid is not None
    runtime.paths.hold("alpha")
    eventually(lambda: record(runtime, "alpha").state == "held", what="alpha held")
    assert record(runtime, "alpha").pid is None and not pid_alive(alpha.pid)
    assert probe(alpha.port, "/healthz").status is None

    runtime.paths.release("alpha")
    eventually(lambda: record(runtime, "alpha").state == "running", what="alpha running again")
    assert record(runtime, "alpha").pid not in (None, alpha.pid)


def test_a_held_service_is_not_restarted_even_when_killed(
    runtime: ProcessRuntime, eventually: Eventually
) -> None:
    alpha = runtime.up()[0]
    assert alpha.pid is not None
    runtime.paths.hold("alpha")
    os.kill(alpha.pid, signal.SIGKILL)
    eventually(lambda: record(runtime, "alpha").state == "held", what="alpha held")
    with pytest.raises(AssertionError):
        eventually(lambda: record(runtime, "alpha").pid is not None, timeout_s=1.0)


def test_a_hold_on_a_service_ignoring_sigterm_ends_in_sigkill(
    make_runtime: MakeRuntime, tiny_stack: tuple[ServiceSpec, ...], eventually: Eventually
) -> None:
    runtime = make_runtime(TINY_IGNORE_SIGTERM_PORTS=str(tiny_stack[0].port))
    runtime.up()
    runtime.paths.hold("alpha")
    eventually(lambda: record(runtime, "alpha").state == "held", timeout_s=8.0, what="held")
    assert record(runtime, "alpha").last_exit == -signal.SIGKILL


def test_supervisor_gives_up_on_a_service_that_keeps_exiting(
    make_runtime: MakeRuntime, free_port: Callable[[], int], tiny_module: str
) -> None:
    broken = ServiceSpec("broken", "tests.chaos.runtime.process.no_such_module", free_port())
    runtime = make_runtime(services=(ServiceSpec("alpha", tiny_module, free_port()), broken))
    with pytest.raises(ServiceNeverHealthy) as raised:
        runtime.up()
    assert raised.value.service == "broken"
    assert "gave up" in str(raised.value)
    assert "No module named" in raised.value.log_tail
    assert runtime.supervisor_pid() is None


def test_a_dependent_is_started_only_after_its_dependency_is_ready(
    runtime: ProcessRuntime,
) -> None:
    runtime.up()
    lines = runtime.paths.supervisor_log.read_text().splitlines()
    alpha_ready = next(i for i, line in enumerate(lines) if "alpha is ready" in line)
    beta_started = next(i for i, line in enumerate(lines) if "started beta" in line)
    assert alpha_ready < beta_started


def test_services_learn_their_port_their_peers_and_the_control_token(
    runtime: ProcessRuntime, get_json: Callable[[int, str], Any]
) -> None:
    alpha, beta = runtime.up()
    env = get_json(beta.port, "/env")
    token = runtime.paths.token_file.read_text().strip()
    assert env["CHAOSBED_PORT"] == str(beta.port)
    assert env["CHAOSBED_ALPHA_URL"] == f"http://127.0.0.1:{alpha.port}"
    assert env["CHAOSBED_CONTROL_TOKEN"] == token
    assert env["CHAOSBED_PROFILES_DB"] == str(runtime.paths.data_dir / "beta.db")


def test_a_foreign_server_on_the_port_is_not_taken_for_the_service(
    tmp_path: Path, free_port: Callable[[], int], tiny_module: str
) -> None:
    class Ready(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    foreign = ThreadingHTTPServer(("127.0.0.1", free_port()), Ready)
    thread = threading.Thread(target=foreign.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    paths = StatePaths.at(tmp_path)
    paths.create()
    spec = ServiceSpec("alpha", tiny_module, foreign.server_port)
    supervisor = Supervisor(Plan.of([spec], FAST), paths)
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and "failed" not in seen:
            supervisor.tick()
            seen.add(supervisor.children[0].state)
            time.sleep(0.05)
    finally:
        supervisor.shutdown()
        foreign.shutdown()
        foreign.server_close()
        thread.join()
    assert "running" not in seen and "failed" in seen
