"""The history workload against three replica processes, one killed -9 and restarted."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from chaos.history import History, check_history
from chaos.history.checker import CheckReport
from chaos.history.convergence import ConvergenceWatch
from chaos.history.workload import Workload, WorkloadSpec, final_states
from tests.services.profiles.replica_cluster import ReplicaCluster


async def run_with_kill(
    data: Path,
    *,
    broken: str | None = None,
    victim: str = "eu",
    seconds: float = 3.0,
    seed: int = 7,
) -> tuple[History, CheckReport]:
    cluster = ReplicaCluster(data, broken=broken)
    cluster.start()
    try:
        workload = Workload(cluster.urls, WorkloadSpec(seed=seed))
        watch = ConvergenceWatch(cluster.urls, workload.members)
        running = asyncio.create_task(workload.run())
        watching = asyncio.create_task(watch.run())
        await asyncio.sleep(seconds / 3)
        await asyncio.to_thread(cluster.kill, victim)
        await asyncio.sleep(seconds / 6)
        await asyncio.to_thread(cluster.start, victim)
        heal_at = time.time()
        await asyncio.sleep(seconds / 2)
        converged = await watch.caught_up_after(heal_at, workload.ops, 5.0)
        workload.stop()
        watch.stop()
        ops = await running
        await watching
        final = await final_states(cluster.urls, workload.members)
    finally:
        cluster.close()
    history = History(tuple(ops), heal_at, replace(final, converged_after=converged))
    return history, check_history(history, bound_s=5.0)
