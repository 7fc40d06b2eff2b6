"""How `up` waits for the stack: every program ready, then Prometheus's first scrapes.

A program is ready when the supervisor records it `running` (our process
listens on its port) and its ready path answers 200. A program the
supervisor gave up on, a supervisor that died, or the deadline passing ends
the wait with an error that says why and shows the end of the right log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from chaos.runtime.errors import ServiceNeverHealthy, SupervisorFailed
from chaos.runtime.health import probe
from chaos.runtime.state_dir import StatePaths

from .program import Program
from .prometheus_program import unscraped_jobs
from .state_file import SupervisorState

__all__ = ["Readiness", "tail"]

POLL_S = 0.1


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file ('' when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Readiness:
    def __init__(self, paths: StatePaths, supervisor_alive: Callable[[], bool]) -> None:
        self.paths = paths
        self.supervisor_alive = supervisor_alive
        self.started = time.monotonic()

    def until_ready(self, programs: Sequence[Program], deadline: float) -> None:
        pending = list(programs)
        last: dict[str, str] = {}
        while pending:
            if not self.supervisor_alive():
                log_tail = tail(self.paths.supervisor_log)
                raise SupervisorFailed("exited while the stack was starting", log_tail)
            state = SupervisorState.read(self.paths.state_file)
            for program in list(pending):
                record = state.record(program.name) if state else None
                if record is not None and record.state == "failed":
                    raise self.never_healthy(program, record.detail)
                answer = probe(program.port, program.ready_path, timeout_s=1.0)
                supervised = record is not None and record.state == "running"
                if answer.ok and supervised:
                    pending.remove(program)
                else:
                    detail = record.detail if record and record.detail else ""
                    state_name = record.state if record else "not started"
                    last[program.name] = "; ".join(
                        part for part in (answer.describe(), state_name, detail) if part
                    )
            if pending and time.monotonic() >= deadline:
                program = pending[0]
                raise self.never_healthy(program, f"{program.ready_path}: {last[program.name]}")
            if pending:
                time.sleep(POLL_S)

    def until_scraped(self, prometheus: Program, jobs: Sequence[str], deadline: float) -> None:
        """Until Prometheus has scraped every job once: SLIs read from now on see them."""
        while missing := unscraped_jobs(prometheus.port, jobs):
            if time.monotonic() >= deadline:
                why = f"it has not scraped {', '.join(missing)} yet (see its targets page)"
                raise self.never_healthy(prometheus, why)
            time.sleep(POLL_S)

    def never_healthy(self, program: Program, why: str) -> ServiceNeverHealthy:
        waited = time.monotonic() - self.started
        log_tail = tail(self.paths.service_log(program.name))
        return ServiceNeverHealthy(program.name, program.port, waited, why, log_tail)
