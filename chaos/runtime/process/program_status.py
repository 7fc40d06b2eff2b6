"""What `status` says about each supervised program (the services, Prometheus beside them):
its record in state.json, whether its pid still runs it, and its health and readiness."""

from __future__ import annotations

from collections.abc import Sequence

from chaos.runtime.health import check_health
from chaos.runtime.interface import ServiceStatus

from .host import pid_runs, process_state
from .program import Program
from .state_file import ServiceRecord, SupervisorState

__all__ = ["program_statuses"]


def program_statuses(
    programs: Sequence[Program], state: SupervisorState | None, *, supervised: bool
) -> list[ServiceStatus]:
    """One status per program, in order; `supervised`: the supervisor is alive."""
    records = [_record_for(program, state) for program in programs]
    health = check_health(
        [program.port for program in programs],
        paths=[(program.health_path, program.ready_path) for program in programs],
    )
    statuses = []
    for program, record, answers in zip(programs, records, health, strict=True):
        pid = record.pid
        if pid is not None and not pid_runs(pid, program.marker):
            pid = None
        if pid is None:
            state_name = record.state if supervised else "stopped"
        elif not supervised:
            state_name = "orphaned"
        elif process_state(pid) == "T":
            state_name = "paused"
        else:
            state_name = record.state
        statuses.append(
            ServiceStatus(
                name=program.name,
                port=program.port,
                pid=pid,
                state=state_name,
                healthy=answers.healthz.ok,
                ready=answers.readyz.ok,
                restarts=record.restarts,
                detail=record.detail if supervised else "",
            )
        )
    return statuses


def _record_for(program: Program, state: SupervisorState | None) -> ServiceRecord:
    record = state.record(program.name) if state else None
    return record or ServiceRecord(program.name, program.marker, program.port, state="stopped")
