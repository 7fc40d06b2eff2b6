"""The compose project the network tests run (a project and ports of their own, so
they never collide with a stack on the usual ports), and a runner to kill:

    python -m tests.chaos.faults.network.network_stack EXPERIMENT STATE_DIR JOURNAL

Its Prometheus scrapes the load generator on the usual port only, so an
experiment run here reads server-side SLIs (`source: server`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from chaos.experiment import load_experiment
from chaos.runner.session import RunRequest, run_experiment
from chaos.runtime.docker import DockerRuntime
from tests.worker import worker_name, worker_ports

PROJECT = worker_name("chaosbed-network-test")
TOKEN = "network-test-token"
# 20081.. alone, the block 60 above the worker's base under xdist
LAYOUT = worker_ports(60, 20081)
SPECS = LAYOUT.specs()
PROMETHEUS_PORT = LAYOUT.prometheus
LOAD_PORT = LAYOUT.load
KILLED_RUN_ID = "20261122T000001-k1113d"


def runtime_at(state: Path) -> DockerRuntime:
    return DockerRuntime(
        state,
        services=SPECS,
        project=PROJECT,
        environ={**os.environ, "CHAOSBED_CONTROL_TOKEN": TOKEN},
        ports=LAYOUT,
    )


def run(experiment: Path, state: Path, journal: Path) -> int:
    request = RunRequest(
        load_experiment(experiment), "docker", journal, KILLED_RUN_ID, load_port=LOAD_PORT
    )
    outcome, _ = asyncio.run(run_experiment(request, runtime_at(state)))
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
