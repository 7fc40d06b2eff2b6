"""What a person at the terminal sees while a run goes on.

On a terminal: one line, rewritten in place, with the phase, the elapsed
time and each SLI against its objective. Elsewhere (CI logs): a plain line
at each phase change and every `every` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from .monitor import Reading

if TYPE_CHECKING:
    from .verdict import Outcome

__all__ = ["Progress"]


def _sli(reading: Reading) -> str:
    mark = {True: "ok", False: "BREACH", None: "no data"}[reading.ok]
    if reading.value is None:
        return f"{reading.slo.name}=- ({mark})"
    limit = "" if reading.limit is None else f" {reading.slo.objective.op}{reading.limit:g}"
    return f"{reading.slo.name}={reading.value:.4g}{limit} ({mark})"


class Progress:
    def __init__(self, stream: TextIO | None, *, tty: bool | None = None, every: float = 5.0):
        self._stream = stream
        self._tty = stream is not None and (stream.isatty() if tty is None else tty)
        self._every = every
        self._phase = ""
        self._last_line = -every

    def update(self, phase: str, elapsed: float, readings: Mapping[str, Reading]) -> None:
        if self._stream is None:
            return
        line = f"[{elapsed:6.1f}s] {phase:<12} " + "  ".join(_sli(r) for r in readings.values())
        if self._tty:
            self._stream.write("\r\x1b[2K" + line[:200])
            self._stream.flush()
        elif phase != self._phase or elapsed - self._last_line >= self._every:
            self._stream.write(line + "\n")
            self._stream.flush()
            self._last_line = elapsed
        self._phase = phase

    def finish(self, outcome: Outcome) -> None:
        if self._stream is None:
            return
        if self._tty:
            self._stream.write("\n")
        self._stream.write(f"verdict: {outcome.verdict.value} (exit {outcome.exit_code})\n")
        for reason in outcome.reasons:
            self._stream.write(f"  - {reason}\n")
        self._stream.flush()
