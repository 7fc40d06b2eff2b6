"""Where a suite run's time went: `python -m tests.timeline TIMELINE.jsonl`.

Reads the lines the workers append when CHAOSBED_TEST_TIMELINE names a file
(tests/conftest.py) and prints, per test file, its worker, when it started and
ended (minutes from the suite's start), how long its tests waited for stack
slots, how many slot-minutes they held, and how busy the machine was while they
ran (the share of the time some task waited for a CPU, from the kernel's
/proc/pressure/cpu); then the slot-minutes of the whole run against what the
slots could have given, which is the figure to cut when `make test` is over its
budget (tests/BUDGET.md), the machine's CPU pressure minute by minute, and the
tests that failed so far, when (readable while the run goes on: pytest names them
only at its end).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileSpan:
    worker: str
    first: float
    last: float
    waited: float = 0.0
    slot_seconds: float = 0.0
    tests: int = 0
    stalled_us: float = 0.0
    measured_s: float = 0.0
    started: dict[str, tuple[float, int]] = field(default_factory=dict)
    held_since: dict[str, tuple[float, int]] = field(default_factory=dict)


def spans(lines: list[dict[str, object]]) -> tuple[dict[str, FileSpan], float, float]:
    files: dict[str, FileSpan] = {}
    start = min(float(str(r["at"])) for r in lines)
    end = max(float(str(r["at"])) for r in lines)
    for record in sorted(lines, key=lambda r: float(str(r["at"]))):
        test, at, what = str(record["test"]), float(str(record["at"])), record["what"]
        name = test.split("::")[0]
        span = files.setdefault(name, FileSpan(str(record["worker"]), at, at))
        span.last = max(span.last, at)
        stalled = record.get("cpu_stalled_us")
        if what == "start":
            span.tests += 1
            if isinstance(stalled, int):
                span.started[test] = (at, stalled)
        elif what == "slot":
            span.waited += at - float(str(record["asked"]))
            span.held_since[test] = (at, int(str(record["slots"])))
        elif what == "end":
            if isinstance(stalled, int) and test in span.started:
                began, stalled_then = span.started.pop(test)
                span.stalled_us += stalled - stalled_then
                span.measured_s += at - began
            if test in span.held_since:
                since, slots = span.held_since.pop(test)
                span.slot_seconds += (at - since) * slots
    return files, start, end


def pressure(span: FileSpan) -> str:
    """The share of its tests' time in which some task waited for a CPU."""
    if not span.measured_s:
        return "-"
    return f"{span.stalled_us / 1e6 / span.measured_s:.0%}"


def pressure_by_minute(lines: list[dict[str, object]], start: float) -> list[str]:
    """The machine's CPU pressure in each minute of the run, from every record that
    carries the kernel's stall total (any worker's: it is the machine's)."""
    readings = sorted(
        (float(str(r["at"])), stalled)
        for r in lines
        if isinstance(stalled := r.get("cpu_stalled_us"), int)
    )
    minutes: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (at, stalled), (next_at, next_stalled) in zip(readings, readings[1:], strict=False):
        if next_at <= at:
            continue
        rate = (next_stalled - stalled) / 1e6 / (next_at - at)
        first, last = int((at - start) // 60), int((next_at - start) // 60)
        for minute in range(first, last + 1):  # an interval across minutes is shared out
            seconds = min(next_at, start + 60 * (minute + 1)) - max(at, start + 60 * minute)
            if seconds > 0:
                minutes[minute][0] += rate * seconds
                minutes[minute][1] += seconds
    return [
        f"{minute:3}: {stalled / seconds:4.0%}"
        for minute, (stalled, seconds) in sorted(minutes.items())
        if seconds
    ]


def failures(lines: list[dict[str, object]], start: float) -> list[str]:
    """Each test that failed (setup, call or teardown), by the minute it did."""
    return [
        f"{(float(str(r['at'])) - start) / 60:6.1f} {r['worker']} {r['test']} ({r.get('when')})"
        for r in sorted(lines, key=lambda r: float(str(r["at"])))
        if r["what"] == "failed"
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.timeline TIMELINE.jsonl", file=sys.stderr)
        return 2
    text = Path(argv[0]).read_text()
    if not text.endswith("\n"):  # read while the run goes on: its last line half written
        text = text[: text.rfind("\n") + 1]
    lines = [json.loads(line) for line in text.splitlines() if line]
    files, start, end = spans(lines)
    by_worker: dict[str, list[tuple[str, FileSpan]]] = defaultdict(list)
    for name, span in files.items():
        by_worker[span.worker].append((name, span))
    print(f"suite: {(end - start) / 60:.1f} min, {len(files)} files")
    print(f"{'worker':7} {'from':>6} {'to':>6} {'wait':>6} {'slot-min':>8} {'cpu':>4} tests file")
    for worker in sorted(by_worker):
        for name, span in sorted(by_worker[worker], key=lambda item: item[1].first):
            if span.last - span.first < 20 and not span.slot_seconds:
                continue  # the fast files: a line each would hide the lanes
            print(
                f"{worker:7} {(span.first - start) / 60:6.1f} {(span.last - start) / 60:6.1f} "
                f"{span.waited / 60:6.1f} {span.slot_seconds / 60:8.1f} {pressure(span):>4} "
                f"{span.tests:5} {name}"
            )
    held = sum(span.slot_seconds for span in files.values()) / 60
    print(f"slot-minutes held: {held:.1f} over {(end - start) / 60:.1f} min")
    by_minute = pressure_by_minute(lines, start)
    if by_minute:
        print("CPU pressure (some task waiting for a CPU), by minute of the run:")
        for row in range(0, len(by_minute), 6):
            print("  " + "   ".join(by_minute[row : row + 6]))
    failed = failures(lines, start)
    print(f"failed: {len(failed)}")
    for line in failed:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
