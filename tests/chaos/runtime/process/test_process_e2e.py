"""End to end with the process runtime: the real stack on the real ports, a real kill.

`chaosbed up` → traffic through all four services → SIGKILL profiles →
recommendations keeps answering 200, degraded, and its breaker on profiles
opens → the supervisor restarts profiles → the breaker closes again →
`chaosbed down` leaves none of the run's processes behind. With the
`prometheus` binary installed, `up` runs Prometheus beside the services
(tests marked `prometheus` too check it: it has scraped every service when
`up` returns, it scrapes the load generator on 9095, `down` stops it).

It needs the stack's ports free on 127.0.0.1 (8081-8086, 9090 and 9095, or the block of
CHAOSBED_PORT_BASE). Run it with `pytest -m e2e`.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chaos.cli import main
from chaos.load import LoadMetrics, serve_metrics
from chaos.project import PROJECT_ROOT
from chaos.runtime import ProcessRuntime, StackPorts, StatePaths, SupervisorState
from chaos.runtime.control_token import read_token
from chaos.runtime.health import port_free
from chaos.runtime.process.host import pid_alive
from chaos.runtime.process.prometheus_program import unscraped_jobs
from chaos.slo import PrometheusReader

pytestmark = pytest.mark.e2e

#: The stack `up` starts here: the usual ports, or those of CHAOSBED_PORT_BASE.
LAYOUT = StackPorts.from_environment()
PORT = dict(LAYOUT.services)
PROMETHEUS_PORT = LAYOUT.prometheus
LOAD_GENERATOR_PORT = LAYOUT.load
#: Every port the run may listen on: the services and Prometheus.
ALL_PORTS = (*PORT.values(), PROMETHEUS_PORT)
BREAKER = "chaosbed_circuit_breaker_state"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


def call(
    service: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", PORT[service], timeout=5)
    try:
        payload = None if body is None else json.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        raw = response.read()
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return Reply(response.status, json.loads(raw) if is_json else raw.decode())
    finally:
        connection.close()


def breaker_state(dependency: str) -> float | None:
    """recommendations' breaker on `dependency`, from its /metrics (0 closed, 1 open, 2 half)."""
    text = call("recommendations", "GET", "/metrics").body
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == BREAKER and sample.labels == {
                "service": "recommendations",
                "dependency": dependency,
            }:
                return sample.value
    return None


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout_s:.0f}s")
        time.sleep(0.1)


@dataclass
class Homepages:
    """Member traffic: GET /recommendations/m-1 in a loop, in a thread, every answer kept."""

    replies: list[Reply] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.replies.append(call("recommendations", "GET", "/recommendations/m-1"))
            except (OSError, http.client.HTTPException) as error:
                self.errors.append(repr(error))
            self.stop.wait(0.02)

    def degraded_since(self, index: int) -> bool:
        return any(r.status == 200 and r.body["degraded"] for r in self.replies[index:])

    def whole_since(self, index: int) -> bool:
        return any(r.status == 200 and not r.body["degraded"] for r in self.replies[index:])


@dataclass
class Stack:
    state_dir: Path
    pids: set[int] = field(default_factory=set)

    def state(self) -> SupervisorState:
        state = SupervisorState.read(StatePaths.at(self.state_dir).state_file)
        assert state is not None and state.supervisor_pid is not None
        self.pids.add(state.supervisor_pid)
        self.pids.update(state.pids())
        return state

    def pid_of(self, service: str) -> int:
        record = self.state().record(service)
        assert record is not None and record.pid is not None
        return record.pid

    def programs(self) -> int:
        """How many programs the supervisor runs: the services, and Prometheus if found."""
        return len(self.state().services)

    def down_leaves_nothing(self) -> None:
        """`chaosbed down`, then: no pid this run recorded is alive, every port is free."""
        self.state()
        assert main(["down", "--runtime", "process", "--state-dir", str(self.state_dir)]) == 0
        assert sorted(pid for pid in self.pids if pid_alive(pid)) == []
        assert all(port_free(port) for port in ALL_PORTS)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    state_dir = tmp_path / "state"
    argv = ["up", "--runtime", "process", "--state-dir", str(state_dir), "--timeout", "120"]
    assert main(argv) == 0
    try:
        yield Stack(state_dir)
    finally:
        ProcessRuntime(state_dir).down()  # whatever happened above, nothing stays running


@pytest.fixture
def homepages() -> Iterator[Homepages]:
    traffic = Homepages()
    thread = threading.Thread(target=traffic.run, daemon=True)
    thread.start()
    try:
        yield traffic
    finally:
        traffic.stop.set()
        thread.join(timeout=10)


def test_traffic_flows_through_all_four_services(stack: Stack) -> None:
    def whole_homepage() -> bool:  # a stall may degrade the first one, right after `up`
        homepage = call("recommendations", "GET", "/recommendations/m-1")
        body = homepage.body
        return homepage.status == 200 and bool(body["rows"]) and not body["degraded"]

    wait_until(whole_homepage, 10, "a whole homepage")
    play = call("playback", "POST", "/playback/start", {"member": "m-1", "title": 1})
    assert play.status == 200 and "manifest" in play.body
    title = call("catalog", "GET", "/titles/1")
    assert title.status == 200 and title.body["id"] == 1
    key = {"Idempotency-Key": uuid.uuid4().hex}
    update = call("profiles", "PATCH", "/profiles/m-1", {"subtitles": True}, key)
    assert update.status == 200 and update.body["preferences"]["subtitles"] is True


def test_killed_profiles_degrades_recommendations_then_recovers(
    stack: Stack, homepages: Homepages
) -> None:
    wait_until(lambda: homepages.whole_since(0), 10, "a whole homepage before the kill")
    # closed before the kill (a stall of the machine may have opened it for a second)
    wait_until(lambda: breaker_state("profiles") == 0, 10, "breaker on profiles closed")
    stack.state()  # remember every pid of the run before the kill
    killed_at = len(homepages.replies)
    killed = asyncio.run(ProcessRuntime(stack.state_dir).kill("profiles"))  # SIGKILL
    victim = killed.pid
    assert killed.state == "running" and victim is not None

    wait_until(lambda: breaker_state("profiles") == 1, 20, "breaker on profiles opened")
    wait_until(lambda: homepages.degraded_since(killed_at), 10, "a degraded homepage")

    def profiles_restarted() -> bool:
        record = stack.state().record("profiles")
        return record is not None and record.pid not in (None, victim) and record.state == "running"

    wait_until(profiles_restarted, 60, "profiles restarted by the supervisor")
    assert call("profiles", "GET", "/readyz").status == 200
    assert stack.state().record("profiles").restarts == 1  # type: ignore[union-attr]

    wait_until(lambda: breaker_state("profiles") == 0, 60, "breaker on profiles closed again")
    recovered_at = len(homepages.replies)
    wait_until(lambda: homepages.whole_since(recovered_at), 10, "a whole homepage again")

    homepages.stop.set()
    assert homepages.errors == []
    assert {reply.status for reply in homepages.replies} == {200}
    # the supervisor, its programs (4 services, Prometheus if installed), 1 restart
    assert victim in stack.pids and len(stack.pids) == 1 + stack.programs() + 1
    stack.down_leaves_nothing()


def test_down_leaves_no_process_of_the_run_behind(stack: Stack) -> None:
    stack.state()
    assert len(stack.pids) == 1 + stack.programs()
    stack.down_leaves_nothing()


def test_demo_degrades_the_homepage_under_its_fault_and_leaves_no_fault(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--state-dir", str(stack.state_dir)]) == 0

    shown = capsys.readouterr().out
    assert "degraded=False, fallback=None" in shown  # before the fault
    assert "degraded=True, fallback=default_preferences" in shown  # under it
    token = read_token(StatePaths.at(stack.state_dir), {})
    auth = {"Authorization": f"Bearer {token}"}
    assert call("recommendations", "GET", "/_chaos/faults", headers=auth).body["faults"] == []


def test_ctrl_c_during_up_leaves_nothing_running(tmp_path: Path) -> None:
    """A real `chaosbed up`, and Ctrl-C (SIGINT to its process group) while services start."""
    state_dir = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if k != "CHAOSBED_CONTROL_TOKEN"}
    up = subprocess.Popen(
        [sys.executable, "-m", "chaos", "up", "--state-dir", str(state_dir), "--timeout", "120"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    stack = Stack(state_dir)
    try:

        def a_service_started() -> bool:
            assert up.poll() is None, up.communicate()
            state = SupervisorState.read(StatePaths.at(state_dir).state_file)
            return state is not None and bool(state.pids())

        wait_until(a_service_started, 30, "the supervisor started a service")
        stack.state()  # remember the pids of the run
        os.killpg(up.pid, signal.SIGINT)
        _, err = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
        ProcessRuntime(state_dir).down()
    assert up.returncode == 130, err
    assert "chaosbed: interrupted (SIGINT)" in err
    assert len(stack.pids) >= 2  # the supervisor and at least one service were running
    assert sorted(pid for pid in stack.pids if pid_alive(pid)) == []
    assert all(port_free(port) for port in ALL_PORTS)


@pytest.mark.prometheus
def test_up_returns_with_prometheus_having_scraped_every_service(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert unscraped_jobs(PROMETHEUS_PORT, list(PORT)) == []
    assert ProcessRuntime(stack.state_dir).prometheus_url() == f"http://127.0.0.1:{PROMETHEUS_PORT}"
    capsys.readouterr()
    assert main(["status", "--state-dir", str(stack.state_dir)]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    prometheus = rows["prometheus"]
    assert prometheus[1:2] + prometheus[3:5] == [str(PROMETHEUS_PORT), "running", "ready"]


@pytest.mark.prometheus
async def test_prometheus_scrapes_member_metrics_served_on_load_metrics_host(stack: Stack) -> None:
    runtime = ProcessRuntime(stack.state_dir)
    url = runtime.prometheus_url()
    assert url is not None
    metrics = LoadMetrics()
    metrics.requests.labels("homepage", "recommendations", "control", "ok").inc(5)
    host = runtime.load_metrics_host()
    async with (
        serve_metrics(metrics.registry, host, LOAD_GENERATOR_PORT),
        aiohttp.ClientSession() as session,
    ):
        reader = PrometheusReader(url, session=session)
        deadline = time.monotonic() + 20
        while await reader.query('up{job="load"}') != 1:
            assert time.monotonic() < deadline, "Prometheus did not scrape the load job"
            await asyncio.sleep(0.25)
        seen = await reader.query('sum(chaosbed_member_requests_total{job="load"})')
    assert seen == 5
