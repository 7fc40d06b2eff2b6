"""The `history` expectation as the runner judges it: the workload runs
against three real replica processes while one is killed -9 and restarted;
the expectation is met for the real protocol and not met, naming the
offending operations, for a deliberately broken one. Catch-up is timed from
the heal, however long the recovery phase made the check wait."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from chaos.experiment.model import HistoryHolds
from chaos.faults.base import Injection
from chaos.history.checker import CheckReport, Finding
from chaos.history.workload import WorkloadSpec
from chaos.runner.expectations import ExpectationResult
from chaos.runner.history_driver import HistoryDriver, describe_findings, fault_windows
from tests.services.profiles.replica_cluster import ReplicaCluster


async def judged(tmp_path: Path, broken: str | None) -> tuple[ExpectationResult, Path]:
    cluster = ReplicaCluster(tmp_path / "data", broken=broken)
    cluster.start()
    saved = tmp_path / "history.jsonl"
    try:
        driver = HistoryDriver(cluster.urls, save_to=saved, spec=WorkloadSpec(seed=11))
        await driver.start()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.kill, "eu")
        await asyncio.sleep(0.5)
        await asyncio.to_thread(cluster.start, "eu")
        heal_at = time.time()
        await asyncio.sleep(1.0)
        result = await driver.check(HistoryHolds(lost=0, partial=0, converged_within=5.0), heal_at)
    finally:
        cluster.close()
    return result, saved


async def test_the_real_protocol_meets_the_history_expectation_across_a_kill(
    tmp_path: Path,
) -> None:
    result, saved = await judged(tmp_path, broken=None)

    assert result.met, result.measured
    assert "lost 0, partial 0" in result.measured
    assert saved.is_file() and str(saved) in result.measured


async def test_acknowledging_before_the_commit_fails_the_expectation_naming_lost_ops(
    tmp_path: Path,
) -> None:
    result, saved = await judged(tmp_path, broken="ack-before-commit")

    assert not result.met, result.measured
    assert "lost ops [" in result.measured
    named = json.loads(result.measured.split("lost ops ", 1)[1].split("]", 1)[0] + "]")
    recorded = {json.loads(line).get("op") for line in saved.read_text().splitlines()}
    assert set(named) <= recorded


async def test_replicas_that_agree_at_once_meet_the_bound_when_the_check_comes_after_it(
    tmp_path: Path,
) -> None:
    cluster = ReplicaCluster(tmp_path / "data")
    cluster.start()
    try:
        driver = HistoryDriver(cluster.urls, spec=WorkloadSpec(seed=3))
        await driver.start()
        await asyncio.sleep(0.5)
        heal_at = time.time()
        await asyncio.sleep(1.5)  # the recovery phase outlasts the bound: that is the case
        result = await driver.check(HistoryHolds(converged_within=1.0), heal_at)
    finally:
        cluster.close()

    assert result.met, result.measured
    after = float(result.measured.split("converged after ", 1)[1].split("s", 1)[0])
    assert after < 1.0


def test_fault_windows_are_the_injections_in_wall_time() -> None:
    done = Injection("a", "process", "kill", injected_at=10.0, rolled_back_at=16.0)
    running = Injection("b", "network", "partition", injected_at=12.0)
    never = Injection("c", "app", "delay")
    windows = fault_windows([done, running, never], now=20.0, wall=1000.0)
    assert windows == ((990.0, 996.0), (992.0, 1000.0))


def test_a_fault_window_starts_when_its_injection_began() -> None:
    """A deploy recreates a container before `inject` returns: the replica is down
    from the moment injecting began, and reads then are during the fault. One whose
    injection failed half-way disturbed the system too, up to its rollback."""
    slow = Injection("a", "process", "deploy", began_at=4.0, injected_at=10.0, rolled_back_at=16.0)
    failed = Injection("b", "process", "deploy", began_at=11.0, rolled_back_at=12.0)
    windows = fault_windows([slow, failed], now=20.0, wall=1000.0)
    assert windows == ((984.0, 996.0), (991.0, 992.0))


def test_the_result_names_the_writes_blamed_for_partial_and_lost_values_by_device_type() -> None:
    report = CheckReport(
        counts={"ok": 10},
        findings=(
            Finding("partial", (7, 3), "tv", "m v2 mixed, written by op 3 (tv)", writer=3),
            Finding("partial", (5,), "tv", "final:profiles m v3 mixed", "profiles", writer=5),
            Finding("lost", (9,), "web", "m: overwritten", writer=9),
            # a read of a mixed version no single device type's unanswered write explains
            Finding("partial", (11,), "unknown", "m v4 mixed"),
        ),
    )
    described = describe_findings(report)
    assert "partial writes by tv: ops [3, 5]" in described
    assert "lost writes by web: ops [9]" in described
    assert "partial writes by web" not in described and "mobile" not in described
    assert "writes by unknown" not in described and "unknown partial 1" in described
