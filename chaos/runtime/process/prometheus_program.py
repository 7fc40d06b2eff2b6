"""Prometheus beside the services, in the process runtime.

When the `prometheus` binary is found (`chaos.runtime.prometheus.find_prometheus`), `up`
writes its config under <state_dir>/prometheus (`write_prometheus_config`:
one job per service, named after it, on its port; the job `load` for the load
generator's member-side metrics on 127.0.0.1:9095 and `monkey` for `chaosbed
monkey`'s on 127.0.0.1:9096 (the stack's ports on a port base); the rules of
compose/prometheus/rules, as in the compose stack) and the supervisor runs it
like a service (restart policy, holds), on 127.0.0.1:9090. Its data stays in
<state_dir>/prometheus/data between runs (one day), its log is
<state_dir>/logs/prometheus.log.

`up` returns once Prometheus answers /-/ready and has scraped every service
(`unscraped_jobs`: its own targets page, so series from an earlier run do not
count).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.runtime.prometheus import (
    LOAD_GENERATOR_PORT,
    prometheus_command,
    write_prometheus_config,
)
from chaos.runtime.stack import ServiceSpec
from services.topology import HOST, MONKEY_PORT

from .program import Program

__all__ = [
    "LOAD_JOB",
    "PROMETHEUS",
    "PrometheusOptions",
    "PrometheusPlan",
    "scrape_jobs",
    "unscraped_jobs",
]

PROMETHEUS = "prometheus"
LOAD_JOB = "load"
MONKEY_JOB = "monkey"


@dataclass(frozen=True)
class PrometheusOptions:
    """How `up` runs Prometheus: where to look for the binary (None: `prometheus`
    on PATH, then /usr/bin/prometheus), the port it listens on, and the port the
    load generator serves its member-side metrics on (None: the stack's own,
    chaos.runtime.layout)."""

    binary: str | None = None
    port: int | None = None
    load_port: int | None = None


@dataclass(frozen=True)
class PrometheusPlan:
    """Prometheus as `up` hands it to the supervisor (in plan.json); `load_port` is where
    its job `load` scrapes the load generator."""

    executable: str
    port: int
    config_dir: str
    load_port: int = LOAD_GENERATOR_PORT
    monkey_port: int = MONKEY_PORT

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def config_file(self) -> Path:
        return Path(self.config_dir) / "prometheus.yml"

    def program(self) -> Program:
        command = prometheus_command(self.executable, Path(self.config_dir), self.port)
        return Program(
            name=PROMETHEUS,
            port=self.port,
            command=tuple(command),
            marker=str(self.config_file),
            health_path="/-/healthy",
            ready_path="/-/ready",
        )

    def write_config(self, services: Sequence[ServiceSpec]) -> None:
        """prometheus.yml and the rules, in `config_dir` (rewritten at each `up`)."""
        jobs = scrape_jobs(services, self.load_port, self.monkey_port)
        write_prometheus_config(Path(self.config_dir), jobs=jobs)


def scrape_jobs(
    services: Sequence[ServiceSpec], load_port: int, monkey_port: int = MONKEY_PORT
) -> dict[str, tuple[str, ...]]:
    """One job per service on its port, `load` for the load generator and `monkey`
    for `chaosbed monkey` (both down while they do not run)."""
    jobs: dict[str, tuple[str, ...]] = {spec.name: (f"{HOST}:{spec.port}",) for spec in services}
    jobs[LOAD_JOB] = (f"{HOST}:{load_port}",)
    jobs[MONKEY_JOB] = (f"{HOST}:{monkey_port}",)
    return jobs


def unscraped_jobs(port: int, jobs: Sequence[str], *, timeout_s: float = 1.0) -> list[str]:
    """The jobs among `jobs` that Prometheus on `port` has not scraped successfully yet.

    Read from /api/v1/targets: a target's health is `unknown` until its first
    scrape. Prometheus not answering counts as nothing scraped.
    """
    healthy = {job for job, health in _target_health(port, timeout_s) if health == "up"}
    return [job for job in jobs if job not in healthy]


def _target_health(port: int, timeout_s: float) -> list[tuple[str, str]]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        connection.request("GET", "/api/v1/targets?state=active")
        response = connection.getresponse()
        body: Any = json.loads(response.read())
    except (OSError, http.client.HTTPException, ValueError):
        return []
    finally:
        connection.close()
    try:
        targets = body["data"]["activeTargets"]
        return [(str(t["labels"]["job"]), str(t["health"])) for t in targets]
    except (KeyError, TypeError):
        return []
