"""The compose stack's Prometheus, as the docker runtime offers it to the runner: its URL,
and where the load generator binds its metrics so that Prometheus scrapes them (job
`load`). The scraping itself needs the engine (marker `docker`)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.load import LoadMetrics, serve_metrics
from chaos.runtime.docker import DockerRuntime, default_compose_file
from chaos.runtime.docker.engine import hosts_entry
from chaos.runtime.errors import NotRunning
from chaos.slo import PrometheusReader
from tests.compose.compose_support import require_docker_images

from .support import PROJECT, PROMETHEUS_PORT, TOKEN, FakeDocker, fake_runtime, runtime_for

HOSTS = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
172.17.0.1\thost.docker.internal
172.18.0.5\tab12cd34ef56
"""


def test_hosts_entry_is_the_address_on_the_line_naming_the_host() -> None:
    assert hosts_entry(HOSTS, "host.docker.internal") == "172.17.0.1"
    assert hosts_entry(HOSTS, "ip6-loopback") == "::1"
    assert hosts_entry(HOSTS, "host.docker") is None
    assert hosts_entry("# 10.0.0.1 host.docker.internal\n", "host.docker.internal") is None


names = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,2}", fullmatch=True)


@given(
    address=st.ip_addresses(v=4).map(str),
    name=names,
    others=st.lists(st.tuples(st.ip_addresses().map(str), names), max_size=5),
    aliases=st.lists(names, max_size=2),
)
def test_hosts_entry_finds_a_name_among_any_other_lines_and_aliases(
    address: str, name: str, others: list[tuple[str, str]], aliases: list[str]
) -> None:
    lines = [f"{ip} {other}" for ip, other in others if other != name and other not in aliases]
    lines.append("\t".join([address, *aliases, name]))
    assert hosts_entry("\n".join(lines) + "\n", name) == address


def test_prometheus_url_is_compose_prometheus_on_loopback(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    runtime = fake_runtime(tmp_path, free_port, FakeDocker(tmp_path), [])
    assert runtime.prometheus_url() == f"http://127.0.0.1:{runtime.prometheus.port}"


def test_load_metrics_host_needs_a_running_prometheus_container(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    runtime = fake_runtime(tmp_path, free_port, FakeDocker(tmp_path), [])
    with pytest.raises(NotRunning, match="no running prometheus container"):
        runtime.load_metrics_host()


# -- against the engine ----------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerRuntime]:
    require_docker_images()
    runtime = runtime_for(tmp_path_factory.mktemp("docker-prometheus"))
    try:
        runtime.up()
        yield runtime
    finally:
        subprocess.run(
            ["docker", "compose", "-p", PROJECT, "-f", str(default_compose_file({})), "down", "-v"],
            env={**os.environ, "CHAOSBED_CONTROL_TOKEN": TOKEN},
            capture_output=True,
            timeout=180,
            check=False,
        )


@pytest.mark.docker
def test_load_metrics_host_is_an_address_of_this_host_never_a_wildcard(
    stack: DockerRuntime,
) -> None:
    address = ipaddress.ip_address(stack.load_metrics_host())
    assert not address.is_unspecified and not address.is_loopback
    assert stack.prometheus_url() == f"http://127.0.0.1:{PROMETHEUS_PORT}"


@pytest.mark.docker
async def test_prometheus_scrapes_member_metrics_served_on_load_metrics_host(
    stack: DockerRuntime,
) -> None:
    host = await asyncio.to_thread(stack.load_metrics_host)
    metrics = LoadMetrics()
    metrics.requests.labels("play", "playback", "experiment", "ok").inc(7)
    async with (
        serve_metrics(metrics.registry, host, stack.load_metrics_port()),
        aiohttp.ClientSession() as session,
    ):
        reader = PrometheusReader(stack.prometheus_url(), session=session)
        deadline = time.monotonic() + 60
        while await reader.query('up{job="load"}') != 1:
            assert time.monotonic() < deadline, f'up{{job="load"}} not 1 within 60s ({host})'
            await asyncio.sleep(0.5)
        seen = await reader.query('sum(chaosbed_member_requests_total{job="load",outcome="ok"})')
    assert seen == 7
