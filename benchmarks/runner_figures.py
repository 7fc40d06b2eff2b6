"""(e) The chaos runner's own figures, against the four real services.

The services run in one child process (benchmarks.stack) on free loopback
ports and Prometheus in another; the runner, with its load generator and
SLI reader, runs in this one, so the CPU this process spends is the runner's.

- Breach to detection: member load (homepage + title) at 40/s, an
  edge-availability SLO on catalog (window 3 s, objective >= 99) and an abort
  condition `below 99 for 0s`; the method's one step makes every catalog
  route answer 503. Detection is the journal's `abort` event minus its
  `injected` event. Runs alternate between the prometheus backend (Debian's
  `prometheus` binary scraping every second) and the scrape backend (every
  second), `repeats` each, with the same start phases and injection offsets
  (benchmarks.phases): median, mean and max of each. Baseline: the 1 s
  interval (a breach at a random moment waits one interval on average for
  the next scrape and the check after it, two at most).
- Detection to rollback complete: the `abort` event to the last
  `rolled_back` event of the same runs, beside the two control API calls a
  rollback makes (remove the rule, list to confirm) timed bare.
- The load generator's achieved rate in a steady 100/s run, against 100/s.
- The runner's CPU (time.process_time per wall second) through that steady
  run with the scrape backend, beside the load generator alone at 100/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import shutil
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from statistics import mean, median
from typing import Any

import aiohttp

from chaos.experiment.model import Experiment, LoadSpec
from chaos.faults.app import AppFaultDriver
from chaos.faults.control_client import ControlClient
from chaos.load import Targets
from chaos.runner import Journal, Runner, RunOptions
from chaos.runner.load_driver import GeneratorLoad
from chaos.runtime.errors import PrometheusStartError
from chaos.runtime.prometheus import PrometheusProcess, start_prometheus, write_prometheus_config
from chaos.slo import (
    PrometheusReader,
    ScrapeReader,
    ScrapeTarget,
    SliReader,
)

from .harness import CONTROL_TOKEN, Row, free_ports, processes, url, wait_ready
from .phases import phase_plan, wait_for_phase
from .runner_experiments import (
    CATALOG_FAILS,
    DETECTION_RATE,
    HARMLESS,
    MIX,
    SLO,
    STEADY_RATE,
    TAG,
    experiment,
)
from .runner_timings import AbortTimings, abort_timings
from .stack import SERVICES

NAME = "e runner figures"
BARE_RULE = {"kind": "latency", "route": "/titles/{id}", "delay_ms": 1, "tag": TAG, "ttl_s": 30}
INTERVAL_S = 1.0  # the runner's checks, the scrape backend's and Prometheus's scrapes


class Bench:
    def __init__(
        self, ports: Mapping[str, int], load_port: int, session: aiohttp.ClientSession, logs: Path
    ) -> None:
        self.urls = {name: url(port) for name, port in ports.items()}
        self.load_port = load_port
        self.session = session
        self.logs = logs
        self.control = ControlClient(self.urls, CONTROL_TOKEN, session)

    def load(self, spec: LoadSpec) -> GeneratorLoad:
        return GeneratorLoad(spec, Targets(**self.urls), metrics_port=self.load_port)

    def scrape_reader(self) -> ScrapeReader:
        targets = [ScrapeTarget(name, f"{base}/metrics") for name, base in self.urls.items()]
        targets.append(ScrapeTarget("load", f"{url(self.load_port)}/metrics"))
        return ScrapeReader(targets, interval=INTERVAL_S, session=self.session)

    @contextlib.asynccontextmanager
    async def reader(self, backend: str, prometheus_url: str) -> AsyncIterator[SliReader]:
        if backend == "prometheus":
            yield PrometheusReader(prometheus_url, session=self.session)
            return
        async with self.scrape_reader() as reader:
            yield reader

    async def run(self, exp: Experiment, reader: SliReader, name: str) -> Journal:
        journal = Journal(name, {"title": exp.title})
        assert exp.load is not None
        runner = Runner(
            exp,
            drivers=[AppFaultDriver(self.control, TAG)],
            reader=reader,
            journal=journal,
            load=self.load(exp.load),
            options=RunOptions(interval=INTERVAL_S, recovery_timeout=20.0),
        )
        await runner.run()
        journal.write(self.logs / f"{name}.json")
        return journal

    async def detections(self, repeats: int) -> dict[str, list[AbortTimings]]:
        """`repeats` aborted runs per backend, alternating, with Prometheus running throughout."""
        prometheus = await asyncio.to_thread(self.start_prometheus)
        found: dict[str, list[AbortTimings]] = {"scrape": [], "prometheus": []}
        plan = phase_plan(repeats, INTERVAL_S)
        try:
            for i in range(repeats):
                for backend in found:
                    step = dataclasses.replace(CATALOG_FAILS, offset=plan[i].offset)
                    exp = experiment(DETECTION_RATE, step, abort=True, seed=i)
                    name = f"runner-{backend}-{i}"
                    async with self.reader(backend, prometheus.url) as reader:
                        await wait_for_phase(plan[i].start, INTERVAL_S)
                        journal = await self.run(exp, reader, name)
                    try:
                        found[backend].append(abort_timings(journal.to_json(), SLO.name))
                    except ValueError as exc:
                        raise SystemExit(f"{name}: {exc}; reasons: {journal.reasons}") from None
        finally:
            await asyncio.to_thread(prometheus.stop)
        return found

    def start_prometheus(self) -> PrometheusProcess:
        config_dir = self.logs / "runner-prometheus"
        shutil.rmtree(config_dir, ignore_errors=True)
        jobs = {name: (base.removeprefix("http://"),) for name, base in self.urls.items()}
        jobs["load"] = (f"127.0.0.1:{self.load_port}",)
        write_prometheus_config(config_dir, jobs=jobs, scrape_interval=INTERVAL_S)
        (port,) = free_ports(1)
        try:
            return start_prometheus(config_dir, port)
        except PrometheusStartError as exc:
            raise SystemExit(f"benchmark e needs a real Prometheus: {exc}") from None

    async def bare_rollbacks(self, count: int = 5) -> list[float]:
        """Seconds for the calls a rollback makes (remove, then list), without the runner."""
        took = []
        for _ in range(count):
            added = await self.control.add("catalog", BARE_RULE)
            started = time.perf_counter()
            await self.control.remove("catalog", added["id"])
            await self.control.list("catalog", TAG)
            took.append(time.perf_counter() - started)
        return took

    async def steady(self) -> tuple[Journal, float, float]:
        """A steady 100/s run with the scrape backend: its journal, CPU seconds, wall seconds."""
        exp = experiment(STEADY_RATE, HARMLESS, abort=False, seed=7)
        cpu, wall = time.process_time(), time.perf_counter()
        async with self.scrape_reader() as reader:
            journal = await self.run(exp, reader, "runner-steady")
        return journal, time.process_time() - cpu, time.perf_counter() - wall

    async def load_alone(self, seconds: float) -> tuple[dict[str, Any], float, float]:
        """The load generator alone at 100/s for `seconds`: its results, CPU and wall seconds."""
        load = self.load(LoadSpec(rate=STEADY_RATE, mix=MIX, members=200, seed=7))
        cpu, wall = time.process_time(), time.perf_counter()
        await load.start()
        await asyncio.sleep(seconds)
        results = dict(await load.stop())
        return results, time.process_time() - cpu, time.perf_counter() - wall


async def run(log_dir: Path, repeats: int = 3) -> list[Row]:
    *service_ports, load_port = free_ports(len(SERVICES) + 1)
    ports = dict(zip(SERVICES, service_ports, strict=True))
    with processes(log_dir) as procs:
        db = log_dir / f"runner-profiles-{ports['profiles']}.db"
        procs.start("runner-stack", ["-m", "benchmarks.stack", json.dumps(ports), str(db)])
        async with aiohttp.ClientSession() as session:
            bench = Bench(ports, load_port, session, log_dir)
            await wait_ready(session, *bench.urls.values())
            bare = await bench.bare_rollbacks()
            found = await bench.detections(repeats)
            steady, cpu, wall = await bench.steady()
            alone, alone_cpu, alone_wall = await bench.load_alone(wall)
    return rows(found, bare, steady.to_json()["load"], cpu / wall, alone, alone_cpu / alone_wall)


def rows(
    found: Mapping[str, list[AbortTimings]],
    bare: list[float],
    load: Mapping[str, Any],
    cpu_per_s: float,
    alone: Mapping[str, Any],
    alone_cpu_per_s: float,
) -> list[Row]:
    out = [row for backend, runs in found.items() for row in _detection_rows(backend, runs)]
    rollback = [t.rollback_s * 1000 for runs in found.values() for t in runs]
    bare_ms, n = median(bare) * 1000, len(rollback)
    note = f"baseline: remove + list through the control API, bare (median of {len(bare)})"
    out += [
        Row(
            NAME,
            f"abort -> rollback done, median of {n}",
            median(rollback),
            bare_ms,
            "ms",
            note=note,
        ),
        Row(
            NAME,
            f"abort -> rollback done, max of {n}",
            max(rollback),
            bare_ms,
            "ms",
            goal="<= 1000 ms",
            met=max(rollback) <= 1000,
        ),
    ]
    late = f"late (> {load['late_after_ms']:g} ms) {load['late']}"
    note = f"sent {load['sent']} of {load['arrivals']} scheduled, {late}; "
    note += f"alone: {float(alone['achieved_rate']):.1f}/s"
    out.append(
        Row(
            NAME,
            f"load achieved rate, target {STEADY_RATE:g}/s",
            float(load["achieved_rate"]),
            STEADY_RATE,
            "req/s",
            note=note,
        )
    )
    note = "baseline: the load generator alone at the same rate (this process's CPU only)"
    out.append(
        Row(
            NAME,
            f"runner CPU at {STEADY_RATE:g}/s, scrape backend",
            100 * cpu_per_s,
            100 * alone_cpu_per_s,
            "% core",
            note=note,
        )
    )
    return out


def _detection_rows(backend: str, runs: list[AbortTimings]) -> list[Row]:
    ms, interval_ms = [t.detection_s * 1000 for t in runs], INTERVAL_S * 1000
    each = ", ".join(f"{v:.0f} ({t.missed_checks})" for v, t in zip(ms, runs, strict=True))
    note = f"mean {mean(ms):.0f}; baseline: the {INTERVAL_S:g} s scrape and check interval"
    return [
        Row(
            NAME,
            f"breach -> detection, {backend}, median of {len(ms)}",
            median(ms),
            interval_ms,
            "ms",
            note=note,
        ),
        Row(
            NAME,
            f"breach -> detection, {backend}, max of {len(ms)}",
            max(ms),
            interval_ms,
            "ms",
            goal="<= 2 intervals",
            met=max(ms) <= 2 * interval_ms,
            note=f"ms (checks that missed it): {each}",
        ),
    ]
