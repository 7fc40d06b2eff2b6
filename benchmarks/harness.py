"""What every benchmark shares: processes on loopback ports, readiness, load,
percentiles, Prometheus samples, and the `Row` each benchmark reports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent  # children run from here: -m benchmarks...
CONTROL_TOKEN = "bench-token"
READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure beside its baseline from the same run."""

    benchmark: str
    metric: str
    figure: float
    baseline: float
    unit: str
    goal: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.figure / self.baseline if self.baseline else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (all held open while they are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def pct(samples: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); nan for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Processes:
    """Child processes of one benchmark, each ended by its own pid."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, args: list[str], env: Mapping[str, str] | None = None) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        full_env = {**os.environ, "CHAOSBED_LOG_LEVEL": "ERROR", **(env or {})}
        child = subprocess.Popen(
            [sys.executable, *args], stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT
        )
        log.close()
        self.children.append(child)

    def service(self, service: str, port: int, env: Mapping[str, str] | None = None) -> str:
        """Start a real service (``python -m services.<service>``); returns its URL."""
        base = {"CHAOSBED_PORT": str(port), "CHAOSBED_CONTROL_TOKEN": CONTROL_TOKEN}
        self.start(service, ["-m", f"services.{service}"], {**base, **(env or {})})
        return url(port)

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@contextmanager
def processes(log_dir: Path) -> Iterator[Processes]:
    procs = Processes(log_dir)
    try:
        yield procs
    finally:
        procs.stop()


async def wait_ready(session: aiohttp.ClientSession, *bases: str, path: str = "/readyz") -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    for base in bases:
        while True:
            try:
                async with session.get(base + path) as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{base} never became ready (see the benchmark's logs)")
            await asyncio.sleep(0.1)


def control_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {CONTROL_TOKEN}"}


async def add_fault(session: aiohttp.ClientSession, base: str, rule: Mapping[str, object]) -> None:
    async with session.post(base + "/_chaos/faults", json=rule, headers=control_headers()) as r:
        if r.status != 201:
            raise SystemExit(f"fault {dict(rule)} refused by {base}: {await r.text()}")


async def clear_faults(session: aiohttp.ClientSession, base: str) -> None:
    async with session.delete(base + "/_chaos/faults", headers=control_headers()) as r:
        await r.read()


async def sample(session: aiohttp.ClientSession, base: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels` (0 when none)."""
    async with session.get(base + "/metrics") as resp:
        text = await resp.text()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


@dataclass(frozen=True)
class Result:
    status: int  # 0: no answer (connection error or the client's timeout)
    latency_ms: float  # from the scheduled send time (no coordinated omission)


async def open_loop(
    session: aiohttp.ClientSession, targets: list[str], rate: float
) -> list[Result]:
    """A GET of each target, `rate` per second on a fixed schedule, each timed from its slot."""
    start = time.monotonic() + 0.05

    async def one(target: str, slot: float) -> Result:
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        try:
            async with session.get(target) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        return Result(status, (time.monotonic() - slot) * 1000)

    slots = (one(target, start + i / rate) for i, target in enumerate(targets))
    return list(await asyncio.gather(*slots))
