"""The status table that `up` and `status` print."""

from __future__ import annotations

from collections.abc import Sequence

from chaos.runtime.interface import ServiceStatus

__all__ = ["health_word", "render_status"]

COLUMNS = ("SERVICE", "PORT", "PID", "STATE", "HEALTH", "RESTARTS")


def health_word(status: ServiceStatus) -> str:
    if status.ready:
        return "ready"
    if status.healthy:
        return "not ready"
    return "-" if status.state == "stopped" else "unhealthy"


def render_status(statuses: Sequence[ServiceStatus]) -> str:
    """An aligned table, then one line per service that has something to explain."""
    rows = [COLUMNS] + [
        (
            s.name,
            str(s.port),
            "-" if s.pid is None else str(s.pid),
            s.state,
            health_word(s),
            str(s.restarts),
        )
        for s in statuses
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines += [f"  {s.name}: {s.detail}" for s in statuses if s.detail]
    return "\n".join(lines)
