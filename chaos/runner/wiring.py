"""The runner wired to a running stack: its fault drivers, its SLI backend,
member traffic, and the preflight checks.

`backend` is `prometheus` (the stack's Prometheus, or `--prometheus-url`),
`scrape` (the runner reads every /metrics itself), or `auto`: prometheus
when the stack runs one, else scrape.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from chaos.compare.samples import CohortSamples
from chaos.experiment.model import (
    AppFault,
    Experiment,
    HistoryHolds,
    MonkeyFault,
    NetworkFault,
    ProcessFault,
)
from chaos.faults.app import AppFaultDriver
from chaos.faults.base import FaultDriver
from chaos.faults.control_client import ControlApiError, ControlClient
from chaos.faults.monkey import MonkeyDriver
from chaos.faults.network import NetworkFaultDriver
from chaos.faults.network import leftovers as network_leftovers
from chaos.faults.node import NodeFaultDriver
from chaos.faults.nofault import NoFaultDriver
from chaos.faults.process import ProcessFaultDriver
from chaos.faults.standin import StandinDriver
from chaos.load import Targets
from chaos.monkey.schedule import opted_in
from chaos.runtime.interface import Runtime
from chaos.slo import PrometheusReader, ScrapeReader, ScrapeTarget, SliReader
from services.topology import SERVICES

from .comparison import Comparison
from .history_driver import HistoryDriver
from .lifecycle import PROMETHEUS_SCRAPE_INTERVAL
from .load_driver import GeneratorLoad

__all__ = ["RUN_TAG_PREFIX", "Wiring", "leftovers", "wire"]

#: Every rule a run adds is tagged `chaosbed-run-<run id>`.
RUN_TAG_PREFIX = "chaosbed-run-"
BACKENDS = ("auto", "prometheus", "scrape")


@dataclass
class Wiring:
    drivers: list[FaultDriver]
    reader: SliReader
    backend: str
    load: GeneratorLoad | None
    control: ControlClient
    notes: list[str] = field(default_factory=list)
    scrape_interval: float = PROMETHEUS_SCRAPE_INTERVAL  # seconds between the backend's samples
    comparison: Comparison | None = None  # the cohorts compared (steady_state.compare)


async def load_metrics_host(runtime: Runtime) -> str:
    """Where the load generator serves its metrics so the stack's Prometheus can
    scrape them (the docker runtime asks the engine: in a thread)."""
    return str(await asyncio.to_thread(runtime.load_metrics_host))


async def _prometheus_answers(url: str, session: aiohttp.ClientSession) -> bool:
    try:
        async with session.get(f"{url}/-/ready", timeout=aiohttp.ClientTimeout(total=2)) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


#: The most the clock of a Prometheus that members' metrics are pushed to may differ
#: from this machine's: pushed samples carry this machine's time, scraped ones the
#: Prometheus's, and a window over both would shift by the difference.
CLOCK_SKEW_LIMIT_S = 1.0


async def clock_skew(url: str, session: aiohttp.ClientSession) -> float:
    """Seconds the Prometheus at `url` is ahead of this machine (behind: negative),
    from its `time()` against the middle of the request (ControlApiError when it does
    not say)."""
    before = time.time()
    try:
        async with session.get(
            f"{url}/api/v1/query",
            params={"query": "time()"},
            timeout=aiohttp.ClientTimeout(total=5),
        ) as resp:
            found = await resp.json(content_type=None)
        after = time.time()
        return float(found["data"]["result"][1]) - (before + after) / 2
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ControlApiError(f"the Prometheus at {url} did not tell its time: {exc!r}") from None


# the services a member journey enters at (the profiles replicas beside "profiles" are not)
TARGETED = ("catalog", "recommendations", "playback", "profiles")


def history_driver(
    experiment: Experiment, runtime: Runtime, save_to: Path | None
) -> HistoryDriver | None:
    """The history workload against every profiles replica, when the experiment expects one."""
    if not any(isinstance(e, HistoryHolds) for e in experiment.expect):
        return None
    names = [spec.name for spec in runtime.services if spec.module == "services.profiles"]
    return HistoryDriver({name: runtime.base_url(name) for name in names}, save_to=save_to)


@contextlib.asynccontextmanager
async def wire(
    experiment: Experiment,
    runtime: Runtime,
    *,
    run_id: str,
    session: aiohttp.ClientSession,
    backend: str = "auto",
    prometheus_url: str | None = None,
    load_port: int | None = None,
    scrape_interval: float = 1.0,
    seed: int | None = None,
) -> AsyncIterator[Wiring]:
    if backend not in BACKENDS:
        raise ValueError(f"backend: must be one of {', '.join(BACKENDS)}, not {backend!r}")
    names = [spec.name for spec in runtime.services]
    urls = {name: runtime.base_url(name) for name in names}
    token = runtime.control_token()
    if token is None:
        raise ControlApiError("the stack runs with its fault control API off (no token)")
    control = ControlClient(urls, token, session)
    app = AppFaultDriver(control, RUN_TAG_PREFIX + run_id)
    drivers: list[FaultDriver] = [app, ProcessFaultDriver(runtime, rng=random.Random(seed))]
    network = runtime.network
    if network is not None:  # the network layer: before any stand-in
        drivers.append(NetworkFaultDriver(network, run_id=run_id, tag=RUN_TAG_PREFIX + run_id))
    nodes = runtime.nodes
    if nodes is not None:  # a cluster's nodes
        drivers.append(NodeFaultDriver(runtime, nodes))
    monkey = MonkeyDriver(list(drivers), runtime)  # a monkey acts through the above
    drivers.append(monkey)
    drivers.append(StandinDriver(app))
    drivers.append(NoFaultDriver())
    load = None
    push_url = None
    metrics_host = "127.0.0.1"
    cohorts = comparison = None
    compare = experiment.steady_state.compare
    if compare is not None and experiment.load is not None:
        cohorts = CohortSamples()
        comparison = Comparison(compare, experiment.load, cohorts)
    if experiment.load is not None:
        if load_port is None:  # where the stack's Prometheus looks for it
            load_port = runtime.load_metrics_port()
        metrics_host = await load_metrics_host(runtime)
        push_url = await asyncio.to_thread(runtime.load_metrics_push_url)
        load = GeneratorLoad(
            experiment.load,
            Targets(**{name: urls[name] for name in names if name in TARGETED}),
            metrics_host=metrics_host,
            metrics_port=load_port,
            remote_write_url=push_url,
            observers=[cohorts.observe] if cohorts is not None else [],
            # a cluster's Service balances connections, not requests: members' devices
            # spread over its pods, one pool of connections would stay on the first ones
            connection_per_request=runtime.nodes is not None,
        )
    url = prometheus_url or runtime.prometheus_url()
    notes: list[str] = []
    if runtime.nodes is not None and backend != "prometheus":
        # a cluster: a Service's address reaches one of its pods a scrape, whose counters
        # would take turns; only the cluster's Prometheus sees every pod
        if backend == "scrape":
            raise ControlApiError(
                "--backend scrape: a cluster's services are read through its Prometheus only"
                " (a Service's address reaches one of its pods a scrape)"
            )
        if not (url and await _prometheus_answers(url, session)):
            raise ControlApiError(f"the cluster's Prometheus does not answer at {url}")
        if push_url is not None:
            skew = await clock_skew(url, session)
            if abs(skew) > CLOCK_SKEW_LIMIT_S:
                raise ControlApiError(
                    f"the cluster's Prometheus's clock is {abs(skew):.1f} s "
                    f"{'ahead of' if skew > 0 else 'behind'} this machine's: members' metrics"
                    " pushed to it would be read that far off; synchronise the clocks (NTP)"
                )
        backend = "prometheus"
    if backend == "auto":
        backend = "prometheus" if url and await _prometheus_answers(url, session) else "scrape"
        if backend == "scrape":
            notes.append("no Prometheus answers for this stack: SLIs are scraped by the runner")
    if backend == "prometheus":
        if not url:
            raise ControlApiError("--backend prometheus: this stack runs no Prometheus")
        prometheus = PrometheusReader(url, session=session)
        monkey.reader = prometheus  # each action's evidence
        if comparison is not None:
            comparison.reader = prometheus
        yield Wiring(
            drivers, prometheus, backend, load, control, notes, PROMETHEUS_SCRAPE_INTERVAL,
            comparison,
        )  # fmt: skip
        return
    targets = [ScrapeTarget(name, f"{urls[name]}/metrics") for name in names]
    if load is not None:
        targets.append(ScrapeTarget("load", f"http://{metrics_host}:{load_port}/metrics"))
    async with ScrapeReader(targets, interval=scrape_interval, session=session) as reader:
        monkey.reader = reader
        if comparison is not None:
            comparison.reader = reader  # which reads no promql: `chaosbed run` refuses it
        yield Wiring(
            drivers, reader, backend, load, control, notes, scrape_interval, comparison
        )  # fmt: skip


async def leftovers(runtime: Runtime, control: ControlClient) -> list[str]:
    """What earlier runs left behind: tagged fault rules, paused or stopped instances,
    instances on a deployed release, (a runtime with network namespaces: docker)
    network rules, qdiscs and helper containers, and (a cluster) nodes down, cuts between
    nodes and helper pods."""
    found: list[str] = []
    nodes = runtime.nodes
    if nodes is not None:  # a cluster: nodes down, cuts between nodes, helper pods
        found += await nodes.leftovers()
    network = runtime.network
    if network is not None:
        in_namespaces, helpers = await network_leftovers.find(network)
        for left in in_namespaces:
            found += left.describe()
        found += [f"network helper {name}" for name in helpers]
    for service in control.services:
        try:
            rules = await control.list(service)
        except ControlApiError as exc:
            found.append(f"{service}: {exc}")
            continue
        tags = sorted(
            {str(r.get("tag")) for r in rules if str(r.get("tag")).startswith(RUN_TAG_PREFIX)}
        )
        for tag in tags:
            found.append(f"{service}: fault rules tagged {tag}")
    for instance in await runtime.instances():
        if instance.unread:  # paused or not: nothing says
            found.append(
                f"{instance.service}: instance {instance.instance}'s process not read "
                f"({instance.unread})"
            )
        elif instance.state != "running" and not instance.going:  # going: leaves by itself
            found.append(f"{instance.service}: instance {instance.instance} is {instance.state}")
        if instance.release:
            release = " ".join(f"{k}={v}" for k, v in instance.release)
            found.append(f"{instance.service}: instance {instance.instance} runs release {release}")
    return found


def fault_targets(experiment: Experiment) -> Sequence[str]:
    """Every service the method touches."""
    seen: dict[str, None] = {}
    for step in experiment.method:
        fault = step.fault
        if isinstance(fault, AppFault):
            seen[fault.edge.caller if fault.edge else str(fault.target)] = None
        elif isinstance(fault, ProcessFault):
            seen[fault.target] = None
        elif isinstance(fault, NetworkFault) and fault.target:
            seen[fault.target] = None
        elif isinstance(fault, MonkeyFault):
            seen |= dict.fromkeys(fault.targets or opted_in(list(SERVICES)))
    return list(seen)
