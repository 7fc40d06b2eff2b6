"""One exploration against a running stack, judged and written as a journal.

`chaosbed explore` and a suite (`verify`, `gameday`, `mutate`) both run an
exploration here. Its journal (`chaosbed_exploration`) holds every execution
and a verdict in the words experiments use:

- held: every execution met the contract;
- deviated: some did not (the reasons name each, with its request id);
- not_steady: a journey's fault-free request was not ok, so its faults were
  not explored (the stack is not steady: a breaker open, a fault on every
  cohort);
- failed: the stack could not be explored (not ready, no control token, the
  plans were not honoured).

An exploration touches nothing on the stack but its own requests (each
carries a signed fault plan), so there is nothing to roll back.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode
from chaos.gameday.play import write_json
from chaos.runner.verdict import EXIT_CODES, Verdict
from chaos.runtime.interface import Runtime
from services.common.settings import DependencySettings
from services.topology import EDGES

from .contract import load_contract
from .exploration import Exploration
from .explorer import Execution, explore

__all__ = [
    "EXPLORATION_JOURNAL_VERSION",
    "ExploreUnavailable",
    "Explored",
    "attempts_setting",
    "exploration_journal",
    "explore_into",
    "judge",
    "run_exploration",
    "stack_urls",
]

EXPLORATION_JOURNAL_VERSION = 1
#: How many violations a verdict's reasons name (the journal holds them all).
MAX_REASONS = 12


class ExploreUnavailable(ChaosbedError):
    """The stack cannot be explored: not ready, or no control token to sign plans with."""

    exit_code = ExitCode.INFRASTRUCTURE_FAILED


def attempts_setting(environ: Mapping[str, str] = os.environ) -> dict[str, int]:
    """Each dependency's `attempts`, as the services read it from this environment."""
    called = {dependency for _, dependency in EDGES}
    return {
        name: DependencySettings.from_env(name, "http://127.0.0.1", environ).attempts
        for name in called
    }


@dataclass(frozen=True)
class Explored:
    exploration: str
    executions: tuple[Execution, ...]
    seconds: float
    verdict: Verdict
    reasons: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return int(EXIT_CODES[self.verdict])


def judge(executions: Sequence[Execution]) -> tuple[Verdict, tuple[str, ...]]:
    """The verdict of an exploration and why (each violation named, up to MAX_REASONS)."""
    unsteady = [e for e in executions if e.site is None and e.violations]
    if unsteady:
        return Verdict.NOT_STEADY, tuple(
            f"{e.name} (request {e.request_id}): {v}" for e in unsteady for v in e.violations
        )
    violating = [e for e in executions if e.violations]
    if not violating:
        return Verdict.HELD, ()
    reasons = [
        f"{e.name} (request {e.request_id}): {'; '.join(e.violations)}"
        for e in violating[:MAX_REASONS]
    ]
    if len(violating) > MAX_REASONS:
        reasons.append(f"... and {len(violating) - MAX_REASONS} more violating executions")
    return Verdict.DEVIATED, (
        f"{len(violating)} of {len(executions)} executions broke the contract",
        *reasons,
    )


def stack_urls(runtime: Runtime) -> tuple[dict[str, str], str]:
    """The stack's service URLs and its control token; ExploreUnavailable when it
    cannot be explored."""
    token = runtime.control_token()
    if not token:
        raise ExploreUnavailable("the stack has no control token to sign fault plans with")
    not_ready = [s.name for s in runtime.status() if not s.ready]
    if not_ready:
        raise ExploreUnavailable(f"not ready: {', '.join(not_ready)}; `chaosbed up` starts it")
    return {spec.name: runtime.base_url(spec.name) for spec in runtime.services}, token


async def run_exploration(
    exploration: Exploration,
    runtime: Runtime,
    *,
    progress: Callable[[Execution], None] | None = None,
) -> Explored:
    """Explore the stack as `exploration` says; ChaosbedError when it cannot be explored."""
    urls, token = stack_urls(runtime)
    started = time.monotonic()
    exploration_id, executions = await explore(
        urls,
        token,
        load_contract(exploration.contract),
        exploration.journeys,
        attempts_setting(),
        concurrency=exploration.concurrency,
        depth=exploration.depth,
        progress=progress,
    )
    verdict, reasons = judge(executions)
    return Explored(exploration_id, tuple(executions), time.monotonic() - started, verdict, reasons)


def exploration_journal(
    exploration: Exploration,
    runtime: str,
    started: datetime,
    explored: Explored | None,
    failure: str | None = None,
    stopped: Verdict = Verdict.FAILED,
) -> dict[str, Any]:
    """The journal: the exploration, its verdict and every execution (none when it did
    not finish: then `failure` says why, and the verdict is `stopped`: failed when the
    stack could not be explored, aborted when a signal stopped it)."""
    executions = explored.executions if explored is not None else ()
    verdict, reasons = (
        (explored.verdict, explored.reasons)
        if explored is not None
        else (stopped, (failure or "the stack could not be explored",))
    )
    return {
        "chaosbed_exploration": EXPLORATION_JOURNAL_VERSION,
        "exploration": explored.exploration if explored is not None else None,
        "title": exploration.title,
        "hypothesis": exploration.hypothesis,
        "source": exploration.source,
        "runtime": runtime,
        "predicts": exploration.predicts,
        "journeys": list(exploration.journeys),
        "depth": exploration.depth,
        "contract": str(exploration.contract),
        "started_at": started.astimezone(UTC).isoformat(timespec="seconds"),
        "duration_s": round(explored.seconds, 3) if explored is not None else 0.0,
        "verdict": verdict.value,
        "reasons": list(reasons),
        "violations": sum(1 for e in executions if e.violations),
        "executions": [e.to_json() for e in executions],
    }


async def explore_into(
    exploration: Exploration, runtime: Runtime, runtime_name: str, journal: Path
) -> dict[str, Any]:
    """Play `exploration` and write its journal to `journal` whatever happens: failed
    when the stack cannot be explored, aborted when cancelled (the cancel message
    says why; the cancellation goes on). Answers the journal written."""
    started = datetime.now(UTC)
    try:
        explored = await run_exploration(exploration, runtime)
        document = exploration_journal(exploration, runtime_name, started, explored)
    except ChaosbedError as error:
        document = exploration_journal(exploration, runtime_name, started, None, str(error))
    except asyncio.CancelledError as stop:
        why = str(stop.args[0]) if stop.args else "cancelled"
        write_json(journal, exploration_journal(
            exploration, runtime_name, started, None, why, Verdict.ABORTED
        ))  # fmt: skip
        raise
    write_json(journal, document)
    return document
