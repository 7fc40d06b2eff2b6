"""Prometheus beside the process runtime's services, on a tiny stack on free ports.

`up` starts it (when the binary is found) and returns once it has scraped
every service; it scrapes the load generator on `load_metrics_host()`; the
supervisor restarts it; `down` stops it. Tests that run the binary are marked
`prometheus`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from chaos.load import LoadMetrics, serve_metrics
from chaos.runtime import (
    PortBusy,
    ProcessRuntime,
    ServiceNeverHealthy,
    ServiceSpec,
    ServiceStatus,
)
from chaos.runtime.health import port_free
from chaos.runtime.process import Plan, PrometheusOptions
from chaos.runtime.process.host import cmdline, pid_alive
from chaos.runtime.process.prometheus_program import unscraped_jobs
from chaos.runtime.prometheus import bundled_rule_files
from chaos.slo import PrometheusReader

Eventually = Callable[..., None]
MakeRuntime = Callable[..., ProcessRuntime]


@pytest.fixture
def options(free_port: Callable[[], int]) -> PrometheusOptions:
    return PrometheusOptions(port=free_port(), load_port=free_port())


@pytest.fixture
def runtime_with_prometheus(
    make_runtime: MakeRuntime, options: PrometheusOptions
) -> ProcessRuntime:
    return make_runtime(prometheus=options)


def prometheus_status(runtime: ProcessRuntime) -> ServiceStatus:
    (found,) = [s for s in runtime.status() if s.name == "prometheus"]
    return found


@pytest.mark.prometheus
def test_up_returns_once_prometheus_is_ready_and_has_scraped_every_service(
    runtime_with_prometheus: ProcessRuntime, options: PrometheusOptions
) -> None:
    statuses = runtime_with_prometheus.up()
    assert options.port is not None  # the fixture gave it a free port
    assert unscraped_jobs(options.port, ["alpha", "beta"]) == []
    assert [(s.name, s.port, s.state, s.ready) for s in statuses][2] == (
        "prometheus",
        options.port,
        "running",
        True,
    )
    assert runtime_with_prometheus.prometheus_url() == f"http://127.0.0.1:{options.port}"


@pytest.mark.prometheus
def test_status_of_another_runtime_on_the_state_dir_shows_prometheus(
    runtime_with_prometheus: ProcessRuntime,
    make_runtime: MakeRuntime,
    eventually: Eventually,
) -> None:
    runtime_with_prometheus.up()
    later = make_runtime()  # as `chaosbed status` makes it: the plan says Prometheus runs
    expected = [
        ("alpha", "running", True, True),
        ("beta", "running", True, True),
        ("prometheus", "running", True, True),
    ]
    seen: list[object] = []

    def shown() -> bool:  # each status probes once: one answered late is no error
        seen[:] = [(s.name, s.state, s.healthy, s.ready) for s in later.status()]
        return seen == expected

    with contextlib.suppress(AssertionError):
        eventually(shown, timeout_s=15)
    assert seen == expected
    assert later.prometheus_url() == runtime_with_prometheus.prometheus_url()


@pytest.mark.prometheus
async def test_prometheus_runs_the_compose_rules_from_its_dir_under_the_state_dir(
    runtime_with_prometheus: ProcessRuntime, options: PrometheusOptions
) -> None:
    await asyncio.to_thread(runtime_with_prometheus.up)
    home = runtime_with_prometheus.paths.prometheus_dir
    pid = prometheus_status(runtime_with_prometheus).pid
    assert pid is not None
    args = cmdline(pid) or []
    assert f"--config.file={home / 'prometheus.yml'}" in args
    assert f"--storage.tsdb.path={home / 'data'}" in args
    assert f"--web.listen-address=127.0.0.1:{options.port}" in args
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{options.port}/api/v1/rules"
        async with session.get(url) as response:
            groups = (await response.json())["data"]["groups"]
    loaded = sorted({Path(group["file"]).name for group in groups})
    assert loaded == sorted(path.name for path in bundled_rule_files())
    assert all(Path(group["file"]).parent == home / "rules" for group in groups)


@pytest.fixture
async def reader(options: PrometheusOptions) -> AsyncIterator[PrometheusReader]:
    async with aiohttp.ClientSession() as session:
        yield PrometheusReader(f"http://127.0.0.1:{options.port}", session=session)


async def eventually_equal(
    reader: PrometheusReader, promql: str, value: float, timeout_s: float = 20.0
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (seen := await reader.query(promql)) != value:
        assert asyncio.get_running_loop().time() < deadline, f"{promql} = {seen}, not {value}"
        await asyncio.sleep(0.25)


@pytest.mark.prometheus
async def test_prometheus_scrapes_the_load_generator_on_load_metrics_host(
    runtime_with_prometheus: ProcessRuntime, options: PrometheusOptions, reader: PrometheusReader
) -> None:
    await asyncio.to_thread(runtime_with_prometheus.up)
    host = runtime_with_prometheus.load_metrics_host()
    assert host == "127.0.0.1"
    await eventually_equal(reader, 'up{job="load"}', 0)  # scraped, and nothing serves it yet
    metrics = LoadMetrics()
    metrics.requests.labels("play", "playback", "control", "ok").inc(3)
    assert options.load_port is not None  # the fixture gave it a free port
    async with serve_metrics(metrics.registry, host, options.load_port):
        await eventually_equal(reader, 'up{job="load"}', 1)
        member_series = 'sum(chaosbed_member_requests_total{job="load",outcome="ok"})'
        assert await reader.query(member_series) == 3


@pytest.mark.prometheus
def test_a_killed_prometheus_is_restarted_by_the_supervisor(
    runtime_with_prometheus: ProcessRuntime, eventually: Eventually
) -> None:
    runtime_with_prometheus.up()
    victim = prometheus_status(runtime_with_prometheus).pid
    assert victim is not None
    os.kill(victim, signal.SIGKILL)

    def back() -> bool:
        now = prometheus_status(runtime_with_prometheus)
        return now.pid not in (None, victim) and now.state == "running" and now.ready

    eventually(back, timeout_s=30, what="prometheus restarted and ready")
    assert prometheus_status(runtime_with_prometheus).restarts == 1


@pytest.mark.prometheus
def test_down_stops_prometheus(
    runtime_with_prometheus: ProcessRuntime, options: PrometheusOptions
) -> None:
    runtime_with_prometheus.up()
    pid = prometheus_status(runtime_with_prometheus).pid
    assert pid is not None
    assert runtime_with_prometheus.down()
    assert not pid_alive(pid)
    assert options.port is not None  # the fixture gave it a free port
    assert port_free(options.port)
    assert runtime_with_prometheus.prometheus_url() is None
    assert prometheus_status(runtime_with_prometheus).state == "stopped"


@pytest.mark.prometheus
def test_a_failed_up_stops_prometheus_too(
    make_runtime: MakeRuntime, options: PrometheusOptions, tiny_stack: tuple[ServiceSpec, ...]
) -> None:
    never_ready = str(tiny_stack[1].port)
    runtime = make_runtime(
        prometheus=options, ready_timeout_s=4.0, TINY_NEVER_READY_PORTS=never_ready
    )
    with pytest.raises(ServiceNeverHealthy, match="beta"):
        runtime.up()
    assert runtime.supervisor_pid() is None
    assert options.port is not None  # the fixture gave it a free port
    assert port_free(options.port)  # Prometheus, started first, is gone
    assert all(port_free(spec.port) for spec in tiny_stack)


@pytest.mark.prometheus
def test_up_fails_naming_the_services_prometheus_could_not_scrape(
    make_runtime: MakeRuntime, options: PrometheusOptions, tiny_stack: tuple[ServiceSpec, ...]
) -> None:
    runtime = make_runtime(
        prometheus=options, ready_timeout_s=15.0, TINY_NO_METRICS_PORTS=str(tiny_stack[0].port)
    )
    with pytest.raises(ServiceNeverHealthy, match="prometheus .* has not scraped alpha yet"):
        runtime.up()
    assert options.port is not None  # the fixture gave it a free port
    assert port_free(options.port)


@pytest.mark.prometheus
def test_up_refuses_a_busy_prometheus_port_naming_it_and_starts_nothing(
    runtime_with_prometheus: ProcessRuntime, options: PrometheusOptions
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", options.port))
        listener.listen()
        with pytest.raises(
            PortBusy, match=f"port {options.port} on 127.0.0.1, needed by prometheus"
        ):
            runtime_with_prometheus.up()
    assert runtime_with_prometheus.supervisor_pid() is None
    assert all(port_free(spec.port) for spec in runtime_with_prometheus.services)


def test_without_the_binary_up_runs_the_services_alone(
    make_runtime: MakeRuntime, free_port: Callable[[], int]
) -> None:
    port = free_port()
    runtime = make_runtime(
        prometheus=PrometheusOptions(binary="/nonexistent/prometheus", port=port)
    )
    assert [s.name for s in runtime.up()] == ["alpha", "beta"]
    assert runtime.prometheus_url() is None
    plan = Plan.read(runtime.paths.plan_file)
    assert plan.prometheus is None
    assert port_free(port)
    assert not runtime.paths.prometheus_dir.exists()
