"""The monkey's journal: one JSON object per line, appended and flushed as each
thing happens, so a monkey killed at any moment leaves a readable record up to
its last line. Every line has `at` (ISO wall time), `t` (seconds since the
monkey started) and `event`. Listeners (the metrics, the webhook) see each
line once it is written; one that raises is the listener's problem, never the
journal's."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Listener", "MonkeyJournal"]

Listener = Callable[[dict[str, Any]], None]
_log = logging.getLogger(__name__)


class MonkeyJournal:
    def __init__(
        self,
        path: Path | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if path is not None:  # None: in memory only (a monkey step relays it to the run)
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._clock, self._wall = clock, wall
        self._started = clock()
        self.lines: list[dict[str, Any]] = []
        self.listeners: list[Listener] = []

    def write(self, event: str, **detail: Any) -> dict[str, Any]:
        record = {
            "at": datetime.fromtimestamp(self._wall(), UTC).isoformat(timespec="milliseconds"),
            "t": round(self._clock() - self._started, 3),
            "event": event,
            **detail,
        }
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as stream:  # a line at a time: no
                stream.write(json.dumps(record, default=str) + "\n")  # handle outlives it
        self.lines.append(record)
        for listener in self.listeners:
            try:
                listener(record)
            except Exception:  # a broken listener must not stop a rollback
                _log.exception("a monkey journal listener failed on %s", event)
        return record
