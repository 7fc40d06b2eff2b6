"""Three profiles replicas as real processes on free loopback ports (kill -9 works on them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks.harness import free_ports
from services.vocabulary.homes import REGIONS, replica_name

REPO = Path(__file__).resolve().parents[3]


class ReplicaCluster:
    """`start()` all three, `kill(region)` with SIGKILL, `restart(region)`, `close()`."""

    def __init__(self, data: Path, *, broken: str | None = None) -> None:
        self.data = data
        self.ports = dict(zip(REGIONS, free_ports(len(REGIONS)), strict=True))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CHAOSBED_")}
        self.env["PYTHONPATH"] = str(REPO)
        for region, port in self.ports.items():
            name = replica_name(region).upper().replace("-", "_")
            self.env[f"CHAOSBED_{name}_URL"] = f"http://127.0.0.1:{port}"
        self.env["CHAOSBED_PROFILES_ANTI_ENTROPY_S"] = "0.5"
        if broken:
            self.env["CHAOSBED_MUTANT"] = broken  # a profiles mutant (services/common/mutants.py)

    def url(self, region: str) -> str:
        return f"http://127.0.0.1:{self.ports[region]}"

    @property
    def urls(self) -> dict[str, str]:
        return {replica_name(region): self.url(region) for region in REGIONS}

    def start(self, region: str | None = None) -> None:
        for one in (region,) if region else REGIONS:
            env = dict(self.env)
            env["CHAOSBED_PROFILES_REGION"] = one
            env["CHAOSBED_PORT"] = str(self.ports[one])
            env["CHAOSBED_PROFILES_DB"] = str(self.data / f"{one}.db")
            self.procs[one] = subprocess.Popen(
                [sys.executable, "-m", "services.profiles"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for one in (region,) if region else REGIONS:
            self._wait_ready(one)

    def _wait_ready(self, region: str, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url(region) + "/readyz", timeout=0.5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"replica {region} not ready after {timeout_s}s")

    def kill(self, region: str) -> None:
        proc = self.procs.pop(region)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def close(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGKILL)
        for proc in self.procs.values():
            proc.wait()
        self.procs.clear()
