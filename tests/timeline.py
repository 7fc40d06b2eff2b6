"""Where a suite run's time went: `python -m tests.timeline TIMELINE.jsonl`.

Reads the lines the workers append when CHAOSBED_TEST_TIMELINE names a file
(tests/conftest.py) and prints, per test file, its worker, when it started and
ended (minutes from the suite's start), how long its tests waited for stack
slots and how many slot-minutes they held; then the slot-minutes of the whole
run against what the slots could have given, which is the figure to cut when
`make test` is over its budget (tests/BUDGET.md).
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
        if what == "start":
            span.tests += 1
        elif what == "slot":
            span.waited += at - float(str(record["asked"]))
            span.held_since[test] = (at, int(str(record["slots"])))
        elif what == "end" and test in span.held_since:
            since, slots = span.held_since.pop(test)
            span.slot_seconds += (at - since) * slots
    return files, start, end


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.timeline TIMELINE.jsonl", file=sys.stderr)
        return 2
    lines = [json.loads(line) for line in Path(argv[0]).read_text().splitlines() if line]
    files, start, end = spans(lines)
    by_worker: dict[str, list[tuple[str, FileSpan]]] = defaultdict(list)
    for name, span in files.items():
        by_worker[span.worker].append((name, span))
    print(f"suite: {(end - start) / 60:.1f} min, {len(files)} files")
    print(f"{'worker':7} {'from':>6} {'to':>6} {'wait':>6} {'slot-min':>8} tests file")
    for worker in sorted(by_worker):
        for name, span in sorted(by_worker[worker], key=lambda item: item[1].first):
            if span.last - span.first < 20 and not span.slot_seconds:
                continue  # the fast files: a line each would hide the lanes
            print(
                f"{worker:7} {(span.first - start) / 60:6.1f} {(span.last - start) / 60:6.1f} "
                f"{span.waited / 60:6.1f} {span.slot_seconds / 60:8.1f} {span.tests:5} {name}"
            )
    held = sum(span.slot_seconds for span in files.values()) / 60
    print(f"slot-minutes held: {held:.1f} over {(end - start) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
