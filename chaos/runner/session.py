"""One `chaosbed run` against a running stack: wire, preflight, run, journal.

The caller owns the event loop and the signals; cancelling the task that
awaits `run_experiment` is an interruption: every fault is rolled back and
the journal is still written.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from chaos.experiment.model import Experiment
from chaos.faults.control_client import ControlApiError
from chaos.runtime.interface import Runtime

from .external import ExternalMethod
from .journal import Journal
from .lifecycle import Runner, RunOptions
from .progress import Progress
from .verdict import Outcome, Verdict
from .wiring import Wiring, fault_targets, history_driver, leftovers, wire

__all__ = ["RunRequest", "experiment_record", "new_run_id", "run_experiment"]


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunRequest:
    experiment: Experiment
    runtime_name: str
    journal_path: Path
    run_id: str
    backend: str = "auto"
    prometheus_url: str | None = None
    load_port: int | None = None  # None: the stack's (Runtime.load_metrics_port)
    options: RunOptions = RunOptions()
    seed: int | None = None
    method: ExternalMethod | None = None  # the method's steps come from elsewhere (a CTK run)


def experiment_record(experiment: Experiment) -> dict[str, Any]:
    """The experiment as its journal records it (`baseline` matches journals by it)."""
    record = asdict(experiment)
    record["method_duration"] = experiment.method_duration
    return record


async def _preflight(request: RunRequest, runtime: Runtime, wiring: Wiring) -> Sequence[str]:
    problems: list[str] = []
    statuses = await asyncio.to_thread(runtime.status)
    for status in statuses:
        if not status.ready:
            problems.append(f"service {status.name} is not ready ({status.state})")
    known = {spec.name for spec in runtime.services}
    for target in fault_targets(request.experiment):
        if target not in known:
            problems.append(f"the stack has no service {target!r}")
    for leftover in await leftovers(runtime, wiring.control):
        problems.append(f"left over from an earlier run: {leftover}; run `chaosbed cleanup`")
    return problems


async def run_experiment(
    request: RunRequest, runtime: Runtime, *, progress_stream: TextIO | None = None
) -> tuple[Outcome, Journal]:
    experiment = request.experiment
    journal = Journal(request.run_id, experiment_record(experiment))
    journal.context.update(
        runtime=request.runtime_name, source=experiment.source, predicts=experiment.predicts
    )
    progress = Progress(progress_stream)
    try:
        async with aiohttp.ClientSession() as session:
            try:
                wiring_cm = wire(
                    experiment,
                    runtime,
                    run_id=request.run_id,
                    session=session,
                    backend=request.backend,
                    prometheus_url=request.prometheus_url,
                    load_port=request.load_port,
                    scrape_interval=request.options.interval,
                    seed=request.seed,
                )
                async with wiring_cm as wiring:
                    journal.context.update(backend=wiring.backend, notes=wiring.notes)
                    for note in wiring.notes:
                        journal.event("preflight", "note", detail=note)

                    async def preflight() -> list[str]:
                        return list(await _preflight(request, runtime, wiring))

                    runner = Runner(
                        experiment,
                        drivers=wiring.drivers,
                        reader=wiring.reader,
                        journal=journal,
                        load=wiring.load,
                        preflight=preflight,
                        progress=progress,
                        history=history_driver(
                            experiment, runtime, request.journal_path.with_suffix(".history.jsonl")
                        ),
                        comparison=wiring.comparison,
                        method=request.method,
                        options=replace(request.options, scrape_interval=wiring.scrape_interval),
                    )
                    outcome = await runner.run()
            except Exception as exc:  # the stack unreachable, or the runtime's own error
                unreachable = isinstance(exc, ControlApiError | OSError | aiohttp.ClientError)
                why = f"could not reach the stack: {exc}"
                if not unreachable:
                    why = f"could not prepare the run: {exc!r}"
                outcome = Outcome(Verdict.FAILED, [why])
                journal.verdict, journal.exit_code = outcome.verdict.value, outcome.exit_code
                journal.reasons = list(outcome.reasons)
                progress.finish(outcome)
    finally:
        journal.write(request.journal_path)
    return outcome, journal
