"""The workload and a kill -9 of a replica: the real protocol holds, the broken ones are caught."""

from __future__ import annotations

from pathlib import Path

from tests.chaos.history.kill_run import run_with_kill


async def test_replicated_profiles_lose_nothing_and_mix_nothing_across_a_kill(
    tmp_path: Path,
) -> None:
    history, report = await run_with_kill(tmp_path)
    assert report.counts["ok"] > 50, report.summary()
    assert (report.lost, report.partial, report.partial_final) == ((), (), ())
    assert report.non_monotonic == () and report.divergent == ()
    assert report.valid, [f.detail for f in report.findings]
    assert report.converged_after is not None and report.converged_after <= 5.0


async def test_acknowledging_before_the_commit_is_reported_as_lost_writes_by_id(
    tmp_path: Path,
) -> None:
    history, report = await run_with_kill(tmp_path, broken="ack-before-commit")
    assert report.lost, report.summary()
    acked = {op.id for op in history.ops if op.is_write and op.status == "ok"}
    assert set(report.lost) <= acked


async def test_one_field_per_transaction_is_reported_as_partial_reads_by_id(
    tmp_path: Path,
) -> None:
    history, report = await run_with_kill(tmp_path, broken="field-per-txn")
    assert report.partial, report.summary()
    reads = {op.id for op in history.ops if op.status == "ok"}
    assert set(report.partial) <= reads
