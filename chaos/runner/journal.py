"""The journal: one JSON document per run, everything that happened in it.

Every event is timestamped twice: `t`, seconds since the run started (the
runner's monotonic clock), and `at`, the wall-clock time. The SLI series,
each edge's circuit breaker state, each fault's injection, verification
and rollback, the load generator's client-side results, the verdict, the
reasons for it and the readings that decided each SLO's judgement
(`judgement`) are all here;
`chaosbed report` renders it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.faults.base import Injection

__all__ = ["Journal", "SliPoint"]

JOURNAL_VERSION = 1


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class SliPoint:
    t: float
    value: float | None
    ok: bool | None
    phase: str


@dataclass
class Journal:
    run_id: str
    experiment: Mapping[str, Any]
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    started: float = 0.0
    started_wall: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)
    series: dict[str, list[SliPoint]] = field(default_factory=dict)
    breakers: dict[str, list[tuple[float, float | None]]] = field(default_factory=dict)
    injections: list[Injection] = field(default_factory=list)
    baseline: dict[str, float | None] = field(default_factory=dict)
    objectives: dict[str, dict[str, Any]] = field(default_factory=dict)
    load: Mapping[str, Any] = field(default_factory=dict)
    expectations: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    verdict: str = "running"
    exit_code: int | None = None
    reasons: list[str] = field(default_factory=list)
    timings: dict[str, float | None] = field(default_factory=dict)
    # the judged period (`from_t`..`to_t`) and, per SLO, the readings that decided it
    judgement: dict[str, Any] = field(default_factory=dict)
    # the cohorts compared (steady_state.compare): counts, metrics, score, decision
    comparison: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started = self.clock()
        self.started_wall = self.wall()

    def now(self) -> float:
        return round(self.clock() - self.started, 3)

    def event(self, phase: str, what: str, **detail: Any) -> dict[str, Any]:
        record = {"t": self.now(), "at": _iso(self.wall()), "phase": phase, "event": what}
        record.update(detail)
        self.events.append(record)
        return record

    def sli(self, name: str, value: float | None, ok: bool | None, phase: str) -> None:
        self.series.setdefault(name, []).append(SliPoint(self.now(), value, ok, phase))

    def breaker(self, edge: str, state: float | None) -> None:
        """One sample of an edge's breaker state (0 closed, 1 open, 2 half-open)."""
        self.breakers.setdefault(edge, []).append((self.now(), state))

    def to_json(self) -> dict[str, Any]:
        return {
            "chaosbed_journal": JOURNAL_VERSION,
            "run_id": self.run_id,
            "started_at": _iso(self.started_wall),
            "duration_s": self.now(),
            "experiment": dict(self.experiment),
            "context": self.context,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "reasons": self.reasons,
            "timings": self.timings,
            "baseline": self.baseline,
            "objectives": self.objectives,
            "judgement": self.judgement,
            "events": self.events,
            "slis": {
                name: [{"t": p.t, "value": p.value, "ok": p.ok, "phase": p.phase} for p in points]
                for name, points in self.series.items()
            },
            "breakers": {
                edge: [{"t": t, "state": state} for t, state in points]
                for edge, points in self.breakers.items()
            },
            "faults": [i.to_json() for i in self.injections],
            "expectations": self.expectations,
            "load": dict(self.load),
        } | ({"comparison": self.comparison} if self.comparison else {})

    def write(self, path: Path) -> Path:
        """Write atomically (a reader never sees half a journal)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, default=str) + "\n")
        os.replace(tmp, path)
        return path
