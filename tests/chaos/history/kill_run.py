"""The history workload against three replica processes, one killed -9 and restarted."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from chaos.history import History, check_history
from chaos.history.checker import CheckReport
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
        running = asyncio.create_task(workload.run())
        await asyncio.sleep(seconds / 3)
        await asyncio.to_thread(cluster.kill, victim)
        await asyncio.sleep(seconds / 6)
        await asyncio.to_thread(cluster.start, victim)
        heal_at = time.time()
        await asyncio.sleep(seconds / 2)
        workload.stop()
        ops = await running
        final = await final_states(cluster.urls, workload.members, heal_at=heal_at, bound_s=5.0)
    finally:
        cluster.close()
    history = History(tuple(ops), heal_at, final)
    return history, check_history(history, bound_s=5.0)
