"""The wiring tells the runner how often its SLI backend samples: the tail
after the last rollback is at least two of those intervals. It drives and
looks for network faults where the runtime has network namespaces, and only
there: it asks the runtime (`network`), not which class it is."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from chaos.experiment.model import (
    AppFault,
    Availability,
    Experiment,
    Objective,
    Slo,
    SteadyState,
    Step,
)
from chaos.faults.control_client import ControlClient
from chaos.faults.network import NetworkFaultDriver
from chaos.runner.lifecycle import PROMETHEUS_SCRAPE_INTERVAL
from chaos.runner.wiring import leftovers, wire
from chaos.runtime.prometheus import write_prometheus_config
from chaos.runtime.stack import ServiceSpec

from ..conftest import free_ports
from ..runtime.standin_runtime import LEFT_CHAIN, StandinNetwork, StandinRuntime

EXPERIMENT = Experiment(
    title="wiring",
    hypothesis="wired",
    load=None,
    steady_state=SteadyState(
        warmup=0.0, slos=(Slo("ok", Availability("catalog"), Objective(">=", 99.0)),)
    ),
    method=(Step("503", AppFault("error", target="catalog"), 0.0, 1.0),),
)


class Stack:
    """Only what the wiring asks of a runtime: its services and where they answer."""

    def __init__(self) -> None:
        (port,) = free_ports(1)
        self.services = (ServiceSpec("catalog", "services.catalog", port),)

    def base_url(self, name: str) -> str:
        return self.services[0].base_url

    def control_token(self) -> str:
        return "token"

    def prometheus_url(self) -> str | None:
        return None

    network = None
    nodes = None


async def test_the_scrape_backend_reports_the_interval_it_scrapes_at() -> None:
    async with aiohttp.ClientSession() as session:
        stack: Any = Stack()
        wiring_cm = wire(
            EXPERIMENT, stack, run_id="t", session=session, backend="scrape", scrape_interval=0.5
        )
        async with wiring_cm as wiring:
            assert wiring.scrape_interval == 0.5


async def test_a_prometheus_backend_reports_the_slowest_stack_scrape_interval() -> None:
    async with aiohttp.ClientSession() as session:
        stack: Any = Stack()
        wiring_cm = wire(
            EXPERIMENT,
            stack,
            run_id="t",
            session=session,
            backend="prometheus",
            prometheus_url="http://127.0.0.1:1",
        )
        async with wiring_cm as wiring:
            assert wiring.scrape_interval == PROMETHEUS_SCRAPE_INTERVAL == 2.0


def test_no_stack_prometheus_scrapes_less_often_than_the_runner_assumes() -> None:
    compose = Path(__file__).resolve().parents[3] / "compose" / "prometheus" / "prometheus.yml"
    interval = yaml.safe_load(compose.read_text())["global"]["scrape_interval"]
    assert interval.endswith("s") and float(interval[:-1]) == PROMETHEUS_SCRAPE_INTERVAL
    process_default = inspect.signature(write_prometheus_config).parameters["scrape_interval"]
    assert process_default.default <= PROMETHEUS_SCRAPE_INTERVAL


def standin_with(network: StandinNetwork | None) -> StandinRuntime:
    (port,) = free_ports(1)
    catalog = ServiceSpec("catalog", "services.catalog", port)
    return StandinRuntime(network, services=(catalog,), token="token")


async def network_drivers(runtime: StandinRuntime) -> list[NetworkFaultDriver]:
    async with aiohttp.ClientSession() as session:
        async with wire(EXPERIMENT, runtime, run_id="t", session=session, backend="scrape") as w:
            return [d for d in w.drivers if isinstance(d, NetworkFaultDriver)]


async def test_a_runtime_with_network_namespaces_gets_the_network_fault_driver() -> None:
    assert len(await network_drivers(standin_with(StandinNetwork()))) == 1


async def test_a_runtime_without_network_namespaces_gets_no_network_fault_driver() -> None:
    assert await network_drivers(standin_with(None)) == []


async def test_preflight_reports_what_a_killed_run_left_in_the_network_namespaces() -> None:
    network = StandinNetwork()
    async with aiohttp.ClientSession() as session:
        found = await leftovers(StandinRuntime(network), ControlClient({}, "", session))
    assert f"catalog (chaosbed-catalog-1): iptables chain {LEFT_CHAIN}" in found
    assert "catalog (chaosbed-catalog-1): tc qdisc cb3f: on eth0" in found
    assert "network helper chaosbed-net-helper-1" in found


async def test_preflight_finds_nothing_left_in_a_runtime_without_network_namespaces() -> None:
    async with aiohttp.ClientSession() as session:
        assert await leftovers(StandinRuntime(None), ControlClient({}, "", session)) == []
